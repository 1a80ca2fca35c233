"""What every mode screen shares: the engine, the top bar, the footer and live refresh."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.screen import Screen

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.events import EngineEvent, Subscription
from orkestra_tui.tui.messages import EngineUpdated
from orkestra_tui.tui.widgets.key_bar import KeyBar
from orkestra_tui.tui.widgets.mode_bar import ModeBar

REFRESH_DELAY_S = 0.08
"""Changes arriving closer together than this are shown in one refresh."""


class EngineScreen(Screen[None]):
    """A mode screen over the engine.

    It subscribes to the engine's events and re-reads the store when an event
    it cares about arrives: at once if it is showing (coalescing bursts), or
    when it is next shown otherwise.
    """

    MODE: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    WATCHES: ClassVar[tuple[str, ...]] = ()
    """Event kinds (or their prefixes) that change what this screen shows."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self._subscription: Subscription | None = None
        self._stale = False
        self._refresh_scheduled = False

    def compose_top(self) -> ComposeResult:
        yield ModeBar(self.MODE, self.engine.agents())

    def compose_bottom(self) -> ComposeResult:
        yield KeyBar()

    def on_mount(self) -> None:
        self._subscription = self.engine.bus.subscribe(self._event_arrived)
        self.reload()

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    def watches(self, event: EngineEvent) -> bool:
        """Whether `event` changes what this screen shows."""
        return event.is_kind(*self.WATCHES)

    def _event_arrived(self, event: EngineEvent) -> None:
        if self.watches(event) or event.is_kind("agent", "inbox"):
            self.post_message(EngineUpdated(event))

    def on_engine_updated(self, message: EngineUpdated) -> None:
        if message.event.is_kind("agent", "inbox"):
            self.query_one(ModeBar).agents = tuple(self.engine.agents())
        if not self.watches(message.event):
            return
        if not self.is_current:
            self._stale = True
            return
        if not self._refresh_scheduled:
            self._refresh_scheduled = True
            self.set_timer(REFRESH_DELAY_S, self._scheduled_reload)

    def _scheduled_reload(self) -> None:
        self._refresh_scheduled = False
        self.reload()

    def on_screen_resume(self) -> None:
        self.query_one(ModeBar).agents = tuple(self.engine.agents())
        if self._stale:
            self._stale = False
            self.reload()

    def reload(self) -> None:
        """Re-read what this screen shows from the engine."""
