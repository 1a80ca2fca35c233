"""The frame every dialog shares: centred, a thick accent border, a title, room to scroll.

A dialog has its own key bar at the bottom, over the screen's below: the keys
shown are the dialog's, not those of the screen it was opened from.
"""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

from orkestra_tui.tui.widgets.key_bar import KeyBar

ResultType = TypeVar("ResultType")


class DialogScreen(ModalScreen[ResultType]):
    """A modal whose container (classes="dialog") is drawn as a dialog; subclasses set its width."""

    DEFAULT_CSS = """
    DialogScreen {
        align: center middle;
        & > .dialog {
            max-width: 100%;
            height: auto;
            max-height: 100%;
            border: thick $accent;
            border-title-style: bold;
            background: $surface;
            padding: 0 1;
        }
    }
    """

    def on_mount(self) -> None:
        self.mount(KeyBar())
