"""Showing untrusted text safely.

Agent output, project names and audit data may contain Rich markup (`[bold]`,
`[link=...]`) or terminal control sequences. `plain` turns any of it into a
Rich `Text` that renders literally: markup is never parsed, and control
characters (escape sequences and bidi overrides included) are shown as their
escapes by `safe_text.terminal_safe`, the function the commands print through too.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from orkestra_tui.safe_text import terminal_safe


def clean(value: str) -> str:
    """`value` with control characters and bidi overrides made visible (newlines and tabs kept)."""
    return terminal_safe(value)


def plain(value: object, style: str = "") -> Text:
    """A Text that shows `value` exactly, whatever it contains.

    `style` covers this text only (a span, not the Text's base style), so text
    appended to the result keeps its own style.
    """
    text = Text()
    text.append(clean(str(value)), style=style or None)
    return text


def one_line(value: str, limit: int = 200) -> Text:
    """The first line of `value`, shortened, as literal text."""
    first = value.strip().splitlines()[0] if value.strip() else ""
    if len(first) > limit:
        first = first[: limit - 1] + "…"
    return plain(first)


def clock_time(timestamp: float) -> str:
    """Local time of day for tables."""
    return datetime.fromtimestamp(timestamp).strftime("%H:%M:%S")
