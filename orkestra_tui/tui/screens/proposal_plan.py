"""One agent's proposed plan in full, before the vote: its phases and their tasks (Enter on a card)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.text import plain


def proposal_text(plan: dict[str, Any]) -> Text:
    """The plan's summary, then each phase with its tasks: key, title, category, priority, dependencies."""
    text = plain(str(plan.get("summary", "")), style="italic")
    for phase in plan.get("phases", []):
        text.append("\n\n")
        text.append_text(plain(str(phase.get("name", "")), style="bold"))
        for task in phase.get("tasks", []):
            text.append("\n  ")
            text.append_text(plain(f"{task.get('key', '')} ", style="dim"))
            text.append_text(plain(str(task.get("title", ""))))
            facts = f"  {task.get('category', 'code')} · {task.get('priority', 'normal')}"
            depends = task.get("depends_on") or []
            if depends:
                facts += f" · after {', '.join(str(key) for key in depends)}"
            text.append_text(plain(facts, style="dim"))
    return text


class ProposalPlanScreen(DialogScreen[None]):
    """A proposal's phases and tasks; Esc or Enter closes it."""

    BINDINGS = [Binding("escape,enter", "close", "Close")]
    DEFAULT_CSS = """
    ProposalPlanScreen {
        & > .dialog { width: 90; }
    }
    """

    def __init__(self, agent: str, plan: dict[str, Any]) -> None:
        super().__init__()
        self.agent = agent
        self.plan = plan

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = plain(f"{self.agent}'s plan").plain
            yield Static(proposal_text(self.plan), id="proposal-plan")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
