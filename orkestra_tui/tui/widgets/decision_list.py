"""The committee's decisions, open ones first, each with its status, method and round.

`set_decisions` changes only the prompts that changed, so a refresh while a
vote streams in keeps the cursor where it is and costs next to nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from orkestra_tui.engine.models import Decision, DecisionStatus
from orkestra_tui.engine.voting.decision_view import method_name, round_heading
from orkestra_tui.tui.text import plain

OPTION_PREFIX = "decision-"
STATUS_STYLES = {
    DecisionStatus.OPEN: "yellow",
    DecisionStatus.VOTING: "bold yellow",
    DecisionStatus.DEADLOCKED: "bold red",
    DecisionStatus.AWAITING_HUMAN: "bold magenta",
    DecisionStatus.DECIDED: "green",
    DecisionStatus.NO_DECISION: "red",
    DecisionStatus.CANCELLED: "dim",
}
"""The Rich style each decision status is shown in (here and in the decision's detail)."""


def decision_prompt(decision: Decision) -> Text:
    prompt = Text()
    prompt.append("● " if decision.status.is_open else "○ ", style=STATUS_STYLES[decision.status])
    prompt.append_text(plain(decision.question))
    detail = f"\n  {decision.status.value.replace('_', ' ')} · {method_name(decision.method)}"
    if decision.current_round and decision.status.is_open:
        detail += " · " + round_heading(decision.current_round, decision.max_rounds).lower()
    elif decision.current_round:
        detail += f" · {decision.current_round} round{'s' if decision.current_round != 1 else ''}"
    prompt.append(detail, style="dim")
    return prompt


def _summary(decision: Decision) -> tuple[object, ...]:
    """What a prompt shows of a decision: the prompt is rebuilt only when this changes."""
    return (decision.question, decision.status, decision.method, decision.current_round, decision.max_rounds)


class DecisionList(OptionList):
    """An option per decision; its highlighted option is the decision on show."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._summaries: dict[int, tuple[object, ...]] = {}

    @property
    def highlighted_decision_id(self) -> int | None:
        option = self.highlighted_option
        if option is None or option.id is None:
            return None
        return int(option.id.removeprefix(OPTION_PREFIX))

    def set_decisions(self, decisions: Sequence[Decision], *, highlight: int | None = None) -> None:
        """Show `decisions` in their order, keeping the highlighted decision (or `highlight`) highlighted."""
        ids = [decision.id for decision in decisions]
        if ids == list(self._summaries):
            for decision in decisions:
                summary = _summary(decision)
                if self._summaries[decision.id] != summary:
                    self._summaries[decision.id] = summary
                    self.replace_option_prompt(f"{OPTION_PREFIX}{decision.id}", decision_prompt(decision))
            if highlight in ids and highlight != self.highlighted_decision_id:
                self.highlighted = ids.index(highlight)
            return
        highlighted = highlight if highlight in ids else self.highlighted_decision_id
        self._summaries = {decision.id: _summary(decision) for decision in decisions}
        self.set_options(
            Option(decision_prompt(decision), id=f"{OPTION_PREFIX}{decision.id}") for decision in decisions
        )
        if highlighted in ids:
            self.highlighted = ids.index(highlighted)
        elif decisions:
            self.highlighted = 0
