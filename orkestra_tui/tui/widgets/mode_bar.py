"""The bar at the top of every screen: where you are, where you can go, and agent mode."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

if TYPE_CHECKING:
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


REVIEWS_ATTRIBUTE = "reviews_waiting"
"""The app's count of escalated task reviews waiting for the human (a badge too)."""


def tie_break_badges(count: int) -> tuple[str, ...]:
    """The reminder that tie-breaks are waiting, longest first."""
    plural = "s" if count != 1 else ""
    return (f" {count} tie-break{plural} waiting ", f" {count} tie-break{plural} ", f" {count} tie{plural} ")


def review_badges(count: int) -> tuple[str, ...]:
    """The reminder that escalated reviews are waiting, longest first."""
    plural = "s" if count != 1 else ""
    return (f" {count} review{plural} waiting ", f" {count} review{plural} ", f" {count} rev ")


class ModeBar(Widget):
    """Shows `Orkestra › Screen`, the five screens with their keys, and the agents' mode.

    When the committee waits for the human to break a tie, a badge says so
    (click it, or press ctrl+t); it follows the app's `tie_breaks_waiting`.
    Escalated task reviews get one too (ctrl+r), from `reviews_waiting`.
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

    agents: reactive[tuple[AgentInfo, ...] | None] = reactive(None)
    """The committee, to say whether it is simulated; None until the engine is built (no badge)."""
    tie_breaks: reactive[int] = reactive(0)
    """How many tie-breaks wait for the human."""
    reviews: reactive[int] = reactive(0)
    """How many escalated task reviews wait for the human."""

    def __init__(self, current: str, agents: Sequence[AgentInfo] | None) -> None:
        super().__init__()
        self.current = current
        self.set_reactive(ModeBar.agents, None if agents is None else tuple(agents))

    def on_mount(self) -> None:
        if hasattr(self.app, TIE_BREAKS_ATTRIBUTE):
            self.watch(self.app, TIE_BREAKS_ATTRIBUTE, self._tie_breaks_changed)
        if hasattr(self.app, REVIEWS_ATTRIBUTE):
            self.watch(self.app, REVIEWS_ATTRIBUTE, self._reviews_changed)

    def _tie_breaks_changed(self, count: int) -> None:
        self.tie_breaks = count

    def _reviews_changed(self, count: int) -> None:
        self.reviews = count

    def _reminders(self, level: int) -> Text:
        """The badges of what waits for the human, at a length `level` (0 longest)."""
        reminders = Text()
        if self.tie_breaks:
            style = Style.parse("bold white on magenta") + Style.from_meta({"@click": "app.tie_break"})
            reminders.append(tie_break_badges(self.tie_breaks)[level], style=style)
        if self.reviews:
            if reminders:
                reminders.append(" ")
            style = Style.parse("bold black on yellow") + Style.from_meta({"@click": "app.review"})
            reminders.append(review_badges(self.reviews)[level], style=style)
        return reminders

    def render(self) -> Text:
        if self.agents is None:
            return self._finish(self._modes(brand=True, gap="  "), Text())
        enabled = [agent for agent in self.agents if agent.enabled]
        simulated = sum(agent.simulated for agent in enabled)
        if enabled and simulated == len(enabled):
            badges, style = (" simulated agents ", " simulated "), "black on yellow"
        elif simulated:
            badges, style = (f" {simulated} of {len(enabled)} simulated ", " simulated "), "black on yellow"
        else:
            badges, style = (f" {len(enabled)} live agents ", " live "), "black on green"
        if not self.tie_breaks and not self.reviews:
            bar = self._modes(brand=True, gap="  ")
            badge = badges[0] if bar.cell_len + len(badges[0]) <= self.size.width else badges[1]
            return self._finish(bar, Text(badge, style=style))
        layouts = [
            (brand, gap, level, badge)
            for brand, gap in ((True, "  "), (True, " "), (False, " "))
            for level in range(3)
            for badge in badges
        ]
        for brand, gap, level, badge in layouts:
            bar = self._modes(brand=brand, gap=gap)
            badges_text = self._reminders(level) + Text(" ") + Text(badge, style=style)
            if bar.cell_len + badges_text.cell_len < self.size.width:
                return self._finish(bar, badges_text)
        return self._finish(bar, self._reminders(2))

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
