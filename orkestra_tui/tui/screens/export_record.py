"""Exporting a finished vote's decision record (the Voting screen's key x): a path, then the file.

The path starts as `decision-0042-the-question.md` in the folder Orkestra was
started from; a relative path is taken from that folder, and a folder gets the
record's usual file name inside it. An existing file is replaced only after a
yes; a path that cannot be written is refused with one line beside the field,
and the dialog stays open. A record is one small file read from the store, so
it is written at once rather than in a worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from orkestra_tui.engine.models import Decision
from orkestra_tui.engine.voting.records import record_filename
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.screens.prompt import ConfirmScreen
from orkestra_tui.tui.text import plain

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine


class ExportRecordScreen(DialogScreen[Path | None]):
    """A file path; Enter (or ctrl+s) writes the record and returns where, Esc returns None."""

    BINDINGS = [
        Binding("ctrl+s", "export", "Export"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    ExportRecordScreen {
        & > Vertical { width: 76; }
        .row { height: auto; }
        .field-label { width: 6; color: $text-muted; }
        #record-path { width: 1fr; }
        #record-hint { color: $text-muted; }
        #record-error { color: $error; height: auto; padding-left: 6; }
        #record-buttons { height: auto; align-horizontal: right; margin-top: 1; }
        #record-buttons Button { margin-left: 2; }
    }
    """

    def __init__(self, engine: Engine, decision: Decision, folder: Path) -> None:
        super().__init__()
        self.engine = engine
        self.decision = decision
        self.folder = folder
        """Where the default path points, and what a relative path is taken from."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Export the decision record"
            yield Static(plain(self.decision.question, style="bold"))
            yield Static(
                "A Markdown file: the options, every ballot and count, and the outcome.", id="record-hint"
            )
            with Horizontal(classes="row"):
                yield Label("File", classes="field-label")
                yield Input(str(self.folder / record_filename(self.decision)), id="record-path", compact=True)
            yield Static(id="record-error")
            with Horizontal(id="record-buttons"):
                yield Button("Cancel", id="record-cancel", compact=True)
                yield Button("Export", id="record-submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#record-path", Input).focus()

    @on(Input.Submitted, "#record-path")
    def _path_submitted(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#record-submit")
    def _submit_pressed(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#record-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _show_problem(self, problem: str) -> None:
        self.query_one("#record-error", Static).update(plain(problem))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_export(self) -> None:
        text = self.query_one("#record-path", Input).value.strip()
        if not text:
            self._show_problem("name the file to write")
            return
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.folder / path
        if path.is_dir():
            path = path / record_filename(self.decision)
        if path.exists():

            def answered(replace: bool | None) -> None:
                if replace:
                    self._write(path, overwrite=True)
                else:
                    self._show_problem(f"{path.name} was kept; choose another name to export")

            self.app.push_screen(
                ConfirmScreen("Replace the file?", f"{path} exists. Replace it with the record?", "Replace"),
                answered,
            )
            return
        self._write(path, overwrite=False)

    def _write(self, path: Path, *, overwrite: bool) -> None:
        try:
            written = self.engine.write_decision_record(self.decision.id, path, overwrite=overwrite)
        except OrkestraError as problem:
            self._show_problem(str(problem))
            return
        self.dismiss(written)
