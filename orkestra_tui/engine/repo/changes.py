"""What the database knows of a project's repository: the link, each task's change, every gate run.

This module is the only writer of the `repository`, `task_change` and `gate_run` tables
(migration 10). Git holds the work itself; these rows say where it is (the branch, the
worktree folder, the commits) and how far it got, so a restarted run finds each task's
change again and the Board shows it without asking git.

A task's change moves through these states:

    working    its worktree exists, the agent is at work (or was, when a run was killed)
    gated      committed on its branch and the gates passed: it waits for review
    approved   reviewed (or approved by the human): it waits for its turn to merge
    merged     merged into the integration branch; its worktree and branch are gone
    kept       not merged, and its worktree or branch is kept, for the reason in `note`
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.engine.store.store import Store, Transaction

ChangeState = Literal["working", "gated", "approved", "merged", "kept"]
GateStage = Literal["task", "merge"]
GATE_OUTPUT_CHARS = 8000
"""The most of a gate's output kept (the runner already keeps its head and tail)."""


@dataclass(frozen=True)
class RepositoryLink:
    """A project's repository: where it is, its base branch, and Orkestra's integration branch."""

    project_id: int
    path: Path
    """The repository's top level (the user's checkout: never written by Orkestra)."""
    base: str
    branch: str
    """The integration branch, `orkestra/<project>`."""
    worktree: Path
    """The integration branch's own worktree, under the data dir."""
    linked_at: float


@dataclass(frozen=True)
class TaskChange:
    """One task's change in the repository."""

    task_id: int
    branch: str
    worktree: Path | None
    """None once the worktree is removed."""
    base_commit: str | None
    commit: str | None
    """The task's own commit on its branch (its newest, after a retry)."""
    merged_commit: str | None
    """The merge commit on the integration branch."""
    state: ChangeState
    files: tuple[str, ...]
    """The paths the change touches, relative to the repository."""
    reruns: int
    """How many times the task was run again on a fresh worktree (after a conflict or a failed merge gate)."""
    note: str
    updated_at: float


@dataclass(frozen=True)
class GateRecord:
    """One gate command run for a task: on its own change, or on the merged result."""

    task_id: int
    attempt: int
    stage: GateStage
    command: str
    exit_code: int | None
    """None when the gate timed out or could not start."""
    duration_s: float
    output: str
    at: float

    @property
    def passed(self) -> bool:
        return self.exit_code == 0


_LINK_COLUMNS = "project_id, path, base, branch, worktree, linked_at"
_CHANGE_COLUMNS = ", ".join(
    [
        "task_id",
        "branch",
        "worktree",
        "base_commit",
        "commit_sha",
        "merged_commit",
        "state",
        "files",
        "reruns",
        "note",
        "updated_at",
    ]
)
_GATE_COLUMNS = "task_id, attempt, stage, command, exit_code, duration_s, output, at"


def _link(row: Sequence[Any]) -> RepositoryLink:
    return RepositoryLink(row[0], Path(row[1]), row[2], row[3], Path(row[4]), row[5])


def _change(row: Sequence[Any]) -> TaskChange:
    return TaskChange(
        task_id=row[0],
        branch=row[1],
        worktree=Path(row[2]) if row[2] else None,
        base_commit=row[3],
        commit=row[4],
        merged_commit=row[5],
        state=row[6],
        files=tuple(json.loads(row[7] or "[]")),
        reruns=row[8],
        note=row[9],
        updated_at=row[10],
    )


def _gate(row: Sequence[Any]) -> GateRecord:
    return GateRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])


# Reads.


def repository(store: Store, project_id: int) -> RepositoryLink | None:
    rows = store.query(f"SELECT {_LINK_COLUMNS} FROM repository WHERE project_id = ?", (project_id,))
    return _link(rows[0]) if rows else None


def repositories(store: Store) -> list[RepositoryLink]:
    return [_link(row) for row in store.query(f"SELECT {_LINK_COLUMNS} FROM repository ORDER BY project_id")]


def task_change(store: Store, task_id: int) -> TaskChange | None:
    rows = store.query(f"SELECT {_CHANGE_COLUMNS} FROM task_change WHERE task_id = ?", (task_id,))
    return _change(rows[0]) if rows else None


def project_changes(store: Store, project_id: int) -> list[TaskChange]:
    rows = store.query(
        f"SELECT {', '.join('c.' + name.strip() for name in _CHANGE_COLUMNS.split(','))}"
        " FROM task_change c JOIN task t ON t.id = c.task_id WHERE t.project_id = ? ORDER BY c.task_id",
        (project_id,),
    )
    return [_change(row) for row in rows]


def gate_runs(store: Store, task_id: int) -> list[GateRecord]:
    rows = store.query(f"SELECT {_GATE_COLUMNS} FROM gate_run WHERE task_id = ? ORDER BY id", (task_id,))
    return [_gate(row) for row in rows]


# Writes: each in the caller's transaction, with the audit event the caller writes beside it.


def save_link(tx: Transaction, link: RepositoryLink) -> None:
    tx.execute(
        f"INSERT INTO repository ({_LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (project_id) DO UPDATE SET path = excluded.path, base = excluded.base,"
        " branch = excluded.branch, worktree = excluded.worktree, linked_at = excluded.linked_at",
        (link.project_id, str(link.path), link.base, link.branch, str(link.worktree), link.linked_at),
    )


def start_change(
    tx: Transaction, task_id: int, *, branch: str, worktree: Path, base_commit: str | None, now: float
) -> None:
    """A task's worktree exists: its change is `working` (a re-run keeps its count of reruns)."""
    tx.execute(
        "INSERT INTO task_change (task_id, branch, worktree, base_commit, state, updated_at)"
        " VALUES (?, ?, ?, ?, 'working', ?)"
        " ON CONFLICT (task_id) DO UPDATE SET branch = excluded.branch, worktree = excluded.worktree,"
        " base_commit = excluded.base_commit, commit_sha = NULL, merged_commit = NULL,"
        " state = 'working', files = '[]', updated_at = excluded.updated_at",
        (task_id, branch, str(worktree), base_commit, now),
    )


def record_commit(tx: Transaction, task_id: int, *, commit: str, files: Sequence[str], now: float) -> None:
    tx.execute(
        "UPDATE task_change SET commit_sha = ?, files = ?, updated_at = ? WHERE task_id = ?",
        (commit, json.dumps(sorted(set(files))), now, task_id),
    )


def set_state(tx: Transaction, task_id: int, state: ChangeState, *, note: str = "", now: float) -> None:
    tx.execute(
        "UPDATE task_change SET state = ?, note = ?, updated_at = ? WHERE task_id = ?",
        (state, note, now, task_id),
    )


def count_rerun(tx: Transaction, task_id: int, *, note: str, now: float) -> None:
    """The task runs again on a fresh worktree; its old branch is kept for the reason in `note`."""
    tx.execute(
        "UPDATE task_change SET reruns = reruns + 1, state = 'kept', note = ?, updated_at = ?"
        " WHERE task_id = ?",
        (note, now, task_id),
    )


def record_merge(tx: Transaction, task_id: int, *, merged_commit: str, now: float) -> None:
    tx.execute(
        "UPDATE task_change SET merged_commit = ?, state = 'merged', note = '', updated_at = ?"
        " WHERE task_id = ?",
        (merged_commit, now, task_id),
    )


def forget_worktree(tx: Transaction, task_id: int, *, now: float) -> None:
    """The task's worktree is gone (removed after its merge, or by hand)."""
    tx.execute("UPDATE task_change SET worktree = NULL, updated_at = ? WHERE task_id = ?", (now, task_id))


def note_kept(tx: Transaction, task_id: int, *, note: str, now: float) -> None:
    """The task's worktree or branch stays, for the reason in NOTE."""
    tx.execute("UPDATE task_change SET note = ?, updated_at = ? WHERE task_id = ?", (note, now, task_id))


def record_gate(
    tx: Transaction,
    task_id: int,
    *,
    attempt: int,
    stage: GateStage,
    command: str,
    exit_code: int | None,
    duration_s: float,
    output: str,
    now: float,
) -> None:
    tx.execute(
        f"INSERT INTO gate_run ({_GATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (task_id, attempt, stage, command, exit_code, duration_s, output[-GATE_OUTPUT_CHARS:], now),
    )


def approved_change_status(store: Store, task_id: int) -> TaskStatus:
    """Where the human's approval of an escalated task sends it, and its change marked so.

    Done, outside a repository. In one, an approved change is done once merged: it joins the
    merge queue (review, with its change approved), or, when it could not merge (a conflict, or
    the merged result failing its gates), it runs again from the current head, the only way it can.
    """
    change = task_change(store, task_id)
    if change is None or change.state == "merged":
        return TaskStatus.DONE
    if change.state == "kept":
        return TaskStatus.READY
    if change.commit is None:
        return TaskStatus.DONE
    with store.transaction() as tx:
        set_state(tx, task_id, "approved", note="approved by the human", now=tx.clock.now())
        tx.audit(
            "human",
            "task.merge_queued",
            f"Task {task_id}'s change joins the merge queue",
            subject=f"task:{task_id}",
            data={"commit": change.commit},
        )
    return TaskStatus.REVIEW
