"""A virtualised column of task cards: draws only the rows on screen.

Each task is a two-line card: a bar in its priority's colour, the title, then
what matters in its column (the agent and how long it has run, what it waits
for, why it failed). Cards are rendered once per width and cached, so a column
of 10,000 tasks costs no more to scroll than a column of ten, and the Board
mounts six of these as cheaply as one. The Running column's cards are
re-rendered when the clock moves on (`set_now`), at most once a second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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

from orkestra_tui.engine.execution.board_view import TaskCard
from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.engine.progress import STATUS_GROUPS
from orkestra_tui.tui.text import plain

CARD_HEIGHT = 2
PRIORITY_STYLES = ("bold red", "yellow", "blue", "bright_black")
"""The colour of a card's bar, by priority (critical, high, normal, low)."""
BAR = "▍"
DIMMED = (TaskStatus.PENDING, TaskStatus.CANCELLED)
"""Cards shown dimmed: waiting for their dependencies, or cancelled."""


@dataclass(frozen=True)
class Column:
    """One of the Board's columns, each a `TaskList`."""

    id: str
    """The engine's status group it shows (`STATUS_GROUPS`)."""
    titles: tuple[str, ...]
    """Longest first, then an icon: the column shows the longest that fits, else the icon."""


SHORT_TITLES = {
    "ready": ("Ready", "○"),
    "running": ("Running", "▶"),
    "review": ("Review", "◎"),
    "human": ("Awaiting human", "Human", "!"),
    "done": ("Done", "✔"),
    "failed": ("Failed/Blocked", "Failed", "✘"),
}
"""Each column's names, longest first, then its icon."""
TITLES_WITH_CANCELLED = ("Failed/Blocked/Cancelled", "Failed/Cancelled", "Stopped", "✘")
"""The last column's names while it holds cancelled cards: every name covers them too."""
COLUMNS = tuple(Column(group.id, SHORT_TITLES[group.id]) for group in STATUS_GROUPS)
"""The Board's columns: the engine's status groups, in order."""


def elapsed_text(seconds: float) -> str:
    """A short duration: 42s, 3m05s, 2h14m."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def first_line(value: str) -> str:
    stripped = value.strip()
    return stripped.splitlines()[0] if stripped else ""


def card_lines(card: TaskCard, *, waiting: int = 0, now: float = 0.0, contest: str = "") -> tuple[Text, Text]:
    """The two lines of a task's card; `waiting` counts its unfinished dependencies, `now` times a run.

    `contest` marks a contest task (`⚔3`): first on the second line, as short as the time.
    """
    bar_style = PRIORITY_STYLES[int(card.priority)]
    title = Text(no_wrap=True, overflow="ellipsis")
    title.append(BAR, style=bar_style)
    title.append_text(plain(card.title))
    detail = Text(no_wrap=True, overflow="ellipsis")
    detail.append(BAR, style=bar_style)
    if contest:
        detail.append(f"{contest} ", style="bold magenta")
    status = card.status
    agent = card.assigned_to or ""
    if status is TaskStatus.RUNNING:  # the time first: a narrow column cuts the agent's name, not it
        detail.append(f"{elapsed_text(now - card.updated_at)} ")
        detail.append_text(plain(agent, style="italic cyan"))
    elif status is TaskStatus.REVIEW:
        detail.append_text(plain(agent, style="italic cyan"))
    elif status is TaskStatus.PENDING:
        detail.append(f"waits on {waiting}", style="dim")
    elif status is TaskStatus.AWAITING_HUMAN:
        detail.append_text(plain(first_line(card.note) or "needs you", style="yellow"))
    elif status in (TaskStatus.FAILED, TaskStatus.BLOCKED):
        detail.append(status.label, style="red")
        if card.note:
            detail.append_text(plain(f": {first_line(card.note)}", style="red"))
    elif status is TaskStatus.CANCELLED:
        detail.append("cancelled", style="dim")
    elif status is TaskStatus.DONE and agent:
        detail.append_text(plain(agent, style="dim"))
    elif card.pinned_agent:
        detail.append_text(plain(f"→ {card.pinned_agent}", style="italic cyan"))
    else:
        detail.append_text(plain(card.phase, style="dim"))
    if status in DIMMED:
        title.stylize("dim", 1)
        detail.stylize("dim", 1)
    return title, detail


class TaskList(ScrollView, can_focus=True):
    """Task cards with a cursor; posts TaskHighlighted when the cursor moves to another task.

    `titles` name the column, longest first, and end with an icon: the border
    shows the count and the longest name that fits, or else the icon and the
    count (a narrow column's name would be cut down to its first letters).
    """

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]
    COMPONENT_CLASSES = {"task-list--cursor"}
    DEFAULT_CSS = """
    TaskList {
        width: 1fr;
        height: 1fr;
        background: transparent;
        scrollbar-size-vertical: 1;
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    TaskList:focus {
        border: round $accent;
    }
    TaskList > .task-list--cursor {
        background: $surface-lighten-1;
    }
    TaskList:focus > .task-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    """

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Index of the highlighted task."""

    class TaskHighlighted(Message):
        """The cursor moved onto a task."""

        def __init__(self, task_list: TaskList, card: TaskCard) -> None:
            super().__init__()
            self.task_list = task_list
            self.card = card

    def __init__(self, *titles: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.titles = titles or ("", "")
        """The column's names, longest first, then its icon."""
        self.notes: tuple[str, ...] = ()
        """The bottom border's text, longest first."""
        self.count = 0
        """The number beside the title: the column's own tasks, without the dimmed extras."""
        self.tasks: list[TaskCard] = []
        self.waiting: Mapping[int, int] = {}
        """Unfinished dependencies of the pending tasks shown, by task id."""
        self.now = 0.0
        self.contests: Mapping[int, str] = {}
        """Contest tasks' marks (`⚔3`), by task id."""
        self._cards: dict[tuple[int, int, bool], tuple[Strip, Strip]] = {}
        self._styles: tuple[Style, Style] | None = None
        """The plain and the cursor style, worked out once per style change."""
        self._drawn_styles: tuple[Style, Style] | None = None
        """The styles the cached cards were drawn in."""

    @property
    def highlighted_task(self) -> TaskCard | None:
        return self.tasks[self.cursor] if 0 <= self.cursor < len(self.tasks) else None

    def set_tasks(
        self,
        cards: Sequence[TaskCard],
        *,
        count: int | None = None,
        waiting: Mapping[int, int] | None = None,
        now: float = 0.0,
        contests: Mapping[int, str] | None = None,
    ) -> None:
        """Show `cards`, keeping the cursor on the same task where it still is."""
        current = self.highlighted_task
        cards = list(cards)
        waiting = waiting or {}
        contests = contests or {}
        if cards != self.tasks or waiting != self.waiting or now != self.now or contests != self.contests:
            self.tasks = cards
            self.waiting = waiting
            self.now = now
            self.contests = contests
            self._cards.clear()
            self.refresh()
        index = -1
        if current is not None:
            index = next((at for at, card in enumerate(self.tasks) if card.id == current.id), -1)
        if index < 0:
            index = min(self.cursor, max(0, len(self.tasks) - 1))
        if index != self.cursor:
            self.set_reactive(TaskList.cursor, index)
            self.refresh()
        self.count = len(cards) if count is None else count
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.tasks) * CARD_HEIGHT)
        self._show_title()

    def set_now(self, now: float) -> None:
        """The time the running cards' elapsed time is counted to; redraws them."""
        if now != self.now:
            self.now = now
            self._cards.clear()
            self.refresh()

    def set_note(self, *notes: str) -> None:
        """What the bottom border says (dimmed tasks shown or hidden): the longest of `notes` that fits."""
        self.notes = notes
        self._show_title()

    def _show_title(self) -> None:
        room = self.outer_size.width - 6 if self.outer_size.width else 1_000
        *names, icon = self.titles
        labels = [f"{self.count} {name}" for name in names] + [f"{icon} {self.count}"]
        self.border_title = next((label for label in labels if len(label) <= room), labels[-1])
        notes = self.notes
        self.border_subtitle = next((note for note in notes if len(note) <= room), notes[-1]) if notes else ""

    def render_line(self, y: int) -> Strip:
        _scroll_x, scroll_y = self.scroll_offset
        index, part = divmod(scroll_y + y, CARD_HEIGHT)
        width = self.scrollable_content_region.width
        styles = self._styles or self._restyle()
        if index >= len(self.tasks):
            return Strip.blank(width, styles[0])
        highlighted = index == self.cursor
        key = (index, width, highlighted)
        cards = self._cards.get(key)
        if cards is None:
            style = styles[highlighted]
            card = self.tasks[index]
            title, detail = card_lines(
                card,
                waiting=self.waiting.get(card.id, 0),
                now=self.now,
                contest=self.contests.get(card.id, ""),
            )
            cards = (self._strip(title, width, style), self._strip(detail, width, style))
            self._cards[key] = cards
        return cards[part]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None  # worked out again at the next line drawn, by `_restyle`

    def _restyle(self) -> tuple[Style, Style]:
        """Work out the card styles; drop only the cards drawn in a style that changed.

        Focus, showing the Board again or a theme change all restyle the widget;
        usually only the cursor's style (focus) or nothing at all has changed.
        """
        base = self.rich_style
        styles = (base, base + self.get_component_rich_style("task-list--cursor"))
        before = self._drawn_styles
        if before is None or before[0] != styles[0]:
            self._cards.clear()
        elif before[1] != styles[1]:
            self._cards = {key: cards for key, cards in self._cards.items() if not key[2]}
        self._styles = self._drawn_styles = styles
        return styles

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        text = text.copy()
        text.truncate(max(0, width), overflow="ellipsis", pad=True)
        segments = list(text.render(self.app.console))
        return Strip(Segment.apply_style(segments, style), width).extend_cell_length(width, style)

    def on_resize(self) -> None:
        if len(self._cards) > 4 * len(self.tasks) + 64:
            self._cards.clear()  # cards of widths no longer shown
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.tasks) * CARD_HEIGHT)
        self._show_title()

    def watch_cursor(self, old: int, new: int) -> None:
        for index in (old, new):
            self._cards = {key: value for key, value in self._cards.items() if key[0] != index}
        if not self.tasks:
            return
        if self.scroll_to_card(new):
            self.refresh()
        else:  # only the two cards whose highlight changed are drawn again
            self.refresh_lines(old * CARD_HEIGHT, CARD_HEIGHT)
            self.refresh_lines(new * CARD_HEIGHT, CARD_HEIGHT)
        card = self.highlighted_task
        if card is not None:
            self.post_message(self.TaskHighlighted(self, card))

    def scroll_to_card(self, index: int) -> bool:
        """Scroll the card at `index` into view; whether that took a scroll."""
        top = index * CARD_HEIGHT
        height = self.scrollable_content_region.height
        if top < self.scroll_y:
            self.scroll_to(y=top, animate=False)
            return True
        if top + CARD_HEIGHT > self.scroll_y + height:
            self.scroll_to(y=top + CARD_HEIGHT - height, animate=False)
            return True
        return False

    def on_click(self, event: events.Click) -> None:
        index = int(self.scroll_y + event.y) // CARD_HEIGHT
        if 0 <= index < len(self.tasks):
            self.cursor = index

    def action_cursor(self, step: int) -> None:
        if self.tasks:
            self.cursor = max(0, min(len(self.tasks) - 1, self.cursor + step))

    def action_page(self, direction: int) -> None:
        cards = max(1, self.scrollable_content_region.height // CARD_HEIGHT)
        self.action_cursor(direction * cards)

    def action_jump(self, index: int) -> None:
        if self.tasks:
            self.cursor = index % len(self.tasks)
