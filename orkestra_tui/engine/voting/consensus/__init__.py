"""Exact, deterministic tallies of ranked ballots: one pure function per voting method.

Every decision the committee takes goes through `tally`. Arithmetic is exact: counts are
integers, and weights, thresholds and quorums become Fractions of the decimal the caller wrote
(0.1 is one tenth, not the nearest binary float), so no tie or threshold is decided by rounding.
Identical rankings are aggregated first, so the result never depends on the order of the ballots
and a large electorate costs little more than its distinct rankings. Abstentions (empty rankings)
count: the quorum and the consensus level are read over every ballot, and every reason says how
many abstained. This package does no I/O and imports nothing from the rest of the engine (but
the list of method names), nor textual or rich.

Its modules: `electorate` validates and aggregates the ballots, `wording` writes the reasons,
`results` builds a `TallyResult`, and the methods live in `single_round`, `runoff` (ranked
choice) and `schulze` (condorcet, over the head-to-head counts and paths of `pairwise`). A tally
takes at most MAX_OPTIONS options and MAX_BALLOTS ballots, and stays fast up to them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction

from orkestra_tui.engine.voting.consensus import runoff, schulze, single_round
from orkestra_tui.engine.voting.consensus.electorate import (
    MAX_BALLOTS,
    MAX_OPTIONS,
    BallotError,
    Electorate,
    RankedBallot,
    normalise_ballots,
    too_many_ballots,
    unit_share,
)
from orkestra_tui.engine.voting.consensus.results import TallyResult, undecided
from orkestra_tui.engine.voting.consensus.wording import (
    describe_value,
    percent,
    plural,
    printable,
    quote_name,
)
from orkestra_tui.engine.voting.methods import METHODS

__all__ = [
    "MAX_BALLOTS",
    "MAX_OPTIONS",
    "METHODS",
    "QUORUM_MAJORITY",
    "BallotError",
    "RankedBallot",
    "TallyResult",
    "printable",
    "quorum_ballots",
    "quorum_in_reason",
    "quote_name",
    "tally",
    "too_many_ballots",
]

# Every method is (electorate, threshold) -> TallyResult; only `supermajority` reads the threshold.
_METHOD_FUNCTIONS: dict[str, Callable[[Electorate, Fraction], TallyResult]] = {
    "unanimous": single_round.unanimous,
    "supermajority": single_round.supermajority,
    "majority": single_round.majority,
    "plurality": single_round.plurality,
    "ranked_choice": runoff.ranked_choice,
    "weighted": single_round.weighted,
    "borda": single_round.borda,
    "condorcet": schulze.condorcet,
}


QUORUM_MAJORITY = "majority"
"""The quorum that asks for more than half of the ballots to count, however many there are."""


def tally(
    method: str,
    options: Sequence[str],
    ballots: Iterable[RankedBallot],
    *,
    threshold: float = 0.75,
    quorum: float | str = 0.0,
) -> TallyResult:
    """Count `ballots` over `options` with `method`; raise BallotError on invalid input.

    `threshold` is the share `supermajority` needs (inclusive). `quorum` is the share of the
    ballots (abstentions included) that must rank an option for any method to decide anything,
    or QUORUM_MAJORITY for more than half of them. A result says how many abstained.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise BallotError(f"unknown method {describe_value(method)}; valid methods: {', '.join(METHODS)}")
    exact_threshold = unit_share("threshold", threshold)
    exact_quorum = _checked_quorum(quorum)
    electorate = normalise_ballots(options, ballots, with_weights=method == "weighted")
    required = quorum_ballots(exact_quorum, electorate.total)
    if electorate.cast < required:
        if electorate.total == 0:
            reason = f"There are no ballots, so the quorum of {quorum_in_reason(exact_quorum)} is not met"
        else:
            participation = Fraction(electorate.cast, electorate.total)
            unlike = exact_quorum if isinstance(exact_quorum, Fraction) else None
            shown = percent(participation, unlike=unlike)
            reason = (
                f"Participation {shown} ({electorate.cast} of {electorate.total} ballots, "
                f"{electorate.total - electorate.cast} abstained) is below the quorum of "
                f"{quorum_in_reason(exact_quorum, electorate.total)}"
            )
        result = undecided(method, electorate, rounds=(), reason=f"{reason}; no decision")
        return dataclasses.replace(result, quorum=required)
    if electorate.cast == 0:
        reason = "No ballots were cast"
        if electorate.total:
            reason = f"All {plural(electorate.total, 'ballot')} abstained"
        result = undecided(method, electorate, rounds=(), reason=f"{reason}; no decision")
        return dataclasses.replace(result, quorum=required)
    result = _METHOD_FUNCTIONS[method](electorate, exact_threshold)
    reason = result.reason
    if result.abstained:
        reason += f"; {result.abstained} of the {plural(result.ballots, 'ballot')} abstained"
    return dataclasses.replace(result, quorum=required, reason=reason)


def quorum_ballots(quorum: Fraction | str, ballots: int) -> int:
    """How many of `ballots` must rank an option to meet `quorum` (a share, or QUORUM_MAJORITY)."""
    checked = _checked_quorum(quorum)
    if isinstance(checked, str):
        return ballots // 2 + 1
    if ballots == 0:
        return int(checked > 0)  # no ballots meet no quorum but none
    return math.ceil(checked * ballots)


def quorum_in_reason(quorum: Fraction | str, ballots: int | None = None) -> str:
    """The quorum as a reason says it: `50%` or `a majority`, with `(2 of 3)` when `ballots` is given."""
    checked = _checked_quorum(quorum)
    words = "a majority" if isinstance(checked, str) else percent(checked)
    if ballots is None:
        return words
    return f"{words} ({quorum_ballots(quorum, ballots)} of {ballots})"


def _checked_quorum(quorum: object) -> Fraction | str:
    """`quorum` as a tally takes it: QUORUM_MAJORITY or an exact share; BallotError otherwise."""
    if quorum == QUORUM_MAJORITY:
        return QUORUM_MAJORITY
    if isinstance(quorum, str):
        raise BallotError(
            f'quorum must be "{QUORUM_MAJORITY}" or a number from 0 to 1, not {describe_value(quorum)}'
        )
    return unit_share("quorum", quorum)
