"""The Board's repository part: the integration branch in its heading, a task's diff, linking a project.

`BoardScreen` is built on this screen class. For a project linked to a repository, the
heading shows Orkestra's integration branch and how far it is ahead of the base branch
(`Engine.repository_status`, git read in a worker, again after the tasks change); `d`
opens the highlighted task's diff; `L` links the project to a repository (or another
one); a task's detail gets its change and gate runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.message import Message

from orkestra_tui.engine.models import Task, TaskStatus
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.text import clean

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.execution.board_view import TaskCard
    from orkestra_tui.engine.repo.changes import RepositoryLink
    from orkestra_tui.engine.repository_face import RepositoryStatus


REPOSITORY_EVENTS = frozenset(
    {
        "task.committed",
        "task.gated",
        "task.merge_queued",
        "task.merged",
        "task.approved",
        "task.rejected",
        "task.retried",
        "task.cancelled",
        "task.worktree",
        "task.worktree_kept",
        "task.worktree_removed",
        "project.repository",
        "project.landed",
    }
)
"""The events after which the integration branch or what waits to merge may differ: git is read again."""


def repository_line(link: RepositoryLink, status: RepositoryStatus | None) -> str:
    """`orkestra/shop · 3 ahead of main · 1 waiting to merge`, or the problem that stops the work."""
    line = f"⎇ {link.branch}"
    if status is None:
        return line + f" · from {link.base}"
    if status.problems:
        return line + f" · ⚠ {status.problems[0]}"
    line += f" · {status.ahead} ahead of {link.base}"
    if status.behind:
        line += f", {status.behind} behind"
    if status.waiting:
        line += f" · {len(status.waiting)} waiting to merge"
    return line


def approved_outcome(task: object) -> str:
    """What the Board says of a task just approved: in a linked project, it goes to the merge queue."""
    if isinstance(task, Task) and task.status is TaskStatus.REVIEW:
        return "approved: it merges next"
    return "approved"


class BoardRepositoryScreen(EngineScreen):
    """What the Board shows and does of its project's repository; `BoardScreen` is the rest."""

    class RepositoryStatusRead(Message):
        """The project's repository status was read (None: the project is not linked)."""

        def __init__(self, project_id: int, status: RepositoryStatus | None) -> None:
            super().__init__()
            self.project_id = project_id
            self.status = status

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.project_id: int | None = None
        self.repository_link: RepositoryLink | None = None
        """The shown project's repository, when it is linked to one."""
        self.repository_status: RepositoryStatus | None = None
        """Its integration branch's state, as last read from git."""
        self._repository_stale = True

    @property
    def highlighted(self) -> TaskCard | None:
        """The task the keys act on (the Board says which)."""
        return None

    def repository_shown(self) -> None:
        """Called when the repository's status changed: the Board redraws its heading."""

    # ------------------------------------------------------------ reading

    def repository_changed(self) -> None:
        """Something that moves the integration branch may have happened: read its status again."""
        self._repository_stale = True

    def read_repository(self) -> None:
        """Read the project's link; start reading its status from git if it may have changed."""
        project_id = self.project_id
        link = self.engine.repository(project_id) if project_id is not None else None
        if link != self.repository_link:
            self.repository_link = link
            self.repository_status = None
            self._repository_stale = True
        if link is None or project_id is None or not self._repository_stale:
            return
        self._repository_stale = False
        self.run_worker(
            self._read_status(project_id),
            group="repository-status",
            description=f"Reading project {project_id}'s repository status",
            exclusive=True,
            exit_on_error=False,
        )

    async def _read_status(self, project_id: int) -> None:
        status = await self.engine.repository_status(project_id)
        self.post_message(self.RepositoryStatusRead(project_id, status))

    def on_board_repository_screen_repository_status_read(self, message: RepositoryStatusRead) -> None:
        if message.project_id != self.project_id:
            return
        self.repository_status = message.status
        self.repository_shown()

    def repository_heading(self) -> str:
        """The heading's repository line (empty when the project is not linked)."""
        link = self.repository_link
        return repository_line(link, self.repository_status) if link is not None else ""

    def change_section(self, task_id: int) -> Text | None:
        """The task's change and gate runs for its detail, when the project is linked."""
        from orkestra_tui.tui.widgets.task_change import change_text

        link = self.repository_link
        if link is None:
            return None
        change = self.engine.task_change(task_id)
        gates = self.engine.gate_runs(task_id) if change is not None else []
        return change_text(link.branch, change, gates)

    # ------------------------------------------------------------ keys

    def action_diff(self) -> None:
        from orkestra_tui.tui.screens.diff import DiffScreen

        card = self.highlighted
        if card is None:
            return
        if self.repository_link is None:
            self.notify("This project has no repository: L links one.", title="Diff", severity="warning")
            return
        self.app.push_screen(DiffScreen(self.engine, card.id, card.title))

    def action_link_repository(self) -> None:
        from orkestra_tui.tui.screens.link_repository import LinkRepositoryScreen

        project_id = self.project_id
        if project_id is None:
            return
        project = self.engine.project(project_id)
        if project is None:
            return

        def linked(link: RepositoryLink | None) -> None:
            if link is None:
                return
            self.repository_link = None  # read again, with its status
            self.read_repository()
            self.repository_shown()
            self.notify(
                clean(f"{project.name} works in {link.path} on {link.branch} (from {link.base})."),
                title="Repository",
                markup=False,
            )

        self.app.push_screen(LinkRepositoryScreen(self.engine, project_id, project.name), linked)
