"""The engine's error for requests it cannot carry out as asked."""

from __future__ import annotations

from orkestra_tui.errors import OrkestraError


class EngineError(OrkestraError):
    """A request the engine cannot carry out as asked (shown to the user as one line)."""
