"""The app's engine, built after the first screen is drawn when that screen can do without it.

A home without projects opens on the brief of a first plan, and nothing on
that screen's first page comes from the store: the app draws it from the
settings alone, then imports the engine's modules (in a thread, so the user
can type meanwhile) and builds the engine, and the screen fills in what the
engine knows (the agents' badge and banner). Any other home builds the engine
first, since its first screen shows what the store holds.

Until the engine is built, every action of the app or of a mode screen waits
for it, in the order its key was pressed, except those that need nothing from
it (moving the focus, leaving a field, quitting): keys typed into a field go
to the field at once. An engine that cannot be built ends the app, and
`run_tui` reports why on one line, as it does when it builds the engine first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from textual.actions import ActionParseResult
from textual.app import App

from orkestra_tui.records import record
from orkestra_tui.tui.damage_guard import DamageGuardApp

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from orkestra_tui.config import Settings
    from orkestra_tui.engine.engine import Engine

OPENING_GROUP = "engine-opening"
ACTIONS_WITHOUT_ENGINE = frozenset({"quit", "focus_next", "focus_previous", "leave_field"})
"""Actions of the app or a mode screen that need nothing from the engine: they never wait for it."""


@record
class EngineOpening:
    """An engine still to be built: the settings the first screen is drawn with, and how to build it."""

    settings: Settings
    build: Callable[[], Engine]


def import_engine_modules() -> None:
    """Import what building the engine and the first screen's reloads need (run in a thread)."""
    import orkestra_tui.engine.engine
    import orkestra_tui.engine.planning.planning
    import orkestra_tui.engine.supervisor  # noqa: F401


class EngineOpeningApp(DamageGuardApp):
    """The part of an app whose engine is given, or built once its first screen is drawn (`EngineOpening`)."""

    settings: Settings
    """The settings the app runs with (the engine's, once it is built)."""
    engine_error: BaseException | None = None
    """What stopped the engine from being built after the first screen; `run_tui` reports it."""

    def hold_engine(self, engine: Engine | EngineOpening) -> None:
        """Keep the engine, or how to build it once the first screen is drawn."""
        self._opening: EngineOpening | None = engine if isinstance(engine, EngineOpening) else None
        self._engine: Engine | None = None if isinstance(engine, EngineOpening) else engine
        self.settings = engine.settings
        self._engine_ready = asyncio.Event()
        if self._engine is not None:
            self._engine_ready.set()

    @property
    def engine(self) -> Engine:
        """The engine; only once it is built (`engine_open`)."""
        if self._engine is None:
            raise RuntimeError("the engine is not built yet")
        return self._engine

    @engine.setter
    def engine(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine_open(self) -> bool:
        """Whether the engine is built."""
        return self._engine is not None

    @property
    def opened_engine(self) -> Engine | None:
        """The engine if it was built (given, or built by the app), to close when the app ends."""
        return self._engine

    async def wait_for_engine(self) -> Engine:
        """The engine, once it is built."""
        await self._engine_ready.wait()
        return self.engine

    def open_engine(self) -> None:
        """Build the engine in a worker, once; `engine_opened` is called when it is built."""
        if self._opening is None or any(worker.group == OPENING_GROUP for worker in self.workers):
            return
        self.run_worker(
            self._build_engine(self._opening),
            name="open-engine",
            group=OPENING_GROUP,
            description="Opening the engine",
            exit_on_error=False,
        )

    async def _build_engine(self, opening: EngineOpening) -> None:
        try:
            # The imports, the longest part, in a thread: keys typed meanwhile reach their fields.
            await asyncio.to_thread(import_engine_modules)
            # The store's connection belongs to the thread that runs the app.
            engine = opening.build()
        except Exception as error:  # a damaged database, a read-only disk: reported by run_tui
            self.engine_error = error
            self.exit(return_code=2)
            return
        self._engine = engine
        self.engine_opened(engine)
        self._engine_ready.set()

    def engine_opened(self, engine: Engine) -> None:
        """The engine built after the first screen is ready: hand it to what waited for it."""

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Run an action; one of the app or a mode screen first waits for the engine, if it is being built."""
        if not self._engine_ready.is_set() and self._needs_engine(action, default_namespace, namespaces):
            await self._engine_ready.wait()
        return await super().run_action(action, default_namespace, namespaces)

    def _needs_engine(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None,
        namespaces: Mapping[str, DOMNode] | None,
    ) -> bool:
        from orkestra_tui.tui.screens.base import EngineScreen

        target, name, _parameters = self._parse_action(
            action, self if default_namespace is None else default_namespace, namespaces
        )
        return name not in ACTIONS_WITHOUT_ENGINE and (target is self or isinstance(target, EngineScreen))

    def _handle_exception(self, error: Exception) -> None:
        if self._engine is None:  # no database is open yet, so none was found damaged
            App._handle_exception(self, error)
        else:
            super()._handle_exception(error)
