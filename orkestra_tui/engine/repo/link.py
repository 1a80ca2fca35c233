"""Linking a project to a git repository, without touching the user's checkout.

Linking finds the repository's top level (or initialises one when asked), the
base branch, and creates Orkestra's integration branch from it with its own
worktree in a folder of Orkestra's (under the data dir). Nothing here writes
to the user's working tree, index or HEAD: branches are made with `git branch`
(no checkout), worktrees elsewhere with `git worktree add`, and the only
commit, the initial one of a new repository, is made with plumbing so that
whatever the user has already staged stays staged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orkestra_tui.engine.repo.git import GitError, git_output, repository_lock, run_git
from orkestra_tui.engine.repo.names import RepositoryError, WorktreeLayout, integration_branch_name
from orkestra_tui.engine.repo.status import branch_commit, commit_of, operation_in_progress
from orkestra_tui.engine.repo.worktrees import add_worktree

INITIAL_COMMIT_MESSAGE = "Initial commit (made by Orkestra so that the repository has a base branch)\n"


@dataclass(frozen=True)
class LinkedRepository:
    """A project's repository as Orkestra uses it."""

    root: Path
    """The top level of the user's checkout."""
    base_branch: str
    integration_branch: str
    """`orkestra/<project-slug>`."""
    layout: WorktreeLayout
    """Where the integration worktree and the task worktrees live."""

    @property
    def integration_path(self) -> Path:
        """The integration branch's worktree."""
        return self.layout.integration_path


async def repository_root(folder: Path) -> Path:
    """The top level of the repository FOLDER is in; RepositoryError in one line when there is none."""
    if not folder.exists():
        raise RepositoryError(f"{folder} does not exist")
    if not folder.is_dir():
        raise RepositoryError(f"{folder} is not a folder")
    probe = await run_git(
        ["rev-parse", "--is-bare-repository", "--is-inside-git-dir"], cwd=folder, check=False
    )
    if probe.returncode != 0:
        raise RepositoryError(f"{folder} is not a git repository (Orkestra can initialise one if you ask)")
    is_bare, inside_git_dir = probe.stdout.split()[:2]
    if is_bare == "true":
        raise RepositoryError(
            f"{folder} is a bare repository; Orkestra needs a repository with a working tree"
        )
    if inside_git_dir == "true":
        raise RepositoryError(f"{folder} is inside a repository's .git folder; give the repository's folder")
    return Path(await git_output(["rev-parse", "--show-toplevel"], cwd=folder)).resolve()


async def is_repository(folder: Path) -> bool:
    """Whether FOLDER is in a repository with a working tree."""
    try:
        await repository_root(folder)
    except RepositoryError:
        return False
    return True


async def initialise_repository(folder: Path, *, initial_branch: str = "main") -> Path:
    """Make FOLDER a repository with one empty commit on INITIAL_BRANCH, and return its top level.

    Safe to repeat: a repository that has commits is left alone; one without any (a crash after
    `git init`, or the user's own fresh `git init`) gets the empty commit on its current branch.
    Files already in the folder stay as they are (untracked, or staged if the user staged them).
    """
    folder.mkdir(parents=True, exist_ok=True)
    if not await is_repository(folder):
        await run_git(["init", "--quiet", f"--initial-branch={initial_branch}"], cwd=folder)
    root = await repository_root(folder)
    if await commit_of(root, "HEAD") is None:
        empty_tree = await git_output(["hash-object", "-t", "tree", "-w", "--stdin"], cwd=root)
        commit = (
            await run_git(["commit-tree", empty_tree], cwd=root, input_text=INITIAL_COMMIT_MESSAGE)
        ).stdout.strip()
        # HEAD is symbolic, so this creates its branch; "" as the old value: only while unborn.
        await run_git(["update-ref", "-m", "orkestra: initial commit", "HEAD", commit, ""], cwd=root)
    return root


async def current_branch(root: Path) -> str:
    """The branch checked out in ROOT; RepositoryError when HEAD is detached."""
    result = await run_git(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd=root, check=False)
    if result.returncode != 0 or not result.stdout.strip():
        raise RepositoryError(f"{root} has no branch checked out (detached HEAD); name the base branch")
    return result.stdout.strip()


async def base_branch(root: Path, requested: str | None = None) -> str:
    """REQUESTED (e.g. `base` in .orkestra.toml), or the branch checked out in ROOT; it must exist."""
    name = requested or await current_branch(root)
    if await branch_commit(root, name) is None:
        raise RepositoryError(f"the base branch {name!r} does not exist in {root} (or has no commits yet)")
    return name


async def repository_problems(
    root: Path, base: str, integration_branch: str, *, integration_path: Path | None = None
) -> list[str]:
    """The "repository usable" pre-check: one line per problem, none when Orkestra can work in it."""
    try:
        top_level = await repository_root(root)
    except (GitError, RepositoryError) as error:
        return [str(error)]
    problems: list[str] = []
    operation = await operation_in_progress(top_level)
    if operation is not None:
        problems.append(f"{top_level} is in the middle of {operation}; finish or abort it first")
    if await branch_commit(top_level, base) is None:
        problems.append(f"the base branch {base!r} does not exist in {top_level}")
    if await branch_commit(top_level, integration_branch) is None:
        problems.append(f"the integration branch {integration_branch!r} is missing from {top_level}")
    elif integration_path is not None and not (integration_path / ".git").exists():
        problems.append(f"the integration worktree {integration_path} is missing")
    return problems


async def link_repository(
    folder: Path, project_slug: str, worktrees_folder: Path, *, base: str | None = None
) -> LinkedRepository:
    """Link FOLDER's repository: the integration branch from the base branch, and its worktree.

    Safe to repeat (an existing branch and worktree are reused). WORKTREES_FOLDER is Orkestra's own
    (in the data dir) and may not be inside the repository. The user's checkout is not touched.
    """
    root = await repository_root(folder)
    layout = WorktreeLayout(worktrees_folder.resolve())
    if layout.folder.is_relative_to(root):
        raise RepositoryError(
            f"Orkestra's worktrees folder {layout.folder} may not be inside the repository {root}"
        )
    chosen_base = await base_branch(root, base)
    operation = await operation_in_progress(root)
    if operation is not None:
        raise RepositoryError(f"{root} is in the middle of {operation}; finish or abort it first")
    integration = integration_branch_name(project_slug)
    async with repository_lock(root):
        if await branch_commit(root, integration) is None:
            created = await run_git(["branch", "--no-track", integration, chosen_base], cwd=root, check=False)
            if created.returncode != 0 and await branch_commit(root, integration) is None:
                await run_git(["branch", "--no-track", integration, chosen_base], cwd=root)
        await add_worktree(root, layout.integration_path, integration)
    return LinkedRepository(root=root, base_branch=chosen_base, integration_branch=integration, layout=layout)
