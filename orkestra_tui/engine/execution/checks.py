"""The checks around a task's work: before the call (in the claim) and after it (in the finish).

Each check gives "ok" or, in plain words, what is wrong; the caller records
them all in one audit event with their outcomes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from orkestra_tui.engine.models import Task, TaskStatus
from orkestra_tui.engine.store.store import Store, Transaction
from orkestra_tui.errors import DiskFullError

MIN_FREE_BYTES = 50 * 1024 * 1024
"""Less free disk than this on the data directory blocks new work."""
RESULT_LIMIT_CHARS = 2_000_000
"""A longer result is not well-formed: it is refused as such."""


def workspace_check(folder: str | None) -> str:
    if not folder:
        return "ok"
    path = Path(folder)
    if not path.is_dir():
        return f"the workspace {folder} does not exist"
    if not os.access(path, os.W_OK):
        return f"the workspace {folder} is not writable"
    return "ok"


def disk_check(data_dir: Path, min_free_bytes: int = MIN_FREE_BYTES) -> str:
    with contextlib.suppress(OSError):
        free = shutil.disk_usage(data_dir).free
        if free < min_free_bytes:
            return f"only {free // (1024 * 1024)} MB free on the data disk"
    return "ok"


def require_free_space(data_dir: Path, min_free_bytes: int = MIN_FREE_BYTES) -> None:
    """Stop the work (a `DiskFullError`) while the data disk has less free space than a task may need.

    The task is not blocked: it stays ready, and the work goes on once there is room.
    """
    with contextlib.suppress(OSError):
        free = shutil.disk_usage(data_dir).free
        if free < min_free_bytes:
            raise DiskFullError(data_dir, free_bytes=free)


def result_problem(text: str) -> str:
    if not text.strip():
        return "is empty"
    if len(text) > RESULT_LIMIT_CHARS:
        return f"is too long ({len(text):,} characters)"
    if "\x00" in text:
        return "contains NUL characters"
    return ""


def post_checks(tx: Transaction, store: Store, data_dir: Path, task: Task, status: TaskStatus) -> None:
    """Check, in the finishing transaction, that the outcome was recorded whole; record the checks."""
    row = store.query("SELECT status, lease_owner, result, artifact FROM task WHERE id = ?", (task.id,))[0]
    calls = store.scalar("SELECT count(*) FROM call WHERE task_id = ?", (task.id,))
    artifact_ok = status is not TaskStatus.DONE or (row[3] is not None and (data_dir / row[3]).is_file())
    checks = {
        "result": "ok" if status is not TaskStatus.DONE or (row[2] or "").strip() else "empty",
        "artifact": "ok" if artifact_ok else "missing",
        "lease": "ok" if row[1] is None else f"still held by {row[1]}",
        "status": "ok" if row[0] == status.value else f"{row[0]}, not {status.value}",
        "cost": "ok" if calls else "no call recorded",
    }
    checks.update(_repository_post_checks(store, task, status))
    failed = [f"{name}: {outcome}" for name, outcome in checks.items() if outcome != "ok"]
    tx.audit(
        "engine",
        "task.checked",
        f"Checks after {task.title!r}: " + ("all passed" if not failed else "; ".join(failed)),
        subject=f"task:{task.id}",
        project_id=task.project_id,
        data={"checks": checks, "stage": "after"},
    )


def _repository_post_checks(store: Store, task: Task, status: TaskStatus) -> dict[str, str]:
    """A task with a change in a repository: its commit merged, its worktree gone or kept for a reason."""
    rows = store.query(
        "SELECT commit_sha, merged_commit, files, worktree, note, state FROM task_change WHERE task_id = ?",
        (task.id,),
    )
    if not rows or status is not TaskStatus.DONE:
        return {}
    commit, merged, files, worktree, note, state = rows[0]
    has_change = files not in (None, "", "[]")
    recorded = not has_change or (commit is not None and merged is not None and state == "merged")
    kept_for_a_reason = worktree is None or bool((note or "").strip())
    return {
        "commit": "ok" if recorded else "not recorded as merged",
        "worktree": "ok" if kept_for_a_reason else f"{worktree} left without a reason",
    }
