"""The committee: multi-round votes between agents, deadlocks, compromise and the human.

A decision runs round after round until its consensus method names a winner or
the vote deadlocks: two consecutive rounds with the same first preferences, or
the last round without a winner. A deadlock runs the resolution chain, by
default a compromise proposed by a mediator (a neutral agent if there is one,
see `mediation`; voted on in one extra round), then the human's tie-break,
then a plurality fallback.

Everything is stored as it happens: each ballot as it arrives, each round's
tally, each resolution step. `Committee.run` resumes from the store, so a
decision interrupted mid-round (the process killed) continues with the same
round, asking only the voters who had not voted yet.

The human is reached only through the inbox: a tie-break request (and a ballot
request when the human votes, or a request for feedback between rounds under
the rule `round_feedback`) is a durable row that the TUI answers from the
keyboard, the headless command by its policy, and a restart finds still open.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from orkestra_tui.engine import telemetry
from orkestra_tui.engine.agents.answers import (
    BALLOT_SCHEMA,
    COMPROMISE_SCHEMA,
    AnswerError,
    clip_value,
    is_placeholder,
    parse_answer,
)
from orkestra_tui.engine.agents.prompts import (
    EXCERPT_CHARS,
    Presentation,
    RoundContext,
    ballot_request,
    clip,
    compromise_request,
    estimate_tokens,
    named_option,
    repair_request,
)
from orkestra_tui.engine.agents.raw_answers import keep_refused_answer
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import (
    HUMAN_VOTER,
    Ballot,
    Decision,
    DecisionRound,
    DecisionStatus,
    InboxKind,
    InboxStatus,
    RoundStatus,
)
from orkestra_tui.engine.voting import decisions as writes
from orkestra_tui.engine.voting.mediation import Mediator, choose_mediator
from orkestra_tui.wording import listing

if TYPE_CHECKING:
    from orkestra_tui.engine.agents.pool import AgentPool
    from orkestra_tui.engine.inbox import Inbox
    from orkestra_tui.engine.store.store import Store
    from orkestra_tui.engine.voting.consensus import TallyResult
    from orkestra_tui.providers.base import ProviderRequest

RESOLUTION_STEPS = ("compromise", "human", "fallback")
"""The default deadlock-resolution chain, in order."""
STEP_NAMES = {
    "compromise": "a compromise",
    "human": "the human's tie-break",
    "fallback": "plurality fallback",
}

T = TypeVar("T")

TURNOUT_KEYS = ("ballots", "cast", "abstained", "quorum", "quorum_met")
"""A tally's counts of the ballots and its quorum, which every outcome carries."""

REASONING_CHARS = 2000
EXCERPTS_PER_ROUND = 6


class TieBreakPolicy(StrEnum):
    """Who breaks a tie: the human (`ask`), or a rule when nobody is there to ask."""

    ASK = "ask"
    FIRST = "first"
    RANDOM = "random"
    FAIL = "fail"


def _stable_rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def labels_for(decision: Decision, round_number: int, options: Sequence[str]) -> dict[str, str]:
    """Label to option for one round: the same for every voter, shuffled afresh each round."""
    shuffled = list(options)
    _stable_rng("labels", decision.id, round_number).shuffle(shuffled)
    return dict(zip(option_labels(len(shuffled)), shuffled, strict=True))


def option_labels(count: int) -> list[str]:
    """`count` labels: A to Z, then AA, AB, ... ZZ, then AAA and on, so every option has one."""
    labels = []
    for number in range(1, count + 1):
        label, rest = "", number
        while rest:
            rest, letter = divmod(rest - 1, len(string.ascii_uppercase))
            label = string.ascii_uppercase[letter] + label
        labels.append(label)
    return labels


def presentation_for(
    decision: Decision,
    round_number: int,
    options: Sequence[str],
    voter: str,
    details: Mapping[str, str] | None = None,
) -> Presentation:
    """The round's labelled options in a fresh order for this voter, without its own proposals.

    DETAILS (option to what it holds) are shown under the voter's own labels.
    """
    own = tuple(option for option in options if decision.authors.get(option) == voter)
    shown = [
        (label, option)
        for label, option in labels_for(decision, round_number, options).items()
        if option not in own
    ]
    _stable_rng("order", decision.id, round_number, voter).shuffle(shown)
    held = {label: details[option] for label, option in shown if details and details.get(option)}
    return Presentation(labels=dict(shown), excluded=own, details=held)


def quorum_rule(decision: Decision) -> float | str:
    """The decision's quorum as the tally takes it; a decision stored without one has none."""
    quorum = decision.rules.get("quorum", 0.0)
    return quorum if isinstance(quorum, str) else float(quorum)


def first_preferences(ballots: Sequence[Ballot]) -> Counter[str]:
    return Counter(ballot.ranking[0] for ballot in ballots if ballot.ranking)


COMPROMISE_LEAST_CHARS = 3
"""The fewest letters or digits a compromise's option has: "B" or "A+" is a label, not an option."""


class VotingParts(Protocol):
    """The parts a committee uses (the decision desk has them, and so has the Engine)."""

    @property
    def store(self) -> Store: ...
    @property
    def inbox(self) -> Inbox: ...
    @property
    def pool(self) -> AgentPool: ...


class Committee:
    """Runs decisions to their end; one instance serves any number of decisions.

    It keeps only the parts it uses (`VotingParts`), and writes every decision,
    round and ballot row through `decisions`, the voting group's writer.
    """

    def __init__(
        self,
        parts: VotingParts,
        *,
        tie_break: TieBreakPolicy = TieBreakPolicy.ASK,
        resolution: Sequence[str] = RESOLUTION_STEPS,
    ) -> None:
        unknown = [step for step in resolution if step not in RESOLUTION_STEPS]
        if unknown:
            raise EngineError(f"unknown resolution step {unknown[0]!r}; use {', '.join(RESOLUTION_STEPS)}")
        self.store = parts.store
        self.inbox = parts.inbox
        self.pool = parts.pool
        self.clock = parts.pool.clock
        self.tie_break = tie_break
        self.resolution = tuple(resolution)

    # ------------------------------------------------------------ the process

    async def run(self, decision_id: int) -> Decision:
        """Carry a decision to its end (or resume it), and return it decided or not."""
        decision = self._decision(decision_id)
        while decision.status.is_open:
            rounds = self.store.rounds(decision_id)
            current = rounds[-1] if rounds and rounds[-1].status is RoundStatus.OPEN else None
            if current is None and (decision.resolution or decision.status is DecisionStatus.DEADLOCKED):
                return await self._resolve(decision)
            if current is None:
                if rounds and decision.rules.get("round_feedback"):
                    decision = await self._round_feedback(decision, rounds[-1])
                    if not decision.status.is_open:
                        return decision
                current = self._open_round(decision, (rounds[-1].round if rounds else 0) + 1)
            result = await self._vote(decision, current)
            decision = self._decision(decision_id)
            if result.winner is not None:
                return self._decide(decision, result, how="compromise" if current.note else "vote")
            if decision.resolution:
                return await self._resolve(decision)
            deadlock = self._deadlock(decision)
            if deadlock:
                with self.store.transaction() as tx:
                    writes.set_status(
                        tx,
                        decision,
                        DecisionStatus.DEADLOCKED,
                        f"Deadlock: {deadlock}",
                        kind="decision.deadlocked",
                        data={"reason": deadlock, "round": current.round},
                    )
                return await self._resolve(self._decision(decision_id))
        return decision

    def _decision(self, decision_id: int) -> Decision:
        decision = self.store.decision(decision_id)
        if decision is None:
            raise EngineError(f"there is no decision {decision_id}")
        return decision

    def _deadlock(self, decision: Decision) -> str:
        """Why the vote is deadlocked, or '' if another round may help."""
        rounds = [item for item in self.store.rounds(decision.id) if item.status is RoundStatus.CLOSED]
        if len(rounds) >= 2:
            latest, previous = (
                first_preferences(self.store.ballots(decision.id, item.round)) for item in rounds[-1:-3:-1]
            )
            if latest == previous:
                return f"rounds {rounds[-2].round} and {rounds[-1].round} gave the same first preferences"
        if rounds and rounds[-1].round >= decision.max_rounds:
            count = rounds[-1].round
            return f"no winner after {count} round{'s' if count != 1 else ''}"
        return ""

    # -------------------------------------------------------------- rounds

    def _open_round(self, decision: Decision, round_number: int, note: str = "") -> DecisionRound:
        estimate = self.estimate_round(decision, round_number)
        with self.store.transaction() as tx:
            writes.open_round(tx, decision, round_number, estimate=estimate, note=note)
        return self.store.rounds(decision.id)[-1]

    def agent_voters(self, decision: Decision) -> list[str]:
        """The decision's agents that can vote now: enabled, key accepted, circuit not open.

        An unavailable agent is left out of the round altogether, so quorum
        and participation are worked out over the agents that could vote.
        """
        return [
            voter
            for voter in decision.voters
            if voter != HUMAN_VOTER and voter in self.pool.runtimes and self.pool.agent_available(voter)
        ]

    def estimate_round(self, decision: Decision, round_number: int) -> float:
        """What the round's calls should cost, at each agent's prices."""
        from orkestra_tui.engine.agents.calls import cost_of

        context = self._context(decision, round_number)
        total = 0.0
        details = writes.option_details(self.store, decision.id)
        for voter in self.agent_voters(decision):
            presentation = presentation_for(decision, round_number, decision.options, voter, details)
            tokens_in, tokens_out = estimate_tokens(ballot_request(presentation, context))
            total += cost_of(self.pool.runtimes[voter], tokens_in, tokens_out)
        return total

    def _context(self, decision: Decision, round_number: int) -> RoundContext:
        previous = self.store.ballots(decision.id, round_number - 1) if round_number > 1 else []
        counted = [ballot for ballot in previous if ballot.ranking]
        shares = (
            {option: count / len(counted) for option, count in first_preferences(counted).items()}
            if counted
            else {}
        )
        excerpts = [clip(ballot.reasoning, EXCERPT_CHARS) for ballot in counted if ballot.reasoning]
        feedback = [item.text for item in self.store.feedback(decision.id) if item.round <= round_number]
        # Every option of the last round with its count, none left out, so a tie is told as a tie.
        firsts = first_preferences(counted)
        held = [item for item in self.store.rounds(decision.id) if item.round == round_number - 1]
        counts = {option: firsts[option] for option in (held[0].options if held else ())}
        counts.update({option: count for option, count in firsts.items() if option not in counts})
        return RoundContext(
            question=decision.question,
            round=round_number,
            max_rounds=decision.max_rounds,
            previous_shares=shares,
            excerpts=excerpts[:EXCERPTS_PER_ROUND],
            feedback=feedback,
            previous_counts=counts,
        )

    async def _vote(self, decision: Decision, current: DecisionRound) -> TallyResult:
        """Collect the round's missing ballots (in parallel, each stored as it arrives), then tally."""
        voted = {ballot.voter for ballot in self.store.ballots(decision.id, current.round)}
        context = self._context(decision, current.round)
        pending = [
            telemetry.traced(
                "ballot", self._agent_ballot(decision, current, voter, context), {"orkestra.agent": voter}
            )
            for voter in self.agent_voters(decision)
            if voter not in voted
        ]
        if HUMAN_VOTER in decision.voters and HUMAN_VOTER not in voted:
            pending.append(self._human_ballot(decision, current))
        with telemetry.span(
            "round", {"orkestra.decision.id": decision.id, "orkestra.decision.round": current.round}
        ) as round_span:
            await asyncio.gather(*pending)  # each ballot in a task of its own, inside the round's span
            result = self._close_round(decision, current)
            round_span.set_attribute("orkestra.decision.winner", result.winner or "")
        return result

    def _close_round(self, decision: Decision, current: DecisionRound) -> TallyResult:
        from orkestra_tui.engine.voting.consensus import RankedBallot, tally

        ballots = self.store.ballots(decision.id, current.round)
        ranked = [
            RankedBallot(
                ballot.voter,
                tuple(option for option in ballot.ranking if option in current.options),
                weight=self._weight(decision, ballot.voter),
            )
            for ballot in ballots
        ]
        result = tally(
            decision.method,
            current.options,
            ranked,
            threshold=float(decision.rules.get("threshold", 0.75)),
            quorum=quorum_rule(decision),
        )
        with self.store.transaction() as tx:
            writes.close_round(tx, decision, current.round, result.to_dict())
        return result

    def _weight(self, decision: Decision, voter: str) -> float:
        """A voter's weight for `weighted`: its expertise in the decision's category, if it has one."""
        runtime = self.pool.runtimes.get(voter)
        if runtime is None:
            return float(decision.rules.get("human_weight", 1.0))
        if decision.category:
            return runtime.settings.weight * runtime.settings.specialties.get(decision.category, 0.5)
        return runtime.settings.weight

    async def _agent_ballot(
        self, decision: Decision, current: DecisionRound, voter: str, context: RoundContext
    ) -> None:
        details = writes.option_details(self.store, decision.id)
        presentation = presentation_for(decision, current.round, current.options, voter, details)

        def interpret(text: str) -> tuple[tuple[tuple[str, ...], float, str], str]:
            try:
                answer = parse_answer(text, BALLOT_SCHEMA)
            except AnswerError as problem:
                return ((), 0.0, ""), str(problem)
            ranking, problem_text = self._ranking(answer, presentation)
            reasoning = clip(str(answer["reasoning"]), REASONING_CHARS)
            reasoning = "" if is_placeholder(reasoning) else reasoning  # "<why ...>" echoed says nothing
            return (ranking, float(answer["confidence"]), reasoning), problem_text

        value, problem = await self._ask(decision, voter, ballot_request(presentation, context), interpret)
        ranking, confidence, reasoning = value if value is not None else ((), 0.0, "")
        self._record_ballot(
            Ballot(
                decision_id=decision.id,
                round=current.round,
                voter=voter,
                ranking=ranking,
                confidence=confidence,
                reasoning=reasoning,
                abstain_reason=f"abstained: {problem or 'ranked no option'}"
                if problem or not ranking
                else "",
                cast_at=self.clock.now(),
                excluded=presentation.excluded,
            ),
            project_id=decision.project_id,
        )

    async def _ask(
        self,
        decision: Decision,
        agent: str,
        request: ProviderRequest,
        interpret: Callable[[str], tuple[T, str]],
    ) -> tuple[T | None, str]:
        """Ask an agent and interpret its answer; an unusable answer gets one repair request.

        Returns the interpreted value, or None with the reason it could not be
        had (a failed call is not repaired; an invalid answer is, once).
        """
        outcome = await self.pool.call(
            agent, request, decision_id=decision.id, project_id=decision.project_id
        )
        if outcome.response is None:
            return None, f"{outcome.error.error_class}: {outcome.error}" if outcome.error else "no answer"
        value, problem = interpret(outcome.response.text)
        if not problem:
            return value, ""
        keep_refused_answer(self.store, outcome, problem, request)
        retry = await self.pool.call(
            agent,
            repair_request(request, outcome.response.text, problem),
            decision_id=decision.id,
            project_id=decision.project_id,
        )
        if retry.response is None:
            failure = retry.error.error_class if retry.error else "no answer"
            return None, f"invalid answer ({problem}), then {failure}"
        value, second_problem = interpret(retry.response.text)
        if second_problem:
            keep_refused_answer(self.store, retry, second_problem, request)
            return None, f"invalid answer twice ({second_problem})"
        return value, ""

    @staticmethod
    def _ranking(answer: dict[str, Any], presentation: Presentation) -> tuple[tuple[str, ...], str]:
        """The ranked options an answer names (by label, or unambiguously by text), or its problem."""
        ranking: list[str] = []
        # The voter's own proposals under labels no answer can write, to say so when it names one.
        own = {f"\x00{number}": option for number, option in enumerate(presentation.excluded)}
        named = [label for label in answer["ranking"] if not is_placeholder(str(label))]
        if answer["ranking"] and not named:
            return (), f"ranked only {clip(str(answer['ranking'][0]), 20)!r}, the example's slot, not a label"
        for label in named:  # the example's "<label>" echoed before real labels is left out
            option = presentation.choice_of(str(label))
            if option is None:
                if named_option(str(label), own) is not None:
                    return (
                        (),
                        f"ranked {clip(str(label), 20)!r}, its own proposal, which is not on its ballot",
                    )
                return (), f"ranked {clip(str(label), 20)!r}, which is not one of the labels shown"
            if option in ranking:
                return (), f"ranked {clip(str(label), 20)!r} twice"
            ranking.append(option)
        return tuple(ranking), ""

    async def _human_ballot(self, decision: Decision, current: DecisionRound) -> None:
        """Wait for the human's ballot for this round (cast with `Engine.cast_human_ballot`)."""
        subject = f"Your ballot for round {current.round}: {decision.question}"
        item = next(
            (
                item
                for item in self.inbox.open_items()
                if item.kind is InboxKind.BALLOT
                and item.payload.get("decision_id") == decision.id
                and item.payload.get("round") == current.round
            ),
            None,
        ) or self.inbox.ask(
            InboxKind.BALLOT,
            subject,
            {"decision_id": decision.id, "round": current.round, "options": list(current.options)},
            project_id=decision.project_id,
        )
        await self.inbox.wait(item.id)

    async def _round_feedback(self, decision: Decision, closed: DecisionRound) -> Decision:
        """Wait for the human's feedback before the next round (the decision's rule `round_feedback`).

        Asked only after a round without a winner that another ordinary round
        follows, and only when someone is there to answer (tie-break policy
        `ask`). A request an earlier run left is waited on again, never asked
        twice; `Engine.answer_round_feedback` stores the text it is answered
        with. Returns the decision as it stands after the wait.
        """
        next_round = closed.round + 1
        asked = [
            item
            for item in self.store.inbox(None)
            if item.kind is InboxKind.ROUND_FEEDBACK
            and item.payload.get("decision_id") == decision.id
            and item.payload.get("round") == next_round
        ]
        item = asked[-1] if asked else None
        if item is None:
            won = (closed.tally or {}).get("winner") is not None
            if self.tie_break is not TieBreakPolicy.ASK or won or self._deadlock(decision):
                return decision
            item = self.inbox.ask(
                InboxKind.ROUND_FEEDBACK,
                f"Feedback for round {next_round}: {decision.question}",
                {"decision_id": decision.id, "round": next_round, "question": decision.question},
                project_id=decision.project_id,
            )
        elif item.status is InboxStatus.OPEN and self.tie_break is not TieBreakPolicy.ASK:
            # Resumed where nobody answers: skip on record rather than wait for ever.
            policy = f"policy:{self.tie_break.value}"
            item = self.inbox.answer(item.id, {"text": "", "by": policy}, actor=policy)
        if item.status is not InboxStatus.CANCELLED:
            try:
                await self.inbox.wait(item.id)
            except asyncio.CancelledError:
                # The request was withdrawn (not this task cancelled): go on without feedback.
                task = asyncio.current_task()
                if (task is not None and task.cancelling()) or not self._withdrawn(item.id):
                    raise
        return self._decision(decision.id)

    def _withdrawn(self, item_id: int) -> bool:
        item = self.store.inbox_item(item_id)
        return item is not None and item.status is InboxStatus.CANCELLED

    # ---------------------------------------------------------- resolution

    def leaders(self, decision: Decision) -> dict[str, float]:
        """The leading options of the last closed round, with their first-preference share.

        The options the tally left tied; otherwise those with the most first
        preferences, and the runners-up too when a single option leads.
        """
        rounds = [item for item in self.store.rounds(decision.id) if item.status is RoundStatus.CLOSED]
        if not rounds:
            return {}
        last = rounds[-1]
        counted = [ballot for ballot in self.store.ballots(decision.id, last.round) if ballot.ranking]
        firsts = first_preferences(counted)
        leading = [str(option) for option in (last.tally or {}).get("tied") or []]
        if not leading:
            top = max(firsts[option] for option in last.options)
            leading = [option for option in last.options if firsts[option] == top]
            runners_up = [firsts[option] for option in last.options if firsts[option] < top]
            if len(leading) == 1 and runners_up:
                second = max(runners_up)
                leading += [option for option in last.options if firsts[option] == second]
        total = len(counted) or 1
        return {option: firsts[option] / total for option in leading}

    def front_runners(self, decision: Decision) -> list[str]:
        """The options with the most first preferences in the last closed round."""
        leaders = self.leaders(decision)
        top = max(leaders.values(), default=0.0)
        return [option for option, share in leaders.items() if share == top]

    async def _resolve(self, decision: Decision) -> Decision:
        """Run the resolution chain in order; each step picks up where the store says it stands.

        `decision.resolution` lists the steps started, for the record; a step
        that already ran (a compromise round held, a tie-break answered) gives
        way to the next one at once, so a restart resumes exactly.
        """
        for step in self.resolution:
            if step not in decision.resolution:
                with self.store.transaction() as tx:
                    writes.add_resolution_step(tx, decision, step)
                    tx.audit(
                        "engine",
                        "decision.resolution",
                        f"Resolving the deadlock: {STEP_NAMES[step]}",
                        subject=f"decision:{decision.id}",
                        project_id=decision.project_id,
                        data={"step": step},
                    )
                decision = self._decision(decision.id)
            if step == "compromise":
                outcome = await self._compromise(decision)
            elif step == "human":
                outcome = await self._human_tie_break(decision)
            else:
                outcome = self._fallback(decision)
            if outcome is not None:
                return outcome
            decision = self._decision(decision.id)
        return self._no_decision(decision, "the deadlock could not be resolved")

    def mediator(self, decision: Decision, leaders: Sequence[str]) -> Mediator | None:
        """Who mediates a compromise between `leaders` (see `mediation.choose_mediator`), or None."""
        return choose_mediator(self.pool, decision, leaders, self.agent_voters(decision))

    async def _compromise(self, decision: Decision) -> Decision | None:
        """A neutral mediator proposes a compromise, voted on in one extra round."""
        rounds = self.store.rounds(decision.id)
        held = [item for item in rounds if item.note.startswith("compromise")]
        skipped = self.store.scalar(
            "SELECT 1 FROM audit WHERE kind = 'decision.compromise_skipped' AND subject = ?",
            (f"decision:{decision.id}",),
        )
        if skipped:
            return None  # tried before this restart, and no compromise could be had
        if held:
            if held[-1].status is RoundStatus.OPEN:  # interrupted during the compromise round
                result = await self._vote(decision, held[-1])
                return (
                    self._decide(self._decision(decision.id), result, how="compromise")
                    if result.winner
                    else None
                )
            return None
        leaders = self.leaders(decision)
        chosen = self.mediator(decision, self.front_runners(decision))
        if chosen is None:
            self._note(
                decision,
                "decision.compromise_skipped",
                "No agent could mediate a compromise: none is available but the leading options' authors",
            )
            return None
        mediator = chosen.name
        self._note(decision, "decision.mediator", chosen.summary, {"mediator": mediator, **chosen.data})
        excerpts = [
            clip(ballot.reasoning, EXCERPT_CHARS)
            for ballot in self.store.ballots(decision.id, rounds[-1].round)
            if ballot.reasoning
        ][:EXCERPTS_PER_ROUND]
        existing = {option.casefold() for option in decision.options}

        def interpret(text: str) -> tuple[tuple[str, str], str]:
            try:
                answer = parse_answer(text, COMPROMISE_SCHEMA)
            except AnswerError as problem:
                return ("", ""), str(problem)
            option = " ".join(str(answer["option"]).split())
            if is_placeholder(option):
                return ("", ""), f"the option {clip_value(option)} is a placeholder, not a compromise"
            if len(re.findall(r"[^\W_]", option)) < COMPROMISE_LEAST_CHARS:
                # "B": a ballot's label, not a new option anyone could weigh.
                return ("", ""), f"the option {clip_value(option)} is too short to be a compromise"
            if option.casefold() in existing:
                return ("", ""), "the compromise repeats an option already on the table"
            return (option, str(answer["rationale"])), ""

        proposal, problem = await self._ask(
            decision, mediator, compromise_request(decision.question, leaders, excerpts), interpret
        )
        if proposal is None:
            self._note(
                decision, "decision.compromise_skipped", f"{mediator} gave no usable compromise: {problem}"
            )
            return None
        option, rationale = proposal
        with self.store.transaction() as tx:
            writes.add_option(tx, decision, option, author=mediator, rationale=rationale)
        decision = self._decision(decision.id)
        current = self._open_round(decision, rounds[-1].round + 1, note=chosen.note)
        result = await self._vote(decision, current)
        return self._decide(self._decision(decision.id), result, how="compromise") if result.winner else None

    async def _human_tie_break(self, decision: Decision) -> Decision | None:
        """Ask the human (through the inbox) to choose among the leaders; a policy may answer instead."""
        asked = [
            item
            for item in self.store.inbox(None)
            if item.kind is InboxKind.TIE_BREAK and item.payload.get("decision_id") == decision.id
        ]
        item = asked[-1] if asked else None
        if item is None:
            leaders = self.leaders(decision)
            item = self.inbox.ask(
                InboxKind.TIE_BREAK,
                f"Break the tie: {decision.question}",
                {
                    "decision_id": decision.id,
                    "question": decision.question,
                    "tied": [{"option": option, "support": share} for option, share in leaders.items()],
                },
                project_id=decision.project_id,
            )
            with self.store.transaction() as tx:
                writes.set_status(
                    tx,
                    decision,
                    DecisionStatus.AWAITING_HUMAN,
                    f"Waiting for the human to break the tie: {decision.question}",
                    kind="decision.awaiting_human",
                    data={"inbox": item.id, "tied": list(leaders)},
                )
        if item.status is InboxStatus.CANCELLED:
            return None
        if item.status is InboxStatus.OPEN and self.tie_break is not TieBreakPolicy.ASK:
            # Also when resuming a request an earlier run left open: a policy needs nobody to wait for.
            self._answer_by_policy(item.id, [entry["option"] for entry in item.payload.get("tied", [])])
        answer = await self.inbox.wait(item.id)
        decision = self._decision(decision.id)
        if isinstance(answer, dict) and answer.get("choice"):
            return self._decide_by_human(
                decision, str(answer["choice"]), actor=str(answer.get("by", "human"))
            )
        if isinstance(answer, dict) and answer.get("fail"):
            return self._no_decision(decision, "the tie was not broken (tie-break policy: fail)")
        with self.store.transaction() as tx:  # declined: back to deadlocked, on to the next step
            writes.set_status(
                tx,
                decision,
                DecisionStatus.DEADLOCKED,
                "The human left the tie to the fallback",
                kind="decision.tie_break_declined",
                data={"inbox": item.id},
            )
        return None

    def _answer_by_policy(self, item_id: int, tied: list[str]) -> None:
        if self.tie_break is TieBreakPolicy.FAIL:
            self.inbox.answer(item_id, {"fail": True}, actor="policy:fail")
            return
        if self.tie_break is TieBreakPolicy.FIRST:
            choice = tied[0]
        else:
            choice = _stable_rng("tie-break", item_id).choice(tied)
        self.inbox.answer(
            item_id,
            {"choice": choice, "by": f"policy:{self.tie_break.value}"},
            actor=f"policy:{self.tie_break.value}",
        )

    def _fallback(self, decision: Decision) -> Decision | None:
        """Plurality over the last round's ballots, under the decision's quorum like every round."""
        from orkestra_tui.engine.voting.consensus import RankedBallot, tally

        rounds = [item for item in self.store.rounds(decision.id) if item.status is RoundStatus.CLOSED]
        last = rounds[-1]
        ballots = [
            RankedBallot(ballot.voter, tuple(o for o in ballot.ranking if o in last.options))
            for ballot in self.store.ballots(decision.id, last.round)
        ]
        result = tally("plurality", last.options, ballots, quorum=quorum_rule(decision))
        if result.winner is None:
            failed = "is tied too" if result.quorum_met else "has no quorum either"
            return self._no_decision(decision, f"the plurality fallback {failed}: {result.reason}")
        return self._decide(decision, result, how="fallback")

    # ------------------------------------------------------------ endings

    def _outcome(self, decision: Decision, result: dict[str, Any], how: str) -> dict[str, Any]:
        """The stored outcome: the result, how it came, and its cost.

        A result that is not a tally (a tie-break, no decision) carries the ballot counts and
        quorum of the last round counted, so every outcome says how many abstained.
        """
        calls, tokens, cost = self.store.decision_cost(decision.id)
        closed = [item for item in self.store.rounds(decision.id) if item.tally is not None]
        last_tally = (closed[-1].tally or {}) if closed else {}
        turnout = {key: last_tally[key] for key in TURNOUT_KEYS if key in last_tally}
        return {
            **turnout,
            **result,
            "how": how,
            "resolution": list(decision.resolution),
            "rounds_held": decision.current_round,
            "calls": calls,
            "tokens": tokens,
            "cost": cost,
        }

    def _decide(self, decision: Decision, result: TallyResult, *, how: str) -> Decision:
        return self._close(
            decision.id, self._outcome(decision, result.to_dict(), how), status=DecisionStatus.DECIDED
        )

    def _decide_by_human(self, decision: Decision, choice: str, *, actor: str) -> Decision:
        leaders = self.leaders(decision)
        result = {
            "method": decision.method,
            "winner": choice,
            "tied": list(leaders),
            "rounds": [],
            "support": leaders.get(choice, 0.0),
            "participation": 1.0,
            "consensus": "split",
            "reason": f"{choice} chosen to break the tie between {listing(list(leaders))}",
            "tie_break_by": actor,
        }
        how = "human tie-break" if actor == "human" else "policy tie-break"
        return self._close(
            decision.id,
            self._outcome(decision, result, how),
            status=DecisionStatus.DECIDED,
            actor=actor,
        )

    def _no_decision(self, decision: Decision, reason: str) -> Decision:
        result = {
            "method": decision.method,
            "winner": None,
            "tied": list(self.leaders(decision)),
            "rounds": [],
            "support": 0.0,
            "participation": 0.0,
            "consensus": "split",
            "reason": f"No decision: {reason}",
        }
        return self._close(
            decision.id, self._outcome(decision, result, "none"), status=DecisionStatus.NO_DECISION
        )

    def _record_ballot(self, ballot: Ballot, *, project_id: int | None) -> None:
        with self.store.transaction() as tx:
            writes.insert_ballot(tx, ballot, project_id=project_id)

    def _close(
        self, decision_id: int, outcome: dict[str, Any], *, status: DecisionStatus, actor: str = "engine"
    ) -> Decision:
        decision = self._decision(decision_id)
        with self.store.transaction() as tx:
            writes.close(tx, decision, outcome, status=status, actor=actor)
        return self._decision(decision_id)

    def _note(self, decision: Decision, kind: str, summary: str, data: dict[str, Any] | None = None) -> None:
        with self.store.transaction() as tx:
            tx.audit(
                "engine",
                kind,
                summary,
                subject=f"decision:{decision.id}",
                project_id=decision.project_id,
                data=data,
            )


def open_tie_break(items: Sequence[Any]) -> Any:
    """The first open tie-break request among inbox items, if any."""
    return next(
        (item for item in items if item.kind is InboxKind.TIE_BREAK and item.status is InboxStatus.OPEN), None
    )
