"""The help screen: every key, for the whole app and for each screen."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_WIDTH = 16
KEY_NAMES = {
    "question_mark": "?",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "escape": "Esc",
    "shift+tab": "Shift+Tab",
    "tab": "Tab",
    "left": "←",
    "right": "→",
    "up": "↑",
    "down": "↓",
    "enter": "Enter",
    "space": "Space",
    "delete": "Delete",
    "backspace": "Backspace",
    "home": "Home",
    "end": "End",
    "pageup": "PgUp",
    "pagedown": "PgDn",
}


def key_label(key: str) -> str:
    """A binding's key as a person writes it: `/` for slash, `?` for question_mark."""
    return " / ".join(_key_name(part.strip()) for part in key.split(","))


def _key_name(key: str) -> str:
    if key in KEY_NAMES:
        return KEY_NAMES[key]
    shown = format_key(key)  # Textual's own names: `/` for slash, `+` for plus
    return shown if len(shown) == 1 and shown.isprintable() and not shown.isspace() else key


def bindings_table(title: str, bindings: list[BindingType]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", show_header=False, box=None)
    table.add_column("key", style="bold cyan", width=KEY_WIDTH, no_wrap=True)
    table.add_column("action")
    listed: set[tuple[str, str]] = set()
    for binding in bindings:
        if isinstance(binding, Binding):
            row = (key_label(binding.key), binding.description or binding.action)
            if row not in listed:  # a key's second binding (what it says when the first is off) is one key
                listed.add(row)
                table.add_row(row[0], Text(row[1]))
        elif isinstance(binding, tuple):
            table.add_row(key_label(binding[0]), Text(binding[2] if len(binding) > 2 else binding[1]))
    return table


class HelpScreen(ModalScreen[None]):
    """Lists the app's keys and each screen's own keys."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close help"),
    ]
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 72;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, sections: list[tuple[str, list[BindingType]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("Keys  (Esc closes)", style="bold"))
            for title, bindings in self.sections:
                if bindings:
                    yield Static(bindings_table(title, bindings))
