"""The Board's heading: the project's progress, each phase's, the scheduler's state and the cost.

One line for the project (name, a bar of tasks done out of all but the
cancelled ones, the scheduler and what the project has cost against its
budget), then the phases as short bars laid out on as many lines as they need,
at most `PHASE_LINES`. It draws from a `BoardSummary` the screen works out.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from orkestra_tui.engine.execution.board_view import BoardPhase
from orkestra_tui.engine.models import ProjectStatus
from orkestra_tui.tui.text import plain

PHASE_LINES = 2
"""The most lines the phases take; the phases that do not fit are counted instead."""
PHASE_BAR = 6
PHASE_NAME_CHARS = 16
PROJECT_NAME_CHARS = 28
SCHEDULER_STYLES = {
    "running": ("▶ running", "bold green"),
    "paused": ("⏸ paused", "bold yellow"),
    "idle": ("■ idle", "dim"),
    "done": ("✔ done", "bold green"),
}


@dataclass(frozen=True)
class BoardSummary:
    """What the heading shows."""

    name: str
    status: ProjectStatus
    scheduler: str
    """idle, running, paused or done (`engine.progress.scheduler_state`)."""
    done: int
    total: int
    """Tasks of the project, the cancelled ones left out."""
    phases: tuple[BoardPhase, ...]
    cost: float
    budget: float | None
    budget_asked: bool = False
    """The project reached its budget and waits for the human to raise it."""
    cancelled: int = 0
    """Tasks of the project cancelled, shown beside the count."""
    repository: str = ""
    """The project's integration branch and how far it is ahead, when it is linked to a repository."""


def progress_bar(done: int, total: int, width: int) -> Text:
    """A bar `width` cells wide, green as far as `done` goes of `total`."""
    filled = round(width * done / total) if total else 0
    bar = Text("━" * filled, style="green")
    bar.append("━" * (width - filled), style="bright_black")
    return bar


def money(amount: float) -> str:
    return f"${amount:.4f}" if amount < 1 else f"${amount:,.2f}"


def truncated(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def project_line(summary: BoardSummary, width: int) -> Text:
    right = Text()
    label, style = SCHEDULER_STYLES.get(summary.scheduler, (summary.scheduler, ""))
    right.append(label, style=style)
    right.append("  ")
    right.append(money(summary.cost), style="bold")
    if summary.budget is not None:
        right.append(f" of {money(summary.budget)}", style="red" if summary.budget_asked else "dim")
    left = plain(truncated(summary.name, PROJECT_NAME_CHARS), style="bold")
    if summary.status is not ProjectStatus.ACTIVE:
        tag_style = "bold red" if summary.budget_asked else "yellow"
        left.append(f" {summary.status.value}", style=tag_style)
    counted = Text(f" {summary.done}/{summary.total} done", style="dim")
    if summary.cancelled:
        counted.append(f" · {summary.cancelled} cancelled", style="dim")
    room = width - left.cell_len - counted.cell_len - right.cell_len - 4
    line = left
    line.append(" ")
    if room >= 6:
        line.append_text(progress_bar(summary.done, summary.total, min(room, 40)))
    line.append_text(counted)
    line.append(" " * max(2, width - line.cell_len - right.cell_len))
    line.append_text(right)
    line.truncate(width, overflow="ellipsis")
    return line


def phase_chip(phase: BoardPhase) -> Text:
    finished = phase.total > 0 and phase.done == phase.total
    chip = plain(truncated(phase.name, PHASE_NAME_CHARS), style="green" if finished else "")
    chip.append(" ")
    chip.append_text(progress_bar(phase.done, phase.total, PHASE_BAR))
    chip.append(f" {phase.done}/{phase.total}", style="dim")
    return chip


def phase_lines(phases: tuple[BoardPhase, ...], width: int) -> list[Text]:
    """The phases' chips, laid out on lines of `width`, at most `PHASE_LINES`; the rest are counted."""
    rows: list[list[Text]] = [[]]
    for index, phase in enumerate(phases):
        chip = phase_chip(phase)
        row = rows[-1]
        if row and _row_width(row) + 2 + chip.cell_len > width:
            if len(rows) == PHASE_LINES:
                hidden = len(phases) - index
                while row and _row_width(row) + 2 + len(f"+{hidden} more") > width:
                    row.pop()
                    hidden += 1
                row.append(Text(f"+{hidden} more", style="dim"))
                break
            row = []
            rows.append(row)
        row.append(chip)
    lines = [Text("  ").join(row) for row in rows if row]
    for line in lines:
        line.truncate(width, overflow="ellipsis")
    return lines


def _row_width(row: list[Text]) -> int:
    return sum(chip.cell_len for chip in row) + 2 * max(0, len(row) - 1)


class BoardProgress(Widget):
    """The project's and its phases' progress, the scheduler's state and the cost so far."""

    DEFAULT_CSS = """
    BoardProgress {
        height: auto;
        padding: 0 1;
    }
    """

    summary: reactive[BoardSummary | None] = reactive(None, layout=True)
    """What to show; None when there is no project yet."""

    def _lines(self, width: int) -> list[Text]:
        summary = self.summary
        if summary is None:
            return [Text("No project yet: press 1 to start one on the Plan screen.", style="dim")]
        lines = [project_line(summary, width)]
        if summary.repository:
            repository = plain(summary.repository, style="dim")
            repository.truncate(width, overflow="ellipsis")
            lines.append(repository)
        return [*lines, *phase_lines(summary.phases, width)]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Text:
        return Text("\n").join(self._lines(self.content_region.width or self.size.width))
