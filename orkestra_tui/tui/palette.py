"""The command palette's screen actions: every screen's keys, run from anywhere.

Each command names its screen, what it does and its key ("Board: Retry",
"key R on the Board screen"). Choosing one switches to that screen first, then
runs the action there as the key would, on the screen's current selection (the
highlighted task, decision, agent or event). An action the screen cannot take
now (nothing suitable selected, no run to pause) says so in a notification
rather than doing nothing. Keys that only undo something on the screen itself
(Esc) or move the cursor are left out. The app's own commands (screens, help,
snapshot, quit) come from `OrkestraApp.get_system_commands`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.actions import parse
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from orkestra_tui.tui.widgets.mode_bar import MODES

if TYPE_CHECKING:
    from orkestra_tui.tui.app import OrkestraApp
    from orkestra_tui.tui.screens.base import EngineScreen

LOCAL_KEYS = frozenset({"escape"})
"""Keys whose actions only close or clear something on the screen itself."""


@dataclass(frozen=True)
class ScreenAction:
    """One screen key as a palette command."""

    mode: str
    screen_title: str
    action: str
    """The binding's action string, parameters included: `run('start')`."""
    description: str
    key: str

    @property
    def text(self) -> str:
        return f"{self.screen_title}: {self.description}"

    @property
    def help(self) -> str:
        from orkestra_tui.tui.screens.help import key_label

        return f"key {key_label(self.key)} on the {self.screen_title} screen"


def screen_actions(app: OrkestraApp) -> list[ScreenAction]:
    """Every screen's keys that make sense from anywhere, in screen order."""
    actions: list[ScreenAction] = []
    for _key, mode, title in MODES:
        for binding in vars(app.screen_class(mode)).get("BINDINGS", []):
            if not isinstance(binding, Binding) or not binding.show:
                continue
            keys = [key.strip() for key in binding.key.split(",")]
            if LOCAL_KEYS.intersection(keys):
                continue
            actions.append(ScreenAction(mode, title, binding.action, binding.description, binding.key))
    return actions


class ScreenActions(Provider):
    """Palette commands for the screens' keys (see the module's docstring)."""

    @property
    def orkestra(self) -> OrkestraApp:
        from orkestra_tui.tui.app import OrkestraApp

        assert isinstance(self.app, OrkestraApp)
        return self.app

    def _commands(self) -> list[ScreenAction]:
        if self.orkestra.damage is not None:  # the damage screen allows nothing but quitting
            return []
        return screen_actions(self.orkestra)

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(
                command.text, partial(run_screen_action, self.orkestra, command), help=command.help
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.text),
                    partial(run_screen_action, self.orkestra, command),
                    text=command.text,
                    help=command.help,
                )


async def run_screen_action(app: OrkestraApp, command: ScreenAction) -> None:
    """Switch to the command's screen, then run its action there once the screen's body is ready."""
    from orkestra_tui.tui.screens.base import EngineScreen

    if app.current_mode != command.mode:
        await app.switch_mode(command.mode)
    screen = app.screen
    if not isinstance(screen, EngineScreen) or command.mode != screen.MODE:
        app.notify(f"{command.text}: close the dialog first", title="Command palette", markup=False)
        return
    screen.call_when_ready(partial(_perform, app, screen, command))


async def _perform(app: OrkestraApp, screen: EngineScreen, command: ScreenAction) -> None:
    _namespace, name, parameters = parse(command.action)
    if not screen.check_action(name, parameters):
        app.notify(
            f"{command.text} is not available now ({command.help})",
            title="Command palette",
            severity="warning",
            markup=False,
        )
        return
    await app.run_action(command.action, screen)
