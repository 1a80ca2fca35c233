"""What a checkout holds: its changed paths, an operation left in progress, whether it is clean.

Read-only: nothing here changes a working tree, an index or a ref (and
`git status` runs without optional locks, so it does not even refresh the
index file of the user's checkout).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orkestra_tui.engine.repo.git import GitError, git_output, run_git

SHOWN_PATHS = 3

CHANGE_KINDS = {
    "A": "added",
    "M": "modified",
    "T": "modified",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "U": "conflicted",
}

OPERATION_MARKERS = (
    ("MERGE_HEAD", "a merge"),
    ("rebase-merge", "a rebase"),
    ("rebase-apply", "a rebase or git am"),
    ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ("REVERT_HEAD", "a revert"),
    ("BISECT_LOG", "a bisect"),
)
"""The files git leaves in a worktree's git dir while an operation waits for the user, and what they mean."""


@dataclass(frozen=True)
class ChangedPath:
    """One path that `git status` shows as changed, relative to the worktree's top level."""

    path: str
    kind: str
    """added, modified, deleted, renamed, copied, conflicted or untracked."""
    original_path: str | None = None
    """For a rename or copy: the path it came from."""
    staged: bool = False
    """Whether the change is in the index already (the rest is only in the working tree)."""


def parse_porcelain(output: str) -> list[ChangedPath]:
    """The entries of `git status --porcelain=v1 -z` (renames carry their original path as the next field)."""
    fields = output.split("\0")
    changes: list[ChangedPath] = []
    index = 0
    while index < len(fields):
        entry = fields[index]
        index += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code == "??":
            changes.append(ChangedPath(path, "untracked"))
            continue
        if code == "!!":
            continue
        original = None
        if "R" in code or "C" in code:
            original = fields[index] if index < len(fields) else None
            index += 1
        kind = "conflicted" if "U" in code or code in ("AA", "DD") else kind_of(code)
        changes.append(ChangedPath(path, kind, original, staged=code[0] not in (" ", "?")))
    return changes


def kind_of(code: str) -> str:
    """The kind of change of a two-letter status code, the index's letter first."""
    for letter in code:
        if letter in CHANGE_KINDS:
            return CHANGE_KINDS[letter]
    return "modified"


async def changed_paths(worktree: Path, *, untracked: bool = True) -> list[ChangedPath]:
    """Every path changed in WORKTREE: staged or not, untracked ones (each file) unless UNTRACKED is False."""
    result = await run_git(
        ["status", "--porcelain=v1", "-z", f"--untracked-files={'all' if untracked else 'no'}"], cwd=worktree
    )
    return parse_porcelain(result.stdout)


async def git_path(worktree: Path, name: str) -> Path:
    """Where the worktree's git dir keeps NAME (e.g. MERGE_HEAD), whether or not it exists."""
    return (await git_paths(worktree, [name]))[name]


async def git_paths(worktree: Path, names: Sequence[str]) -> dict[str, Path]:
    """Where the worktree's git dir keeps each of NAMES, asked of git in one command."""
    arguments = [part for name in names for part in ("--git-path", name)]
    lines = (await git_output(["rev-parse", *arguments], cwd=worktree)).splitlines()
    if len(lines) != len(names):
        raise GitError(f"git rev-parse --git-path gave {len(lines)} paths for {len(names)} names")
    locations = {name: Path(line) for name, line in zip(names, lines, strict=True)}
    return {name: path if path.is_absolute() else worktree / path for name, path in locations.items()}


async def operation_in_progress(worktree: Path) -> str | None:
    """`a merge`, `a rebase`, … when one is left waiting in WORKTREE, otherwise None."""
    locations = await git_paths(worktree, [marker for marker, _ in OPERATION_MARKERS])
    for marker, operation in OPERATION_MARKERS:
        if locations[marker].exists():
            return operation
    return None


def describe_changes(changes: list[ChangedPath]) -> str:
    """`a.py, b/c.py, d.txt and 4 more` for a one-line message."""
    names = [change.path for change in changes[:SHOWN_PATHS]]
    rest = len(changes) - len(names)
    return ", ".join(names) + (f" and {rest} more" if rest > 0 else "")


async def dirty_reason(worktree: Path, *, untracked: bool = False) -> str | None:
    """None when WORKTREE is clean, otherwise one line saying what is not.

    Untracked files count only when UNTRACKED is set: git itself refuses to overwrite one during a merge.
    """
    operation = await operation_in_progress(worktree)
    if operation is not None:
        return f"{worktree} is in the middle of {operation}; finish or abort it first"
    changes = await changed_paths(worktree, untracked=untracked)
    if changes:
        return f"{worktree} has uncommitted changes ({describe_changes(changes)}); commit or stash them first"
    return None


async def head_commit(worktree: Path) -> str:
    """The commit HEAD points at in WORKTREE."""
    return await git_output(["rev-parse", "--verify", "HEAD^{commit}"], cwd=worktree)


async def commit_of(worktree: Path, revision: str) -> str | None:
    """The commit REVISION names (a branch, a hash), or None when there is none."""
    result = await run_git(
        ["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], cwd=worktree, check=False
    )
    return (result.stdout.strip() or None) if result.returncode == 0 else None


async def branch_commit(worktree: Path, branch: str) -> str | None:
    """The commit the local BRANCH points at, or None when there is no such branch."""
    return await commit_of(worktree, f"refs/heads/{branch}")


async def is_ancestor(worktree: Path, ancestor: str, descendant: str) -> bool:
    """Whether ANCESTOR is reachable from DESCENDANT (both commits or refs); a commit is its own ancestor."""
    result = await run_git(["merge-base", "--is-ancestor", ancestor, descendant], cwd=worktree, check=False)
    if result.returncode not in (0, 1):
        await run_git(["merge-base", "--is-ancestor", ancestor, descendant], cwd=worktree)
    return result.returncode == 0


def parse_name_status(output: str) -> list[ChangedPath]:
    """The entries of `git diff --name-status -z` (a rename or copy: score, old path, new path)."""
    fields = output.split("\0")
    changes: list[ChangedPath] = []
    index = 0
    while index < len(fields) and fields[index]:
        code = fields[index]
        if code[0] in "RC" and index + 2 < len(fields):
            changes.append(ChangedPath(fields[index + 2], kind_of(code[0]), fields[index + 1], staged=True))
            index += 3
        else:
            changes.append(ChangedPath(fields[index + 1], kind_of(code[0]), staged=True))
            index += 2
    return changes


async def changes_since(worktree: Path, base: str, head: str = "HEAD") -> list[ChangedPath]:
    """The paths HEAD changed since it forked from BASE (committed changes only, renames found)."""
    result = await run_git(
        ["diff", "--name-status", "-z", "--find-renames", "--no-ext-diff", f"{base}...{head}", "--"],
        cwd=worktree,
    )
    return parse_name_status(result.stdout)


async def diff_since(worktree: Path, base: str, head: str = "HEAD", *, paths: tuple[str, ...] = ()) -> str:
    """The unified diff of what HEAD changed since it forked from BASE (what a reviewer reads), no colours."""
    result = await run_git(
        [
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--find-renames",
            f"{base}...{head}",
            "--",
            *paths,
        ],
        cwd=worktree,
    )
    return result.stdout
