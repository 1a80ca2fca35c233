"""Reads of state that a test changes between two of its asserts.

mypy keeps what an assert narrowed across the key press or the call that changes it: after
`assert isinstance(app.screen, ConfirmScreen)` and `await pilot.press("n")` it takes a later
`assert app.screen is dialog` for impossible, and leaves the rest of the test unchecked. A call
to one of these functions is a new read, with the declared type, as it is at run time.
"""

from __future__ import annotations

from typing import TypeVar

from textual.app import App
from textual.screen import Screen
from textual.widget import Widget

ReturnType = TypeVar("ReturnType")


def current_screen(app: App[ReturnType]) -> Screen[object]:
    """The screen on top now."""
    return app.screen


def current_focus(app: App[ReturnType]) -> Widget | None:
    """The widget that has the focus now."""
    return app.focused


def is_displayed(widget: Widget) -> bool:
    """Whether the widget is displayed now."""
    return widget.display
