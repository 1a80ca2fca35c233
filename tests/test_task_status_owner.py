"""One owner for a task's status: `engine/execution/tasks.py` writes it, the others call it.

A scan of the package's source keeps `UPDATE task SET status` in that one
module (the benchmarks' baselines run its statement constants through plain
sqlite3 instead of copying them). The human's controls are conditioned on the
task as it was read: a task claimed in between is left to its new holder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import orkestra_tui
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.tasks import TaskChangedError, claim_task
from orkestra_tui.engine.models import Task, TaskSpec, TaskStatus

PACKAGE = Path(orkestra_tui.__file__).parent
OWNER = "engine/execution/tasks.py"
ELSEWHERE = "elsewhere:1:abc"
STATUS_WRITE = re.compile(r"UPDATE\s+task\s+SET\s+status\b", re.IGNORECASE)


LITERALS_JOINED = re.compile(r"[\"']\s+[\"']")
"""Where two string literals meet (`"UPDATE task SET" " status"`): joined before the search."""


def modules_writing_status(package: Path) -> list[str]:
    """The modules under `package` whose source holds `UPDATE task SET status`."""
    return [
        path.relative_to(package).as_posix()
        for path in sorted(package.rglob("*.py"))
        if STATUS_WRITE.search(LITERALS_JOINED.sub("", path.read_text(encoding="utf-8")))
    ]


def test_only_the_tasks_module_writes_a_tasks_status() -> None:
    assert modules_writing_status(PACKAGE) == [OWNER], (
        "Write task.status only through engine/execution/tasks.py (claim, review, finish, release, controls);"
        " a benchmark's baseline runs its statement constants through plain sqlite3."
    )


def test_the_scan_finds_a_status_write_however_it_is_spelt(tmp_path: Path) -> None:
    (tmp_path / "engine" / "execution").mkdir(parents=True)
    (tmp_path / "engine" / "execution" / "tasks.py").write_text(
        'SQL = "UPDATE task SET status = ?"\n', encoding="utf-8"
    )
    (tmp_path / "one.py").write_text("tx.execute('update task  set status = 1')\n", encoding="utf-8")
    (tmp_path / "two.py").write_text(
        'SQL = (\n    "UPDATE task SET"\n    " status = ?"\n)\n', encoding="utf-8"
    )
    (tmp_path / "three.py").write_text('"UPDATE task_attempt SET outcome = ?"\n', encoding="utf-8")
    assert modules_writing_status(tmp_path) == ["engine/execution/tasks.py", "one.py", "two.py"]


def _claimed_since_read(engine: Engine) -> Task:
    """A ready task as read; then leased by another process before the human's control writes."""
    project = engine.create_project("Owner")
    (task,) = engine.add_tasks(project.id, [TaskSpec("Ship", "Ship it.")])
    with engine.store.transaction() as tx:
        claimed = claim_task(
            tx,
            task.id,
            owner=ELSEWHERE,
            expires_at=tx.clock.now() + 60,
            agent="claude",
            rationale="test",
            attempt=1,
            now=tx.clock.now(),
        )
        tx.audit("test", "task.running", "leased elsewhere", subject=f"task:{task.id}")
    assert claimed
    return task


def test_a_reassign_of_a_task_claimed_since_it_was_read_changes_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = _claimed_since_read(engine)
    monkeypatch.setattr(engine, "task", lambda task_id: stale)  # as read before the claim
    with pytest.raises(TaskChangedError):
        engine.reassign_task(stale.id, "gemini")
    monkeypatch.undo()
    after = engine.task(stale.id)
    assert (after.status, after.lease_owner, after.pinned_agent) == (TaskStatus.RUNNING, ELSEWHERE, None)


def test_a_cancel_of_a_task_claimed_since_it_was_read_leaves_it_to_its_holder(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = _claimed_since_read(engine)
    monkeypatch.setattr(engine, "task", lambda task_id: stale)  # as read before the claim
    with pytest.raises(TaskChangedError):
        engine.cancel_task(stale.id)
    monkeypatch.undo()
    after = engine.task(stale.id)
    assert (after.status, after.lease_owner) == (TaskStatus.RUNNING, ELSEWHERE)
    attempts = engine.store.query("SELECT outcome FROM task_attempt WHERE task_id = ?", (stale.id,))
    assert attempts == [("running",)]
