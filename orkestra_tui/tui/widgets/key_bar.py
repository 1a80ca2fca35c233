"""A one-line footer of the keys that work here, drawn as a single widget.

Textual's Footer builds a widget per key, which costs about as much at start-up
as a whole bare app; this draws the same information in one render and
re-draws when the screen's bindings change (focus moves, a modal opens).

When the keys do not fit the width (80 columns, a long list of a screen's own
keys), the bar tightens the space between them, then leaves out the least
important ones: Quit first (ctrl+q is the usual key), then the screen's keys
from the last declared. `? Help` is always shown: it lists every key.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

HELP_ACTION = "help"
QUIT_ACTION = "quit"


class KeyItem(NamedTuple):
    """One key of the bar: what it shows, whether it works now, and whether the app declares it."""

    binding: Binding
    enabled: bool
    app_wide: bool


def drop_order(items: list[KeyItem]) -> list[int]:
    """The indexes of `items` in the order they are left out when the bar is too narrow.

    Quit goes first, then the screen's keys from the last declared, then the app's
    (such as the tie-break's); help is never left out.
    """
    quit_keys = [index for index, item in enumerate(items) if item.binding.action == QUIT_ACTION]
    screen_keys = [
        index
        for index, item in enumerate(items)
        if not item.app_wide and item.binding.action not in (QUIT_ACTION, HELP_ACTION)
    ]
    app_keys = [
        index
        for index, item in enumerate(items)
        if item.app_wide and item.binding.action not in (QUIT_ACTION, HELP_ACTION)
    ]
    return quit_keys + screen_keys[::-1] + app_keys[::-1]


class KeyBar(Widget):
    """The active bindings of the screen, as `key description` pairs that fit on one line."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        link-style: none;
        link-background-hover: $footer-item-background;
        link-style-hover: bold;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Screen[object]) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.refresh()

    def render(self) -> Text:
        app = self.app
        items: list[KeyItem] = []
        seen_actions: set[str] = set()
        palette = None
        for binding_info in self.screen.active_bindings.values():
            binding = binding_info.binding
            if binding.key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                palette = binding
                continue
            if not binding.show or binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            items.append(KeyItem(binding, binding_info.enabled, binding_info.node is app))
        # Help last, where the eye looks for it, and where it stays when others are left out.
        items.sort(key=lambda item: item.binding.action == HELP_ACTION)
        width = self.size.width
        bar = self._bar(items, wide=True)
        if bar.cell_len > width:
            bar = self._bar(items, wide=False)
        left_out: set[int] = set()
        for index in drop_order(items):
            if bar.cell_len <= width:
                break
            left_out.add(index)
            bar = self._bar([item for number, item in enumerate(items) if number not in left_out], wide=False)
        if palette is not None:
            key_style = self._key_style()
            hint = Text.assemble((f" {app.get_key_display(palette)} ", key_style), "palette ")
            room = width - bar.cell_len - hint.cell_len
            if room > 0:
                bar.append(" " * room)
                bar.append_text(hint)
        return bar

    def _key_style(self) -> Style:
        return Style.parse("bold") + Style(color=self.get_component_rich_style("key-bar--key").color)

    def _bar(self, items: list[KeyItem], *, wide: bool) -> Text:
        """The keys as ` key description`, two spaces apart if `wide`, else one."""
        app = self.app
        key_style = self._key_style()
        bar = Text(no_wrap=True, overflow="ellipsis")
        for number, (binding, enabled, _app_wide) in enumerate(items):
            click = Style.from_meta({"@click": f"app.simulate_key({binding.key!r})"})
            dim = Style(dim=True) if not enabled else Style()
            last = number == len(items) - 1
            bar.append(f" {app.get_key_display(binding)} ", style=key_style + click + dim)
            bar.append(f"{binding.description}{' ' if wide or last else ''}", style=click + dim)
        return bar

    COMPONENT_CLASSES = {"key-bar--key"}
    DEFAULT_CSS += """
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
    }
    """
