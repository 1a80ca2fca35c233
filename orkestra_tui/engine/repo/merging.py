"""Merging: the conflict pre-check, a task into the integration branch and back out, and landing.

- `conflicting_paths` asks `git merge-tree --write-tree` (no working tree, no
  index, no ref touched) which paths two branches conflict on.
- `merge_task` merges a task's branch into the integration worktree as a
  `--no-ff` merge whose message carries the task's `Orkestra-Task` trailer;
  `undo_merge` puts the integration branch back when the caller's gates fail.
- `is_task_merged` reads the integration branch's history, so a restarted run
  never merges a task twice.
- `land` merges the integration branch into the user's current branch, only
  when that checkout is clean, as a normal merge commit.

Each step is safe to repeat after a crash: a merge left half-done in the
integration worktree is aborted before the next one, a task already merged is
not merged again, and an undo already done is not done twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orkestra_tui.engine.repo.commits import TASK_TRAILER
from orkestra_tui.engine.repo.git import GitError, git_output, one_line, run_git
from orkestra_tui.engine.repo.names import RepositoryError, commit_subject, trailer_value
from orkestra_tui.engine.repo.status import (
    branch_commit,
    changed_paths,
    commit_of,
    dirty_reason,
    git_path,
    head_commit,
    is_ancestor,
    operation_in_progress,
)

MAX_CONFLICTS_SHOWN = 3


@dataclass(frozen=True)
class MergeResult:
    """What merging a task's branch did."""

    merged: bool
    """True when the integration branch now holds the task (merged now, or before)."""
    previous_head: str
    """The integration branch's head before this merge: what `undo_merge` resets to."""
    commit: str | None = None
    """The merge commit, None when nothing was merged."""
    already_merged: bool = False
    """True when the integration branch held the task already (its trailer, or its branch's head)."""
    conflicts: tuple[str, ...] = ()
    """The conflicting paths when the merge was refused (and aborted)."""


@dataclass(frozen=True)
class AheadCount:
    """How the integration branch stands against the base branch, for `orkestra status`."""

    ahead: int
    """Commits on the integration branch not on the base branch."""
    behind: int
    """Commits on the base branch not on the integration branch."""
    merged_tasks: int
    """Task merges on the integration branch since the base branch."""


@dataclass(frozen=True)
class LandResult:
    """What `land` did to the user's branch."""

    branch: str
    commit: str | None
    """The merge commit, None when the branch already held everything."""

    @property
    def summary(self) -> str:
        """One line for the user."""
        if self.commit is None:
            return f"{self.branch} is already up to date"
        return f"merged into {self.branch} as {self.commit[:12]}"


async def conflicting_paths(root: Path, ours: str, theirs: str) -> list[str]:
    """The paths that merging THEIRS into OURS would conflict on; empty when it merges cleanly."""
    result = await run_git(
        ["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs],
        cwd=root,
        check=False,
    )
    # 1 means conflicts, with the tree first on stdout; a bad revision is also 1, with nothing on stdout.
    if result.returncode not in (0, 1) or not result.stdout:
        raise GitError(one_line(f"git merge-tree: cannot merge {theirs} into {ours}: {result.stderr}"))
    if result.returncode == 0:
        return []
    _tree, *paths = result.stdout.split("\0")
    return sorted({path for path in paths if path})


async def recover_merge_state(integration_path: Path) -> None:
    """Undo what a killed merge left in the integration worktree: a lock, MERGE_HEAD, stray changes.

    The integration worktree is Orkestra's own and never holds uncommitted work; the caller holds the
    merge queue's turn.
    """
    (await git_path(integration_path, "index.lock")).unlink(missing_ok=True)
    if await operation_in_progress(integration_path) is not None:
        await run_git(["merge", "--abort"], cwd=integration_path, check=False)
        await run_git(["reset", "--hard", "--quiet", "HEAD"], cwd=integration_path)
        for marker in ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE"):
            (await git_path(integration_path, marker)).unlink(missing_ok=True)
    if await changed_paths(integration_path, untracked=False):
        await run_git(["reset", "--hard", "--quiet", "HEAD"], cwd=integration_path)
    # Untracked files (a gate's output) could be in the way of a file the task adds.
    await run_git(["clean", "-d", "--force", "--quiet"], cwd=integration_path)


def merge_message(task_id: str, title: str) -> str:
    """The message of a task's merge commit, with its `Orkestra-Task` trailer."""
    task = trailer_value(task_id)
    return f"Merge task {task}: {commit_subject(title)}\n\n{TASK_TRAILER}: {task}\n"


async def merge_task(integration_path: Path, task_branch: str, *, task_id: str, title: str) -> MergeResult:
    """Merge TASK_BRANCH into the integration worktree (`--no-ff`); a conflict is aborted and reported.

    A task whose trailer is already in the integration branch's history is not merged again.
    """
    await recover_merge_state(integration_path)
    previous_head = await head_commit(integration_path)
    if await is_task_merged(integration_path, task_id):
        return MergeResult(merged=True, previous_head=previous_head, already_merged=True)
    task_head = await commit_of(integration_path, f"refs/heads/{task_branch}")
    if task_head is None:
        raise RepositoryError(f"the task branch {task_branch} does not exist")
    if await is_ancestor(integration_path, task_head, previous_head):
        # Nothing of the task's is missing from the integration branch (no commit of its own).
        return MergeResult(merged=True, previous_head=previous_head, already_merged=True)
    result = await run_git(
        [
            "merge",
            "--no-ff",
            "--no-edit",
            "--no-verify",
            "--cleanup=whitespace",
            "-m",
            merge_message(task_id, title),
            task_branch,
        ],
        cwd=integration_path,
        check=False,
    )
    if result.returncode == 0:
        return MergeResult(
            merged=True, previous_head=previous_head, commit=await head_commit(integration_path)
        )
    conflicts = [
        change.path for change in await changed_paths(integration_path) if change.kind == "conflicted"
    ]
    await recover_merge_state(integration_path)
    if not conflicts:
        raise GitError(one_line(f"git merge: cannot merge {task_branch}: {result.stderr or result.stdout}"))
    return MergeResult(merged=False, previous_head=previous_head, conflicts=tuple(conflicts))


async def undo_merge(integration_path: Path, previous_head: str, merge_commit: str) -> bool:
    """Put the integration branch back at PREVIOUS_HEAD after MERGE_COMMIT failed its gates.

    Returns True when it reset, False when it already was at PREVIOUS_HEAD (an undo done before a crash).
    Refuses when the branch has moved past the merge since: that would drop other work.
    """
    await recover_merge_state(integration_path)
    head = await head_commit(integration_path)
    if head == previous_head:
        return False
    if head != merge_commit:
        raise RepositoryError(
            f"the integration branch moved on from {merge_commit[:12]} (now {head[:12]}); not undone"
        )
    await run_git(["reset", "--hard", "--quiet", previous_head], cwd=integration_path)
    return True


async def merged_task_ids(worktree: Path, revision: str = "HEAD", *, since: str | None = None) -> list[str]:
    """The `Orkestra-Task` ids in REVISION's history (after SINCE, when given), newest first, each once."""
    revisions = [revision, f"^{since}"] if since else [revision]
    output = await git_output(
        ["log", "--format=%(trailers:key=Orkestra-Task,valueonly,separator=%x1f)%x1e", *revisions, "--"],
        cwd=worktree,
    )
    seen: dict[str, None] = {}
    for record in output.split("\x1e"):
        for value in record.strip().split("\x1f"):
            if value.strip():
                seen.setdefault(value.strip(), None)
    return list(seen)


async def is_task_merged(
    worktree: Path, task_id: str, revision: str = "HEAD", *, since: str | None = None
) -> bool:
    """Whether the task is in REVISION's history: its merge commit or its own commit carries its trailer.

    A task commit reachable from the integration branch is merged work, so ancestry is covered too.
    The whole history counts unless SINCE (e.g. the base branch) cuts it: task ids must then be unique
    among the projects that share the repository, or SINCE must be given.
    """
    wanted = trailer_value(task_id)
    revisions = [revision, f"^{since}"] if since else [revision]
    output = await git_output(
        [
            "log",
            "--fixed-strings",
            f"--grep={TASK_TRAILER}: {wanted}",
            "--format=%(trailers:key=Orkestra-Task,valueonly,separator=%x1f)%x1e",
            *revisions,
            "--",
        ],
        cwd=worktree,
    )
    return any(value.strip() == wanted for record in output.split("\x1e") for value in record.split("\x1f"))


async def ahead_of_base(root: Path, base_branch: str, integration_branch: str) -> AheadCount:
    """How far the integration branch is ahead of (and behind) the base branch, and its merged tasks."""
    counts = await git_output(
        [
            "rev-list",
            "--left-right",
            "--count",
            f"refs/heads/{base_branch}...refs/heads/{integration_branch}",
            "--",
        ],
        cwd=root,
    )
    behind, ahead = (int(number) for number in counts.split())
    merges = await git_output(
        [
            "rev-list",
            "--count",
            "--merges",
            "--fixed-strings",
            f"--grep={TASK_TRAILER}: ",
            f"refs/heads/{integration_branch}",
            f"^refs/heads/{base_branch}",
            "--",
        ],
        cwd=root,
    )
    return AheadCount(ahead=ahead, behind=behind, merged_tasks=int(merges))


async def land(root: Path, integration_branch: str, *, project_name: str = "") -> LandResult:
    """Merge the integration branch into the branch checked out in ROOT, only if that checkout is clean.

    Refused in one line (nothing touched) when the checkout has uncommitted changes, is mid-operation,
    has a detached HEAD, or would conflict. Safe to repeat: an up-to-date branch gets no commit.
    """
    branch_result = await run_git(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd=root, check=False)
    branch = branch_result.stdout.strip()
    if branch_result.returncode != 0 or not branch:
        raise RepositoryError(
            f"{root} has no branch checked out (detached HEAD); check out a branch to land on"
        )
    problem = await dirty_reason(root)
    if problem is not None:
        raise RepositoryError(problem)
    integration_head = await branch_commit(root, integration_branch)
    if integration_head is None:
        raise RepositoryError(f"the integration branch {integration_branch} does not exist")
    if await is_ancestor(root, integration_head, "HEAD"):
        return LandResult(branch=branch, commit=None)
    conflicts = await conflicting_paths(root, "HEAD", integration_head)
    if conflicts:
        shown = describe_changes_paths(conflicts)
        raise RepositoryError(
            f"{integration_branch} conflicts with {branch} on {shown}; merge it with git by hand"
        )
    label = f" ({commit_subject(project_name)})" if project_name.strip() else ""
    result = await run_git(
        [
            "merge",
            "--no-ff",
            "--no-edit",
            "--no-verify",
            "--cleanup=whitespace",
            "-m",
            f"Merge {integration_branch} into {branch}{label}",
            integration_head,
        ],
        cwd=root,
        check=False,
    )
    if result.returncode != 0:
        if await operation_in_progress(root) == "a merge":
            await run_git(["merge", "--abort"], cwd=root, check=False)
        raise GitError(
            one_line(f"git merge: cannot land {integration_branch}: {result.stderr or result.stdout}")
        )
    return LandResult(branch=branch, commit=await head_commit(root))


def describe_changes_paths(paths: list[str]) -> str:
    """`a.py, b.py, c.py and 2 more`."""
    shown = paths[:MAX_CONFLICTS_SHOWN]
    rest = len(paths) - len(shown)
    return ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")
