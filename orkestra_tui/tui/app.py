"""OrkestraApp: five modes over one engine, with keys, help and the command palette."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from orkestra_tui.engine.engine import Engine
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.widgets.mode_bar import MODES


def _screen_class(mode: str) -> type[EngineScreen]:
    """The screen class of a mode, imported when the mode is first shown."""
    if mode == "plan":
        from orkestra_tui.tui.screens.plan import PlanScreen

        return PlanScreen
    if mode == "board":
        from orkestra_tui.tui.screens.board import BoardScreen

        return BoardScreen
    if mode == "voting":
        from orkestra_tui.tui.screens.voting import VotingScreen

        return VotingScreen
    if mode == "health":
        from orkestra_tui.tui.screens.health import HealthScreen

        return HealthScreen
    from orkestra_tui.tui.screens.audit import AuditScreen

    return AuditScreen


class OrkestraApp(App[None]):
    """The full-screen app. It owns no state of its own: the engine is the truth."""

    TITLE = "Orkestra"
    # Each screen's stylesheet sits beside it, every rule nested under the screen's class;
    # loading them all here parses them once, where a screen's own CSS_PATH would make
    # Textual re-parse every stylesheet when the screen is first shown.
    CSS_PATH = [
        "app.tcss",
        "screens/plan.tcss",
        "screens/board.tcss",
        "screens/voting.tcss",
        "screens/health.tcss",
        "screens/audit.tcss",
    ]
    BINDINGS = [
        *(Binding(key, f"switch_mode('{mode}')", name, show=False) for key, mode, name in MODES),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        engine: Engine,
        *,
        first_mode: str | None = None,
        on_ready: Callable[[OrkestraApp], None] | None = None,
    ) -> None:
        # Start straight in the first mode: no default screen is built and thrown away.
        self.DEFAULT_MODE = first_mode or ("board" if engine.projects() else "plan")  # type: ignore[misc]
        super().__init__()
        self.engine = engine
        self.ready_callback = on_ready
        for _key, mode, _name in MODES:
            self.add_mode(mode, self._screen_factory(mode))

    def _screen_factory(self, mode: str) -> Callable[[], Screen[Any]]:
        def build() -> Screen[Any]:
            return _screen_class(mode)(self.engine)

        return build

    def on_mount(self) -> None:
        theme = self.engine.settings.ui.theme
        if theme == self.theme:
            pass  # setting a theme restyles every widget: skip it when nothing changes
        elif theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(f"Unknown theme {theme!r} in config.toml; using the default.", severity="warning")

    def on_ready(self) -> None:
        """Textual has painted the first frame and handled the work it left pending."""
        if self.ready_callback is not None:
            self.ready_callback(self)

    def action_help(self) -> None:
        from orkestra_tui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        everywhere: list[BindingType] = [
            *self.BINDINGS,
            Binding("ctrl+p", "command_palette", "Command palette"),
            Binding("tab,shift+tab", "focus_next", "Move focus"),
        ]
        sections: list[tuple[str, list[BindingType]]] = [("Everywhere", everywhere)]
        for _key, mode, name in MODES:
            # Only the keys a screen declares itself; Textual's own screen keys are listed above.
            sections.append((name, list(vars(_screen_class(mode)).get("BINDINGS", []))))
        self.push_screen(HelpScreen(sections))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for key, mode, name in MODES:
            yield SystemCommand(
                f"{name} screen", f"Go to the {name} screen (key {key})", self._switcher(mode)
            )
        yield SystemCommand("Help", "List every key (?)", self.action_help)
        yield from super().get_system_commands(screen)

    def _switcher(self, mode: str) -> Callable[[], None]:
        def switch() -> None:
            self.switch_mode(mode)

        return switch
