"""What every mode screen shares: the engine, the top bar, the key bar and live refresh.

A screen paints its bars first and mounts its body right after the first frame
(as Textual's `Lazy` does, without the placeholder widget), so the app appears
as soon as a bare Textual app would, and the body's widgets (tables, editors,
lists) arrive a frame later. Until the body is mounted, the screen's own
actions are disabled.

Built with the bars, the body would be styled twice: Textual restyles a
screen and everything on it when the screen is first shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen

from orkestra_tui.tui.messages import DatabaseDamaged, EngineUpdated
from orkestra_tui.tui.widgets.key_bar import KeyBar
from orkestra_tui.tui.widgets.mode_bar import ModeBar

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.events import EngineEvent, Subscription

REFRESH_DELAY_S = 0.08
"""Changes arriving closer together than this are shown in one refresh."""


class ScreenBody(Vertical):
    """The part of a screen below the top bar; it composes the screen's content when mounted.

    Mounted lazily, it builds its children only after the first frame, so even
    the construction (and the import) of a screen's heavier widgets waits.
    """

    DEFAULT_CSS = """
    ScreenBody {
        height: 1fr;
    }
    """

    class Mounted(Message):
        """The body and everything in it are mounted."""

    def __init__(self, compose_content: Callable[[], ComposeResult], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._compose_content = compose_content

    def compose(self) -> ComposeResult:
        yield from self._compose_content()

    def on_mount(self) -> None:
        self.post_message(self.Mounted())


class EngineScreen(Screen[None]):
    """A mode screen over the engine.

    Subclasses compose their content in `compose_body` and show engine data in
    `reload`. The screen subscribes to the engine's events and re-reads the
    store when one it cares about arrives: at once if it is showing
    (coalescing bursts), or when it is next shown otherwise. What other
    processes commit arrives the same way (the app republishes it, marked
    `external`).

    A screen drawn before the engine is built (`engine_opening.py`) gets it in
    `engine_opened`, and reads the store only from then on.
    """

    MODE: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    WATCHES: ClassVar[tuple[str, ...]] = ()
    """Event kinds (or their prefixes) that change what this screen shows."""

    def __init__(self, engine: Engine | None) -> None:
        super().__init__()
        self._engine = engine
        self.body_ready = False
        self._subscription: Subscription | None = None
        self._stale = False
        self._refresh_scheduled = False
        self._when_ready: list[Callable[[], Any]] = []

    @property
    def engine(self) -> Engine:
        """The engine; a screen drawn before it was built has it from `engine_opened` on."""
        if self._engine is None:
            raise RuntimeError("the engine is not built yet")
        return self._engine

    @property
    def engine_open(self) -> bool:
        return self._engine is not None

    def compose(self) -> ComposeResult:
        self._set_breakpoint_classes()
        yield ModeBar(self.MODE, None if self._engine is None else self._engine.agents())
        yield from self.compose_beside_body()
        yield KeyBar()

    async def _mount_body(self) -> None:
        if self.is_attached:  # not if the screen was closed before its first frame
            await self.mount(self.build_body(), before=self.query_one(KeyBar))

    def compose_beside_body(self) -> ComposeResult:
        """What is built with the bars, before the body: nothing, unless a screen lays more beside it.

        The Plan screen lays its projects' column beside the wizard, which is its
        body, between the bars: each level of full-size containers costs the first
        frame about as much as a whole bare app takes to paint its line.
        """
        yield from ()

    def build_body(self) -> ScreenBody:
        """The body, which composes the screen's content (`compose_body`) as it is mounted."""
        return ScreenBody(self.compose_body)

    def compose_body(self) -> ComposeResult:
        """The screen's content, mounted right after the first frame."""
        yield from ()

    def _set_breakpoint_classes(self) -> None:
        """Give the screen its breakpoint class for the terminal's width before its widgets mount.

        Textual adds it on the first resize, after they are styled, and a class
        added to the screen restyles every widget on it: set now, each is
        styled once, and the resize finds the class already there.
        """
        # The same choice as Textual's resize makes (its own method), so the resize changes nothing.
        own = self.HORIZONTAL_BREAKPOINTS
        breakpoints = (self.app.HORIZONTAL_BREAKPOINTS if own is None else own) or []
        reached = self._get_breakpoint_classes(self.app.size.width, breakpoints)
        for _least_width, name in breakpoints:
            self.set_class(name in reached, name)

    def on_mount(self) -> None:
        self.call_after_refresh(self._mount_body)
        if self._engine is not None:
            self._subscription = self._engine.bus.subscribe(self._event_arrived)

    def engine_opened(self, engine: Engine) -> None:
        """The engine, built after this screen was drawn: show what it knows, and follow it from now on."""
        self._engine = engine
        self._subscription = engine.bus.subscribe(self._event_arrived)
        self.query_one(ModeBar).agents = tuple(engine.agents())
        self.engine_arrived()
        if self.body_ready and self._reload_or_report():
            self.refresh_bindings()

    def engine_arrived(self) -> None:
        """Called when the engine built after this screen was drawn arrives, before the reload."""

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    def on_screen_body_mounted(self, _message: ScreenBody.Mounted) -> None:
        self.body_ready = True
        if self._engine is not None and not self._reload_or_report():
            return  # without the engine yet, the reload waits for it (`engine_opened`)
        self.body_mounted()
        if self.focused is None:
            # Textual's auto-focus ran before the body existed: focus its first widget now.
            self.focus_next()
        self.refresh_bindings()
        waiting, self._when_ready = self._when_ready, []
        for callback in waiting:
            self.call_later(callback)

    def call_when_ready(self, callback: Callable[[], Any]) -> None:
        """Call `callback` (an action from the command palette) once the body is mounted."""
        if self.body_ready:
            self.call_later(callback)
        else:
            self._when_ready.append(callback)

    def body_mounted(self) -> None:
        """Called once the body is mounted and loaded: set the first focus here."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The screen's own actions wait for its body."""
        return self.body_ready

    def watches(self, event: EngineEvent) -> bool:
        """Whether `event` changes what this screen shows."""
        return event.is_kind(*self.WATCHES)

    def _concerns(self, event: EngineEvent) -> bool:
        """Whether `event` changes what this screen shows (another process's many changes do)."""
        from orkestra_tui.engine.store.watch import EVERYTHING

        return event.kind == EVERYTHING or self.watches(event)

    def _event_arrived(self, event: EngineEvent) -> None:
        if self._concerns(event) or event.is_kind("agent", "inbox"):
            self.post_message(EngineUpdated(event))

    def on_engine_updated(self, message: EngineUpdated) -> None:
        from orkestra_tui.engine.store.watch import EVERYTHING

        if message.event.is_kind("agent", "inbox", EVERYTHING):
            self.query_one(ModeBar).agents = tuple(self.engine.agents())
        if not self._concerns(message.event):
            return
        if not self.is_current or not self.body_ready:
            self._stale = True
            return
        if not self._refresh_scheduled:
            self._refresh_scheduled = True
            self.set_timer(REFRESH_DELAY_S, self._scheduled_reload)

    def _scheduled_reload(self) -> None:
        self._refresh_scheduled = False
        self._reload_or_report()

    def on_screen_resume(self) -> None:
        if self._engine is None:
            return  # the first screen, drawn before the engine: `engine_opened` fills it in
        self.query_one(ModeBar).agents = tuple(self.engine.agents())
        if self._stale and self.body_ready:
            self._stale = False
            self._reload_or_report()

    def _reload_or_report(self) -> bool:
        """Reload; if the database turns out damaged, tell the app (which shows it) instead of failing."""
        from orkestra_tui.engine.store.store import damage_in

        try:
            self.reload()
        except Exception as error:
            damage = damage_in(self.engine.paths.database, error)
            if damage is None:
                raise
            self.post_message(DatabaseDamaged(str(damage)))
            return False
        return True

    def reload(self) -> None:
        """Re-read what this screen shows from the engine."""
