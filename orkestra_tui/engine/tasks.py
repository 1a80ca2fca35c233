"""Writing tasks: creation with dependencies, status moves, and releasing dependents.

Each function writes inside the caller's transaction and records the audit
events that describe what it did; the rules of the task lifecycle
(`TASK_TRANSITIONS`) are enforced here, in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.graph import check_acyclic
from orkestra_tui.engine.models import TASK_TRANSITIONS, Task, TaskSpec, TaskStatus
from orkestra_tui.engine.store import Store, Transaction, dumps


def insert_tasks(
    tx: Transaction, store: Store, project_id: int, specs: Sequence[TaskSpec], *, actor: str
) -> range:
    """Create tasks whose `depends_on` keys refer to tasks in the same batch; their new ids.

    A task with no dependencies is ready at once; the others wait as pending.
    A dependency on a key not in the batch is dropped and recorded; a cycle is
    refused before anything is written.
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
                (TaskStatus.PENDING if dependencies[key] else TaskStatus.READY).value,
                now,
                now,
                dumps(list(spec.acceptance)),
            )
            for key, spec in zip(keys, specs, strict=True)
        ],
    )
    tx.executemany(
        "INSERT INTO task_dependency (task_id, depends_on) VALUES (?, ?)",
        [(ids[key], ids[dep]) for key in keys for dep in dependencies[key]],
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
    tx.execute(
        "UPDATE task SET status = ?, updated_at = ?, result = coalesce(?, result),"
        " assigned_to = coalesce(?, assigned_to), attempts = attempts + ? WHERE id = ?",
        (status.value, tx.clock.now(), result, assigned_to, int(status is TaskStatus.RUNNING), task.id),
    )
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
    rows = store.query(
        "SELECT t.id, t.title FROM task_dependency d JOIN task t ON t.id = d.task_id"
        " WHERE d.depends_on = ? AND t.status = 'pending' AND NOT EXISTS ("
        "  SELECT 1 FROM task_dependency d2 JOIN task o ON o.id = d2.depends_on"
        "  WHERE d2.task_id = t.id AND o.status != 'done')",
        (task.id,),
    )
    now = tx.clock.now()
    for dependent_id, title in rows:
        tx.execute("UPDATE task SET status = 'ready', updated_at = ? WHERE id = ?", (now, dependent_id))
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
        tx.execute(
            "UPDATE task SET status = 'blocked', note = ?, updated_at = ? WHERE id = ?",
            (reason, now, dependent_id),
        )
        tx.audit(
            "engine",
            "task.blocked",
            f"Task {title!r} is blocked: {reason}",
            subject=f"task:{dependent_id}",
            project_id=task.project_id,
            data={"from": status, "to": "blocked", "note": reason},
        )


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
