"""What the Voting screen (and a decision record) shows of one decision, read from the store in one go.

The screen builds a `DecisionView` on each refresh and hands its parts down;
each widget compares the part it shows with the one it is given and redraws
only when it changed. This module is plain data and the rules for deriving it
from the store (no widgets, no Textual, no styles: how a status looks is the TUI's).

Every option is shown by one stable letter for the whole decision
(`stable_labels`): A is the first option as the question was put, and an
option added later (a compromise) takes the next free letter. The letters the
voters saw in their prompts are shuffled afresh each round and stay there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orkestra_tui.engine.agents.raw_answers import RefusedAnswer, refused_ballot_answers
from orkestra_tui.engine.models import (
    HUMAN_VOTER,
    Ballot,
    Decision,
    DecisionRound,
    DecisionStatus,
    Feedback,
    RoundStatus,
)
from orkestra_tui.engine.store.store import Store
from orkestra_tui.engine.voting.committee import STEP_NAMES, option_labels
from orkestra_tui.engine.voting.mediation import WEAKEST, mediator_in

COUNT_TITLES = {
    "borda": "Borda points",
    "weighted": "weighted first choices",
}
"""What a closed round's counts are, for the methods whose counts are not plain first choices."""


@dataclass(frozen=True)
class VoterCard:
    """One voter's part in the round on screen: its ballot, or that it is still awaited."""

    voter: str
    ballot: Ballot | None
    """None while the voter has not voted (or did not vote, once the round is closed)."""
    ranking: tuple[str, ...] = ()
    """The ballot's ranking as round labels."""
    excluded: tuple[str, ...] = ()
    """Labels of the voter's own proposals, left off its ballot."""
    round_open: bool = False
    refused: tuple[RefusedAnswer, ...] = ()
    """The voter's answers this round that could not be used, oldest first: behind an abstention, or
    behind a ballot that counted only after its repair."""

    @property
    def is_human(self) -> bool:
        return self.voter == HUMAN_VOTER


@dataclass(frozen=True)
class TallyPart:
    """A bar per option: the round's counts, live while it is open."""

    title: str
    rows: tuple[tuple[str, str, float], ...]
    """(label, option, count), in the order of the labels."""
    total: float
    """What the percentages are of."""
    winner: str | None = None
    tied: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()
    """Voters whose ballots the open round still waits for."""


@dataclass(frozen=True)
class RunoffStep:
    """One count of an instant runoff."""

    number: int
    counts: tuple[tuple[str, float], ...]
    """(label, votes) for the options still in the race."""
    eliminated: str | None
    """The label eliminated after this count, if any."""
    exhausted: int
    tie_break: str | None
    """How a tie for fewest votes was broken, in words."""


@dataclass(frozen=True)
class PairwisePart:
    """Head-to-head counts: `beats[row][column]` voters rank row above column."""

    labels: tuple[str, ...]
    beats: tuple[tuple[int | None, ...], ...]
    winner: str | None
    """The winner's label, if the round has one."""


@dataclass(frozen=True)
class Notice:
    """A line about how the decision is going: a deadlock, a compromise, a fallback..."""

    kind: str
    """deadlock, compromise, tie_break, fallback, decided or no_decision."""
    text: str


@dataclass(frozen=True)
class DecisionView:
    """Everything the detail pane shows of a decision, as of one read of the store."""

    decision: Decision
    round_number: int
    """The round on screen: the one under way, or the last one held (0 before the first)."""
    round_open: bool
    labels: dict[str, str]
    """Option to its stable label (the same in every round and on every surface)."""
    tally: TallyPart
    cards: tuple[VoterCard, ...]
    runoff: tuple[RunoffStep, ...]
    pairwise: PairwisePart | None
    round_winner: str | None
    """The option the round on screen elected by its own count, if any (a tie-break may elect another)."""
    result: dict[str, Any] | None
    """The last closed round's tally (or the outcome, once decided): reason, consensus, support."""
    notices: tuple[Notice, ...]
    calls: int
    tokens: int
    cost: float
    estimate: float | None
    """The estimated cost of the round under way, if one is."""
    feedback: tuple[Feedback, ...] = ()
    round_note: str = ""
    """What the round on screen is for, if it is not an ordinary one (a compromise round)."""

    @property
    def round_heading(self) -> str:
        """The round on screen in words: "Round 1 of 3" or "Extra round 4 (compromise)"."""
        return round_heading(self.round_number, self.decision.max_rounds, self.round_note)

    @property
    def human_can_vote(self) -> bool:
        """The human votes on this decision and a round is waiting for ballots."""
        return self.round_open and HUMAN_VOTER in self.decision.voters and self.decision.status.is_open

    @property
    def human_ballot(self) -> Ballot | None:
        return next((card.ballot for card in self.cards if card.is_human), None)


def read_decision_view(store: Store, decision_id: int) -> DecisionView | None:
    """The view of one decision, or None if there is no such decision."""
    decision = store.decision(decision_id)
    if decision is None:
        return None
    rounds = store.rounds(decision_id)
    current = rounds[-1] if rounds else None
    round_number = current.round if current else 0
    options = current.options if current else decision.options
    labels = stable_labels(decision, rounds)
    ballots = store.ballots(decision_id, round_number) if round_number else []
    round_open = current is not None and current.status is RoundStatus.OPEN
    closed = [item for item in rounds if item.status is RoundStatus.CLOSED]
    result = decision.outcome if decision.outcome else (closed[-1].tally if closed else None)
    shown_tally = current.tally if current is not None and not round_open else None
    winner = (decision.outcome or shown_tally or {}).get("winner")
    calls, tokens, cost = store.decision_cost(decision_id)
    return DecisionView(
        decision=decision,
        round_number=round_number,
        round_open=round_open,
        labels=labels,
        tally=_tally_part(
            decision=decision,
            options=options,
            labels=labels,
            ballots=ballots,
            tally=shown_tally,
            round_number=round_number,
            note=current.note if current else "",
            winner=winner,
        ),
        cards=_cards(
            decision,
            ballots,
            labels,
            round_open,
            refused_ballot_answers(store, decision_id, round_number) if ballots else {},
        ),
        runoff=runoff_steps(shown_tally, labels),
        pairwise=pairwise_part(shown_tally, labels),
        round_winner=str(shown_tally["winner"]) if shown_tally and shown_tally.get("winner") else None,
        result=result,
        notices=_notices(decision, rounds, labels),
        calls=calls,
        tokens=tokens,
        cost=cost,
        estimate=current.estimate if current is not None and round_open else None,
        feedback=tuple(store.feedback(decision_id)),
        round_note=current.note if current else "",
    )


def stable_labels(decision: Decision, rounds: Sequence[DecisionRound] = ()) -> dict[str, str]:
    """Option to its letter for the whole decision: the question's options in order, then later ones.

    Only what a human sees uses these; the prompts keep their own shuffled
    letters so that no option gains from coming first.
    """
    later = (option for item in rounds for option in item.options)
    ordered = list(dict.fromkeys([*decision.options, *later]))
    return dict(zip(ordered, option_labels(len(ordered)), strict=True))


def stable_labels_of(store: Store, decision_id: int) -> dict[str, str]:
    """`stable_labels` of a decision read from the store (empty if there is no such decision)."""
    decision = store.decision(decision_id)
    return stable_labels(decision, store.rounds(decision_id)) if decision is not None else {}


def round_heading(number: int, max_rounds: int, note: str = "") -> str:
    """A voting round in words, told apart from an extra round held after the last planned one."""
    if not number:
        return "Not started"
    heading = f"Round {number} of {max_rounds}" if number <= max_rounds else f"Extra round {number}"
    return heading + (f" ({note})" if note else "")


def method_name(method: str) -> str:
    return method.replace("_", " ")


def _tally_part(
    *,
    decision: Decision,
    options: tuple[str, ...],
    labels: dict[str, str],
    ballots: list[Ballot],
    tally: dict[str, Any] | None,
    round_number: int,
    note: str,
    winner: str | None,
) -> TallyPart:
    heading = round_heading(round_number, decision.max_rounds, note)
    counted = [ballot for ballot in ballots if ballot.ranking]
    tally_rounds = (tally or {}).get("rounds") or []
    if tally is not None and tally_rounds:
        counts = {str(option): float(count) for option, count in tally_rounds[0].get("counts", {}).items()}
        what = COUNT_TITLES.get(str(tally.get("method")), "first choices")
        total = sum(counts.values())
        title = f"{heading} · {what}"
    else:
        firsts = Counter(ballot.ranking[0] for ballot in counted)
        counts = {option: float(firsts[option]) for option in options}
        total = float(len(counted))
        voters = len(decision.voters)
        title = f"{heading} · first choices"
        if tally is None:
            title += f", {len(ballots)} of {voters} ballots in"
    rows = tuple(sorted((labels.get(option, "?"), option, counts.get(option, 0.0)) for option in options))
    tied = tuple(str(option) for option in (tally or {}).get("tied") or [])
    voted = {ballot.voter for ballot in ballots}
    waiting = tuple(voter for voter in decision.voters if voter not in voted) if tally is None else ()
    return TallyPart(
        title=title,
        rows=rows,
        total=total,
        winner=str(winner) if winner else None,
        tied=tied,
        waiting=waiting if round_number else (),
    )


def _cards(
    decision: Decision,
    ballots: list[Ballot],
    labels: dict[str, str],
    round_open: bool,
    refused: dict[str, list[RefusedAnswer]],
) -> tuple[VoterCard, ...]:
    by_voter = {ballot.voter: ballot for ballot in ballots}
    voters = list(decision.voters) + [voter for voter in by_voter if voter not in decision.voters]
    cards = []
    for voter in voters:
        ballot = by_voter.get(voter)
        cards.append(
            VoterCard(
                voter=voter,
                ballot=ballot,
                ranking=tuple(labels.get(option, "?") for option in ballot.ranking) if ballot else (),
                excluded=tuple(labels.get(option, "?") for option in ballot.excluded) if ballot else (),
                round_open=round_open,
                refused=tuple(refused.get(voter, ())) if ballot else (),
            )
        )
    return tuple(cards)


def runoff_steps(tally: dict[str, Any] | None, labels: dict[str, str]) -> tuple[RunoffStep, ...]:
    if not tally or tally.get("method") != "ranked_choice" or len(tally.get("rounds") or []) < 2:
        return ()
    steps = []
    for number, record in enumerate(tally.get("rounds") or [], start=1):
        eliminated = record.get("eliminated")
        steps.append(
            RunoffStep(
                number=int(record.get("round", number)),
                counts=tuple(
                    sorted(
                        (labels.get(str(option), "?"), float(count))
                        for option, count in record.get("counts", {}).items()
                    )
                ),
                eliminated=labels.get(str(eliminated), "?") if eliminated else None,
                exhausted=int(record.get("exhausted") or 0),
                tie_break=str(record["tie_break"]) if record.get("tie_break") else None,
            )
        )
    return tuple(steps)


def pairwise_part(tally: dict[str, Any] | None, labels: dict[str, str]) -> PairwisePart | None:
    if not tally or tally.get("method") != "condorcet" or not tally.get("rounds"):
        return None
    table: dict[str, dict[str, int]] = tally["rounds"][0].get("pairwise") or {}
    options = sorted(table, key=lambda option: labels.get(option, "?"))
    beats = tuple(
        tuple(None if row == column else int(table[row].get(column, 0)) for column in options)
        for row in options
    )
    winner = tally.get("winner")
    return PairwisePart(
        labels=tuple(labels.get(option, "?") for option in options),
        beats=beats,
        winner=labels.get(str(winner)) if winner else None,
    )


def _notices(decision: Decision, rounds: list[DecisionRound], labels: dict[str, str]) -> tuple[Notice, ...]:
    notices: list[Notice] = []
    outcome = decision.outcome or {}
    if decision.resolution or decision.status is DecisionStatus.DEADLOCKED:
        held = [item.round for item in rounds if item.status is RoundStatus.CLOSED and not item.note]
        after = f" after round {held[-1]}" if held else ""
        steps = " → ".join(STEP_NAMES.get(step, step) for step in decision.resolution)
        text = f"Deadlock{after}" + (f"; resolution: {steps}" if steps else "")
        notices.append(Notice("deadlock", text))
    compromise_rounds = [item for item in rounds if item.note.startswith("compromise")]
    for item in compromise_rounds:
        mediator, neutral = mediator_in(item.note)
        proposed = [
            option for option in item.options if decision.authors.get(option) == mediator and option in labels
        ]
        what = f" {labels[proposed[0]]} ({proposed[0]})" if proposed else ""
        by = mediator if neutral else f"{mediator} ({WEAKEST}: no agent was neutral)"
        notices.append(Notice("compromise", f"Compromise{what} by {by}, voted on in round {item.round}"))
    moved_on = any(step != "compromise" for step in decision.resolution) or not decision.status.is_open
    if "compromise" in decision.resolution and not compromise_rounds and moved_on:
        notices.append(Notice("compromise", "No compromise was put to the vote: no agent could mediate"))
    if decision.status is DecisionStatus.AWAITING_HUMAN:
        notices.append(Notice("tie_break", "Waiting for your tie-break: press ctrl+t"))
    how = outcome.get("how")
    winner = outcome.get("winner")
    if how == "human tie-break":
        notices.append(Notice("tie_break", f"You broke the tie: {winner}"))
    elif how == "policy tie-break":
        by = str(outcome.get("tie_break_by", "policy"))
        notices.append(Notice("tie_break", f"Tie broken by {by}: {winner}"))
    elif how == "fallback":
        notices.append(Notice("fallback", f"Fallback: plurality over the last round chose {winner}"))
    elif how == "compromise":
        notices.append(Notice("decided", f"The compromise round decided: {winner}"))
    elif decision.status is DecisionStatus.NO_DECISION:
        notices.append(Notice("no_decision", str(outcome.get("reason") or "No decision")))
    return tuple(notices)
