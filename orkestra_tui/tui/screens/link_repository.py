"""Linking a project to a git repository (`L` on the Board): the folder, and whether to initialise it.

The folder is checked as it is given (it must be an existing folder); a folder in no git
repository at all brings a yes-or-no question, "Initialise a git repository there?".
The engine then links the project in a worker (`Engine.link_repository`: git runs in
the background); what goes wrong is one line in the dialog, which stays open.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Static
from textual.worker import Worker, WorkerState

from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.text import plain

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.repo.changes import RepositoryLink


def folder_problem(value: str) -> str | None:
    """Why VALUE cannot be a repository's folder (None when it can be)."""
    if not value.strip():
        return "Give the folder of the repository."
    folder = Path(value.strip()).expanduser()
    if not folder.exists():
        return f"{folder} does not exist."
    if not folder.is_dir():
        return f"{folder} is not a folder."
    return None


class LinkRepositoryScreen(DialogScreen["RepositoryLink | None"]):
    """The folder of a repository for a project; returns the link made, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    LinkRepositoryScreen {
        & > Vertical { width: 72; }
        #link-hint { color: $text-muted; }
        #link-folder { margin-top: 1; }
        #link-error { color: $error; height: auto; }
        #link-buttons { height: auto; align-horizontal: right; margin-top: 1; }
        #link-buttons Button { margin-left: 2; }
    }
    """

    class Linked(Message):
        """The project is linked."""

        def __init__(self, link: RepositoryLink) -> None:
            super().__init__()
            self.link = link

    class NoRepositoryFound(Message):
        """The folder is not a git repository: the user is asked whether to initialise one."""

        def __init__(self, folder: Path) -> None:
            super().__init__()
            self.folder = folder

    class LinkFailed(Message):
        def __init__(self, problem: str) -> None:
            super().__init__()
            self.problem = problem

    def __init__(self, engine: Engine, project_id: int, project_name: str, *, folder: str = "") -> None:
        super().__init__()
        self.engine = engine
        self.project_id = project_id
        self.project_name = project_name
        self.folder = folder
        """A folder already given (the brief's Repository field): linked at once, asking only if need be."""
        self.busy = False
        """Whether a link is being made (the keys wait)."""

    def compose(self) -> ComposeResult:
        current = self.engine.repository(self.project_id)
        with Vertical(classes="dialog") as box:
            box.border_title = "Link a repository"
            yield Static(plain(f"Where does {self.project_name!r} work?", style="bold"))
            hint = (
                "The folder of a git repository. Orkestra works on a branch of its own in worktrees"
                " of its own: your checkout is never touched. Enter links · Esc cancels"
            )
            if current is not None:
                hint = f"Linked now to {current.path} ({current.branch}). " + hint
            yield Static(plain(hint), id="link-hint")
            yield Input(
                value=self.folder or (str(current.path) if current is not None else ""),
                placeholder="~/code/project",
                id="link-folder",
                compact=True,
            )
            yield Static(id="link-error")
            with Horizontal(id="link-buttons"):
                yield Button("Cancel", id="link-cancel", compact=True)
                yield Button("Link", id="link-submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#link-folder", Input).focus()
        if self.folder:
            self._submitted()

    # ------------------------------------------------------------ asking

    @on(Input.Submitted, "#link-folder")
    @on(Button.Pressed, "#link-submit")
    def _submitted(self) -> None:
        if self.busy:
            return
        value = self.query_one("#link-folder", Input).value
        problem = folder_problem(value)
        if problem is not None:
            self._say(problem)
            return
        self._link(Path(value.strip()).expanduser(), init=False)

    @on(Button.Pressed, "#link-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    def _link(self, folder: Path, *, init: bool) -> None:
        self.busy = True
        self._say("Linking…", error=False)
        self.run_worker(
            self._make_link(folder, init=init),
            group="link-repository",
            description=f"Linking project {self.project_id} to {folder}",
            exclusive=True,
            exit_on_error=False,
        )

    async def _make_link(self, folder: Path, *, init: bool) -> None:
        try:
            if not init and await self.engine.can_initialise(folder):
                self.post_message(self.NoRepositoryFound(folder))
                return
            link = await self.engine.link_repository(self.project_id, folder, init=init)
        except OrkestraError as problem:
            self.post_message(self.LinkFailed(str(problem)))
            return
        self.post_message(self.Linked(link))

    # ------------------------------------------------------------ answers

    def on_link_repository_screen_linked(self, message: Linked) -> None:
        self.busy = False
        self.dismiss(message.link)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failure nobody foresaw is one line too, and the dialog takes keys again."""
        if event.state is WorkerState.ERROR:
            self.post_message(self.LinkFailed(f"Could not link the repository: {event.worker.error}"))

    def on_link_repository_screen_link_failed(self, message: LinkFailed) -> None:
        self.busy = False
        self._say(message.problem)
        self.query_one("#link-folder", Input).focus()

    def on_link_repository_screen_no_repository_found(self, message: NoRepositoryFound) -> None:
        from orkestra_tui.tui.screens.prompt import ConfirmScreen

        self.busy = False
        self._say("")
        folder = message.folder

        def answered(yes: bool | None) -> None:
            if yes:
                self._link(folder, init=True)
            else:
                self._say(f"{folder} is not a git repository: give another folder, or initialise it.")
                self.query_one("#link-folder", Input).focus()

        self.app.push_screen(
            ConfirmScreen(
                "Not a git repository",
                f"{folder} is not a git repository. Initialise a git repository there?",
                "Initialise",
            ),
            answered,
        )

    def _say(self, line: str, *, error: bool = True) -> None:
        self.query_one("#link-error", Static).update(plain(line, style="" if error else "dim"))
