"""The Rich console every command prints through: markup stays literal, controls never leave it.

Kept apart from `commands.output` so that importing the output layer does not
import Rich; `output.console()` imports this on first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

from orkestra_tui.safe_text import has_unsafe, terminal_safe


class SafeConsole(Console):
    """A Console that cannot put a control sequence or a markup effect from text on the terminal.

    Strings are never parsed as markup or emoji, and their control characters are
    escaped before layout; every segment the console renders (a `Text` built from
    raw text, a table cell, a title) is escaped once more on its way out, and
    loses any hyperlink. Only the console's own control segments (cursor moves of
    a live display) go out as they are.
    """

    def __init__(self, **options: Any) -> None:
        options.update(markup=False, emoji=False, highlight=False)
        super().__init__(**options)

    def render_str(self, text: str, **options: Any) -> Text:
        options.update(markup=False, emoji=False)
        return super().render_str(terminal_safe(text), **options)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        return _safe_segments(super().render(renderable, options))


def _safe_segments(segments: Iterable[Segment]) -> Iterator[Segment]:
    for segment in segments:
        if segment.control:
            yield segment
            continue
        text, style = segment.text, segment.style
        if style is not None and style.link:
            style = style.update_link(None)
        if has_unsafe(text):
            text = terminal_safe(text)
        yield Segment(text, style) if (text, style) != (segment.text, segment.style) else segment
