"""The project reached its budget: a new one, in dollars, resumes it (key b on the Board)."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.prompt import TextDialog
from orkestra_tui.tui.text import plain


class BudgetScreen(TextDialog[float | None]):
    """ctrl+s returns the new budget (a number above what was spent); Esc returns None."""

    ID_PREFIX = "budget"
    DEFAULT_CSS = """
    BudgetScreen {
        #budget-text { height: 3; }
    }
    """

    def __init__(self, project_name: str, spent: float, budget: float | None, reason: str) -> None:
        super().__init__(
            "Budget",
            f"{project_name} reached its budget",
            "A new budget in dollars resumes the project · ctrl+s sends · Esc decides later",
            "Raise the budget",
        )
        self.spent = spent
        self.budget = budget
        self.reason = reason

    def compose_context(self) -> ComposeResult:
        context = Text(f"Spent ${self.spent:.4f}", style="dim")
        if self.budget is not None:
            context.append(f" of ${self.budget:.2f}", style="dim")
        if self.reason:
            context.append("\n")
            context.append_text(plain(self.reason, style="dim"))
        yield Static(context)

    def submit_text(self, text: str) -> float:
        try:
            amount = float(text.strip().removeprefix("$").replace(",", ""))
        except ValueError:
            raise OrkestraError("enter an amount in dollars, such as 5 or 12.50") from None
        if not math.isfinite(amount):
            raise OrkestraError("enter an amount in dollars, such as 5 or 12.50")
        if not amount > self.spent:
            raise OrkestraError(f"the new budget must be above what was spent (${self.spent:.4f})")
        return amount

    def cancel_result(self) -> None:
        return None
