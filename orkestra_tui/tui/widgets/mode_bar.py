"""The bar at the top of every screen: where you are, where you can go, and agent mode."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from orkestra_tui.engine.models import AgentInfo

MODES: tuple[tuple[str, str, str], ...] = (
    ("1", "plan", "Plan"),
    ("2", "board", "Board"),
    ("3", "voting", "Voting"),
    ("4", "health", "Health"),
    ("5", "audit", "Audit"),
)
"""Key, mode name and title of each screen, in order."""


class ModeBar(Widget):
    """Shows `Orkestra › Screen`, the five screens with their keys, and the agents' mode."""

    DEFAULT_CSS = """
    ModeBar {
        height: 1;
        background: $panel;
        color: $foreground;
        link-style: none;
        link-style-hover: bold;
    }
    """

    agents: reactive[tuple[AgentInfo, ...]] = reactive(())
    """The committee, to say whether it is simulated."""

    def __init__(self, current: str, agents: Sequence[AgentInfo]) -> None:
        super().__init__()
        self.current = current
        self.set_reactive(ModeBar.agents, tuple(agents))

    def render(self) -> Text:
        title = next(name for _key, mode, name in MODES if mode == self.current)
        bar = Text()
        bar.append(" ◆ Orkestra ", style="bold")
        bar.append(f"› {title} ", style="bold reverse")
        bar.append("  ")
        for key, mode, name in MODES:
            style = "bold underline" if mode == self.current else "dim"
            bar.append(f"{key} ", style="dim")
            bar.append(
                name,
                style=Style.parse(style) + Style.from_meta({"@click": f"app.switch_mode('{mode}')"}),
            )
            bar.append("  ")
        enabled = [agent for agent in self.agents if agent.enabled]
        simulated = sum(agent.simulated for agent in enabled)
        if enabled and simulated == len(enabled):
            badge, style = " simulated agents ", "black on yellow"
        elif simulated:
            badge, style = f" {simulated} of {len(enabled)} simulated ", "black on yellow"
        else:
            badge, style = f" {len(enabled)} live agents ", "black on green"
        if bar.cell_len + len(badge) > self.size.width:
            badge = " simulated " if simulated else " live "
        padding = max(1, self.size.width - bar.cell_len - len(badge))
        bar.append(" " * padding)
        bar.append(badge, style=style)
        return bar
