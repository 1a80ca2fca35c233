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
from textual.screen import Screen
from textual.widget import Widget

HELP_ACTION = "help"
QUIT_ACTION = "quit"


class KeyItem(NamedTuple):
    """One entry of the bar: its keys as shown, what they do, whether they work now."""

    keys: str
    """The keys as the bar shows them, such as `^n` or, for a pair, `[ ]`."""
    description: str
    action: str
    """The action's name, without its arguments."""
    first_key: str
    """The key a click on the entry presses."""
    enabled: bool
    app_wide: bool
    """Whether the app declares the key (it works on every screen)."""


def action_name(action: str) -> str:
    """`cycle_project(1)` → `cycle_project`."""
    return action.partition("(")[0]


def paired(items: list[KeyItem]) -> list[KeyItem]:
    """Neighbours that run one action with other arguments, as one entry: `[ Prev project` and
    `] Next project` become `[ ] Project` (the words their descriptions end with)."""
    merged: list[KeyItem] = []
    for item in items:
        last = merged[-1] if merged else None
        if last is None or last.action != item.action or last.app_wide != item.app_wide:
            merged.append(item)
            continue
        last_words, words = last.description.split(), item.description.split()
        shared: list[str] = []
        while last_words and words and last_words[-1] == words[-1]:
            shared.insert(0, words.pop())
            last_words.pop()
        description = " ".join(shared).capitalize() if shared else f"{last.description}/{item.description}"
        merged[-1] = last._replace(
            keys=f"{last.keys} {item.keys}", description=description, enabled=last.enabled or item.enabled
        )
    return merged


def drop_order(items: list[KeyItem]) -> list[int]:
    """The indexes of `items` in the order they are left out when the bar is too narrow.

    Quit goes first, then the screen's keys from the last declared, then the app's
    (such as the tie-break's); help is never left out.
    """
    quit_keys = [index for index, item in enumerate(items) if item.action == QUIT_ACTION]
    others = [index for index, item in enumerate(items) if item.action not in (QUIT_ACTION, HELP_ACTION)]
    screen_keys = [index for index in others if not items[index].app_wide]
    app_keys = [index for index in others if items[index].app_wide]
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
            items.append(
                KeyItem(
                    app.get_key_display(binding),
                    binding.description,
                    action_name(binding.action),
                    binding.key,
                    binding_info.enabled,
                    binding_info.node is app,
                )
            )
        # Help last, where the eye looks for it, and where it stays when others are left out.
        items.sort(key=lambda item: item.action == HELP_ACTION)
        width = self.size.width
        bar = self._bar(items, wide=True)
        if bar.cell_len > width:
            items = paired(items)
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
        key_style = self._key_style()
        bar = Text(no_wrap=True, overflow="ellipsis")
        for number, item in enumerate(items):
            click = Style.from_meta({"@click": f"app.simulate_key({item.first_key!r})"})
            dim = Style(dim=True) if not item.enabled else Style()
            last = number == len(items) - 1
            bar.append(f" {item.keys} ", style=key_style + click + dim)
            bar.append(f"{item.description}{' ' if wide or last else ''}", style=click + dim)
        return bar

    COMPONENT_CLASSES = {"key-bar--key"}
    DEFAULT_CSS += """
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
    }
    """
