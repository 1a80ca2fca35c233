"""A task's change as a diff (`d` on the Board): colourised, scrollable, file by file.

The engine reads the diff (`Engine.task_diff`, git in the background) in a worker; the
screen splits it into its summary (git's `--stat`) and one section per file, and colours
each line by its kind: file headers, hunk headers, lines added and removed. A diff is
what an agent wrote: every line reaches the screen through `plain`, so escape sequences
and control characters in it show as their escapes and never act on the terminal.

`n` or `]` goes to the next file, `p` or `[` to the previous one; at 100 columns and more,
a list of the files sits beside the diff. Esc closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.diff_lines import line_style
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.text import plain

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine

FILE_LINES_SHOWN = 4000
"""The most lines of one file's diff drawn; the rest are counted (git shows them all)."""


@dataclass
class DiffFile:
    """One file's part of a diff: its path and its lines (the `diff --git` header first)."""

    path: str
    lines: list[str] = field(default_factory=list)


def split_diff(text: str) -> tuple[list[str], list[DiffFile]]:
    """The lines before the first file (git's summary), then each file's part."""
    summary: list[str] = []
    files: list[DiffFile] = []
    for line in text.splitlines():
        if line.startswith("diff --git "):
            files.append(DiffFile(path_of(line), [line]))
        elif files:
            current = files[-1]
            current.lines.append(line)
            if line.startswith("+++ b/"):
                current.path = line.removeprefix("+++ b/")
            elif line.startswith("--- a/") and current.path == "":
                current.path = line.removeprefix("--- a/")
        else:
            summary.append(line)
    while summary and not summary[-1].strip():
        summary.pop()
    return summary, files


def path_of(header: str) -> str:
    """The path a `diff --git a/PATH b/PATH` line names (the `+++` line, when there is one, says better)."""
    rest = header.removeprefix("diff --git ")
    at = rest.rfind(" b/")
    return rest[at + 3 :] if at >= 0 else rest


def file_text(diff_file: DiffFile) -> Text:
    """One file's diff, coloured line by line, every line shown literally."""
    text = Text()
    in_hunk = False
    shown = diff_file.lines[:FILE_LINES_SHOWN]
    for index, line in enumerate(shown):
        if index:
            text.append("\n")
        if line.startswith("@@"):
            in_hunk = True
        style = line_style(line, in_hunk=in_hunk)
        if style == "bold" and line.startswith("diff --git "):
            style = "bold reverse"
        text.append_text(plain(line, style=style))
    hidden = len(diff_file.lines) - len(shown)
    if hidden > 0:
        text.append(f"\n… {hidden:,} more lines of this file not shown", style="dim")
    return text


def summary_text(summary: list[str]) -> Text:
    text = Text()
    for index, line in enumerate(summary):
        if index:
            text.append("\n")
        text.append_text(plain(line, style="dim" if "|" not in line else ""))
    return text


class DiffScreen(DialogScreen[None]):
    """A task's diff against the branch it merges into, file by file; Esc closes it."""

    BINDINGS = [
        Binding("n,right_square_bracket", "next_file(1)", "Next file"),
        Binding("p,left_square_bracket", "next_file(-1)", "Previous file"),
        Binding("escape", "close", "Close"),
    ]
    DEFAULT_CSS = """
    DiffScreen {
        & > .dialog { width: 100%; height: 100%; padding: 0; }
        #diff-title { padding: 0 1; height: auto; max-height: 2; }
        #diff-columns { height: 1fr; }
        #diff-files { width: 30; height: 1fr; background: $boost; margin-right: 1; }
        #diff-body { height: 1fr; padding: 0 1; }
        .diff-file { margin-top: 1; }
        &.-narrow #diff-files { display: none; }
    }
    """
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    class DiffRead(Message):
        """The task's diff was read (empty: the task has no change)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class DiffFailed(Message):
        """The diff could not be read; `problem` says why, in one line."""

        def __init__(self, problem: str) -> None:
            super().__init__()
            self.problem = problem

    def __init__(self, engine: Engine, task_id: int, title: str) -> None:
        super().__init__()
        self.engine = engine
        self.task_id = task_id
        self.task_title = title
        self.files: list[DiffFile] = []
        """The diff's files, once read."""
        self.current_file: int | None = None
        """The file last gone to with n/p or the list."""
        self.loaded = False
        self._scrolled_to = -1
        """Where `go_to_file` last scrolled the diff to."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = f"Diff of task {self.task_id}"
            box.border_subtitle = "↑↓ PgUp PgDn scroll"
            heading = plain(self.task_title, style="bold")
            yield Static(heading, id="diff-title")
            with Horizontal(id="diff-columns"):
                yield OptionList(id="diff-files", compact=True)
                with VerticalScroll(id="diff-body"):
                    yield Static(Text("Reading the diff…", style="dim"), id="diff-summary")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#diff-body").focus()
        self.run_worker(
            self._read_diff(),
            group="task-diff",
            description=f"Reading task {self.task_id}'s diff",
            exclusive=True,
            exit_on_error=False,
        )

    async def _read_diff(self) -> None:
        try:
            text = await self.engine.task_diff(self.task_id)
        except OrkestraError as problem:
            self.post_message(self.DiffFailed(str(problem)))
            return
        self.post_message(self.DiffRead(text))

    # ------------------------------------------------------------ messages

    async def on_diff_screen_diff_read(self, message: DiffRead) -> None:
        summary, self.files = split_diff(message.text)
        self.loaded = True
        summary_part = self.query_one("#diff-summary", Static)
        if not message.text.strip():
            summary_part.update(Text(f"Task {self.task_id} has no change in the repository.", style="dim"))
            return
        summary_part.update(summary_text(summary))
        summary_part.display = bool(summary)
        body = self.query_one("#diff-body", VerticalScroll)
        await body.mount_all(
            Static(file_text(diff_file), classes="diff-file", id=f"diff-file-{index}")
            for index, diff_file in enumerate(self.files)
        )
        files_list = self.query_one("#diff-files", OptionList)
        files_list.add_options(Option(plain(diff_file.path)) for diff_file in self.files)
        self._show_place()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.post_message(self.DiffFailed(f"The diff could not be read: {event.worker.error}"))

    def on_diff_screen_diff_failed(self, message: DiffFailed) -> None:
        self.loaded = True
        self.query_one("#diff-summary", Static).update(plain(message.problem, style="red"))

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        self.go_to_file(message.option_index)

    # ------------------------------------------------------------ keys

    def action_next_file(self, step: int) -> None:
        """Go to the next (or previous) file: beside the one last gone to, or from where the diff is."""
        if not self.files:
            return
        body = self.query_one("#diff-body", VerticalScroll)
        here = round(body.scroll_y)
        wanted: int | None
        if self.current_file is not None and here == self._scrolled_to:
            wanted = self.current_file + step  # not scrolled since (or the diff fits): the file beside
        else:
            tops = [part.virtual_region.y for part in self.query(".diff-file")]
            if step > 0:
                wanted = next((index for index, top in enumerate(tops) if top > here), None)
            else:
                wanted = next((index for index in reversed(range(len(tops))) if tops[index] < here), None)
        if wanted is not None:
            self.go_to_file(wanted)

    def go_to_file(self, index: int) -> None:
        """Scroll file INDEX's diff to the top, and say which it is."""
        if not 0 <= index < len(self.files):
            return
        self.current_file = index
        body = self.query_one("#diff-body", VerticalScroll)
        top = self.query_one(f"#diff-file-{index}").virtual_region.y
        body.scroll_to(y=top, animate=False, immediate=True)
        self._scrolled_to = min(top, round(body.max_scroll_y))
        files_list = self.query_one("#diff-files", OptionList)
        files_list.highlighted = index
        self._show_place()

    def _show_place(self) -> None:
        box = self.query_one(".dialog")
        count = len(self.files)
        place = f"file {self.current_file + 1}/{count}" if self.current_file is not None else f"{count} files"
        if count == 1:
            place = "1 file"
        box.border_subtitle = f"{place} · ↑↓ PgUp PgDn scroll"

    def action_close(self) -> None:
        self.dismiss(None)
