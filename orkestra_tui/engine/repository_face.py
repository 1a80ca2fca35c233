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
    from orkestra_tui.engine.clock import Clock
    from orkestra_tui.engine.models import Project
    from orkestra_tui.engine.repo.work import RepoWork
    from orkestra_tui.providers.registry import AgentRuntime


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
class Landed:
    branch: str
    commit: str | None
    """The merge commit on the user's branch; None when it already had everything."""


class RepositoryFace:
    """Linking, reading and landing a project's repository; `Engine` provides the parts below."""

    store: Store
    paths: Paths
    clock: Clock
    runtimes: dict[str, AgentRuntime]

    def repo_work(self) -> RepoWork:
        """The repository steps, with every configured agent's key variable kept from the gates."""
        from orkestra_tui.engine.repo.work import RepoWork

        keys = sorted({runtime.key_variable for runtime in self.runtimes.values() if runtime.key_variable})
        return RepoWork(self.store, self.clock, self.paths.data_dir, keys)

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

    def _approve_into_merge_queue(self, task_id: int) -> bool:
        """Mark an escalated task's unmerged change approved; whether it has one (and so must merge)."""
        change = changes.task_change(self.store, task_id)
        if change is None or change.state == "merged" or change.commit is None:
            return False
        with self.store.transaction() as tx:
            changes.set_state(tx, task_id, "approved", note="approved by the human", now=tx.clock.now())
            tx.audit(
                "human",
                "task.merge_queued",
                f"Task {task_id}'s change joins the merge queue",
                subject=f"task:{task_id}",
                data={"commit": change.commit},
            )
        return True

    def _project_or_error(self, project_id: int) -> Project:
        project = self.store.project(project_id)
        if project is None:
            raise EngineError(f"there is no project {project_id}")
        return project
