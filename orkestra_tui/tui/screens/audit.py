"""The Audit screen: every recorded action and decision, newest first, live.

The table (`AuditTable`) is virtualised and reads the store a page at a time
(`AuditPages`): opening the screen on a million events reads one page. The
live tail puts new events on top while the table is at its top; scrolling
down pauses it (the header says so) and End, or scrolling back up, resumes
it. `/` searches the summaries and details (full text), `f` filters by actor,
kind, project and time, Enter shows the highlighted event in full beside the
table, and `x` exports every event the view matches.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.events import EngineEvent
from orkestra_tui.engine.store.audit_export import AuditSearch, filter_active, search_arguments
from orkestra_tui.engine.store.audit_search import AGENT_ACTORS
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.audit_filters import AuditView
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.text import clean, plain
from orkestra_tui.tui.widgets.audit_detail import AuditDetailPane
from orkestra_tui.tui.widgets.audit_pages import AuditPages
from orkestra_tui.tui.widgets.audit_table import AuditTable

PAUSED = "paused — End resumes"
COUNT_MOST = 10_000
"""The header counts the events a filter matches up to this many, then says 10,000+."""


def filter_summary(view: AuditView, project_names: dict[int, str]) -> Text:
    """The active filters, for the header: `search "words" · actor human · since 2h`."""
    chosen = view.filter
    parts: list[Text] = []

    def part(name: str, value: str) -> None:
        text = Text(f"{name} ", style="dim")
        text.append_text(plain(value, style="bold"))
        parts.append(text)

    if chosen.text:
        part("search", f"“{chosen.text}”")
    if chosen.actor:
        part("actor", "any agent" if chosen.actor == AGENT_ACTORS else chosen.actor)
    if chosen.kind:
        part("kind", chosen.kind)
    if chosen.project_id is not None:
        part("project", project_names.get(chosen.project_id, f"#{chosen.project_id}"))
    if chosen.since is not None:
        part("since", view.since_text)
    if chosen.until is not None:
        part("until", view.until_text)
    return Text(" · ", style="dim").join(parts)


class AuditScreen(EngineScreen):
    """The audit log in a virtualised table, kept live, searchable, filterable and exportable."""

    BINDINGS = [
        Binding("slash", "search", "Search"),
        Binding("f", "filters", "Filters"),
        Binding("enter", "detail", "Detail"),
        Binding("escape", "close_detail", "Close"),
        Binding("escape", "clear_search", "Clear search"),
        Binding("x", "export", "Export"),
        Binding("end", "resume_tail", "Resume tail"),
    ]

    MODE = "audit"
    TITLE = "Audit"

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.view = AuditView()
        self.live = True
        """Whether new events go on top as they come (the table is at its top)."""
        self.missed = False
        """Whether events came while the tail was paused."""
        self.count: int | None = None
        """How many events the filters match, when filters are on and the store can count."""
        self.project_names: dict[int, str] = {}
        self.detail_open = False

    @property
    def search(self) -> AuditSearch:
        return self.engine.search_audit

    # ------------------------------------------------------------ layout

    def compose_body(self) -> ComposeResult:
        yield Static(id="audit-status")
        yield Input(
            placeholder="Search summaries and details (Enter searches, Esc clears)",
            id="audit-search",
            compact=True,
        )
        with Horizontal(id="audit-main"):
            yield AuditTable(AuditPages(self.search, self.view.filter), id="events")
            yield AuditDetailPane(id="audit-detail")

    def body_mounted(self) -> None:
        self.query_one("#audit-search").display = False
        self.query_one("#audit-detail").display = False
        self.table.focus()

    @property
    def table(self) -> AuditTable:
        return self.query_one("#events", AuditTable)

    # ------------------------------------------------------------ data

    def watches(self, event: EngineEvent) -> bool:
        return event.audit_id is not None

    def reload(self) -> None:
        """The first time, read the first page; after that, what is new (while the tail is live)."""
        table = self.table
        self._read_project_names()
        table.project_names = self.project_names
        if not table.showing:
            self._apply_view(self.view)
            return
        if not self.live:
            self.missed = True
            self._show_status()
            return
        self._read_newer()

    def _read_newer(self) -> None:
        table = self.table
        try:
            added = table.pages.newer()
        except OrkestraError as problem:
            self._problem(problem)
            return
        if added is None:
            self.count = self._count()
        elif added and self.count is not None:
            self.count = min(COUNT_MOST, self.count + added)  # past the cap, it stays "10,000+"
        self.missed = False
        table.rows_added_on_top(added, follow_newest=not self.detail_open)  # the detail keeps its event
        self._show_status()
        self.refresh_bindings()

    def _read_project_names(self) -> None:
        self.project_names = {project.id: project.name for project in self.engine.projects()}

    def _apply_view(self, view: AuditView) -> None:
        """Show `view` from its newest event: one query; the count follows after the next frame."""
        self.view = view
        self.count = None
        self.missed = False
        self.live = True
        pages = AuditPages(self.search, view.filter)
        try:
            self.table.show(pages)
        except OrkestraError as problem:
            self._problem(problem)
        self._show_status()
        self.refresh_bindings()
        if filter_active(view.filter):
            self.call_after_refresh(self._show_count, view)

    def _show_count(self, view: AuditView) -> None:
        if view is self.view:
            self.count = self._count()
            self._show_status()

    def _count(self) -> int | None:
        """How many events the filters match, up to `COUNT_MOST`; None without filters."""
        if not filter_active(self.view.filter):
            return None
        try:
            return self.engine.audit_count(**search_arguments(self.view.filter), most=COUNT_MOST)
        except OrkestraError:
            return None

    def _problem(self, problem: OrkestraError) -> None:
        self.notify(clean(str(problem)), title="Audit", severity="error", markup=False)

    def _show_status(self) -> None:
        status = Text(no_wrap=True, overflow="ellipsis")
        if self.live:
            status.append("● live", style="bold green")
        else:
            status.append(f"⏸ {PAUSED}", style="bold yellow")
            if self.missed:
                status.append(" · new events waiting", style="yellow")
        summary = filter_summary(self.view, self.project_names)
        if summary:
            status.append("   ")
            status.append_text(summary)
            if self.count is not None:
                more = "+" if self.count >= COUNT_MOST else ""
                status.append(f" · {self.count:,}{more} event{'s' * (self.count != 1)}", style="bold")
        elif self.table.pages.exhausted and len(self.table.pages) == 0:
            status.append("   the audit log is empty", style="dim")
        self.query_one("#audit-status", Static).update(status)

    # ------------------------------------------------------------ events

    def on_audit_table_tail_toggled(self, message: AuditTable.TailToggled) -> None:
        self.live = message.live
        if message.live and self.missed:
            self._read_newer()
        self._show_status()
        self.refresh_bindings()

    def on_audit_table_event_highlighted(self, message: AuditTable.EventHighlighted) -> None:
        if self.detail_open:
            self._show_detail()
        self.refresh_bindings()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "audit-search":
            words = event.value.strip()
            event.input.display = bool(words)
            self.table.focus()
            if words != (self.view.filter.text or ""):
                self._apply_view(replace(self.view, filter=replace(self.view.filter, text=words or None)))

    # ------------------------------------------------------------ keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that do not apply now are hidden."""
        if not self.body_ready:
            return False
        if action == "detail":
            return not self.detail_open and self.table.highlighted_event is not None
        if action == "close_detail":
            return self.detail_open
        if action == "clear_search":
            return not self.detail_open and (
                bool(self.view.filter.text) or bool(self.query_one("#audit-search").display)
            )
        if action == "export":
            return len(self.table.pages) > 0
        if action == "resume_tail":
            return not self.live
        return True

    def action_search(self) -> None:
        field = self.query_one("#audit-search", Input)
        field.display = True
        field.focus()
        self.refresh_bindings()

    def action_clear_search(self) -> None:
        field = self.query_one("#audit-search", Input)
        field.value = ""
        field.display = False
        self.table.focus()
        if self.view.filter.text:
            self._apply_view(replace(self.view, filter=replace(self.view.filter, text=None)))
        self.refresh_bindings()

    def action_filters(self) -> None:
        from orkestra_tui.tui.screens.audit_filters import AuditFiltersScreen

        def chosen(view: AuditView | None) -> None:
            if view is not None and view != self.view:
                self._apply_view(view)

        dialog = AuditFiltersScreen(
            self.view, self.engine.agents(), self.engine.projects(), self.engine.clock.now()
        )
        self.app.push_screen(dialog, chosen)

    def action_detail(self) -> None:
        self.detail_open = True
        self.query_one("#audit-detail").display = True
        self._show_detail()
        self.refresh_bindings()

    def _show_detail(self) -> None:
        event = self.table.highlighted_event
        if event is not None:
            name = self.project_names.get(event.project_id, "") if event.project_id is not None else ""
            self.query_one("#audit-detail", AuditDetailPane).show(event, name)

    def action_close_detail(self) -> None:
        self.detail_open = False
        self.query_one("#audit-detail").display = False
        self.table.focus()
        self.refresh_bindings()

    def action_resume_tail(self) -> None:
        self.table.action_first()

    def action_export(self) -> None:
        from orkestra_tui.tui.screens.audit_export_dialog import AuditExportScreen

        stamp = datetime.fromtimestamp(self.engine.clock.now()).strftime("%Y%m%d-%H%M%S")
        default_path = Path.cwd() / f"orkestra-audit-{stamp}.jsonl"

        def exported(outcome: tuple[int, Path] | None) -> None:
            if outcome is not None:
                written, path = outcome
                self.notify(
                    clean(f"{written:,} event{'s' * (written != 1)} written to {path}"),
                    title="Export",
                    markup=False,
                )

        dialog = AuditExportScreen(
            self.search,
            self.view.filter,
            default_path,
            count=self.count,
            project_names=self.project_names,
        )
        self.app.push_screen(dialog, exported)
