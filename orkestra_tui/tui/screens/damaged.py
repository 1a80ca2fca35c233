"""The screen the app shows once it finds the database damaged: what is wrong and how to restore it.

It is a mode of its own, in front of every other, and cannot be left: the app has stopped its
work (votes, planning, the scheduler) so that nothing more is written to the
damaged file, and the only way on is to quit and restore a snapshot from a
shell. Quitting prints the same line on the terminal and exits with status 2.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from orkestra_tui.tui.text import plain

DAMAGE_EXIT_CODE = 2
"""The app's exit status after it found the database damaged (as for the commands)."""


class DamagedDatabaseScreen(Screen[None]):
    """The database is damaged: the one line that names it, the newest good snapshot and the command."""

    BINDINGS = [
        Binding("q,ctrl+q,escape", "quit_damaged", "Quit", priority=True),
    ]
    DEFAULT_CSS = """
    DamagedDatabaseScreen {
        align: center middle;
        & > .dialog {
            width: 90;
            max-width: 100%;
            height: auto;
            max-height: 100%;
            border: thick $error;
            border-title-style: bold;
            background: $surface;
            padding: 0 1;
        }
        #damage-line {
            margin: 1 0;
        }
    }
    """

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as dialog:
            dialog.border_title = "The database is damaged"
            yield Static(plain(self.line), id="damage-line")
            yield Static(
                Text(
                    "Orkestra has stopped voting, planning and running tasks, so that nothing more is "
                    "written to it. Quit (q), then run the command above in a shell."
                )
            )

    def action_quit_damaged(self) -> None:
        self.app.exit(return_code=DAMAGE_EXIT_CODE)
