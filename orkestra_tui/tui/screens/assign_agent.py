"""Who should carry out a task: one of the agents, or whoever the scheduler chooses.

A small picker over the Board (key a). Each agent shows what the scheduler's
selection weighs: its score for this task, its load (running/concurrency) and
its availability (circuit, key). Disabled agents are listed but cannot be
picked; the task's current pin is marked and highlighted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from orkestra_tui.engine.execution.selection import Standing
from orkestra_tui.engine.models import AgentInfo
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.text import plain

SCHEDULER_OPTION = "scheduler"
AGENT_PREFIX = "agent-"


def standing_text(standing: Standing) -> Text:
    """Score, load and availability, e.g. "score 0.72 · load 1/2 · circuit closed · key ANTHROPIC_API_KEY"."""
    candidate = standing.candidate
    text = Text()
    if candidate.available:
        text.append(f"score {standing.score:.2f}", style="bold")
    else:
        text.append(f"unavailable: {candidate.unavailable_reason}", style="yellow")
    full = not candidate.has_room
    text.append(" · ")
    text.append(f"load {candidate.running}/{candidate.concurrency}", style="yellow" if full else "")
    text.append(" · ")
    circuit = standing.circuit.replace("_", "-")
    text.append(f"circuit {circuit}", style="" if circuit == "closed" else "red")
    text.append_text(plain(f" · key {standing.key or 'none'}", style="dim"))
    return text


@dataclass(frozen=True)
class AgentChoice:
    """The human's choice: an agent's name, or None to let the scheduler choose."""

    agent: str | None


class AssignAgentScreen(DialogScreen[AgentChoice | None]):
    """Enter picks the highlighted agent; Esc leaves the task as it is (returns None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    AssignAgentScreen {
        & > .dialog { width: 72; }
        #assign-options { height: auto; max-height: 14; margin-top: 1; border: none; padding: 0; }
        #assign-hint { color: $text-muted; margin-top: 1; }
    }
    """

    def __init__(
        self,
        task_title: str,
        agents: Sequence[AgentInfo],
        pinned: str | None,
        standings: Sequence[Standing] = (),
    ) -> None:
        super().__init__()
        self.task_title = task_title
        self.agents = list(agents)
        self.pinned = pinned
        self.standings = {standing.candidate.name: standing for standing in standings}
        """What the scheduler's selection sees of each agent for this task, by name."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Reassign"
            heading = Text("Who should carry out ", style="bold")
            heading.append_text(plain(self.task_title, style="bold"))
            heading.append("?", style="bold")
            yield Static(heading)
            yield OptionList(*self._options(), id="assign-options")
            yield Static("↑↓ choose · Enter assign · Esc cancel", id="assign-hint")

    def _options(self) -> list[Option]:
        scheduler = Text("Let the scheduler choose", style="bold")
        if self.pinned is None:
            scheduler.append("  (now)", style="dim")
        options = [Option(scheduler, id=SCHEDULER_OPTION)]
        for agent in self.agents:
            prompt = plain(agent.name, style="bold cyan" if agent.enabled else "dim")
            prompt.append_text(plain(f"  {agent.provider} · {agent.model}", style="dim"))
            if agent.name == self.pinned:
                prompt.append("  (pinned now)", style="dim")
            elif not agent.enabled:
                prompt.append("  (disabled)", style="dim")
            standing = self.standings.get(agent.name)
            if standing is not None:
                prompt.append("\n  ")
                prompt.append_text(standing_text(standing))
            options.append(Option(prompt, id=f"{AGENT_PREFIX}{agent.name}", disabled=not agent.enabled))
        return options

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        wanted = SCHEDULER_OPTION if self.pinned is None else f"{AGENT_PREFIX}{self.pinned}"
        ids = [option.id for option in options.options]
        options.highlighted = ids.index(wanted) if wanted in ids else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        option_id = str(event.option.id)
        agent = None if option_id == SCHEDULER_OPTION else option_id.removeprefix(AGENT_PREFIX)
        self.dismiss(AgentChoice(agent))

    def action_cancel(self) -> None:
        self.dismiss(None)
