"""One audit event in full: its fields, its whole summary and its data as pretty-printed JSON.

Everything in an event may come from an agent, so all of it is shown
literally: the JSON is printed with `json.dumps` (which escapes control
characters as `\\u001b`), passed through `clean` for the ones it leaves, and
coloured by Rich's JSON highlighter, which styles text and never parses markup.
"""

from __future__ import annotations

import json
from datetime import datetime

from rich.highlighter import JSONHighlighter
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from orkestra_tui.engine.models import AuditEvent
from orkestra_tui.tui.text import clean, plain
from orkestra_tui.tui.widgets.audit_table import ACTOR_STYLES, actor_group

FIELD_WIDTH = 9


def pretty_json(data: object) -> Text:
    """`data` as indented JSON, highlighted, with every character shown literally."""
    encoded = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    text = Text(clean(encoded), no_wrap=False)
    JSONHighlighter().highlight(text)
    return text


def event_detail_text(event: AuditEvent, project_name: str) -> Text:
    """The fields of `event`, one a line, then its data."""
    moment = datetime.fromtimestamp(event.ts).astimezone()
    fields: tuple[tuple[str, Text], ...] = (
        ("event", Text(f"#{event.id}")),
        ("time", Text(moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip())),
        ("actor", plain(event.actor, style=ACTOR_STYLES[actor_group(event.actor)])),
        ("kind", plain(event.kind)),
        ("project", plain(project_name or ("—" if event.project_id is None else f"#{event.project_id}"))),
        ("subject", plain(event.subject or "—")),
    )
    text = Text()
    for name, value in fields:
        text.append(f"{name:<{FIELD_WIDTH}}", style="dim")
        text.append_text(value)
        text.append("\n")
    text.append("\n")
    text.append_text(plain(event.summary or "(no summary)", style="bold"))
    text.append("\n\n")
    text.append("data\n", style="bold underline")
    text.append_text(pretty_json(event.data))
    return text


class AuditDetailPane(VerticalScroll, can_focus=True):
    """The highlighted event in full, beside the table; it scrolls when focused (Tab)."""

    DEFAULT_CSS = """
    AuditDetailPane {
        width: 1fr;
        height: 1fr;
        padding: 0 1;
        border: round $panel-lighten-2;
        border-title-color: $text;
    }
    AuditDetailPane:focus {
        border: round $accent;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.event_id: int | None = None
        """The event shown."""

    def compose(self) -> ComposeResult:
        yield Static(id="audit-detail-text")

    def show(self, event: AuditEvent, project_name: str) -> None:
        """Show `event`, from its top if it is another event than the one shown."""
        if event.id != self.event_id:
            self.scroll_home(animate=False)
        self.event_id = event.id
        self.border_title = f"Event #{event.id}"
        self.query_one("#audit-detail-text", Static).update(event_detail_text(event, project_name))
