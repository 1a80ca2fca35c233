"""Radio buttons and selection lists whose state shows in the glyph, not only in its colour.

Textual draws every toggle as `▐X▌` (checkboxes) or `▐●▌` (radio buttons),
checked or not, and tells the two apart by colour alone: in a 16-colour or
monochrome terminal they look the same. These draw `(•)` / `( )` and
`[x]` / `[ ]` instead, in the label's own style, so the state reads anywhere.
"""

from __future__ import annotations

from typing import TypeVar

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widgets import RadioButton, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

CHECKED = "[x]"
UNCHECKED = "[ ]"
PRESSED = "(•)"
NOT_PRESSED = "( )"
SelectionType = TypeVar("SelectionType")


class MarkedRadioButton(RadioButton):
    """A radio button drawn `(•)` when pressed and `( )` when not."""

    @property
    def _button(self) -> Content:
        return Content(PRESSED if self.value else NOT_PRESSED)


class MarkedSelectionList(SelectionList[SelectionType]):
    """A selection list whose items read `[x]` when selected and `[ ]` when not."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        _scroll_x, scroll_y = self.scroll_offset
        try:
            selection = self.get_option_at_index(scroll_y + y)
        except OptionDoesNotExist:
            return line
        segments = list(line)
        if len(segments) < 4:
            return line
        # Textual's three button segments (left side, inner, right side) become one mark,
        # in the style of the line's text, keeping the click target the button carried.
        text_style = segments[3].style
        button_style = segments[1].style
        meta = button_style.meta if button_style is not None else {}
        mark = CHECKED if selection.value in self._selected else UNCHECKED
        style = text_style or button_style
        if style is not None and meta:
            style = style + Style(meta=meta)
        return Strip([Segment(mark, style), *segments[3:]])
