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

    MODE = "audit"
    TITLE = "Audit"

    def compose_body(self) -> ComposeResult:
        table: DataTable[object] = DataTable(id="events", cursor_type="row", zebra_stripes=True)
        for column in ("time", "actor", "kind", "subject", "summary"):
            table.add_column(column, key=column)
        yield table

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
