"""A bar per option: its count in a round, as a share of the largest, live while the round is open."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from orkestra_tui.engine.models import HUMAN_VOTER
from orkestra_tui.engine.voting.decision_view import TallyPart
from orkestra_tui.tui.text import plain
from orkestra_tui.wording import percent

MIN_BAR_WIDTH = 8
MAX_BAR_WIDTH = 24
COUNT_WIDTH = 9
CUT_ALLOWANCE = 4
"""How many characters an option's text may lose beside its bar (to an ellipsis) before it takes a line
of its own: a few are not worth the lines stacking costs."""


def tally_bars(part: TallyPart, width: int) -> Text:
    """The options in the order of their labels, each with its label, a bar and its count.

    Drawn as plain lines of text, not a Rich table: a table measures every
    cell on every render, which costs a frame's time when ballots stream in.
    Where an option's text does not fit beside its bar, the bar gives way first
    (down to `MIN_BAR_WIDTH`), then the text may lose a few characters; beyond
    that (plans' long names in a narrow terminal), each option takes two lines:
    its text, then its bar.
    """
    largest = max((count for _label, _option, count in part.rows), default=0.0) or 1.0
    label_width = max((len(label) for label, _option, _count in part.rows), default=1)
    longest = max((len(" ".join(option.split())) for _label, option, _count in part.rows), default=0)
    usual_bar_width = max(MIN_BAR_WIDTH, min(MAX_BAR_WIDTH, width // 4))
    bar_width = usual_bar_width
    text_width = max(1, width - label_width - bar_width - COUNT_WIDTH - 3)
    if longest > text_width:
        # A shorter bar first, if that leaves the texts room enough.
        bar_width = max(MIN_BAR_WIDTH, min(bar_width, width - label_width - longest - COUNT_WIDTH - 3))
        text_width = max(1, width - label_width - bar_width - COUNT_WIDTH - 3)
    stacked = longest > text_width + CUT_ALLOWANCE
    if stacked:
        bar_width, text_width = usual_bar_width, max(1, width - label_width - 1)
    lines = Text(no_wrap=True, overflow="ellipsis")
    for index, (label, option, count) in enumerate(part.rows):
        won = option == part.winner
        style = "bold green" if won else "yellow" if option in part.tied else "cyan"
        filled = round(bar_width * count / largest)
        share = f" ({percent(count / part.total)})" if part.total else ""
        name = plain(" ".join(option.split()), style="bold" if won else "")
        name.truncate(text_width, overflow="ellipsis", pad=not stacked)
        if index:
            lines.append("\n")
        lines.append(label.ljust(label_width), style="bold green" if won else "bold")
        lines.append(" ")
        lines.append_text(name)
        lines.append("\n" + " " * (label_width + 1) if stacked else " ")
        lines.append("█" * filled, style=style)
        lines.append("░" * (bar_width - filled), style="dim")
        lines.append(f"{count:g}{share}".rjust(COUNT_WIDTH + 1), style="bold" if won else "")
    return lines


class TallyBars(Widget):
    """The tally of the round on screen; it redraws only when the tally it is given changes."""

    DEFAULT_CSS = """
    TallyBars {
        height: auto;
    }
    """

    tally: reactive[TallyPart | None] = reactive(None, layout=True)
    """The round's counts; None shows nothing."""

    def on_resize(self) -> None:
        self.refresh()

    def render(self) -> Text:
        if self.tally is None:
            return Text()
        # The width of the last layout (`outer_size`) is a plain attribute; `size` would ask the compositor.
        width = self.outer_size.width - self.styles.gutter.width
        text = Text(self.tally.title, style="bold")
        text.append("\n")
        text.append_text(tally_bars(self.tally, width))
        if self.tally.waiting:
            text.append("\n")
            text.append_text(waiting_line(self.tally.waiting))
        return text


def waiting_line(voters: tuple[str, ...]) -> Text:
    """Who the round still waits for; the human is told which key casts their ballot."""
    line = Text("Waiting for: ", style="dim")
    for index, voter in enumerate(voters):
        if index:
            line.append(", ", style="dim")
        if voter == HUMAN_VOTER:
            line.append("you (press h)", style="bold magenta")
        else:
            line.append_text(plain(voter, style="dim"))
    return line
