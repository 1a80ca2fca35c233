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


TIE_BREAKS_ATTRIBUTE = "tie_breaks_waiting"
"""The app's count of tie-breaks waiting for the human, which the bar shows as a badge."""


def tie_break_badges(count: int) -> tuple[str, ...]:
    """The reminder that tie-breaks are waiting, longest first."""
    plural = "s" if count != 1 else ""
    return (f" {count} tie-break{plural} waiting ", f" {count} tie-break{plural} ", f" {count} tie{plural} ")


class ModeBar(Widget):
    """Shows `Orkestra › Screen`, the five screens with their keys, and the agents' mode.

    When the committee waits for the human to break a tie, a badge says so
    (click it, or press ctrl+t); it follows the app's `tie_breaks_waiting`.
    """

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
    tie_breaks: reactive[int] = reactive(0)
    """How many tie-breaks wait for the human."""

    def __init__(self, current: str, agents: Sequence[AgentInfo]) -> None:
        super().__init__()
        self.current = current
        self.set_reactive(ModeBar.agents, tuple(agents))

    def on_mount(self) -> None:
        if hasattr(self.app, TIE_BREAKS_ATTRIBUTE):
            self.watch(self.app, TIE_BREAKS_ATTRIBUTE, self._tie_breaks_changed)

    def _tie_breaks_changed(self, count: int) -> None:
        self.tie_breaks = count

    def render(self) -> Text:
        enabled = [agent for agent in self.agents if agent.enabled]
        simulated = sum(agent.simulated for agent in enabled)
        if enabled and simulated == len(enabled):
            badges, style = (" simulated agents ", " simulated "), "black on yellow"
        elif simulated:
            badges, style = (f" {simulated} of {len(enabled)} simulated ", " simulated "), "black on yellow"
        else:
            badges, style = (f" {len(enabled)} live agents ", " live "), "black on green"
        if not self.tie_breaks:
            bar = self._modes(brand=True, gap="  ")
            badge = badges[0] if bar.cell_len + len(badges[0]) <= self.size.width else badges[1]
            return self._finish(bar, Text(badge, style=style))
        reminder_style = Style.parse("bold white on magenta") + Style.from_meta({"@click": "app.tie_break"})
        layouts = [
            (brand, gap, reminder, badge)
            for brand, gap in ((True, "  "), (True, " "), (False, " "))
            for reminder in tie_break_badges(self.tie_breaks)
            for badge in badges
        ]
        for brand, gap, reminder, badge in layouts:
            bar = self._modes(brand=brand, gap=gap)
            badges_text = Text(reminder, style=reminder_style) + Text(" ") + Text(badge, style=style)
            if bar.cell_len + badges_text.cell_len < self.size.width:
                return self._finish(bar, badges_text)
        return self._finish(bar, Text(tie_break_badges(self.tie_breaks)[-1], style=reminder_style))

    def _modes(self, *, brand: bool, gap: str) -> Text:
        title = next(name for _key, mode, name in MODES if mode == self.current)
        bar = Text()
        bar.append(" ◆ Orkestra " if brand else " ◆ ", style="bold")
        bar.append(f"› {title} ", style="bold reverse")
        bar.append(gap)
        for key, mode, name in MODES:
            style = "bold underline" if mode == self.current else "dim"
            bar.append(f"{key} ", style="dim")
            bar.append(
                name,
                style=Style.parse(style) + Style.from_meta({"@click": f"app.switch_mode('{mode}')"}),
            )
            bar.append(gap)
        return bar

    def _finish(self, bar: Text, badges: Text) -> Text:
        """The bar with the badges flush right."""
        padding = max(1, self.size.width - bar.cell_len - badges.cell_len)
        bar.append(" " * padding)
        bar.append_text(badges)
        return bar
