"""Messages the TUI posts; named for what happened."""

from __future__ import annotations

from textual.message import Message

from orkestra_tui.engine.events import EngineEvent


class EngineUpdated(Message):
    """The engine committed a change (or announced live progress)."""

    def __init__(self, event: EngineEvent) -> None:
        super().__init__()
        self.event = event


class DatabaseDamaged(Message):
    """A read or write found the database damaged; `line` says so, with the restore command."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line
