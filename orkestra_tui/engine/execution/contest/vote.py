"""A contest's vote: the entries put to the committee, its end, and the wait for the human's tie-break.

The surviving entries become a decision like any other ("Entry A", "Entry B"...): each entry's
diff and gates are stored with it as its option's detail, and its agent as its author, so no
agent votes for its own. The project's method and committee vote (as its plan's brief chose
them). A vote that needs the human's tie-break (and may not have a policy break it) parks the
task, awaiting the human with its lease released; once the tie is broken, `resume_answered`
puts it back to ready and the vote ends where it was.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.execution.contest import records as contests
from orkestra_tui.engine.execution.contest.desk import contest_question
from orkestra_tui.engine.execution.contest.entries import entry_detail
from orkestra_tui.engine.execution.contest.view import ContestState
from orkestra_tui.engine.models import InboxKind, InboxStatus, TaskStatus

if TYPE_CHECKING:
    from orkestra_tui.engine.events import EngineEvent
    from orkestra_tui.engine.execution.claims import Claim
    from orkestra_tui.engine.execution.contest.host import ContestHost
    from orkestra_tui.engine.execution.contest.records import EntryRecord
    from orkestra_tui.engine.models import Decision, Task
    from orkestra_tui.engine.voting.desk import DecisionDesk

WAITING_NOTE = "the contest's vote waits for your tie-break"


class ContestVote:
    """The vote on one scheduler's contests."""

    def __init__(self, host: ContestHost) -> None:
        self.host = host

    def desk(self) -> DecisionDesk:
        from orkestra_tui.engine.voting.desk import DecisionDesk

        host = self.host
        return DecisionDesk(host.store, host.inbox, host.pool, host.settings, host.clock)

    async def open_decision(self, task: Task, survivors: list[EntryRecord], *, repository: bool) -> int:
        """Put the entries to the committee (RequestRejected if it cannot vote on them); the decision."""
        host = self.host
        details = {
            entry.option: await entry_detail(host.store, task.id, entry, repository=repository)
            for entry in survivors
        }
        method, voters = self.committee(task.project_id)
        decision = self.desk().open_decision(
            contest_question(task),
            [entry.option for entry in survivors],
            method=method,
            voters=voters,
            authors={entry.option: entry.agent for entry in survivors},
            details=details,
            category="contest",
            project_id=task.project_id,
            actor="engine",
        )
        with host.store.transaction() as tx:
            contests.set_state(
                tx,
                task.id,
                ContestState.VOTING,
                summary=f"The committee votes between {len(survivors)} entries of {task.title!r}",
                kind="vote_opened",
                decision_id=decision.id,
            )
        return decision.id

    def committee(self, project_id: int) -> tuple[str | None, list[str] | None]:
        """The project's voting method and committee, as its plan's brief chose them (None: defaults).

        Only the brief's agents that are enabled now vote; none left, every enabled agent does.
        """
        from orkestra_tui.consensus_methods import METHODS

        rows = self.host.store.query(
            "SELECT json_extract(brief, '$.method'), json_extract(brief, '$.agents') FROM plan_session"
            " WHERE project_id = ?",
            (project_id,),
        )
        if not rows:
            return None, None
        method, agents = rows[0]
        enabled = {runtime.name for runtime in self.host.pool.enabled_agents()}
        chosen = [name for name in json.loads(agents or "[]") if name in enabled]
        return (method if method in METHODS else None), (chosen or None)

    async def decide(self, decision_id: int) -> Decision | None:
        """Run the vote to its end; None if it stopped to wait for the human's tie-break."""
        desk = self.desk()
        waiting = asyncio.Event()

        def on_event(event: EngineEvent) -> None:
            if event.kind == "decision.awaiting_human" and event.subject == f"decision:{decision_id}":
                waiting.set()

        subscription = self.host.bus.subscribe(on_event)
        voting = asyncio.ensure_future(
            desk.decide(decision_id, tie_break=self.host.contest_tie_break, resolution=("human", "fallback"))
        )
        waiter = asyncio.ensure_future(waiting.wait())
        try:
            while True:
                await asyncio.wait({voting, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if voting.done():
                    return voting.result()
                if self.tie_break_open(decision_id) and self.host.contest_tie_break == "ask":
                    voting.cancel()
                    await asyncio.gather(voting, return_exceptions=True)
                    return None
                waiting.clear()
                waiter = asyncio.ensure_future(waiting.wait())
        finally:
            subscription.close()
            waiter.cancel()
            if not voting.done():
                voting.cancel()
                await asyncio.gather(voting, return_exceptions=True)

    def tie_break_open(self, decision_id: int) -> bool:
        return any(
            item.kind is InboxKind.TIE_BREAK and item.payload.get("decision_id") == decision_id
            for item in self.host.store.inbox(InboxStatus.OPEN)
        )

    def park(self, claim: Claim, decision_id: int) -> str:
        """The vote waits for the human: the task waits too, its lease released, until the tie is broken."""
        from orkestra_tui.engine.execution.tasks import finish_task

        task = claim.task
        with self.host.store.transaction() as tx:
            contests.set_state(
                tx,
                task.id,
                ContestState.AWAITING_HUMAN,
                summary=f"The vote on {task.title!r}'s entries waits for your tie-break",
                kind="awaiting_human",
                decision_id=decision_id,
                note=WAITING_NOTE,
            )
            if not finish_task(
                tx,
                task.id,
                TaskStatus.AWAITING_HUMAN,
                owner=self.host.owner,
                attempt=claim.attempt,
                note=WAITING_NOTE,
                error="",
                retry=False,
                now=tx.clock.now(),
            ):
                raise EngineError("the lease was lost while the committee voted")
            tx.audit(
                "engine",
                "task.awaiting_human",
                f"Task {task.title!r} is awaiting human: {WAITING_NOTE}",
                subject=f"task:{task.id}",
                project_id=task.project_id,
                data={
                    "from": "running",
                    "to": "awaiting_human",
                    "note": WAITING_NOTE,
                    "decision": decision_id,
                },
            )
        self.host._started.pop(task.id, None)
        return TaskStatus.AWAITING_HUMAN.value

    def resume_answered(self, project_ids: list[int]) -> int:
        """Tasks whose contest's tie-break the human answered go back to ready, to finish their vote."""
        from orkestra_tui.engine.execution.tasks import move_task

        if not project_ids:
            return 0
        marks = ", ".join("?" * len(project_ids))
        rows = self.host.store.query(
            f"SELECT c.task_id, c.decision_id FROM contest c JOIN task t ON t.id = c.task_id"
            f" WHERE c.state = 'awaiting_human' AND t.status = 'awaiting_human'"
            f" AND t.project_id IN ({marks})",
            list(project_ids),
        )
        moved = 0
        for task_id, decision_id in rows:
            if decision_id is None or self.tie_break_open(int(decision_id)):
                continue
            task = self.host.store.task(int(task_id))
            if task is None:
                continue
            with self.host.store.transaction() as tx:
                contests.set_state(
                    tx,
                    task.id,
                    ContestState.VOTING,
                    summary=f"The tie between {task.title!r}'s entries is broken: its vote ends",
                    kind="vote_resumed",
                )
                move_task(
                    tx, self.host.store, task, TaskStatus.READY, actor="engine", note="the tie is broken"
                )
            moved += 1
        return moved
