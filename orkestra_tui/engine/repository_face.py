"""The repository side of the Engine's public face: linking a project, its changes, diffs and landing.

`RepositoryFace` is a part of `Engine` (a base class, like `EngineReads`). Screens and
commands call these methods; the steps themselves live in `repo.work` and git in `repo.git`.
Every failure is an `EngineError` in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.engine.repo import changes
from orkestra_tui.engine.repo.changes import GateRecord, RepositoryLink, TaskChange
from orkestra_tui.engine.store.store import Store

if TYPE_CHECKING:
    from orkestra_tui.config import Paths
    from orkestra_tui.engine.agents.pool import AgentPool
    from orkestra_tui.engine.clock import Clock
    from orkestra_tui.engine.models import Project
    from orkestra_tui.engine.repo.work import RepoWork


@dataclass(frozen=True)
class RepositoryStatus:
    """What `orkestra status` and the Board say of a project's repository."""

    link: RepositoryLink
    ahead: int
    """Commits on the integration branch that the base branch lacks."""
    behind: int
    merged_tasks: int
    waiting: tuple[tuple[int, str, str], ...]
    """Tasks with a change not merged yet: (task id, title, state)."""
    problems: tuple[str, ...]
    """The "repository usable" check: empty when work can go on."""


@dataclass(frozen=True)
class RepositoryCheck:
    """Whether a folder can be linked: is it a repository, and what stops it from being linked."""

    is_repository: bool
    problem: str | None
    """None when the folder can be linked as asked; one line otherwise."""


@dataclass(frozen=True)
class Landed:
    branch: str
    commit: str | None
    """The merge commit on the user's branch; None when it already had everything."""


class RepositoryFace:
    """Linking, reading and landing a project's repository; `Engine` provides the parts below."""

    store: Store
    paths: Paths
    clock: Clock
    pool: AgentPool

    def repo_work(self) -> RepoWork:
        """The repository steps, with every configured agent's key variable kept from the gates."""
        from orkestra_tui.engine.repo.work import RepoWork

        return RepoWork.for_agents(self.store, self.clock, self.paths.data_dir, self.pool.runtimes.values())

    async def link_repository(
        self, project_id: int, folder: Path, *, init: bool = False, base: str | None = None
    ) -> RepositoryLink:
        """Link the project to the git repository at FOLDER (initialised first when INIT asks)."""
        from orkestra_tui.engine.repo.git import GitError
        from orkestra_tui.engine.repo.names import RepositoryError
        from orkestra_tui.engine.repo.repo_settings import RepoSettingsError

        project = self._project_or_error(project_id)
        busy = self.store.scalar(
            "SELECT count(*) FROM task t JOIN task_change c ON c.task_id = t.id"
            " WHERE t.project_id = ? AND c.state NOT IN ('merged')",
            (project_id,),
        )
        current = changes.repository(self.store, project_id)
        if current is not None and busy and current.path != folder.expanduser().resolve():
            raise EngineError(
                f"{project.name!r} has changes not merged into {current.branch} yet;"
                " land or cancel them first"
            )
        try:
            return await self.repo_work().link(project, folder, init=init, base=base)
        except (GitError, RepositoryError, RepoSettingsError) as error:
            raise EngineError(str(error)) from None

    async def can_initialise(self, folder: Path) -> bool:
        """Whether FOLDER is a folder in no git repository at all: linking it asks `init` to make one."""
        from orkestra_tui.engine.repo.git import GitError, run_git

        folder = folder.expanduser()
        if not folder.is_dir():
            return False
        try:
            probe = await run_git(["rev-parse", "--git-dir"], cwd=folder, check=False)
        except GitError:
            return False
        return probe.returncode != 0

    def repository(self, project_id: int) -> RepositoryLink | None:
        return changes.repository(self.store, project_id)

    def task_change(self, task_id: int) -> TaskChange | None:
        return changes.task_change(self.store, task_id)

    def gate_runs(self, task_id: int) -> list[GateRecord]:
        return changes.gate_runs(self.store, task_id)

    async def task_diff(self, task_id: int) -> str:
        """The task's whole change as a unified diff (empty when it has none yet)."""
        return await self.repo_work().diff(task_id, limit=None)

    async def repository_status(self, project_id: int) -> RepositoryStatus | None:
        from orkestra_tui.engine.repo.git import GitError
        from orkestra_tui.engine.repo.merging import ahead_of_base

        link = changes.repository(self.store, project_id)
        if link is None:
            return None
        problems = tuple(await self.repo_work().problems(link))
        ahead = behind = merged = 0
        if not problems:
            try:
                counts = await ahead_of_base(link.path, link.base, link.branch)
                ahead, behind, merged = counts.ahead, counts.behind, counts.merged_tasks
            except GitError as error:
                problems = (str(error),)
        rows = self.store.query(
            "SELECT t.id, t.title, c.state FROM task_change c JOIN task t ON t.id = c.task_id"
            " WHERE t.project_id = ? AND c.state != 'merged' AND t.status != ? ORDER BY t.id",
            (project_id, TaskStatus.CANCELLED.value),
        )
        waiting = tuple((row[0], row[1], row[2]) for row in rows)
        return RepositoryStatus(link, ahead, behind, merged, waiting, problems)

    async def land(self, project_id: int) -> Landed:
        """Merge the integration branch into the user's current branch, only when that checkout is clean."""
        from orkestra_tui.engine.repo.git import GitError
        from orkestra_tui.engine.repo.merging import land
        from orkestra_tui.engine.repo.names import RepositoryError

        project = self._project_or_error(project_id)
        link = changes.repository(self.store, project_id)
        if link is None:
            raise EngineError(f"{project.name!r} has no repository; link one with --repo")
        try:
            result = await land(link.path, link.branch, project_name=project.name)
        except (GitError, RepositoryError) as error:
            raise EngineError(str(error)) from None
        with self.store.transaction() as tx:
            tx.audit(
                "human",
                "project.landed",
                f"{link.branch} landed on {result.branch}"
                + (f" ({result.commit[:12]})" if result.commit else ": it was up to date"),
                subject=f"project:{project_id}",
                project_id=project_id,
                data={"branch": result.branch, "commit": result.commit},
            )
        return Landed(result.branch, result.commit)

    async def tidy_worktrees(self, project_id: int) -> list[str]:
        """Remove the project's leftover worktrees that hold nothing unmerged; a line per thing done or kept.

        See `repo.recovery`: run at start, before any task of the project runs.
        """
        from orkestra_tui.engine.execution.contest.cleanup import remove_settled_losers
        from orkestra_tui.engine.repo.recovery import tidy_worktrees

        project = self._project_or_error(project_id)
        removed = await remove_settled_losers(self.store, project_id)  # a merged contest's other entries
        return removed + await tidy_worktrees(self.store, self.paths.data_dir, project)

    async def check_repository_folder(
        self, folder: Path, *, init: bool = False, base: str | None = None
    ) -> RepositoryCheck:
        """Whether FOLDER can be linked as asked, before any project is made for it (nothing is written)."""
        from orkestra_tui.engine.repo.git import GitError, check_git
        from orkestra_tui.engine.repo.link import base_branch, repository_root
        from orkestra_tui.engine.repo.names import RepositoryError
        from orkestra_tui.engine.repo.work import WORKTREES_DIR

        folder = folder.expanduser()
        try:
            await check_git()
            if init and not folder.exists():
                return RepositoryCheck(False, None)  # made and initialised when linked
            try:
                root = await repository_root(folder)
            except RepositoryError as error:
                if init and folder.is_dir():
                    return RepositoryCheck(False, None)
                return RepositoryCheck(
                    False, str(error).removesuffix(" (Orkestra can initialise one if you ask)")
                )
            worktrees = (self.paths.data_dir / WORKTREES_DIR).resolve()
            if worktrees.is_relative_to(root):
                return RepositoryCheck(
                    True, f"Orkestra's worktrees folder {worktrees} may not be inside the repository {root}"
                )
            if not init:  # initialising gives a repository without commits its first one
                await base_branch(root, base)
        except (GitError, RepositoryError) as error:
            return RepositoryCheck(True, str(error))
        return RepositoryCheck(True, None)

    def _project_or_error(self, project_id: int) -> Project:
        project = self.store.project(project_id)
        if project is None:
            raise EngineError(f"there is no project {project_id}")
        return project
