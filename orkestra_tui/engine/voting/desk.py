"""The decision desk: putting questions to the committee and taking the human's part in its votes.

The desk opens decisions (checked once, by `decision_rules`), runs the committee's
vote on them, and takes the human's ballots, feedback and tie-breaks. Every row of
decision, round and ballot is written through `decisions` (the voting group's one
writer), by the desk or by the committee it runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from orkestra_tui.config import Settings
from orkestra_tui.engine import telemetry
from orkestra_tui.engine.agents.pool import AgentPool
from orkestra_tui.engine.clock import Clock
from orkestra_tui.engine.errors import EngineError, FieldProblem, RequestRejected
from orkestra_tui.engine.inbox import Inbox
from orkestra_tui.engine.models import (
    HUMAN_VOTER,
    Ballot,
    Decision,
    DecisionStatus,
    InboxKind,
    RoundStatus,
)
from orkestra_tui.engine.store.store import Store
from orkestra_tui.engine.voting.decision_rules import decision_problems, fold_options
from orkestra_tui.engine.voting.decisions import (
    add_feedback,
    close,
    insert_ballot,
    insert_decision,
    leave_vote,
    take_vote,
    vote_runner,
)
from orkestra_tui.errors import OrkestraError


class DecisionDesk:
    """The committee's decisions over one store: open, decide, and the human's answers."""

    def __init__(self, store: Store, inbox: Inbox, pool: AgentPool, settings: Settings, clock: Clock) -> None:
        self.store = store
        self.inbox = inbox
        self.pool = pool
        self.settings = settings
        self.clock = clock

    def decision_problems(
        self,
        question: str,
        options: Sequence[str],
        *,
        method: str | None = None,
        rules: Mapping[str, Any] | None = None,
        voters: Sequence[str] | None = None,
        max_rounds: int | None = None,
    ) -> list[FieldProblem]:
        """Every problem `open_decision` would refuse these with, each with its field; none if it opens."""
        return decision_problems(
            question,
            options,
            method=method or self.settings.engine.default_method,
            rules=rules or {},
            voters=list(voters)
            if voters is not None
            else [agent.name for agent in self.pool.enabled_agents()],
            max_rounds=max_rounds,
            agent_names=list(self.pool.runtimes),
        )

    def open_decision(
        self,
        question: str,
        options: Sequence[str],
        *,
        method: str | None = None,
        rules: Mapping[str, Any] | None = None,
        voters: Sequence[str] | None = None,
        max_rounds: int | None = None,
        category: str = "",
        project_id: int | None = None,
        authors: Mapping[str, str] | None = None,
        actor: str = "human",
        details: Mapping[str, str] | None = None,
    ) -> Decision:
        """Put a question to the committee; `decide` then runs the vote.

        `voters` are agent names, with HUMAN_VOTER when the human votes too
        (default: every enabled agent). `authors` maps an option to the agent
        who proposed it, which then may not vote for it. `details` maps an option
        to what it holds (a contest entry's diff), shown to every voter.
        """
        chosen_method = method or self.settings.engine.default_method
        voter_names = (
            list(voters) if voters is not None else [agent.name for agent in self.pool.enabled_agents()]
        )
        # The quorum in force when the question is put is stored with it, so the decision keeps it.
        chosen_rules = {"quorum": self.settings.engine.quorum, **(rules or {})}
        problems = self.decision_problems(
            question,
            options,
            method=chosen_method,
            rules=chosen_rules,
            voters=voter_names,
            max_rounds=max_rounds,
        )
        if problems:
            raise RequestRejected(problems)
        cleaned = fold_options(options)
        with self.store.transaction() as tx:
            decision_id = insert_decision(
                tx,
                question=question,
                options=cleaned,
                method=chosen_method,
                rules=chosen_rules,
                voters=voter_names,
                max_rounds=max_rounds or self.settings.engine.max_rounds,
                category=category,
                project_id=project_id,
                actor=actor,
                authors={" ".join(option.split()): agent for option, agent in (authors or {}).items()},
                details={" ".join(option.split()): text for option, text in (details or {}).items()},
            )
        decision = self.store.decision(decision_id)
        assert decision is not None
        return decision

    async def decide(
        self,
        decision_id: int,
        *,
        tie_break: str = "ask",
        resolution: Sequence[str] | None = None,
    ) -> Decision:
        """Run (or resume) the committee's vote on a decision until it ends.

        `tie_break` is a TieBreakPolicy value (ask, first, random, fail);
        `resolution` the deadlock chain (default: compromise, human, fallback).
        """
        from orkestra_tui.engine.voting.committee import RESOLUTION_STEPS, Committee, TieBreakPolicy

        try:
            policy = TieBreakPolicy(tie_break)
        except ValueError:
            raise EngineError(
                f"unknown tie-break policy {tie_break!r}; use ask, first, random or fail"
            ) from None
        steps = RESOLUTION_STEPS if resolution is None else resolution
        me = self.pool.call_owner
        take_vote(self.store, decision_id, me)  # VoteRunElsewhere if another live process runs it
        try:
            return await telemetry.traced(
                "vote",
                Committee(self, tie_break=policy, resolution=steps).run(decision_id),
                lambda: telemetry.decision_attributes(decision_id, self.store.decision(decision_id)),
                telemetry.decided,
            )
        finally:
            with contextlib.suppress(OrkestraError):  # a full disk: the runner's death frees it then
                leave_vote(self.store, decision_id, me)

    def vote_runner(self, decision_id: int) -> str | None:
        """The other live process running the decision's vote, if one is (then this one leaves it be)."""
        return vote_runner(self.store, decision_id, self.pool.call_owner)

    def decisions_under_way(self) -> list[Decision]:
        """Decisions a vote was running on, for resuming after a restart.

        A plan's vote is left out: the planning workflow resumes its own; so is a contest's (the
        scheduler resumes it with its task).
        """
        planned = {
            row[0]
            for row in self.store.query(
                "SELECT decision_id FROM plan_session WHERE decision_id IS NOT NULL"
                " UNION SELECT decision_id FROM contest WHERE decision_id IS NOT NULL"
            )
        }
        return [
            decision
            for decision in self.store.decisions()
            if decision.status.is_open and decision.current_round and decision.id not in planned
        ]

    def cast_human_ballot(self, decision_id: int, ranking: Sequence[str], *, reasoning: str = "") -> Ballot:
        """The human's ballot for the round under way; casting again changes it."""
        decision = self._open_decision(decision_id)
        if HUMAN_VOTER not in decision.voters:
            raise EngineError("the human is not a voter on this decision")
        rounds = self.store.rounds(decision_id)
        if not rounds or rounds[-1].status is not RoundStatus.OPEN:
            raise EngineError("no round is under way on this decision")
        current = rounds[-1]
        unknown = [option for option in ranking if option not in current.options]
        if unknown or len(set(ranking)) != len(ranking):
            raise EngineError("a ranking must name each of the round's options at most once")
        excluded = tuple(option for option in current.options if decision.authors.get(option) == HUMAN_VOTER)
        ballot = Ballot(
            decision_id,
            current.round,
            HUMAN_VOTER,
            tuple(ranking),
            1.0,
            reasoning,
            "",
            self.clock.now(),
            excluded,
        )
        self.record_ballot(ballot, project_id=decision.project_id)
        for item in self.inbox.open_items():
            if item.kind is InboxKind.BALLOT and item.payload.get("decision_id") == decision_id:
                self.inbox.answer(item.id, {"ranking": list(ranking)})
        return ballot

    def add_feedback(self, decision_id: int, text: str) -> int:
        """Feedback for the committee, shown to the agents from the next round on; returns that round."""
        decision = self._open_decision(decision_id)
        clean = text.strip()
        if not clean:
            raise EngineError("feedback cannot be empty")
        round_number = decision.current_round + 1
        with self.store.transaction() as tx:
            add_feedback(tx, decision, round_number, clean)
        return round_number

    def answer_tie_break(self, item_id: int, choice: str) -> None:
        """Break a tie the committee asked the human about."""
        item = self.store.inbox_item(item_id)
        if item is None or item.kind is not InboxKind.TIE_BREAK:
            raise EngineError(f"there is no tie-break request {item_id}")
        tied = [entry["option"] for entry in item.payload.get("tied", [])]
        if choice not in tied:
            raise EngineError(f"{choice!r} is not one of the tied options")
        self.inbox.answer(item_id, {"choice": choice})

    def answer_round_feedback(self, item_id: int, text: str) -> None:
        """Answer the committee's request for feedback between rounds; empty text skips.

        The text is stored as feedback for the round asked about in the same
        transaction that answers the request, so a crash keeps both or neither.
        """
        from orkestra_tui.engine.models import InboxStatus

        item = self.store.inbox_item(item_id)
        if item is None or item.kind is not InboxKind.ROUND_FEEDBACK:
            raise EngineError(f"there is no request for round feedback {item_id}")
        if item.status is not InboxStatus.OPEN:
            raise EngineError(f"the request for round feedback {item_id} is already {item.status.value}")
        clean = text.strip()
        decision = self._open_decision(int(item.payload["decision_id"])) if clean else None
        with self.store.transaction() as tx:
            if decision is not None:
                add_feedback(tx, decision, int(item.payload["round"]), clean)
            self.inbox.answer_in(tx, item_id, {"text": clean})
        self.inbox.wake(item_id, {"text": clean})

    def _open_decision(self, decision_id: int) -> Decision:
        decision = self.store.decision(decision_id)
        if decision is None:
            raise EngineError(f"there is no decision {decision_id}")
        if not decision.status.is_open:
            raise EngineError(f"decision {decision_id} is already {decision.status.value.replace('_', ' ')}")
        return decision

    def record_ballot(self, ballot: Ballot, *, project_id: int | None = None) -> None:
        """Store one ballot as it arrives (a retried round replaces the voter's earlier one)."""
        with self.store.transaction() as tx:
            insert_ballot(tx, ballot, project_id=project_id)

    def close_decision(
        self,
        decision_id: int,
        outcome: Mapping[str, Any],
        *,
        status: DecisionStatus,
        actor: str = "engine",
    ) -> Decision:
        decision = self.store.decision(decision_id)
        if decision is None:
            raise EngineError(f"there is no decision {decision_id}")
        with self.store.transaction() as tx:
            close(tx, decision, outcome, status=status, actor=actor)
        closed = self.store.decision(decision_id)
        assert closed is not None
        return closed

    def decisions(self) -> list[Decision]:
        return self.store.decisions()
