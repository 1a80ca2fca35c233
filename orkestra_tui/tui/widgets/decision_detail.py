"""The selected decision in full: question, rules, the round's tally, runoff or head-to-head, ballots.

The screen hands down a `DecisionView`; each part goes to the widget that shows
it, and a widget redraws only when its part changed, so a ballot arriving
redraws its card and the bars, not the whole pane.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from orkestra_tui.engine.models import Decision
from orkestra_tui.engine.voting.decision_view import (
    DecisionView,
    Notice,
    VoterCard,
    method_name,
)
from orkestra_tui.tui.text import plain
from orkestra_tui.tui.widgets.ballot_card import BallotCard
from orkestra_tui.tui.widgets.decision_list import STATUS_STYLES
from orkestra_tui.tui.widgets.pairwise_table import PairwiseTable
from orkestra_tui.tui.widgets.runoff_steps import RunoffSteps
from orkestra_tui.tui.widgets.tally_bars import TallyBars
from orkestra_tui.wording import key_words, percent, quorum_words, turnout_words

DEFAULT_RULES = {"threshold": 0.75, "quorum": 0.0}
"""The rules the committee applies when a decision does not set them."""
NOTICE_STYLES = {
    "deadlock": ("⚠ ", "bold red"),
    "compromise": ("⚑ ", "bold yellow"),
    "tie_break": ("⚖ ", "bold magenta"),
    "fallback": ("↯ ", "bold yellow"),
    "decided": ("✔ ", "bold green"),
    "no_decision": ("✘ ", "bold red"),
}
EMPTY_TEXT = "No decisions yet. Press n to put a question to the committee."


SWITCH_RULES = ("round_feedback",)
"""Rules that are on or off rather than a share: shown by name when on."""


def rules_text(decision: Decision) -> str:
    rules = {**DEFAULT_RULES, **decision.rules}
    shown = [
        key_words(name)
        if name in SWITCH_RULES
        else f"quorum {quorum_words(value)}"
        if name == "quorum"
        else f"{key_words(name)} {_share(value)}"
        for name, value in sorted(rules.items())
        if name not in SWITCH_RULES or value
    ]
    return " · ".join(shown)


def rules_quorum(decision: Decision) -> object:
    """The decision's quorum rule; one stored before quorums were recorded had none."""
    return decision.rules.get("quorum", DEFAULT_RULES["quorum"])


def _share(value: Any) -> str:
    try:
        return percent(float(value))
    except (TypeError, ValueError):
        return str(value)


def header_text(view: DecisionView) -> Text:
    decision = view.decision
    text = plain(decision.question, style="bold")
    text.append("\n")
    text.append(method_name(decision.method), style="cyan")
    text.append(f" · {rules_text(decision)}", style="dim")
    if decision.category:
        text.append(" · ", style="dim")
        text.append_text(plain(decision.category, style="dim"))
    text.append("\n")
    text.append(decision.status.value.replace("_", " "), style=STATUS_STYLES[decision.status])
    if view.round_number and decision.status.is_open:
        heading = view.round_heading
        text.append(" · " + heading[0].lower() + heading[1:])
    elif view.round_number:
        text.append(f" in voting round {view.round_number}")
    result = view.result
    if result:
        text.append("\n")
        text.append("Result: " if not decision.status.is_open else "Last round: ", style="dim")
        text.append_text(plain(str(result.get("reason", "")), style="italic"))
        if result.get("winner"):
            text.append("\n")
            text.append(f"Consensus {result.get('consensus', '?')}", style="bold")
            text.append(
                f" · support {_share(result.get('support', 0))}"
                f" · turnout {_share(result.get('participation', 0))}",
                style="dim",
            )
        turnout = turnout_words(result, rules_quorum(decision))
        if turnout:
            text.append("\n")
            text.append(f"Ballots: {turnout}", style="dim")
    text.append("\n")
    calls = f"{view.calls} call{'s' if view.calls != 1 else ''}"
    text.append(f"Cost so far ${view.cost:.4f} · {calls} · {view.tokens:,} tokens", style="dim")
    if view.estimate is not None:
        text.append(f"\nThis round: estimated ${view.estimate:.4f}", style="dim")
    return text


def notices_text(notices: tuple[Notice, ...]) -> Text:
    lines = Text()
    for index, notice in enumerate(notices):
        if index:
            lines.append("\n")
        mark, style = NOTICE_STYLES.get(notice.kind, ("• ", "bold"))
        lines.append(mark, style=style)
        lines.append_text(plain(notice.text, style=style))
    return lines


def feedback_text(view: DecisionView) -> Text:
    lines = Text()
    for index, item in enumerate(view.feedback):
        if index:
            lines.append("\n")
        lines.append(f"Your feedback for round {item.round}: ", style="bold")
        lines.append_text(plain(item.text, style="italic"))
    return lines


class DecisionDetail(VerticalScroll):
    """The detail pane of the Voting screen."""

    DEFAULT_CSS = """
    DecisionDetail {
        height: 1fr;
        #detail-header, #detail-notices, #detail-feedback {
            height: auto;
        }
        #detail-notices, #detail-feedback, #detail-options, #ballots-title, TallyBars {
            margin-top: 1;
        }
        #ballots-title {
            text-style: bold;
        }
        #ballot-cards {
            height: auto;
        }
    }
    """

    view: reactive[DecisionView | None] = reactive(None, init=False)
    """The decision shown, as last read from the store; None when there is none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: dict[str, Text | None] = {}
        self.option_details: dict[str, str] = {}
        """What each option of the decision on show holds (a contest entry's diff), by option."""
        self._shown_decision: int | None = None

    @property
    def decision_id(self) -> int | None:
        """The id of the decision on show."""
        return self.view.decision.id if self.view is not None else None

    def compose(self) -> ComposeResult:
        yield Static(id="detail-header")
        yield Static(id="detail-notices")
        yield TallyBars()
        yield Static(id="detail-options")
        yield RunoffSteps()
        yield PairwiseTable()
        yield Static(id="detail-feedback")
        yield Static(id="ballots-title")
        yield Vertical(id="ballot-cards")

    def on_mount(self) -> None:
        self._show(self.view)

    def watch_view(self, view: DecisionView | None) -> None:
        if self.is_mounted:
            self._show(view)

    def _show(self, view: DecisionView | None) -> None:
        if view is not None and view.decision.id != self._shown_decision:
            self.scroll_home(animate=False)
        self._shown_decision = view.decision.id if view is not None else None
        if view is None:
            self._set_static("detail-header", Text(EMPTY_TEXT, style="dim"))
        else:
            self._set_static("detail-header", header_text(view))
        self._set_static("detail-notices", notices_text(view.notices) if view and view.notices else None)
        self._set_static("detail-feedback", feedback_text(view) if view and view.feedback else None)
        title = None
        if view is not None:
            title = Text(f"Ballots, round {view.round_number}" if view.round_number else "Voters")
        self._set_static("ballots-title", title)
        self.query_one(TallyBars).tally = view.tally if view else None
        self._set_static("detail-options", self._options_text(view))
        runoff = self.query_one(RunoffSteps)
        runoff.winner = view.labels.get(view.round_winner or "") if view else None
        runoff.steps = view.runoff if view else ()
        self.query_one(PairwiseTable).pairwise = view.pairwise if view else None
        self._set_cards(view.cards if view else ())

    def _options_text(self, view: DecisionView | None) -> Text | None:
        """What the options hold (a contest's entries), when the screen has read it for this decision."""
        from orkestra_tui.tui.widgets.option_details import options_text

        if view is None or not self.option_details:
            return None
        decision = view.decision
        return options_text(
            view.labels, self.option_details, decision.authors, contest=decision.category == "contest"
        )

    def _set_static(self, static_id: str, content: Text | None) -> None:
        """Redraw one of the pane's Statics if what it shows changed; None hides it."""
        if static_id in self._shown and self._shown[static_id] == content:
            return
        self._shown[static_id] = content
        static = self.query_one(f"#{static_id}", Static)
        static.display = content is not None
        if content is not None:
            static.update(content)

    def _set_cards(self, cards: tuple[VoterCard, ...]) -> None:
        """One card per voter: existing cards are reused, extra ones mounted or removed."""
        container = self.query_one("#ballot-cards", Vertical)
        existing = list(container.query_children(BallotCard))
        for widget, card in zip(existing, cards, strict=False):
            widget.card = card
        if len(cards) > len(existing):
            container.mount_all([BallotCard(card) for card in cards[len(existing) :]])
        for widget in existing[len(cards) :]:
            widget.remove()
