"""A one-line footer of the keys that work here, drawn as a single widget.

Textual's Footer builds a widget per key, which costs about as much at start-up
as a whole bare app; this draws the same information in one render and
re-draws when the screen's bindings change (focus moves, a modal opens).
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    """The active bindings of the screen, as `key description` pairs."""

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

    def render(self) -> Text:
        app = self.app
        key_style = Style.parse("bold") + Style(color=self.get_component_rich_style("key-bar--key").color)
        bar = Text(no_wrap=True, overflow="ellipsis")
        seen_actions: set[str] = set()
        palette = None
        for binding_info in self.screen.active_bindings.values():
            binding, enabled = binding_info.binding, binding_info.enabled
            if binding.key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                palette = binding
                continue
            if not binding.show or binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            click = Style.from_meta({"@click": f"app.simulate_key({binding.key!r})"})
            dim = Style(dim=True) if not enabled else Style()
            bar.append(f" {app.get_key_display(binding)} ", style=key_style + click + dim)
            bar.append(f"{binding.description} ", style=click + dim)
        if palette is not None:
            hint = Text.assemble((f" {app.get_key_display(palette)} ", key_style), "palette ")
            room = self.size.width - bar.cell_len - hint.cell_len
            if room > 0:
                bar.append(" " * room)
                bar.append_text(hint)
        return bar

    COMPONENT_CLASSES = {"key-bar--key"}
    DEFAULT_CSS += """
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
    }
    """
