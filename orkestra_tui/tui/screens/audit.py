"""The Audit screen: every recorded action and decision, newest first."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from orkestra_tui.engine.events import EngineEvent
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.text import clock_time, one_line, plain

SHOWN_EVENTS = 500
ACTOR_STYLES = {"human": "bold magenta", "engine": "dim"}


class AuditScreen(EngineScreen):
    """The newest audit events in a table, kept live."""

    CSS_PATH = "audit.tcss"

    MODE = "audit"
    TITLE = "Audit"

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        table = self.query_one("#events", DataTable)
        table.add_column("time", key="time")
        table.add_column("actor", key="actor")
        table.add_column("kind", key="kind")
        table.add_column("subject", key="subject")
        table.add_column("summary", key="summary")
        super().on_mount()

    def watches(self, event: EngineEvent) -> bool:
        return event.audit_id is not None

    def reload(self) -> None:
        table = self.query_one("#events", DataTable)
        table.clear()
        for event in self.engine.audit_events(SHOWN_EVENTS):
            table.add_row(
                clock_time(event.ts),
                plain(event.actor, style=ACTOR_STYLES.get(event.actor, "cyan")),
                Text(event.kind),
                plain(event.subject),
                one_line(event.summary),
                key=str(event.id),
            )
