"""Run a task as a contest of several agents (key c on the Board), with its cost shown first.

The dialog asks how many agents (2 to as many as can be called now), names the agents
the engine would choose (`Engine.contest_estimate`), and what the contest should cost
before anything is spent: a run per entry and one round of the committee's ballots,
beside what is left of the project's budget. Enter sets it; o turns a contest set
earlier off again (the task then runs with one agent); Esc leaves the task as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.text import plain
from orkestra_tui.tui.widgets.contest_entries import estimate_text, money

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine

SMALLEST = 2


@dataclass(frozen=True)
class ContestChoice:
    """The human's answer: a contest of AGENTS, or None to run the task with one agent."""

    agents: int | None


@dataclass(frozen=True)
class BudgetLeft:
    """The project's budget and what it has spent, for the dialog's last line."""

    budget: float | None
    spent: float


class ContestScreen(DialogScreen[ContestChoice | None]):
    """+ and − (or ← →) change the number of agents; Enter sets the contest; o turns it off."""

    BINDINGS = [
        Binding("plus,right,up", "change(1)", "More agents"),
        Binding("minus,left,down", "change(-1)", "Fewer agents"),
        Binding("enter", "confirm", "Set contest"),
        Binding("o", "turn_off", "One agent"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    ContestScreen {
        & > .dialog { width: 72; }
        #contest-count { margin-top: 1; }
        #contest-estimate { margin-top: 1; height: auto; }
        #contest-hint { color: $text-muted; margin-top: 1; }
    }
    """

    def __init__(
        self,
        engine: Engine,
        task_id: int,
        task_title: str,
        *,
        available: int,
        current: int | None,
        budget: BudgetLeft,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.task_id = task_id
        self.task_title = task_title
        self.available = available
        """How many agents can be called now: the most a contest may have."""
        self.current = current
        """The contest set on the task before, if any."""
        self.budget = budget
        self.agents = min(max(current or min(3, available), SMALLEST), available)
        """The number of agents the dialog shows now."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Contest"
            heading = Text("Run “", style="bold")
            heading.append_text(plain(self.task_title, style="bold"))
            heading.append("” as a contest", style="bold")
            heading.append(
                "\nEach agent makes its own entry; the committee votes for the best one.", style="dim"
            )
            yield Static(heading)
            yield Static(id="contest-count")
            yield Static(id="contest-estimate")
            hint = "+ − agents · Enter sets it" + (" · o one agent" if self.current else "") + " · Esc cancel"
            yield Static(hint, id="contest-hint")

    def on_mount(self) -> None:
        super().on_mount()
        self.show_estimate()

    def show_estimate(self) -> None:
        """The number of agents, the agents chosen and the cost, for the number shown now."""
        count = Text("Agents  ", style="bold")
        count.append("◀ " if self.agents > SMALLEST else "  ", style="dim")
        count.append(str(self.agents), style="bold reverse")
        count.append(" ▶" if self.agents < self.available else "  ", style="dim")
        count.append(f"   {SMALLEST} to {self.available} can be called now", style="dim")
        if self.current:
            count.append(f"\nSet now: a contest of {self.current}", style="dim")
        self.query_one("#contest-count", Static).update(count)
        self.query_one("#contest-estimate", Static).update(self._estimate())

    def _estimate(self) -> Text:
        try:
            estimate = self.engine.contest_estimate(self.task_id, self.agents)
        except OrkestraError as problem:
            return plain(str(problem), style="red")
        text = Text("Entries by ", style="dim")
        text.append_text(plain(", ".join(estimate.agents), style="cyan"))
        text.append("\nEstimated cost  ", style="bold")
        text.append(estimate_text(estimate))
        budget = self.budget
        if budget.budget is None:
            text.append("\nNo budget set for this project", style="dim")
        else:
            left = budget.budget - budget.spent
            style = "red" if estimate.total > left else "dim"
            text.append(f"\nBudget left {money(max(left, 0.0))} of {money(budget.budget)}", style=style)
            if estimate.total > left:
                text.append(": the budget pause stops the run when it is spent", style=style)
        return text

    def action_change(self, step: int) -> None:
        wanted = min(max(self.agents + step, SMALLEST), self.available)
        if wanted != self.agents:
            self.agents = wanted
            self.show_estimate()

    def action_confirm(self) -> None:
        self.dismiss(ContestChoice(self.agents))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "turn_off":
            return self.current is not None
        return True

    def action_turn_off(self) -> None:
        if self.current is not None:
            self.dismiss(ContestChoice(None))

    def action_cancel(self) -> None:
        self.dismiss(None)
