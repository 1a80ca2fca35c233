"""The app's answer to a damaged database: one screen in front of everything, never a traceback.

Damage is found by the app's background check, by a screen's reload (which
posts `DatabaseDamaged`), by a worker that fails on it, or by any other handler
(through Textual's `_handle_exception`). Each way ends in `show_damage`: the
work that writes stops, and the damage screen (`screens/damaged.py`) takes the
app over until it quits; `run_tui` then prints the same line and exits 2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from orkestra_tui.tui.messages import DatabaseDamaged

if TYPE_CHECKING:
    from textual.app import App

    from orkestra_tui.engine.engine import Engine

    AppPart = App[None]
else:
    # A part of the app class, not an app: Textual does a good deal of work for each class of
    # its own that is defined (about as much as a widget costs to mount), so the parts of
    # `OrkestraApp` are plain classes until it puts them together with `App`.
    AppPart = object

DAMAGED_MODE = "damaged"
"""The mode of the screen shown once the database is found damaged."""


class DamageGuardApp(AppPart):
    """The part of an app over an engine that shows a damaged database on a screen of its own."""

    WRITING_GROUPS: ClassVar[tuple[str, ...]] = ()
    """The worker groups that write to the database: cancelled once it is found damaged."""

    engine: Engine
    damage: str | None = None
    """The line that says the database is damaged, once the app has found it so."""

    def show_damage(self, line: str) -> None:
        """Stop the work that writes and show the damage, once: a mode of its own, until the app quits."""
        from orkestra_tui.tui.screens.damaged import DamagedDatabaseScreen

        if self.damage is not None:
            return
        self.damage = line
        for group in self.WRITING_GROUPS:
            self.workers.cancel_group(self, group)
        self.add_mode(DAMAGED_MODE, lambda: DamagedDatabaseScreen(line))
        self.switch_mode(DAMAGED_MODE)

    def on_database_damaged(self, message: DatabaseDamaged) -> None:
        self.show_damage(message.line)

    def _handle_exception(self, error: Exception) -> None:
        """A read or write that finds the database damaged shows the damage, not a traceback."""
        from textual._context import active_message_pump

        from orkestra_tui.engine.store.store import damage_in

        damage = damage_in(self.engine.paths.database, error)
        if damage is None:
            super()._handle_exception(error)
        elif active_message_pump.get(None) is self:  # the app's own handler: Textual stops the app
            self.damage = str(damage)
            self.exit(return_code=2)  # and run_tui prints the line
        else:  # a screen's or a widget's: that one stops; the app goes on, to show the damage
            self.show_damage(str(damage))
