"""The wizard's steps on one line, shortened to fit: done steps as ✔, steps ahead as their number.

The step on show always keeps its title; the others keep theirs as far as the
width allows, the nearest first (the next step before the one just done).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

SEPARATOR = " › "


def step_bar(steps: Sequence[tuple[str, str]], pane: str, width: int | None = None) -> Text:
    """`steps` (name, title) with the one named `pane` as the current one, in at most `width` cells."""
    current = [name for name, _title in steps].index(pane)

    def draw(titled: set[int]) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for index, (_name, title) in enumerate(steps):
            if index:
                text.append(SEPARATOR, style="dim")
            mark = "✔" if index < current else str(index + 1)
            shown = f"{mark} {title}" if index in titled else mark
            style = "green" if index < current else "bold reverse" if index == current else "dim"
            text.append(shown, style=style)
        return text

    everything = set(range(len(steps)))
    if width is None or draw(everything).cell_len <= width:
        return draw(everything)
    titled = {current}
    # The nearest steps first; of two as near, the one ahead. No title after one that does not fit,
    # so the titled steps stay next to each other.
    for index in sorted(everything - titled, key=lambda index: (abs(index - current), index < current)):
        if draw(titled | {index}).cell_len > width:
            break
        titled.add(index)
    return draw(titled)


class StepBar(Widget):
    """The wizard's steps, the current one highlighted, redrawn to fit its width."""

    DEFAULT_CSS = """
    StepBar {
        height: 1;
    }
    """

    pane: reactive[str] = reactive("brief")
    """The name of the step on show."""

    def __init__(self, steps: Sequence[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.steps = tuple(steps)

    def render(self) -> Text:
        return step_bar(self.steps, self.pane, self.size.width)
