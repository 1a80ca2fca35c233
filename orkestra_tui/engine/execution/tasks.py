"""Writing tasks: creation with dependencies, status moves, leases, and releasing dependents.

This is the only module that writes a task's status. Each function writes
inside the caller's transaction; the rules of the task lifecycle
(`TASK_TRANSITIONS`) are enforced here, in one place. The scheduler's moves
(claim, review, finish, release) and the human's controls (retry, cancel,
approve, reject, reassign) are conditioned on the lease the task is known to
have, so a task is moved once, by whoever holds it.

The statements are module constants: the benchmarks' baselines run these same
statements through plain sqlite3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import TASK_TRANSITIONS, Task, TaskSpec, TaskStatus
from orkestra_tui.engine.planning.graph import check_acyclic
from orkestra_tui.engine.store.store import Store, Transaction, dumps

CLAIM_SQL = (
    "UPDATE task SET status = 'running', lease_owner = ?, lease_expires_at = ?,"
    " assigned_to = ?, rationale = ?, attempts = ?, updated_at = ? WHERE id = ?"
    " AND status = 'ready'"
)
"""Lease a ready task to an agent: (owner, expires_at, agent, rationale, attempt, now, task_id)."""

START_ATTEMPT_SQL = "INSERT INTO task_attempt (task_id, number, agent, started_at) VALUES (?, ?, ?, ?)"
"""The attempt a claim starts: (task_id, attempt, agent, now)."""

CLAIM_REVIEW_SQL = (
    "UPDATE task SET lease_owner = ?, lease_expires_at = ?, updated_at = ? WHERE id = ?"
    " AND status = 'review' AND lease_owner IS NULL"
)
"""Lease a task a stopped run left in review, to review it: (owner, expires_at, now, task_id)."""

TO_REVIEW_SQL = (
    "UPDATE task SET status = 'review', result = ?, artifact = ?, updated_at = ?"
    " WHERE id = ? AND lease_owner = ?"
)
"""Store the agent's result, the task going to review: (result, artifact, now, task_id, owner)."""

ATTEMPT_REVIEWED_SQL = "UPDATE task_attempt SET outcome = 'review' WHERE task_id = ? AND number = ?"
"""The attempt's work is done, its review to come: (task_id, attempt)."""

FINISH_SQL = (
    "UPDATE task SET status = ?, note = ?, lease_owner = NULL, lease_expires_at = NULL,"
    " review_rounds = review_rounds + ?, updated_at = ? WHERE id = ? AND lease_owner = ?"
)
"""Record a task's outcome and release its lease: (status, note, retried, now, task_id, owner)."""

END_ATTEMPT_SQL = (
    "UPDATE task_attempt SET outcome = ?, error = ?, finished_at = ? WHERE task_id = ? AND number = ?"
)
"""How an attempt ended: (outcome, error, now, task_id, attempt)."""

REVIEW_ROW_SQL = (
    "INSERT INTO task_review (task_id, attempt, reviewer, verdict, comments, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
"""One reviewer's verdict on an attempt: (task_id, attempt, reviewer, verdict, comments, now)."""

GIVE_BACK_SQL = (
    "UPDATE task SET status = 'ready', lease_owner = NULL, lease_expires_at = NULL,"
    " updated_at = ? WHERE id = ? AND lease_owner = ?"
)
"""A leased task back to ready, its lease released (the note stays): (now, task_id, owner)."""

KEEP_IN_REVIEW_SQL = (
    "UPDATE task SET lease_owner = NULL, lease_expires_at = NULL, updated_at = ?"
    " WHERE id = ? AND lease_owner = ? AND status = 'review'"
)
"""Release the lease of a task in review, its result kept for the next run: (now, task_id, owner)."""

BLOCK_SQL = "UPDATE task SET status = 'blocked', note = ?, updated_at = ? WHERE id = ? AND status = ?"
"""Block an unleased task with the reason: (reason, now, task_id, status it was read in)."""

DEPENDENTS_DONE_QUERY = (
    "SELECT t.id, t.title FROM task_dependency d JOIN task t ON t.id = d.task_id"
    " WHERE d.depends_on = ? AND t.status = 'pending' AND NOT EXISTS ("
    "  SELECT 1 FROM task_dependency d2 JOIN task o ON o.id = d2.depends_on"
    "  WHERE d2.task_id = t.id AND o.status != 'done')"
)
"""The pending tasks whose last unfinished dependency is the task done: (task_id,)."""

READY_SQL = "UPDATE task SET status = 'ready', updated_at = ? WHERE id = ? AND status = 'pending'"
"""A pending task whose dependencies are done becomes ready: (now, task_id)."""

MOVE_SQL = (
    "UPDATE task SET status = ?, updated_at = ?, result = coalesce(?, result),"
    " assigned_to = coalesce(?, assigned_to), attempts = attempts + ? WHERE id = ? AND status = ?"
)
"""A move allowed by the lifecycle: (status, now, result, assigned_to, started, task_id, status read)."""

CONTROL_SQL = (
    "UPDATE task SET status = ?, note = ?, lease_owner = NULL, lease_expires_at = NULL,"
    " pinned_agent = CASE WHEN ? THEN NULL ELSE pinned_agent END, updated_at = ?"
    " WHERE id = ? AND status = ? AND lease_owner IS ?"
)
"""The human moves a task and clears its lease: (status, note, unpin, now, task_id, status read,
lease owner read); a task that moved or changed hands meanwhile is left alone."""

END_RUNNING_ATTEMPT_SQL = (
    "UPDATE task_attempt SET outcome = ?, error = ?, finished_at = ?"
    " WHERE task_id = ? AND outcome = 'running'"
)
"""An attempt under way ends (its scheduler finds its lease gone): (outcome, error, now, task_id)."""

PIN_SQL = (
    "UPDATE task SET pinned_agent = ?, updated_at = ? WHERE id = ? AND status = ? AND lease_owner IS NULL"
)
"""Pin a task that is not leased to an agent (None: none): (agent, now, task_id, status read)."""


class TaskChangedError(EngineError):
    """A task moved, or changed hands, between when it was read and when it was written."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"task {task_id} changed meanwhile: look at it again")


def insert_tasks(
    tx: Transaction,
    store: Store,
    project_id: int,
    specs: Sequence[TaskSpec],
    *,
    actor: str,
    waits_for: Mapping[str, Sequence[int]] | None = None,
) -> range:
    """Create tasks whose `depends_on` keys refer to tasks in the same batch; their new ids.

    A task with no dependencies is ready at once; the others wait as pending.
    A dependency on a key not in the batch is dropped and recorded; a cycle is
    refused before anything is written. `waits_for` gives a key the ids of tasks
    already stored that it waits for too (checked by the caller): it is pending
    until they are done.
    """
    keys = [spec.key or f"task-{index + 1}" for index, spec in enumerate(specs)]
    if len(set(keys)) != len(keys):
        raise EngineError("two tasks in one batch share a key")
    known = set(keys)
    dependencies = {
        key: tuple(dict.fromkeys(dep for dep in spec.depends_on if dep in known and dep != key))
        for key, spec in zip(keys, specs, strict=True)
    }
    check_acyclic(dependencies)
    stored = {key: tuple(dict.fromkeys((waits_for or {}).get(key, ()))) for key in keys}
    stored_ids = sorted({task_id for ids_of_key in stored.values() for task_id in ids_of_key})
    done_ids = (
        {
            row[0]
            for row in store.query(
                f"SELECT id FROM task WHERE status = 'done' AND id IN ({', '.join('?' * len(stored_ids))})",
                stored_ids,
            )
        }
        if stored_ids
        else set()
    )
    now = tx.clock.now()
    first_id = int(store.scalar("SELECT coalesce(max(id), 0) FROM task")) + 1
    ids = {key: first_id + offset for offset, key in enumerate(keys)}
    tx.executemany(
        "INSERT INTO task (id, project_id, key, phase, title, instructions, category,"
        " priority, status, created_at, updated_at, acceptance) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                ids[key],
                project_id,
                key,
                spec.phase,
                spec.title,
                spec.instructions,
                spec.category,
                int(spec.priority),
                (
                    TaskStatus.PENDING
                    if dependencies[key] or set(stored[key]) - done_ids
                    else TaskStatus.READY
                ).value,
                now,
                now,
                dumps(list(spec.acceptance)),
            )
            for key, spec in zip(keys, specs, strict=True)
        ],
    )
    tx.executemany(
        "INSERT INTO task_dependency (task_id, depends_on) VALUES (?, ?)",
        [(ids[key], ids[dep]) for key in keys for dep in dependencies[key]]
        + [(ids[key], task_id) for key in keys for task_id in stored[key]],
    )
    for key, spec in zip(keys, specs, strict=True):
        data: dict[str, Any] = {"key": key, "phase": spec.phase, "priority": spec.priority.label}
        dropped = [dep for dep in spec.depends_on if dep not in known]
        if dropped:
            data["dropped_dependencies"] = dropped
        tx.audit(
            actor,
            "task.created",
            f"Task {spec.title!r} created",
            subject=f"task:{ids[key]}",
            project_id=project_id,
            data=data,
        )
    return range(first_id, first_id + len(specs))


def move_task(
    tx: Transaction,
    store: Store,
    task: Task,
    status: TaskStatus,
    *,
    actor: str,
    note: str = "",
    result: str | None = None,
    assigned_to: str | None = None,
) -> None:
    """Move a task to `status` if its lifecycle allows it; a task done frees its dependents."""
    if status not in TASK_TRANSITIONS[task.status]:
        raise EngineError(f"task {task.id} cannot go from {task.status.label} to {status.label}")
    cursor = tx.execute(
        MOVE_SQL,
        (
            status.value,
            tx.clock.now(),
            result,
            assigned_to,
            int(status is TaskStatus.RUNNING),
            task.id,
            task.status.value,
        ),
    )
    if not cursor.rowcount:
        raise TaskChangedError(task.id)
    summary = f"Task {task.title!r} is {status.label}"
    if note:
        summary += f": {note}"
    tx.audit(
        actor,
        f"task.{status.value}",
        summary,
        subject=f"task:{task.id}",
        project_id=task.project_id,
        data={"from": task.status.value, "to": status.value, "note": note},
    )
    if status is TaskStatus.DONE:
        release_dependents(tx, store, task)
        note_milestone(tx, store, task)


def release_dependents(tx: Transaction, store: Store, task: Task) -> None:
    """Pending tasks whose last unfinished dependency was `task` become ready."""
    rows = store.query(DEPENDENTS_DONE_QUERY, (task.id,))
    now = tx.clock.now()
    for dependent_id, title in rows:
        tx.execute(READY_SQL, (now, dependent_id))
        tx.audit(
            "engine",
            "task.ready",
            f"Task {title!r} is ready: its dependencies are done",
            subject=f"task:{dependent_id}",
            project_id=task.project_id,
            data={"from": "pending", "to": "ready"},
        )


def block_dependents(tx: Transaction, store: Store, task: Task, reason: str) -> None:
    """Tasks waiting on `task`, which will never be done, are blocked with `reason` (retry frees them)."""
    rows = store.query(
        "SELECT t.id, t.title, t.status FROM task_dependency d JOIN task t ON t.id = d.task_id"
        " WHERE d.depends_on = ? AND t.status IN ('pending', 'ready')",
        (task.id,),
    )
    now = tx.clock.now()
    for dependent_id, title, status in rows:
        block_task(tx, dependent_id, reason, status, now=now)
        tx.audit(
            "engine",
            "task.blocked",
            f"Task {title!r} is blocked: {reason}",
            subject=f"task:{dependent_id}",
            project_id=task.project_id,
            data={"from": status, "to": "blocked", "note": reason},
        )


def block_task(tx: Transaction, task_id: int, reason: str, status: str, *, now: float) -> bool:
    """Block a task not leased, read in `status`, with `reason`; whether it was still in it."""
    return bool(tx.execute(BLOCK_SQL, (reason, now, task_id, status)).rowcount)


# ------------------------------------------------------------------ the scheduler's moves, under a lease


def claim_task(
    tx: Transaction,
    task_id: int,
    *,
    owner: str,
    expires_at: float,
    agent: str,
    rationale: str,
    attempt: int,
    now: float,
) -> bool:
    """Lease a ready task to `agent` for `owner` and start its attempt; whether it was still ready."""
    claimed = bool(
        tx.execute(CLAIM_SQL, (owner, expires_at, agent, rationale, attempt, now, task_id)).rowcount
    )
    tx.execute(START_ATTEMPT_SQL, (task_id, attempt, agent, now))
    return claimed


def claim_review(tx: Transaction, task_id: int, *, owner: str, expires_at: float, now: float) -> bool:
    """Lease a task left in review with no lease, to review it; whether it still was."""
    return bool(tx.execute(CLAIM_REVIEW_SQL, (owner, expires_at, now, task_id)).rowcount)


def store_result(
    tx: Transaction, task_id: int, *, owner: str, attempt: int, result: str, artifact: str, now: float
) -> bool:
    """The agent's result stored, the task goes to review; whether `owner` still held its lease."""
    if not tx.execute(TO_REVIEW_SQL, (result, artifact, now, task_id, owner)).rowcount:
        return False
    tx.execute(ATTEMPT_REVIEWED_SQL, (task_id, attempt))
    return True


def finish_task(
    tx: Transaction,
    task_id: int,
    status: TaskStatus,
    *,
    owner: str,
    attempt: int,
    note: str,
    error: str,
    retry: bool,
    now: float,
) -> bool:
    """Record a task's outcome, its attempt's, and release its lease; whether `owner` still held it."""
    if not tx.execute(FINISH_SQL, (status.value, note, int(retry), now, task_id, owner)).rowcount:
        return False
    tx.execute(END_ATTEMPT_SQL, ("retry" if retry else status.value, error, now, task_id, attempt))
    return True


def assign_to(tx: Transaction, task_id: int, agent: str, *, owner: str) -> bool:
    """The task's work is now `agent`'s (a contest's winner); whether `owner` still held its lease."""
    return bool(
        tx.execute(
            "UPDATE task SET assigned_to = ? WHERE id = ? AND lease_owner = ?", (agent, task_id, owner)
        ).rowcount
    )


def give_back(tx: Transaction, task_id: int, *, owner: str, now: float) -> bool:
    """A leased task goes back to ready, its lease released; whether `owner` still held it."""
    return bool(tx.execute(GIVE_BACK_SQL, (now, task_id, owner)).rowcount)


def keep_in_review(tx: Transaction, task_id: int, *, owner: str, now: float) -> bool:
    """Release the lease of a task in review, keeping its result; whether `owner` still held it."""
    return bool(tx.execute(KEEP_IN_REVIEW_SQL, (now, task_id, owner)).rowcount)


# ------------------------------------------------------------------------------- the human's controls


def control_task(
    tx: Transaction, task: Task, status: TaskStatus, *, note: str, outcome: str, error: str, unpin: bool
) -> None:
    """The human moves `task`, as read, to `status` and clears its lease; an attempt under way ends.

    A task that moved or changed hands since it was read is left alone (`TaskChangedError`).
    """
    now = tx.clock.now()
    cursor = tx.execute(
        CONTROL_SQL, (status.value, note, int(unpin), now, task.id, task.status.value, task.lease_owner)
    )
    if not cursor.rowcount:
        raise TaskChangedError(task.id)
    tx.execute(END_RUNNING_ATTEMPT_SQL, (outcome, error, now, task.id))


def pin_task(tx: Transaction, task: Task, agent: str | None) -> None:
    """Pin `task`, as read and not leased, to `agent` (None: let the scheduler choose)."""
    if not tx.execute(PIN_SQL, (agent, tx.clock.now(), task.id, task.status.value)).rowcount:
        raise TaskChangedError(task.id)


# ------------------------------------------------------------------------------------ sample data


PLACE_SQL = "UPDATE task SET status = ?, assigned_to = ?, result = ?, note = ? WHERE id = ?"
"""Put a task straight into a status, outside the lifecycle: (status, agent, result, note, task_id)."""

READY_UNBLOCKED_SQL = (
    "UPDATE task SET status = 'ready' WHERE project_id = ? AND status = 'pending' AND NOT EXISTS ("
    " SELECT 1 FROM task_dependency d JOIN task o ON o.id = d.depends_on"
    " WHERE d.task_id = task.id AND o.status != 'done')"
)
"""Every pending task of a project whose dependencies are done becomes ready: (project_id,)."""


def place_tasks(
    tx: Transaction, project_id: int, placed: Sequence[tuple[str, str, str | None, str, int]]
) -> None:
    """Fill a project's board for a benchmark or a sample: tasks put straight into their statuses
    (status, agent, result, note, task_id), outside the lifecycle; then those whose dependencies
    are done are ready."""
    tx.executemany(PLACE_SQL, placed)
    tx.execute(READY_UNBLOCKED_SQL, (project_id,))


UNFINISHED_BY_LIKELINESS = ("running", "review", "awaiting_human", "ready", "failed", "blocked", "pending")
"""The statuses of a task not finished (neither done nor cancelled), most likely to share a phase first."""


@dataclass(frozen=True)
class PhaseProgress:
    """How far one phase of a project is: its tasks done out of those not cancelled."""

    phase: str
    done: int
    total: int


def note_milestone(tx: Transaction, store: Store, task: Task) -> None:
    """If `task`, just done in `tx`, was the last unfinished task of its phase, record the milestone.

    A phase is reached when every task in it that was not cancelled is done;
    the milestone is recorded once per phase, even if tasks are added to it
    later. Tasks without a phase make no milestone.
    """
    if not task.phase:
        return
    # One status at a time, those most likely to hold the phase's other tasks first: each query seeks
    # the (project, status) index and stops at the first match, where one query over all the open
    # statuses would read every open task of the earlier phases first.
    for status in UNFINISHED_BY_LIKELINESS:
        if store.scalar(
            "SELECT 1 FROM task WHERE project_id = ? AND status = ? AND phase = ? AND id != ? LIMIT 1",
            (task.project_id, status, task.phase, task.id),
        ):
            return
    subject = f"project:{task.project_id}"
    if store.scalar(  # the (actor, kind) index finds the few milestones
        "SELECT 1 FROM audit WHERE actor = 'engine' AND kind = 'milestone.reached' AND subject = ?"
        " AND json_extract(data, '$.phase') = ? LIMIT 1",
        (subject, task.phase),
    ):
        return
    done = int(
        store.scalar(
            "SELECT count(*) FROM task WHERE project_id = ? AND phase = ? AND status = 'done'",
            (task.project_id, task.phase),
        )
    )
    project_name = store.scalar("SELECT name FROM project WHERE id = ?", (task.project_id,))
    tx.audit(
        "engine",
        "milestone.reached",
        f"Milestone: phase {task.phase!r} of {project_name!r} is done ({done} task{'s' * (done != 1)})",
        subject=subject,
        project_id=task.project_id,
        data={"phase": task.phase, "tasks": done, "last_task": task.id},
    )


def phase_progress(store: Store, project_id: int) -> list[PhaseProgress]:
    """Each phase of a project in plan order (its first task first), with its tasks done and total."""
    rows = store.query(
        "SELECT phase, sum(status = 'done'), sum(status != 'cancelled') FROM task WHERE project_id = ?"
        " GROUP BY phase ORDER BY min(id)",
        (project_id,),
    )
    return [PhaseProgress(phase, int(done or 0), int(total or 0)) for phase, done, total in rows]
