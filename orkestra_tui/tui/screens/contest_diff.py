"""A contest's entries' diffs (`d` on a contest task), one entry at a time: e goes to the next.

The diff screen as for any task, with a line of tabs naming each entry (its letter and
agent) over it; the entry shown is read with `Engine.contest_entry_diff`. In a project
without a repository an entry is a Markdown result, not a diff: it is shown as its text,
literally, through `plain` like every line of a diff.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList, Static

from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.diff import DiffScreen
from orkestra_tui.tui.text import plain

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.execution.contest.view import ContestEntryView


def tabs_text(entries: Sequence[ContestEntryView], shown: str, winner: str | None) -> Text:
    """`A claude │ B gemini ★ │ C chatgpt`, the entry shown in reverse."""
    text = Text()
    for index, entry in enumerate(entries):
        if index:
            text.append(" │ ", style="dim")
        style = "bold reverse" if entry.letter == shown else ""
        text.append(f" {entry.letter} ", style=style or "bold")
        text.append_text(plain(entry.agent, style=style or "cyan"))
        if entry.letter == winner:
            text.append(" ★", style="bold green")
    return text


class ContestDiffScreen(DiffScreen):
    """One entry's diff (or Markdown result) at a time; e and E go to the next and previous entry."""

    BINDINGS = [
        Binding("e", "next_entry(1)", "Next entry"),
        Binding("E", "next_entry(-1)", "Previous entry", show=False),
    ]
    DEFAULT_CSS = """
    ContestDiffScreen {
        #contest-diff-tabs { padding: 0 1; height: 1; }
    }
    """

    def __init__(
        self,
        engine: Engine,
        task_id: int,
        title: str,
        entries: Sequence[ContestEntryView],
        *,
        winner: str | None = None,
        markdown: bool = False,
    ) -> None:
        super().__init__(engine, task_id, title)
        self.entries = list(entries)
        self.winner = winner
        self.markdown = markdown
        """Whether the entries are Markdown results (a project without a repository)."""
        self.letter = winner or (entries[0].letter if entries else "A")
        """The entry shown: the winner first, once there is one."""

    def on_mount(self) -> None:
        # Textual calls the diff screen's own on_mount after this one (it reads the diff).
        title = self.query_one("#diff-title", Static)
        self.query_one(".dialog").mount(Static(id="contest-diff-tabs"), after=title)
        self._show_tabs()

    def _show_tabs(self) -> None:
        self.query_one("#contest-diff-tabs", Static).update(tabs_text(self.entries, self.letter, self.winner))
        what = "result" if self.markdown else "diff"
        self.query_one(".dialog").border_title = f"Task {self.task_id} · Entry {self.letter}'s {what}"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A Markdown result has no files to go between."""
        if action == "next_file":
            return not self.markdown
        return True

    async def _read_diff(self) -> None:
        letter = self.letter
        try:
            text = await self.engine.contest_entry_diff(self.task_id, letter)
        except OrkestraError as problem:
            if letter == self.letter:
                self.post_message(self.DiffFailed(str(problem)))
            return
        if letter == self.letter:  # not gone to another entry meanwhile
            self.post_message(self.DiffRead(text))

    async def on_diff_screen_diff_read(self, message: DiffScreen.DiffRead) -> None:
        """A Markdown result (or an entry with nothing yet) is shown here; a diff, by the diff screen."""
        if not self.markdown and message.text.strip():
            return
        message.prevent_default()
        self.loaded = True
        summary_part = self.query_one("#diff-summary", Static)
        text = message.text.strip()
        nothing = f"Entry {self.letter} has no {'result' if self.markdown else 'change'} yet."
        summary_part.update(plain(text) if text else Text(nothing, style="dim"))
        self.query_one(".dialog").border_subtitle = "e next entry · ↑↓ PgUp PgDn scroll"

    async def action_next_entry(self, step: int) -> None:
        letters = [entry.letter for entry in self.entries]
        if len(letters) < 2:
            return
        at = letters.index(self.letter) if self.letter in letters else 0
        self.letter = letters[(at + step) % len(letters)]
        await self.query(".diff-file").remove()
        self.files = []
        self.current_file = None
        self.loaded = False
        self._scrolled_to = -1
        self.query_one("#diff-files", OptionList).clear_options()
        summary_part = self.query_one("#diff-summary", Static)
        summary_part.display = True
        summary_part.update(Text("Reading the diff…", style="dim"))
        self.query_one("#diff-body").scroll_home(animate=False)
        self._show_tabs()
        self.run_worker(
            self._read_diff(),
            group="task-diff",
            description=f"Reading task {self.task_id}'s Entry {self.letter}",
            exclusive=True,
            exit_on_error=False,
        )
