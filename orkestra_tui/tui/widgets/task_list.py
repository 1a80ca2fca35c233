"""A virtualised list of task cards: draws only the rows on screen.

Each task is a two-line card (priority and title, then who has it or what it
waits for). Cards are rendered once per width and cached, so a column of
10,000 tasks costs no more to scroll than a column of ten, and the Board
mounts six of these as cheaply as one.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from orkestra_tui.engine.models import Task, TaskStatus
from orkestra_tui.tui.text import plain

CARD_HEIGHT = 2
PRIORITY_STYLES = ("bold red", "bold yellow", "", "dim")


def card_lines(task: Task) -> tuple[Text, Text]:
    """The two lines of a task's card."""
    title = Text(no_wrap=True, overflow="ellipsis")
    title.append(f"P{int(task.priority)} ", style=PRIORITY_STYLES[int(task.priority)])
    title.append_text(plain(task.title))
    if task.status in (TaskStatus.RUNNING, TaskStatus.REVIEW) and task.assigned_to:
        detail = plain(f"  {task.assigned_to}", style="italic cyan")
    elif task.status is TaskStatus.PENDING:
        waiting = len(task.depends_on)
        detail = Text(f"  waits on {waiting} task{'s' if waiting != 1 else ''}", style="dim")
    elif task.status in (TaskStatus.BLOCKED, TaskStatus.FAILED, TaskStatus.CANCELLED):
        detail = Text(
            f"  {task.status.label}",
            style="red" if task.status is not TaskStatus.CANCELLED else "dim",
        )
    else:
        detail = plain(f"  {task.phase}" if task.phase else "", style="dim")
    if task.status in (TaskStatus.PENDING, TaskStatus.CANCELLED):
        title.stylize("dim")
    return title, detail


class TaskList(ScrollView, can_focus=True):
    """Task cards with a cursor; posts TaskHighlighted and TaskSelected."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Detail", show=False),
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

    cursor: reactive[int] = reactive(0, always_update=True)
    """Index of the highlighted task."""

    class TaskHighlighted(Message):
        """The cursor moved onto a task."""

        def __init__(self, task_list: TaskList, task: Task) -> None:
            super().__init__()
            self.task_list = task_list
            self.task = task

    class TaskSelected(Message):
        """Enter was pressed on a task."""

        def __init__(self, task_list: TaskList, task: Task) -> None:
            super().__init__()
            self.task_list = task_list
            self.task = task

    def __init__(self, title: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title
        self.border_title = title
        self.tasks: list[Task] = []
        self._cards: dict[tuple[int, int, bool], tuple[Strip, Strip]] = {}
        self._styles: tuple[Style, Style] | None = None
        """The plain and the cursor style, worked out once per style change."""

    @property
    def highlighted_task(self) -> Task | None:
        return self.tasks[self.cursor] if 0 <= self.cursor < len(self.tasks) else None

    def set_tasks(self, tasks: Sequence[Task]) -> None:
        """Show `tasks`, keeping the cursor on the same task where it still is."""
        current = self.highlighted_task
        if list(tasks) != self.tasks:
            self.tasks = list(tasks)
            self._cards.clear()
        ids = [task.id for task in self.tasks]
        if current is not None and current.id in ids:
            self.set_reactive(TaskList.cursor, ids.index(current.id))
        else:
            self.set_reactive(TaskList.cursor, min(self.cursor, max(0, len(ids) - 1)))
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.tasks) * CARD_HEIGHT)
        if self.title:
            self.border_title = f"{self.title} {len(self.tasks)}"
        self.refresh()

    def render_line(self, y: int) -> Strip:
        _scroll_x, scroll_y = self.scroll_offset
        line = scroll_y + y
        index, part = divmod(line, CARD_HEIGHT)
        width = self.scrollable_content_region.width
        if self._styles is None:
            base = self.rich_style
            self._styles = (base, base + self.get_component_rich_style("task-list--cursor"))
        if index >= len(self.tasks):
            return Strip.blank(width, self._styles[0])
        highlighted = index == self.cursor
        key = (index, width, highlighted)
        cards = self._cards.get(key)
        if cards is None:
            style = self._styles[highlighted]
            title, detail = card_lines(self.tasks[index])
            cards = (self._strip(title, width, style), self._strip(detail, width, style))
            self._cards[key] = cards
        return cards[part]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._cards.clear()

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        text = text.copy()
        text.truncate(max(0, width), overflow="ellipsis", pad=True)
        segments = list(text.render(self.app.console))
        return Strip(Segment.apply_style(segments, style), width).extend_cell_length(width, style)

    def on_resize(self) -> None:
        if len(self._cards) > 4 * len(self.tasks) + 64:
            self._cards.clear()  # cards of widths no longer shown
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.tasks) * CARD_HEIGHT)

    def watch_cursor(self, old: int, new: int) -> None:
        for index in (old, new):
            self._cards = {key: value for key, value in self._cards.items() if key[0] != index}
        if not self.tasks:
            return
        self.scroll_to_region_of(new)
        self.refresh()
        task = self.highlighted_task
        if task is not None:
            self.post_message(self.TaskHighlighted(self, task))

    def scroll_to_region_of(self, index: int) -> None:
        top = index * CARD_HEIGHT
        height = self.scrollable_content_region.height
        if top < self.scroll_y:
            self.scroll_to(y=top, animate=False)
        elif top + CARD_HEIGHT > self.scroll_y + height:
            self.scroll_to(y=top + CARD_HEIGHT - height, animate=False)

    def on_click(self, event: object) -> None:
        from textual.events import Click

        if isinstance(event, Click):
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

    def action_select(self) -> None:
        task = self.highlighted_task
        if task is not None:
            self.post_message(self.TaskSelected(self, task))
