"""Messages the TUI posts; named for what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from orkestra_tui.engine.events import EngineEvent
    from orkestra_tui.engine.store.watch import ExternalChanges


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


class DatabaseChanged(Message):
    """Another process committed changes to the store (the app looks every `WATCH_INTERVAL_S`)."""

    def __init__(self, changes: ExternalChanges) -> None:
        super().__init__()
        self.changes = changes
