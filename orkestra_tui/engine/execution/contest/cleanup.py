"""Removing a contest's losing entries once its task merged: their worktrees and branches go.

Their diffs stay in the contest's decision record (each option's detail), so nothing is lost to
whoever wants to see what the other agents did.
"""

from __future__ import annotations

from pathlib import Path

from orkestra_tui.engine.execution.contest import records as contests
from orkestra_tui.engine.models import Task
from orkestra_tui.engine.repo import changes
from orkestra_tui.engine.repo.git import repository_lock, run_git
from orkestra_tui.engine.store.store import Store


async def remove_losers(store: Store, task: Task) -> list[str]:
    """Once the task merged: the other entries' worktrees and branches go; a line per entry removed."""
    record = contests.contest(store, task.id)
    link = changes.repository(store, task.project_id)
    if record is None or link is None:
        return []
    lines: list[str] = []
    for entry in record.entries:
        if entry.branch is None or entry.worktree is None:
            continue
        if entry.letter == record.winner:  # the task's own change: removed with the task's worktree
            if not Path(entry.worktree).exists():
                with store.transaction() as tx:
                    contests.forget_worktree(tx, task.id, entry.letter, note="merged as the task's change")
            continue
        async with repository_lock(link.path):
            if Path(entry.worktree).exists():
                await run_git(["worktree", "remove", "--force", entry.worktree], cwd=link.path, check=False)
            await run_git(["worktree", "prune"], cwd=link.path, check=False)
            await run_git(["branch", "--delete", "--force", entry.branch], cwd=link.path, check=False)
        note = f"removed worktree {entry.worktree} and branch {entry.branch}: Entry {record.winner} merged"
        with store.transaction() as tx:
            contests.forget_worktree(tx, task.id, entry.letter, note=note)
        lines.append(note)
    return lines


async def remove_settled_losers(store: Store, project_id: int) -> list[str]:
    """The entries a merged contest task left (a run stopped between its merge and their removal)."""
    rows = store.query(
        "SELECT DISTINCT e.task_id FROM contest_entry e JOIN task t ON t.id = e.task_id"
        " WHERE t.project_id = ? AND t.status = 'done' AND e.worktree IS NOT NULL ORDER BY e.task_id",
        (project_id,),
    )
    lines: list[str] = []
    for (task_id,) in rows:
        task = store.task(int(task_id))
        if task is not None:
            lines += await remove_losers(store, task)
    return lines
