"""Condorcet's head-to-head table: how many voters rank each option above each other one."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from orkestra_tui.engine.voting.decision_view import PairwisePart

CELL_WIDTH = 4


def pairwise_grid(part: PairwisePart) -> Text:
    """Rows beat columns: a green count is a head-to-head win, a red one a loss."""
    label_width = max((len(label) for label in part.labels), default=1) + 1
    grid = Text(" " * label_width)
    for label in part.labels:
        grid.append(label.rjust(CELL_WIDTH), style="bold")
    for row_index, label in enumerate(part.labels):
        grid.append("\n")
        grid.append(label.ljust(label_width), style="bold green" if label == part.winner else "bold")
        for column_index, count in enumerate(part.beats[row_index]):
            if count is None:
                grid.append("·".rjust(CELL_WIDTH), style="dim")
                continue
            against = part.beats[column_index][row_index] or 0
            style = "green" if count > against else "red" if count < against else "yellow"
            grid.append(str(count).rjust(CELL_WIDTH), style=style)
    return grid


class PairwiseTable(Widget):
    """The head-to-head counts of a Condorcet round; hidden for the other methods."""

    DEFAULT_CSS = """
    PairwiseTable {
        height: auto;
        margin-top: 1;
    }
    """

    pairwise: reactive[PairwisePart | None] = reactive(None, layout=True)
    """The table of the round on screen, if it was counted by Condorcet."""

    def watch_pairwise(self, pairwise: PairwisePart | None) -> None:
        self.display = pairwise is not None

    def render(self) -> Text:
        if self.pairwise is None:
            return Text()
        return Text.assemble(
            ("Head to head", "bold"), (" (row over column)\n", "dim"), pairwise_grid(self.pairwise)
        )
