"""A worktree and a branch per task, and their safe removal.

A task's worktree is made from the integration branch's head on the task's
own branch, or reused as it is after a crash. Orkestra owns the worktrees
under its folder (`WorktreeLayout`); one it no longer needs is removed with
its branch only when nothing would be lost: its branch is merged into the
integration branch, or holds no commit beyond where it started, and it has no
uncommitted change. Anything else is kept, with the reason.

The caller holds the task's lease while it uses a worktree: a leftover
`index.lock` in a reused task worktree is then a crashed run's, and removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from orkestra_tui.engine.repo.git import GitError, repository_lock, run_git
from orkestra_tui.engine.repo.names import (
    RepositoryError,
    WorktreeLayout,
    task_branch_name,
    task_branch_prefix,
)
from orkestra_tui.engine.repo.status import (
    branch_commit,
    changed_paths,
    describe_changes,
    git_path,
    is_ancestor,
    operation_in_progress,
)

HEADS = "refs/heads/"


@dataclass(frozen=True)
class Worktree:
    """One entry of `git worktree list`."""

    path: Path
    head: str | None
    branch: str | None
    """The branch checked out there (without refs/heads/), None when detached."""
    locked: str | None = None
    """The lock's reason ("" for a lock without one), None when not locked."""
    prunable: bool = False
    """Its folder is gone: `git worktree prune` forgets it."""


@dataclass(frozen=True)
class TaskWorktree:
    """A task's worktree, ready for the agent."""

    task_key: str
    path: Path
    branch: str
    base_commit: str
    """The integration branch's head it was made from (or, when reused, where its branch started)."""
    reused: bool


@dataclass(frozen=True)
class Removal:
    """What became of a task's worktree and branch."""

    task_key: str
    removed: bool
    reason: str
    """Why it was kept, or what was removed, in one line."""


def parse_worktree_list(output: str) -> list[Worktree]:
    """The entries of `git worktree list --porcelain -z`."""
    worktrees: list[Worktree] = []
    fields: dict[str, str] = {}
    for field in [*output.split("\0"), ""]:
        if field:
            key, _, value = field.partition(" ")
            fields[key] = value
            continue
        if "worktree" in fields:
            branch = fields.get("branch")
            worktrees.append(
                Worktree(
                    path=Path(fields["worktree"]),
                    head=fields.get("HEAD"),
                    branch=branch.removeprefix(HEADS) if branch else None,
                    locked=fields.get("locked"),
                    prunable="prunable" in fields,
                )
            )
        fields = {}
    return worktrees


async def list_worktrees(root: Path) -> list[Worktree]:
    """Every worktree of ROOT's repository, the main one first."""
    return parse_worktree_list((await run_git(["worktree", "list", "--porcelain", "-z"], cwd=root)).stdout)


async def owned_worktrees(root: Path, folder: Path) -> list[Worktree]:
    """The worktrees of ROOT's repository that live under FOLDER (Orkestra's own)."""
    resolved = folder.resolve()
    return [
        worktree
        for worktree in await list_worktrees(root)
        if worktree.path.resolve().is_relative_to(resolved)
    ]


async def prune_worktrees(root: Path) -> None:
    """Forget the worktrees whose folders were deleted by hand (`git worktree prune`)."""
    await run_git(["worktree", "prune"], cwd=root)


async def add_worktree(root: Path, path: Path, branch: str, *, start_point: str | None = None) -> bool:
    """Check BRANCH out in a worktree at PATH, creating the branch from START_POINT if it does not exist.

    Returns False when PATH already was that worktree (reused as it is), True when it was made.
    A folder left by a crash in the middle of `git worktree add` is cleared and made again.
    The caller holds `repository_lock(root)`.
    """
    resolved = path.resolve()
    for worktree in await list_worktrees(root):
        if worktree.path.resolve() != resolved:
            continue
        if worktree.prunable:
            await prune_worktrees(root)
        elif worktree.locked is not None and "initializing" in worktree.locked:
            await run_git(["worktree", "remove", "--force", "--force", str(resolved)], cwd=root)
        elif worktree.branch != branch:
            raise RepositoryError(
                f"{resolved} is the worktree of {worktree.branch or 'a detached HEAD'}, not {branch}"
            )
        else:
            return False
        break
    if resolved.exists():
        if not resolved.is_dir() or any(resolved.iterdir()):
            raise RepositoryError(
                f"{resolved} is in the way: it is not a worktree of {root}; move it elsewhere"
            )
        resolved.rmdir()
    resolved.parent.mkdir(parents=True, exist_ok=True)
    if await branch_commit(root, branch) is not None:
        await run_git(["worktree", "add", "--quiet", str(resolved), branch], cwd=root)
    else:
        if start_point is None:
            raise RepositoryError(f"the branch {branch} does not exist")
        await run_git(
            ["worktree", "add", "--quiet", "--no-track", "-b", branch, str(resolved), start_point], cwd=root
        )
    return True


async def remove_leftover_lock(worktree: Path) -> None:
    """Delete the `index.lock` a killed git command left in WORKTREE (only while holding its task's lease)."""
    (await git_path(worktree, "index.lock")).unlink(missing_ok=True)


async def ensure_task_worktree(
    root: Path, layout: WorktreeLayout, project_slug: str, integration_branch: str, task_key: str
) -> TaskWorktree:
    """The task's worktree on `orkestra-task/<project>/<task-key>`, made from the integration branch's head.

    After a crash the existing worktree and branch are reused as they are (with their commits and any
    uncommitted change; `discard_uncommitted` starts the attempt afresh).
    """
    branch = task_branch_name(project_slug, task_key)
    path = layout.task_path(task_key)
    async with repository_lock(root):
        integration_head = await branch_commit(root, integration_branch)
        if integration_head is None:
            raise RepositoryError(f"the integration branch {integration_branch} is missing from {root}")
        existing = await branch_commit(root, branch)
        made = await add_worktree(root, path, branch, start_point=integration_head)
    if not made:
        await remove_leftover_lock(path)
    base = integration_head
    if existing is not None:
        merge_base = await run_git(["merge-base", integration_head, existing], cwd=root, check=False)
        base = merge_base.stdout.strip() or integration_head
    return TaskWorktree(
        task_key=task_key, path=path.resolve(), branch=branch, base_commit=base, reused=existing is not None
    )


async def discard_uncommitted(worktree: Path) -> None:
    """Drop WORKTREE's uncommitted changes and untracked files (not ignored ones): back to its head."""
    await remove_leftover_lock(worktree)
    if await operation_in_progress(worktree) == "a merge":
        await run_git(["merge", "--abort"], cwd=worktree, check=False)
    await run_git(["reset", "--hard", "--quiet", "HEAD"], cwd=worktree)
    await run_git(["clean", "-d", "--force", "--quiet"], cwd=worktree)


async def task_branches(root: Path, project_slug: str) -> dict[str, str]:
    """The project's task branches: task key → head commit."""
    prefix = f"{HEADS}{task_branch_prefix(project_slug)}"
    output = (await run_git(["for-each-ref", "--format=%(refname)%00%(objectname)", prefix], cwd=root)).stdout
    branches: dict[str, str] = {}
    for line in output.splitlines():
        refname, _, commit = line.partition("\0")
        branches[refname.removeprefix(prefix)] = commit
    return branches


async def orphans(
    root: Path, layout: WorktreeLayout, project_slug: str, live_task_keys: Iterable[str]
) -> list[str]:
    """The keys of task worktrees or branches of the project that no live task owns, sorted."""
    live = set(live_task_keys)
    tasks_folder = layout.tasks_folder.resolve()
    keys = {worktree.path.name for worktree in await owned_worktrees(root, tasks_folder)}
    keys |= set(await task_branches(root, project_slug))
    return sorted(keys - live)


async def remove_task_worktree(
    root: Path,
    layout: WorktreeLayout,
    project_slug: str,
    integration_branch: str,
    task_key: str,
    *,
    base_commit: str | None = None,
) -> Removal:
    """Remove the task's worktree and branch, only when no work would be lost; say why when kept.

    Removed when the branch's head is in the integration branch's history (merged) or is BASE_COMMIT
    (no commit of its own), and the worktree holds no uncommitted change. Safe to repeat.
    """
    branch = task_branch_name(project_slug, task_key)
    path = layout.task_path(task_key).resolve()
    async with repository_lock(root):
        await prune_worktrees(root)
        registered = any(worktree.path.resolve() == path for worktree in await list_worktrees(root))
        head = await branch_commit(root, branch)
        integration_head = await branch_commit(root, integration_branch)
        if head is not None:
            merged = integration_head is not None and await is_ancestor(root, head, integration_head)
            if not merged and head != base_commit:
                return Removal(
                    task_key, False, f"kept {branch}: it holds commits not merged into {integration_branch}"
                )
        if registered:
            problem = await uncommitted_work(path)
            if problem is not None:
                return Removal(task_key, False, f"kept {path}: {problem}")
            await run_git(["worktree", "remove", str(path)], cwd=root)
        if head is not None:
            await run_git(["branch", "--delete", "--force", branch], cwd=root)
    what = " and ".join(
        part for part, there in ((f"worktree {path}", registered), (f"branch {branch}", head)) if there
    )
    return Removal(task_key, True, f"removed {what}" if what else "nothing left to remove")


async def uncommitted_work(worktree: Path) -> str | None:
    """None when WORKTREE has nothing uncommitted (ignored files aside), else what it has, in one line."""
    try:
        operation = await operation_in_progress(worktree)
        changes = await changed_paths(worktree)
    except GitError as error:
        return f"cannot read its status ({error})"
    if operation is not None:
        return f"it is in the middle of {operation}"
    if changes:
        return f"it has uncommitted changes ({describe_changes(changes)})"
    return None
