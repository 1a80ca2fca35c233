"""Who mediates a deadlock's compromise, and how the choice is put on record.

A neutral agent first: any available agent (enabled, key not refused, circuit
not open), voter or not, that proposed none of the leading options and ranked
none of them first in the last round; the decision's voters before the other
agents, then the healthiest (best success rate, fewest failures, then name).

Failing that, the voter with the weakest preference mediates: of the available
voters that proposed none of the leading options, the one whose last ballot
gave the lowest confidence (the healthiest, then the first by name, between
equals). Confidence is what the voter itself said of its ranking, so it is the
measure of how strongly it holds its side. Its compromise is left off its own
ballot, as any author's is, and the round's note, the audit event and the
Voting screen say that it was not neutral.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orkestra_tui.engine.agents.pool import AgentPool
    from orkestra_tui.engine.models import Decision

WEAKEST = "the voter with the weakest preference"
"""How a mediator that is not neutral is named, in its compromise round's note."""


@dataclass(frozen=True)
class Mediator:
    """The agent chosen to propose a compromise, and whether it was neutral."""

    name: str
    neutral: bool
    confidence: float = 0.0
    """The confidence of its last ballot, when it is the voter with the weakest preference."""

    @property
    def note(self) -> str:
        """The compromise round's note: who mediates, and why when it is not neutral."""
        return f"compromise by {self.name}" + ("" if self.neutral else f", {WEAKEST}")

    @property
    def summary(self) -> str:
        """The audit event's summary."""
        if self.neutral:
            return f"{self.name} mediates a compromise: it backs none of the leading options"
        return (
            f"No neutral agent could mediate: {self.name}, {WEAKEST} (confidence {self.confidence:.2f}),"
            " mediates a compromise"
        )

    @property
    def data(self) -> dict[str, Any]:
        return {"neutral": self.neutral, **({} if self.neutral else {"confidence": self.confidence})}


def mediator_in(note: str) -> tuple[str, bool]:
    """The mediator named by a compromise round's note, and whether it was neutral."""
    rest = note.removeprefix("compromise by ").strip()
    name, _, why = rest.partition(", ")
    return name, why != WEAKEST


def choose_mediator(
    pool: AgentPool, decision: Decision, leaders: Sequence[str], voters: Sequence[str]
) -> Mediator | None:
    """Who mediates a compromise between `leaders`, or None if no agent can.

    `voters` are the decision's agents that can vote now.
    """
    from orkestra_tui.engine.agents.health import summarise

    store = pool.store
    last_round = max((item.round for item in store.rounds(decision.id)), default=0)
    ballots = {ballot.voter: ballot for ballot in store.ballots(decision.id, last_round)}
    backing = {voter for voter, ballot in ballots.items() if ballot.ranking and ballot.ranking[0] in leaders}
    authors = {decision.authors.get(option) for option in leaders}
    others = [name for name in pool.runtimes if name not in voters and pool.agent_available(name)]

    def health(name: str) -> tuple[float, int, str]:
        summary = summarise(name, store.calls(name, limit=200))
        return (
            -(summary.success_rate if summary.success_rate is not None else 1.0),
            summary.failures,
            name,
        )

    neutral = [name for name in [*voters, *others] if name not in backing and name not in authors]
    if neutral:
        return Mediator(min(neutral, key=lambda name: (name not in voters, *health(name))), neutral=True)
    partisans = [name for name in voters if name in backing and name not in authors]
    if not partisans:
        return None
    weakest = min(partisans, key=lambda name: (ballots[name].confidence, *health(name)))
    return Mediator(weakest, neutral=False, confidence=ballots[weakest].confidence)
