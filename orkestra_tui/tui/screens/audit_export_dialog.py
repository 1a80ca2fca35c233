"""Exporting the Audit screen's view to a file (key x): a path, a format, and the events streamed out.

Every event the view's filter matches is written, not only the rows read so
far: a worker reads them from the store a page at a time and writes each page
as it comes (yielding to the app between pages, so a million events never
freeze it), into a temporary file renamed over the path at the end. An
existing file is replaced only after a yes; a path that cannot be written is
refused with one line beside the field, and the dialog stays open.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from orkestra_tui.engine.store.audit_export import (
    EXTENSIONS,
    FORMATS,
    AuditSearch,
    EventWriter,
    ExportError,
    filter_active,
    format_for,
    matching_pages,
)
from orkestra_tui.engine.store.audit_search import AuditFilter
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.screens.prompt import ConfirmScreen
from orkestra_tui.tui.text import plain

FORMAT_SUFFIXES = {"jsonl": ".jsonl", "csv": ".csv", "md": ".md"}
BY_EXTENSION = "auto"


class AuditExportScreen(DialogScreen[tuple[int, Path] | None]):
    """A path and a format; ctrl+s (or Enter) exports and returns how many events went where."""

    BINDINGS = [
        Binding("ctrl+s", "export", "Export"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    AuditExportScreen {
        & > Vertical { width: 76; }
        .row { height: auto; }
        .field-label { width: 8; color: $text-muted; }
        #export-path { width: 1fr; }
        #export-format { width: 30; }
        #export-error { color: $error; height: auto; padding-left: 8; }
        #export-progress { color: $text-muted; height: auto; padding-left: 8; }
        #export-buttons { height: auto; align-horizontal: right; margin-top: 1; }
        #export-buttons Button { margin-left: 2; }
    }
    """

    class Progressed(Message):
        """Another page of events was written."""

        def __init__(self, written: int) -> None:
            super().__init__()
            self.written = written

    class Finished(Message):
        """The file is in place."""

        def __init__(self, written: int, path: Path) -> None:
            super().__init__()
            self.written = written
            self.path = path

    class Failed(Message):
        """The file could not be written; what was there before is untouched."""

        def __init__(self, problem: str) -> None:
            super().__init__()
            self.problem = problem

    def __init__(
        self,
        search: AuditSearch,
        audit_filter: AuditFilter,
        default_path: Path,
        *,
        count: int | None = None,
        project_names: dict[int, str] | None = None,
    ) -> None:
        super().__init__()
        self.search = search
        self.filter = audit_filter
        self.default_path = default_path
        self.count = count
        """How many events the view matches, if known (for the heading)."""
        self.project_names = project_names or {}
        self.exporting = False

    def compose(self) -> ComposeResult:
        choices = [("by the file's extension", BY_EXTENSION)]
        choices += [(name, key) for key, name in FORMATS.items()]
        what = "every event" if not filter_active(self.filter) else "every event the filters match"
        if self.count is not None:
            what += f" ({self.count:,})"
        with Vertical(classes="dialog") as box:
            box.border_title = "Export the audit log"
            yield Static(f"Writes {what}, newest first.")
            with Horizontal(classes="row"):
                yield Label("File", classes="field-label")
                yield Input(str(self.default_path), id="export-path", compact=True)
            with Horizontal(classes="row"):
                yield Label("Format", classes="field-label")
                yield Select(choices, value=BY_EXTENSION, allow_blank=False, id="export-format", compact=True)
            yield Static(id="export-error")
            yield Static(id="export-progress")
            with Horizontal(id="export-buttons"):
                yield Button("Cancel", id="export-cancel", compact=True)
                yield Button("Export", id="export-submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    # ------------------------------------------------------------ fields

    @on(Select.Changed, "#export-format")
    def _format_chosen(self, event: Select.Changed) -> None:
        """A chosen format renames a path with a known extension to match it."""
        suffix = FORMAT_SUFFIXES.get(str(event.value))
        path_input = self.query_one("#export-path", Input)
        current = Path(path_input.value)
        if suffix and current.suffix.lower() in EXTENSIONS and current.suffix.lower() != suffix:
            path_input.value = str(current.with_suffix(suffix))

    @on(Input.Submitted, "#export-path")
    def _path_submitted(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#export-submit")
    def _submit_pressed(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#export-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _show_problem(self, problem: str) -> None:
        self.query_one("#export-error", Static).update(plain(problem))

    # ------------------------------------------------------------ actions

    def action_cancel(self) -> None:
        """Close; an export under way stops, and its temporary file goes."""
        self.workers.cancel_group(self, "audit-export")
        self.dismiss(None)

    def action_export(self) -> None:
        if self.exporting:
            return
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self._show_problem("name the file to write")
            return
        path = Path(text).expanduser()
        chosen = str(self.query_one("#export-format", Select).value)
        try:
            export_format = format_for(path, None if chosen == BY_EXTENSION else chosen)
        except ExportError as problem:
            self._show_problem(str(problem))
            return
        if path.is_dir():
            self._show_problem(f"{path} is a folder; name a file in it")
            return
        if path.exists():

            def answered(replace: bool | None) -> None:
                if replace:
                    self._start(path, export_format)
                else:
                    self._show_problem(f"{path.name} was kept; choose another name to export")

            self.app.push_screen(
                ConfirmScreen("Replace the file?", f"{path} exists. Replace it with the export?", "Replace"),
                answered,
            )
            return
        self._start(path, export_format)

    def _start(self, path: Path, export_format: str) -> None:
        self.exporting = True
        self._show_problem("")
        self.query_one("#export-progress", Static).update("Exporting…")
        self.query_one("#export-submit", Button).disabled = True
        self._export(path, export_format)

    @work(group="audit-export", exclusive=True, exit_on_error=False, description="exporting the audit log")
    async def _export(self, path: Path, export_format: str) -> None:
        try:
            with EventWriter(path, export_format, project_names=self.project_names) as writer:
                for page in matching_pages(self.search, self.filter):
                    writer.write(page)
                    self.post_message(self.Progressed(writer.written))
                    await asyncio.sleep(0)  # let the app draw and take keys between pages
        except OrkestraError as problem:  # the file, or the store, refused
            self.post_message(self.Failed(str(problem)))
            return
        self.post_message(self.Finished(writer.written, path))

    def on_audit_export_screen_progressed(self, message: Progressed) -> None:
        self.query_one("#export-progress", Static).update(f"Exporting… {message.written:,} events written")

    def on_audit_export_screen_finished(self, message: Finished) -> None:
        self.exporting = False
        self.dismiss((message.written, message.path))

    def on_audit_export_screen_failed(self, message: Failed) -> None:
        self.exporting = False
        self.query_one("#export-progress", Static).update("")
        self.query_one("#export-submit", Button).disabled = False
        self._show_problem(message.problem)
