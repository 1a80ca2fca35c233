"""A bar per option: its count in a tally, as a share of the largest."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text

from orkestra_tui.tui.text import plain

BAR_WIDTH = 16


def tally_bars(
    counts: Mapping[str, float], *, winner: str | None = None, total: float | None = None
) -> Table:
    """Options with their counts, largest first, as horizontal bars."""
    table = Table.grid(padding=(0, 1))
    table.add_column(ratio=2, no_wrap=True, overflow="ellipsis")
    table.add_column(width=BAR_WIDTH, no_wrap=True)
    table.add_column(justify="right", no_wrap=True, min_width=9)
    largest = max(counts.values(), default=0) or 1
    denominator = total if total else sum(counts.values()) or 1
    for option, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        filled = round(BAR_WIDTH * count / largest)
        style = "bold green" if option == winner else "cyan"
        bar = Text("█" * filled, style=style) + Text("░" * (BAR_WIDTH - filled), style="dim")
        label = plain(option, style="bold" if option == winner else "")
        shown = f"{count:g}" if isinstance(count, float) else str(count)
        table.add_row(label, bar, Text(f"{shown} ({100 * count / denominator:.0f}%)"))
    return table
