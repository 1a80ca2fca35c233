"""The one function that makes any text safe to show on a terminal.

Text from a model, a file, the config or the user may carry terminal control
sequences: OSC 52 sets the clipboard, OSC 2 the window title, CSI 2J clears
the screen, and bidi overrides make a line read differently from what it
holds. `terminal_safe` shows every such character as a visible escape
(`\\x1b`, `\\x9b`, `\\u202e`) instead of emitting it, so the text reads the
same on any terminal. Newlines and tabs stay, for layout.

Every command prints through `orkestra_tui.commands.output`, and the app's
`tui.text.plain`, both of which call this; it imports nothing heavy, so the
engine, the commands and the app can all use it.
"""

from __future__ import annotations

import re
from functools import cache


@cache
def _unsafe() -> re.Pattern[str]:
    """C0 controls but tab and newline, DEL, C1 controls, bidi embeddings, overrides and isolates,
    and lone surrogates (undecodable bytes of a file name), which no terminal can be sent.

    Compiled when first needed: a class of characters beyond the first 256 takes `re` over a
    millisecond to compile, which the app's first frame (no text from outside on it) need not wait for.
    """
    return re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(value: object) -> str:
    """`value` as text with every control, bidi-override and surrogate character shown as its escape.

    Idempotent: what it returns contains none of those characters.
    """
    text = value if isinstance(value, str) else str(value)
    return _unsafe().sub(_visible, text)


def has_unsafe(text: str) -> bool:
    """Whether `text` holds a character that `terminal_safe` would escape."""
    return _unsafe().search(text) is not None
