"""The Voting screen: the committee's decisions, with tallies and ballots."""

from __future__ import annotations

from collections import Counter

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from orkestra_tui.engine.models import Ballot, Decision, DecisionStatus
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.text import plain
from orkestra_tui.tui.widgets.tally_bars import tally_bars

STATUS_STYLES = {
    DecisionStatus.OPEN: "yellow",
    DecisionStatus.VOTING: "bold yellow",
    DecisionStatus.DEADLOCKED: "bold red",
    DecisionStatus.AWAITING_HUMAN: "bold magenta",
    DecisionStatus.DECIDED: "green",
    DecisionStatus.NO_DECISION: "red",
    DecisionStatus.CANCELLED: "dim",
}


class VotingScreen(EngineScreen):
    """Decisions on the left (open first); the selected one's detail on the right."""

    MODE = "voting"
    TITLE = "Voting"
    WATCHES = ("decision", "ballot")

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="voting-body"):
            yield OptionList(id="decision-list")
            with VerticalScroll(id="decision-detail"):
                yield Static(id="decision-summary")
                yield Static(id="decision-tally")
                yield Static(id="decision-ballots")

    def reload(self) -> None:
        decisions = self.engine.decisions()
        options = self.query_one("#decision-list", OptionList)
        highlighted = options.highlighted_option.id if options.highlighted_option else None
        options.set_options(
            Option(self._prompt(decision), id=f"decision-{decision.id}") for decision in decisions
        )
        ids = [f"decision-{decision.id}" for decision in decisions]
        if highlighted in ids:
            options.highlighted = ids.index(highlighted)
        elif decisions:
            options.highlighted = 0
        self._show_selected()

    @staticmethod
    def _prompt(decision: Decision) -> Text:
        prompt = Text()
        prompt.append("● " if decision.status.is_open else "○ ", style=STATUS_STYLES[decision.status])
        prompt.append_text(plain(decision.question))
        detail = f"\n  {decision.status.value.replace('_', ' ')} · {decision.method}"
        if decision.current_round:
            detail += f" · round {decision.current_round} of {decision.max_rounds}"
        prompt.append(detail, style="dim")
        return prompt

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_selected()

    def _selected(self) -> Decision | None:
        option = self.query_one("#decision-list", OptionList).highlighted_option
        if option is None or option.id is None:
            return None
        return self.engine.store.decision(int(option.id.removeprefix("decision-")))

    def _show_selected(self) -> None:
        decision = self._selected()
        summary = self.query_one("#decision-summary", Static)
        tally = self.query_one("#decision-tally", Static)
        ballots_view = self.query_one("#decision-ballots", Static)
        if decision is None:
            summary.update(Text("No decisions yet. Questions put to the committee appear here.", style="dim"))
            tally.update("")
            ballots_view.update("")
            return
        ballots = self.engine.store.ballots(decision.id)
        summary.update(self._summary(decision))
        tally.update(self._tally(decision, ballots))
        ballots_view.update(self._ballots(decision, ballots))

    @staticmethod
    def _summary(decision: Decision) -> RenderableType:
        lines = Text()
        lines.append_text(plain(decision.question, style="bold"))
        lines.append("\n")
        rules = ", ".join(f"{key} {value}" for key, value in sorted(decision.rules.items()))
        lines.append(f"{decision.method}{' (' + rules + ')' if rules else ''}", style="cyan")
        lines.append(f" · {decision.status.value.replace('_', ' ')}", style=STATUS_STYLES[decision.status])
        if decision.current_round:
            lines.append(f" · round {decision.current_round} of {decision.max_rounds}")
        if decision.outcome and decision.outcome.get("reason"):
            lines.append("\n")
            lines.append_text(plain(str(decision.outcome["reason"]), style="italic"))
        return lines

    @staticmethod
    def _tally(decision: Decision, ballots: list[Ballot]) -> RenderableType:
        winner = decision.outcome.get("winner") if decision.outcome else None
        rounds = decision.outcome.get("rounds") if decision.outcome else None
        if rounds:
            counts = {str(option): float(count) for option, count in rounds[-1].get("counts", {}).items()}
        else:
            latest = max((ballot.round for ballot in ballots), default=0)
            firsts = Counter(
                ballot.ranking[0] for ballot in ballots if ballot.round == latest and ballot.ranking
            )
            counts = {option: float(firsts.get(option, 0)) for option in decision.options}
        return Group(Text("\nTally", style="bold underline"), tally_bars(counts, winner=winner))

    @staticmethod
    def _ballots(decision: Decision, ballots: list[Ballot]) -> RenderableType:
        if not ballots:
            return Text("\nNo ballots yet.", style="dim")
        latest = max(ballot.round for ballot in ballots)
        cards: list[RenderableType] = [Text(f"\nBallots, round {latest}", style="bold underline")]
        for ballot in ballots:
            if ballot.round != latest:
                continue
            card = plain(ballot.voter, style="bold")
            card.append(f"  {ballot.confidence:.2f}  ", style="dim")
            if ballot.ranking:
                card.append_text(plain(" > ".join(ballot.ranking)))
            else:
                card.append("abstained", style="dim italic")
            reasoning = ballot.reasoning or ballot.abstain_reason
            if reasoning:
                card.append("\n")
                card.append_text(plain(reasoning, style="italic"))
            cards.append(card)
        return Group(*cards)
