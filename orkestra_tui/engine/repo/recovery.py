"""Tidying a linked project's worktrees at start: no worktree is left behind without a task that owns it.

A run killed at the wrong moment, a task cancelled, or a folder deleted by hand can leave
Orkestra's worktrees and task branches out of step with the tasks. `tidy_worktrees`, run at
start (`orkestra run`, the app's supervisor), puts them back in step:

- worktrees whose folder was deleted by hand are forgotten by git (`git worktree prune`),
  and the integration branch's own worktree is made again if it was one of them;
- a task worktree or branch that no live task owns (no task, a cancelled or done task, or a
  task whose change is merged or now on another branch) is removed when it holds nothing
  unmerged, and kept, with the reason, when it does;
- a worktree a task of another run is using (the task is leased) is left alone.

What was removed is recorded in the audit; what was kept is returned with its reason.
Nothing that holds unmerged work is ever deleted (`remove_task_worktree` decides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orkestra_tui.engine.models import Project, TaskStatus
from orkestra_tui.engine.repo import changes
from orkestra_tui.engine.repo.git import GitError, repository_lock
from orkestra_tui.engine.repo.names import RepositoryError, slug
from orkestra_tui.engine.repo.status import branch_commit
from orkestra_tui.engine.repo.work import layout_for
from orkestra_tui.engine.repo.worktrees import (
    add_worktree,
    list_worktrees,
    orphans,
    prune_worktrees,
    remove_task_worktree,
)
from orkestra_tui.engine.store.store import Store

TASK_KEY = re.compile(r"task-(\d+)(?:-r\d+|-[a-z]+)?")
"""A task's worktree and branch key (see `work.worktree_key`): the task's id, and its re-run or,
in a contest, its entry's letter."""
SETTLED = (TaskStatus.DONE.value, TaskStatus.CANCELLED.value)


@dataclass(frozen=True)
class Tidied:
    """What tidying one project's worktrees did, one line each."""

    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    pruned: tuple[str, ...] = ()
    problem: str = ""
    """Why the worktrees could not be looked at (git missing, the repository gone); empty otherwise."""

    def lines(self) -> list[str]:
        return [*self.pruned, *self.removed, *self.kept, *([self.problem] if self.problem else [])]


async def tidy_worktrees(store: Store, data_dir: Path, project: Project) -> list[str]:
    """Tidy PROJECT's worktrees and task branches (see the module); one line per thing done or kept."""
    return (await tidy_project(store, data_dir, project)).lines()


async def tidy_project(store: Store, data_dir: Path, project: Project) -> Tidied:
    link = changes.repository(store, project.id)
    if link is None:
        return Tidied()
    layout = layout_for(data_dir, project)
    project_slug = slug(project.name)
    try:
        pruned = await _prune(link.path, layout.folder)
        if any(path == layout.integration_path.resolve() for path in pruned):
            async with repository_lock(link.path):
                if await branch_commit(link.path, link.branch) is not None:
                    await add_worktree(link.path, layout.integration_path, link.branch)
        owned, leased = _owned_keys(store, project.id)
        removed: list[str] = []
        kept: list[str] = []
        forgotten: list[int] = []
        for key in await orphans(link.path, layout, project_slug, owned):
            matched = TASK_KEY.fullmatch(key)
            if matched is not None and int(matched[1]) in leased:
                continue  # another run may be making this task's worktree right now
            removal = await remove_task_worktree(link.path, layout, project_slug, link.branch, key)
            if removal.removed:
                removed.append(removal.reason)
                forgotten += _rows_at(store, project.id, layout.task_path(key).resolve())
            else:
                kept.append(removal.reason)
    except (GitError, RepositoryError, OSError) as error:
        return Tidied(problem=f"the worktrees of {project.name!r} could not be tidied: {error}")
    pruned_lines = tuple(f"forgot the worktree {path}: its folder was deleted" for path in pruned)
    tidied = Tidied(tuple(removed), tuple(kept), pruned_lines)
    if removed or pruned_lines:
        with store.transaction() as tx:
            for task_id in forgotten:
                changes.forget_worktree(tx, task_id, now=tx.clock.now())
            count = len(removed) + len(pruned_lines)
            tx.audit(
                "engine",
                "repository.tidied",
                f"Tidied {count} leftover worktree{'s' if count != 1 else ''} of {project.name!r}"
                + (f"; kept {len(kept)}" if kept else ""),
                subject=f"project:{project.id}",
                project_id=project.id,
                data={"removed": removed, "pruned": [str(path) for path in pruned], "kept": kept},
            )
    return tidied


async def _prune(root: Path, folder: Path) -> list[Path]:
    """Forget the worktrees under FOLDER whose folders are gone; the paths forgotten."""
    resolved = folder.resolve()
    gone = [
        worktree.path.resolve()
        for worktree in await list_worktrees(root)
        if worktree.prunable and worktree.path.resolve().is_relative_to(resolved)
    ]
    if gone:
        await prune_worktrees(root)
    return gone


def _owned_keys(store: Store, project_id: int) -> tuple[set[str], set[int]]:
    """The worktree keys live tasks own (their current change's), and the ids of the tasks leased now."""
    rows = store.query(
        "SELECT t.id, t.status, t.lease_owner, c.branch, c.state FROM task t"
        " LEFT JOIN task_change c ON c.task_id = t.id WHERE t.project_id = ?",
        (project_id,),
    )
    owned: set[str] = set()
    leased: set[int] = set()
    for task_id, status, lease_owner, branch, state in rows:
        if lease_owner or status == TaskStatus.RUNNING.value:
            leased.add(int(task_id))
        if branch and status not in SETTLED and state != "merged":
            owned.add(str(branch).rsplit("/", 1)[-1])
    # A contest's entries are kept until their task merges (the winner's then goes, the losers' with it).
    for (branch,) in store.query(
        "SELECT e.branch FROM contest_entry e JOIN task t ON t.id = e.task_id WHERE t.project_id = ?"
        " AND e.branch IS NOT NULL AND e.worktree IS NOT NULL AND t.status NOT IN (?, ?)",
        (project_id, *SETTLED),
    ):
        owned.add(str(branch).rsplit("/", 1)[-1])
    return owned, leased


def _rows_at(store: Store, project_id: int, path: Path) -> list[int]:
    """The tasks whose change still names the worktree at PATH (it is gone now)."""
    rows = store.query(
        "SELECT c.task_id, c.worktree FROM task_change c JOIN task t ON t.id = c.task_id"
        " WHERE t.project_id = ? AND c.worktree IS NOT NULL",
        (project_id,),
    )
    return [int(task_id) for task_id, worktree in rows if Path(worktree).resolve() == path]
