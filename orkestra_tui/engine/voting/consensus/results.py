"""The outcome of a tally, and the helpers every method uses to build one.

A decided result carries its winner and a consensus level (`unanimous`, `strong` or `split`)
read from the winner's share of first preferences among all the ballots, abstentions included:
one ballot of three is no unanimity. An undecided one carries the options that tied, if any.
`rounds` hold JSON-ready counts, exact while they are whole; `ballots`, `cast` and `quorum` say
how many ballots there were, how many counted, and how many had to for the quorum.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from orkestra_tui.engine.voting.consensus.electorate import Electorate
from orkestra_tui.engine.voting.consensus.wording import json_number

UNANIMOUS = "unanimous"
STRONG = "strong"
SPLIT = "split"
# Share of all ballots (abstentions included) that must rank the winner first for `strong`.
STRONG_SHARE = Fraction(4, 5)


@dataclass(frozen=True)
class TallyResult:
    """The outcome of a tally and everything needed to explain it.

    `rounds` holds JSON-ready dicts, each with `counts` for every option still in play;
    `support` and `participation` are shares in [0, 1]; `reason` is one sentence. `ballots` is
    every ballot, abstentions included; `cast` those that rank an option; `quorum` the cast
    ballots the quorum asked for (0 for none).
    """

    method: str
    winner: str | None
    tied: tuple[str, ...]
    rounds: tuple[dict[str, Any], ...]
    support: float
    participation: float
    consensus: str
    reason: str
    ballots: int
    cast: int
    quorum: int = 0

    @property
    def abstained(self) -> int:
        """Ballots that rank no option: refused, failed or invalid answers, and plain abstentions."""
        return self.ballots - self.cast

    @property
    def quorum_met(self) -> bool:
        return self.cast >= self.quorum

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict (a copy: changing it leaves the result alone)."""
        return {
            "method": self.method,
            "winner": self.winner,
            "tied": list(self.tied),
            "rounds": copy.deepcopy(list(self.rounds)),
            "support": self.support,
            "participation": self.participation,
            "consensus": self.consensus,
            "reason": self.reason,
            "ballots": self.ballots,
            "cast": self.cast,
            "abstained": self.abstained,
            "quorum": self.quorum,
            "quorum_met": self.quorum_met,
        }


def decided(
    method: str,
    electorate: Electorate,
    *,
    winner: int,
    rounds: Sequence[dict[str, Any]],
    support: Fraction,
    reason: str,
) -> TallyResult:
    """A result with `winner` (an option index), its consensus level read from first preferences.

    The level counts every ballot, abstentions included: a winner ranked first on the only
    ballot that counted, of three, has a split consensus, not a unanimous one.
    """
    first_share = Fraction(electorate.first_preferences[winner], electorate.total)
    consensus = SPLIT
    if first_share == 1:
        consensus = UNANIMOUS
    elif first_share >= STRONG_SHARE:
        consensus = STRONG
    return TallyResult(
        method=method,
        winner=electorate.options[winner],
        tied=(),
        rounds=tuple(rounds),
        support=float(support),
        participation=_participation(electorate),
        consensus=consensus,
        reason=reason,
        ballots=electorate.total,
        cast=electorate.cast,
    )


def undecided(
    method: str,
    electorate: Electorate,
    *,
    rounds: Sequence[dict[str, Any]],
    reason: str,
    tied: Iterable[int] = (),
) -> TallyResult:
    """A result with no winner; `tied` are the indexes of the options that tied, if any."""
    return TallyResult(
        method=method,
        winner=None,
        tied=tuple(electorate.options[index] for index in sorted(tied)),
        rounds=tuple(rounds),
        support=0.0,
        participation=_participation(electorate),
        consensus=SPLIT,
        reason=reason,
        ballots=electorate.total,
        cast=electorate.cast,
    )


def round_counts(
    electorate: Electorate, values: Sequence[int | Fraction], indexes: Iterable[int] | None = None
) -> dict[str, int | float]:
    """`{option: number}` in the order of the options, for `indexes` or every option."""
    chosen = range(len(electorate.options)) if indexes is None else sorted(indexes)
    return {electorate.options[index]: json_number(values[index]) for index in chosen}


def _participation(electorate: Electorate) -> float:
    return electorate.cast / electorate.total if electorate.total else 0.0
