"""Recovery when a process starts working on a data directory that an earlier one left.

`recover(parts)` runs once when the app (or another process that resumes the
work) has opened the engine. It only touches what nobody is working on any
more, with the semantics of `leases.release_stale`: a lease is released when it
expired, or when its owner is a process on this machine that no longer runs. A
live `orkestra run` in another process keeps its tasks.

A task whose agent had finished (in review, its result stored) keeps its
result and stays in review: the scheduler resumes its review without calling
the agent again. Calls a dead process left `started` (its request sent, no
answer recorded) are marked interrupted, keeping the cost estimated when they
started: the call was paid for, or may have been.

It then marks as interrupted the task attempts still recorded as running whose
lease is gone, and lists what the caller resumes or shows again: the votes
under way and the questions to the human still open. One `recovered` audit
event records what it did, and only when it did something (a lease released,
an attempt or a call interrupted): votes and questions waiting across a normal
restart are not a recovery, so a clean start writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from orkestra_tui.engine.agents.call_log import INTERRUPTED_CALL_NOTE
from orkestra_tui.engine.execution.leases import release_stale
from orkestra_tui.engine.owners import lease_owner_name, owner_is_dead
from orkestra_tui.engine.store.store import Store

if TYPE_CHECKING:
    from orkestra_tui.config import Settings
    from orkestra_tui.engine.agents.pool import AgentPool
    from orkestra_tui.engine.clock import Clock
    from orkestra_tui.engine.inbox import Inbox
    from orkestra_tui.engine.voting.desk import DecisionDesk

INTERRUPTED_NOTE = "the process running it stopped"


@dataclass(frozen=True)
class RecoveryReport:
    """What recovery found and did."""

    released_tasks: tuple[int, ...] = ()
    """Tasks whose stale lease was released: they are ready again, or (in `reviews_to_resume`) they
    wait for their review."""
    interrupted_attempts: int = 0
    """Attempts a stopped process left running: marked abandoned or interrupted."""
    votes_under_way: tuple[int, ...] = ()
    """Decisions whose vote was under way, for the caller to resume."""
    open_requests: tuple[int, ...] = ()
    """Inbox requests still waiting for the human, for the caller to show again."""
    event_id: int | None = None
    """The `recovered` audit event, when one was written."""
    reviews_to_resume: tuple[int, ...] = ()
    """Released tasks whose agent had finished: they stay in review, with their result."""
    interrupted_calls: int = 0
    """Calls a stopped process left under way: marked interrupted, their estimated cost kept."""

    @property
    def recovered(self) -> bool:
        """Whether anything an earlier process left was cleaned up."""
        return bool(self.released_tasks or self.interrupted_attempts or self.interrupted_calls)

    def summary(self) -> str:
        """One or two sentences for a notification or a log line."""
        done: list[str] = []
        ready_again = len(self.released_tasks) - len(self.reviews_to_resume)
        if ready_again:
            done.append(f"{_count(ready_again, 'task')} ready again")
        if self.reviews_to_resume:
            done.append(f"{_count(len(self.reviews_to_resume), 'finished task')} kept for review")
        if self.interrupted_attempts:
            done.append(f"{_count(self.interrupted_attempts, 'interrupted attempt')} closed")
        if self.interrupted_calls:
            done.append(f"{_count(self.interrupted_calls, 'interrupted call')} recorded")
        waiting: list[str] = []
        if self.votes_under_way:
            waiting.append(f"{_count(len(self.votes_under_way), 'vote')} to resume")
        if self.open_requests:
            waiting.append(f"{_count(len(self.open_requests), 'question')} waiting for you")
        text = "Recovered from an interrupted run: " + ", ".join(done) + "." if done else ""
        if waiting:
            text += (" " if text else "") + ", ".join(waiting) + "."
        return text


class RecoveryParts(Protocol):
    """The parts recovery reads and writes (the Engine has them all, and is passed as them)."""

    @property
    def store(self) -> Store: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def inbox(self) -> Inbox: ...
    @property
    def pool(self) -> AgentPool: ...
    @property
    def decision_desk(self) -> DecisionDesk: ...


def recover(parts: RecoveryParts) -> RecoveryReport:
    """Release what stopped processes left, list what is to resume; one `recovered` event if needed."""
    store = parts.store
    now = parts.clock.now()
    me = lease_owner_name()  # a fresh owner: every lease held by someone else is looked at
    stale = [
        task_id
        for task_id, owner, expires in store.query(
            "SELECT id, lease_owner, lease_expires_at FROM task WHERE lease_owner IS NOT NULL"
        )
        if expires is None or expires < now or owner_is_dead(owner)
    ]
    released: tuple[int, ...] = ()
    abandoned = 0
    if stale and release_stale(store, me, now):
        marks = ", ".join("?" * len(stale))
        released = tuple(
            task_id
            for (task_id,) in store.query(
                f"SELECT id FROM task WHERE id IN ({marks}) AND lease_owner IS NULL ORDER BY id", stale
            )
        )
        abandoned = int(
            store.scalar(
                f"SELECT count(*) FROM task_attempt WHERE outcome = 'abandoned' AND finished_at = ?"
                f" AND task_id IN ({marks})",
                [now, *stale],
            )
        )
    reviews: tuple[int, ...] = ()
    if released:
        marks = ", ".join("?" * len(released))
        reviews = tuple(
            task_id
            for (task_id,) in store.query(
                f"SELECT id FROM task WHERE id IN ({marks}) AND status = 'review' ORDER BY id", released
            )
        )
    # Attempts still "running" whose task no longer holds a lease for them: a process stopped mid-way
    # (but not the attempt whose result waits in review, from before attempts were marked so).
    orphaned = store.query(
        "SELECT a.id FROM task_attempt a JOIN task t ON t.id = a.task_id WHERE a.outcome = 'running'"
        " AND NOT (t.lease_owner IS NOT NULL AND t.attempts = a.number)"
        " AND NOT (t.status = 'review' AND t.attempts = a.number)"
    )
    longest_timeout_s = max(
        (runtime.timeout_s for runtime in parts.pool.runtimes.values()),
        default=parts.settings.engine.agent_timeout_s,
    )
    calls = dead_calls(store, now, patience_s=2 * longest_timeout_s + 60.0)
    votes = tuple(decision.id for decision in parts.decision_desk.decisions_under_way())
    requests = tuple(item.id for item in parts.inbox.open_items())
    report = RecoveryReport(
        released,
        abandoned + len(orphaned),
        votes,
        requests,
        reviews_to_resume=reviews,
        interrupted_calls=len(calls),
    )
    if not report.recovered:
        return report
    with store.transaction() as tx:
        if orphaned:
            tx.executemany(
                "UPDATE task_attempt SET outcome = 'interrupted', error = ?, finished_at = ?"
                " WHERE id = ? AND outcome = 'running'",
                [(INTERRUPTED_NOTE, now, attempt_id) for (attempt_id,) in orphaned],
            )
        if calls:
            tx.executemany(
                "UPDATE call SET state = 'interrupted', error_class = 'interrupted', error = ?"
                " WHERE id = ? AND state = 'started'",
                [(INTERRUPTED_CALL_NOTE, call_id) for call_id in calls],
            )
        data: dict[str, object] = {
            "released_tasks": list(report.released_tasks),
            "interrupted_attempts": report.interrupted_attempts,
            "votes_under_way": list(report.votes_under_way),
            "open_requests": list(report.open_requests),
        }
        if reviews:
            data["reviews_to_resume"] = list(reviews)
        if calls:
            data["interrupted_calls"] = calls
        event = tx.audit("engine", "recovered", report.summary(), data=data)
    return replace(report, event_id=event.id)


def dead_calls(store: Store, now: float, *, patience_s: float) -> list[int]:
    """Calls recorded as started by a process that is gone (or so long ago no call lasts that long).

    A call's row is `started` from before its request goes out until its
    answer is recorded; no attempt outlives the agent timeout, so a row older
    than `patience_s` is left over even when its owner cannot be checked (it
    ran on another machine).
    """
    return [
        call_id
        for call_id, owner, started_at in store.query(
            "SELECT id, owner, started_at FROM call WHERE state = 'started'"
        )
        if owner is None or owner_is_dead(owner) or started_at < now - patience_s
    ]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
