"""The proposals step: a card per agent, from waiting to a summary of its plan (or why it failed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Grid
from textual.reactive import reactive
from textual.widgets import Static

from orkestra_tui.engine.planning.planning import PlanSession, PlanStep
from orkestra_tui.tui.text import one_line, plain

STATE_MARKS = {
    "waiting": ("○ waiting", "dim"),
    "drafting": ("◔ drafting…", "bold yellow"),
    "done": ("✔ done", "bold green"),
    "failed": ("✘ failed", "bold red"),
}


@dataclass(frozen=True)
class ProposalCardData:
    agent: str
    state: str
    """waiting, drafting, done or failed."""
    plan: dict[str, Any] | None = None
    reason: str = ""
    cost: float = 0.0


def proposal_cards(
    session: PlanSession, drafting: set[str], running: bool, costs: dict[str, float]
) -> tuple[ProposalCardData, ...]:
    """What each participating agent's card shows, from the stored drafts and the drafting now."""
    drafts = {proposal.agent: proposal for proposal in session.proposals}
    cards = []
    for agent in session.brief.agents:
        draft = drafts.get(agent)
        cost = costs.get(agent, 0.0)
        if draft is not None and draft.ok:
            cards.append(ProposalCardData(agent, "done", draft.plan, cost=cost))
        elif running and session.step is PlanStep.PROPOSALS and agent in drafting:
            cards.append(ProposalCardData(agent, "drafting", cost=cost))
        elif draft is not None:
            cards.append(ProposalCardData(agent, "failed", reason=draft.reason, cost=cost))
        else:
            cards.append(ProposalCardData(agent, "waiting", cost=cost))
    return tuple(cards)


def card_text(card: ProposalCardData) -> Text:
    mark, style = STATE_MARKS[card.state]
    text = Text().append(mark, style=style)
    if card.cost:
        text.append(f"  ${card.cost:.4f}", style="dim")
    if card.plan is not None:
        phases = card.plan["phases"]
        tasks = sum(len(phase["tasks"]) for phase in phases)
        text.append(f"\n{len(phases)} phase{'s' * (len(phases) != 1)} · {tasks} task{'s' * (tasks != 1)}")
        summary = one_line(str(card.plan.get("summary", "")), 160)
        summary.stylize("italic")
        text.append("\n")
        text.append_text(summary)
        for phase in phases[:4]:
            text.append("\n• ", style="dim")
            text.append_text(one_line(str(phase["name"]), 60))
        if len(phases) > 4:
            text.append(f"\n… and {len(phases) - 4} more", style="dim")
    elif card.state == "failed":
        text.append("\n")
        text.append_text(plain(card.reason, style="red"))
    elif card.state == "drafting":
        text.append("\nwriting a plan as JSON", style="dim")
    return text


class ProposalCard(Static, can_focus=True):
    """One agent's draft; Enter on a card with a plan shows its phases and tasks."""

    BINDINGS = [Binding("enter", "open", "Open plan")]

    DEFAULT_CSS = """
    ProposalCard {
        height: auto;
        min-height: 4;
        border: round $panel-lighten-2;
        padding: 0 1;
        &.-done { border: round $success; }
        &.-failed { border: round $error; }
        &.-drafting { border: round $warning; }
    }
    """

    card: reactive[ProposalCardData | None] = reactive(None, init=False)

    def __init__(self, card: ProposalCardData) -> None:
        super().__init__()
        self.set_reactive(ProposalCard.card, card)

    def on_mount(self) -> None:
        self._show()

    def watch_card(self) -> None:
        self._show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":  # a card without a plan leaves Enter to the screen (go on)
            return self.card is not None and self.card.plan is not None
        return True

    def action_open(self) -> None:
        from orkestra_tui.tui.screens.proposal_plan import ProposalPlanScreen

        card = self.card
        if card is not None and card.plan is not None:
            self.app.push_screen(ProposalPlanScreen(card.agent, card.plan))

    def _show(self) -> None:
        card = self.card
        if card is None:
            return
        self.border_title = plain(card.agent).plain
        for state in STATE_MARKS:
            self.set_class(card.state == state, f"-{state}")
        self.update(card_text(card))


class ProposalCards(Grid):
    """A card per agent, two to a row."""

    DEFAULT_CSS = """
    ProposalCards {
        grid-size: 2;
        grid-gutter: 0 1;
        grid-rows: auto;
        height: auto;
    }
    """

    def set_cards(self, cards: tuple[ProposalCardData, ...]) -> None:
        existing = list(self.query_children(ProposalCard))
        for widget, card in zip(existing, cards, strict=False):
            widget.card = card
        if len(cards) > len(existing):
            self.mount_all([ProposalCard(card) for card in cards[len(existing) :]])
        for widget in existing[len(cards) :]:
            widget.remove()
