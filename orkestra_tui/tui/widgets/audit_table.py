"""A virtualised table of audit events: draws only the rows on screen, reads only the pages it shows.

The rows come from an `AuditPages` view: the table asks it for the rows in
sight, and for the next page when the view nears the last row read, so a
million events cost the same as a hundred until scrolled through. Rows are
rendered once per width and cached by event id; the column header stays on
the first line.

The table is at the top when its first row shows: then it follows the live
tail. Scrolling away posts `TailToggled(False)`, coming back `TailToggled(True)`.
"""

from __future__ import annotations

from datetime import datetime

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from orkestra_tui.engine.models import AuditEvent
from orkestra_tui.tui.text import one_line, plain
from orkestra_tui.tui.widgets.audit_pages import AuditPages

HEADER_LINES = 1
LOOKAHEAD_ROWS = 10
MIN_SUMMARY = 30
"""The narrowest summary column: below it, the subject, the project and then the actor make room."""
"""Rows read beyond the last in sight, so that the next page is read before it shows."""
ACTOR_STYLES = {"human": "bold magenta", "engine": "blue", "agent": "cyan"}
"""An actor's colour, by group."""
KIND_STYLES = {"failed": "red", "bad_key": "red", "circuit_open": "red", "done": "green", "decided": "green"}
"""A kind's colour, by its last part."""


def actor_group(actor: str) -> str:
    """human, engine or agent."""
    return actor if actor in ("human", "engine") else "agent"


def column_widths(width: int) -> tuple[int, int, int, int, int, int]:
    """time, actor, kind, project, subject and summary widths for a table `width` cells wide.

    Columns are separated by one space and the summary takes what is left; in
    a narrow table the subject goes first, then the project, then the actor (a
    width of 0): the detail (Enter) shows them all.
    """
    wide = width >= 110
    widths = [
        14 if wide else 8,
        10 if width >= 100 else 8,
        20 if wide else 14,
        16 if wide else 10,
        14 if wide else 10,
    ]
    for dropped in (4, 3, 1):  # the subject, then the project, then the actor
        if width - sum(widths) - len([w for w in widths if w]) >= MIN_SUMMARY:
            break
        widths[dropped] = 0
    summary = max(0, width - sum(widths) - len([w for w in widths if w]))
    time, actor, kind, project, subject = widths
    return time, actor, kind, project, subject, summary


def row_text(event: AuditEvent, width: int, project_name: str) -> Text:
    """One event as a table row, every value shown literally and cut to its column."""
    widths = column_widths(width)
    moment = datetime.fromtimestamp(event.ts)
    time = moment.strftime("%m-%d %H:%M:%S" if widths[0] >= 14 else "%H:%M:%S")
    kind_style = KIND_STYLES.get(event.kind.rsplit(".", 1)[-1], "")
    cells = (
        Text(time, style="dim"),
        plain(event.actor, style=ACTOR_STYLES[actor_group(event.actor)]),
        plain(event.kind, style=kind_style),
        plain(project_name),
        plain(event.subject, style="dim"),
        one_line(event.summary, limit=max(1, widths[5] + 1)),
    )
    return _join(cells, widths)


def header_text(width: int) -> Text:
    names = ("time", "actor", "kind", "project", "subject", "summary")
    return _join(tuple(Text(name) for name in names), column_widths(width))


def _join(cells: tuple[Text, ...], widths: tuple[int, ...]) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    for cell, cell_width in zip(cells, widths, strict=True):
        if not cell_width:
            continue
        if line:
            line.append(" ")
        fitted = cell.copy()
        fitted.truncate(cell_width, overflow="ellipsis", pad=True)
        line.append_text(fitted)
    return line


class AuditTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Audit events newest first, with a cursor; End is left to the screen (it resumes the tail)."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "Newest", show=False),
    ]
    COMPONENT_CLASSES = {"audit-table--header", "audit-table--cursor"}
    DEFAULT_CSS = """
    AuditTable {
        height: 1fr;
        background: transparent;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    AuditTable > .audit-table--header {
        color: $text-muted;
        text-style: bold;
    }
    AuditTable > .audit-table--cursor {
        background: $surface-lighten-1;
    }
    AuditTable:focus > .audit-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    """

    cursor: reactive[int] = reactive(0, repaint=False)
    """Index of the highlighted row."""

    class EventHighlighted(Message):
        """The cursor moved onto an event."""

        def __init__(self, event: AuditEvent) -> None:
            super().__init__()
            self.event = event

    class TailToggled(Message):
        """The table reached its top (`live`), or left it."""

        def __init__(self, live: bool) -> None:
            super().__init__()
            self.live = live

    def __init__(self, pages: AuditPages, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pages = pages
        self.project_names: dict[int, str] = {}
        self.at_top = True
        """Whether the first row shows: the tail is live."""
        self.showing = False
        """Whether `show` was called: until then the table reads nothing (its owner decides when)."""
        self._lines: dict[tuple[int, int, bool], Strip] = {}
        self._header: tuple[int, Strip] | None = None
        self._styles: tuple[Style, Style, Style] | None = None

    # ------------------------------------------------------------ data

    @property
    def highlighted_event(self) -> AuditEvent | None:
        return self.pages.row(self.cursor)

    def show(self, pages: AuditPages) -> None:
        """Show another view, from its newest row."""
        self.pages = pages
        self.showing = True
        self._lines.clear()
        self.set_reactive(AuditTable.cursor, 0)
        self._grow()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()
        self._highlighted()

    def rows_added_on_top(self, count: int | None, *, follow_newest: bool = True) -> None:
        """The tail put `count` rows on top (None: the view was read again from its newest row).

        The cursor stays on its event, unless it was on the newest and
        `follow_newest` says to keep it on the newest.
        """
        if count is None:
            self.set_reactive(AuditTable.cursor, 0)
        elif count and (self.cursor or not follow_newest):
            self.set_reactive(AuditTable.cursor, self.cursor + count)
        self._grow()
        self.refresh()
        self._highlighted()

    def _grow(self) -> None:
        """Read pages until one beyond the rows in sight is known, and size the scroll area to them."""
        if not self.showing:
            return
        height = self.scrollable_content_region.height or self.size.height or 50
        wanted = int(self.scroll_y) + height + LOOKAHEAD_ROWS
        self.pages.load_until(max(wanted, self.cursor + 1))
        rows = len(self.pages) + (0 if self.pages.exhausted else 1)
        size = Size(self.scrollable_content_region.width, rows + HEADER_LINES)
        if size != self.virtual_size:
            self.virtual_size = size

    # ------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        plain_style, cursor_style, header_style = self._styles or self._restyle()
        if y < HEADER_LINES:
            if self._header is None or self._header[0] != width:
                self._header = (width, self._strip(header_text(width), width, header_style))
            return self._header[1]
        index = int(self.scroll_y) + y - HEADER_LINES
        event = self.pages.row(index)
        if event is None:
            if index == len(self.pages) and not self.pages.exhausted:
                return self._strip(Text("  loading…", style="dim"), width, plain_style)
            return Strip.blank(width, plain_style)
        highlighted = index == self.cursor
        key = (event.id, width, highlighted)
        line = self._lines.get(key)
        if line is None:
            name = self.project_names.get(event.project_id, "") if event.project_id is not None else ""
            style = cursor_style if highlighted else plain_style
            line = self._strip(row_text(event, width, name), width, style)
            self._lines[key] = line
        return line

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        text.truncate(max(0, width), overflow="ellipsis", pad=True)
        segments = list(text.render(self.app.console))
        return Strip(Segment.apply_style(segments, style), width).extend_cell_length(width, style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

    def _restyle(self) -> tuple[Style, Style, Style]:
        base = self.rich_style
        styles = (
            base,
            base + self.get_component_rich_style("audit-table--cursor"),
            base + self.get_component_rich_style("audit-table--header"),
        )
        if styles != self._styles:
            self._lines.clear()
            self._header = None
        self._styles = styles
        return styles

    def on_resize(self) -> None:
        if len(self._lines) > 4 * self.pages.page_size:
            self._lines.clear()  # rows drawn at widths no longer shown, or long scrolled past
        self._grow()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._grow()
        at_top = round(new_value) == 0
        if at_top != self.at_top:
            self.at_top = at_top
            self.post_message(self.TailToggled(at_top))

    def watch_cursor(self, new: int) -> None:
        self._grow()
        self.scroll_to_row(new)
        self.refresh()
        self._highlighted()

    def _highlighted(self) -> None:
        event = self.highlighted_event
        if event is not None:
            self.post_message(self.EventHighlighted(event))

    def scroll_to_row(self, index: int) -> None:
        """Scroll row `index` into view."""
        height = self.scrollable_content_region.height - HEADER_LINES
        if index < self.scroll_y:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif height > 0 and index >= self.scroll_y + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)

    # ------------------------------------------------------------ input

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < HEADER_LINES:
            return
        index = int(self.scroll_y) + offset.y - HEADER_LINES
        if self.pages.row(index) is not None:
            self.cursor = index

    def action_cursor(self, step: int) -> None:
        self._grow()
        last = len(self.pages) - 1
        if last >= 0:
            self.cursor = max(0, min(last, self.cursor + step))

    def action_page(self, direction: int) -> None:
        rows = max(1, self.scrollable_content_region.height - HEADER_LINES)
        self.action_cursor(direction * rows)

    def action_first(self) -> None:
        self.cursor = 0
        self.scroll_to(y=0, animate=False, immediate=True)
