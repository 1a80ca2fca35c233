"""One voter's card in a round: ranking, confidence and reasoning, or what it is waiting for.

Everything a voter wrote is shown literally (`plain`): markup such as `[bold]`
appears as typed, and control characters as visible escapes. That includes the
raw answer behind a ballot that did not count, or that counted only after a
repair: the agent's own words, as kept with its call (redacted, cut).
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from orkestra_tui.engine.agents.raw_answers import RefusedAnswer
from orkestra_tui.engine.voting.decision_view import VoterCard
from orkestra_tui.tui.text import plain

REASONING_LINES = 2.5
"""Reasoning is cut to about this many lines, so that a round's cards fit on a screen or two."""
RAW_ANSWER_LINES = 2.5
"""A refused answer is cut to about this many lines; Enter on the Health screen shows it whole."""
MIN_REASONING_CHARS = 80
CONFIDENCE_CELLS = 5


def confidence_meter(confidence: float) -> Text:
    filled = round(max(0.0, min(1.0, confidence)) * CONFIDENCE_CELLS)
    meter = Text("▰" * filled, style="cyan") + Text("▱" * (CONFIDENCE_CELLS - filled), style="dim")
    meter.append(f" {confidence:.2f}", style="dim")
    return meter


def clipped(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def refused_text(refused: tuple[RefusedAnswer, ...], *, counted: bool, limit: int) -> Text:
    """The last refused answer behind a ballot, cut to `limit` characters, after what became of it."""
    answer = refused[-1]
    if counted:
        heading = "counted after a repair; the refused answer: "
    else:
        heading = "the answer: " if len(refused) == 1 else f"the last of {len(refused)} answers: "
    text = Text(heading, style="yellow")
    text.append_text(plain(clipped(answer.text, limit) or "(empty)", style="dim"))
    return text


class BallotCard(Widget):
    """A voter's ballot for the round on screen."""

    DEFAULT_CSS = """
    BallotCard {
        height: auto;
        padding: 0 0 0 1;
        border-left: outer $panel-lighten-2;
        margin-bottom: 1;
    }
    BallotCard.-human {
        border-left: outer $accent;
    }
    BallotCard.-waiting {
        border-left: outer $panel;
    }
    """

    card: reactive[VoterCard | None] = reactive(None, layout=True)
    """The voter and its ballot; None shows nothing."""

    def __init__(self, card: VoterCard | None = None) -> None:
        super().__init__()
        self.set_reactive(BallotCard.card, card)
        self._mark(card)

    def watch_card(self, card: VoterCard | None) -> None:
        self._mark(card)

    def _mark(self, card: VoterCard | None) -> None:
        self.set_class(card is not None and card.is_human, "-human")
        self.set_class(card is not None and card.ballot is None, "-waiting")

    def render(self) -> Text:
        card = self.card
        if card is None:
            return Text()
        line = Text(no_wrap=False)
        line.append_text(plain("you" if card.is_human else card.voter, style="bold"))
        line.append("  ")
        ballot = card.ballot
        if ballot is None:
            if not card.round_open:
                line.append("did not vote", style="dim italic")
            elif card.is_human:
                line.append("waiting for your ballot: press h", style="bold magenta")
            else:
                line.append("thinking…", style="dim italic")
            return line
        if ballot.is_abstention:
            reason = ballot.abstain_reason or "abstained"
            if not reason.startswith("abstained"):
                reason = f"abstained: {reason}"
            line.append_text(plain(reason, style="yellow italic"))
        else:
            line.append_text(confidence_meter(ballot.confidence))
            line.append("  ")
            line.append(" › ".join(card.ranking), style="bold cyan")
        if card.excluded:
            line.append("\n")
            line.append(f"own proposal excluded: {', '.join(card.excluded)}", style="dim")
        if ballot.reasoning:
            line.append("\n")
            # The width of the last layout: cheap to read, unlike `content_size`, which asks the compositor.
            width = self.outer_size.width - self.styles.gutter.width
            limit = max(MIN_REASONING_CHARS, int(REASONING_LINES * width))
            line.append_text(plain(clipped(ballot.reasoning, limit), style="italic"))
        if card.refused:
            line.append("\n")
            width = self.outer_size.width - self.styles.gutter.width
            limit = max(MIN_REASONING_CHARS, int(RAW_ANSWER_LINES * width))
            line.append_text(refused_text(card.refused, counted=not ballot.is_abstention, limit=limit))
        return line
