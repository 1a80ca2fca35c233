"""Exact, deterministic tallies of ranked ballots: one pure function per voting method.

Every decision the committee takes goes through `tally`. Arithmetic is exact: counts are
integers, and weights, thresholds and quorums become Fractions of the decimal the caller wrote
(0.1 is one tenth, not the nearest binary float), so no tie or threshold is decided by rounding.
Identical rankings are aggregated first, so the result never depends on the order of the ballots
and a large electorate costs little more than its distinct rankings. This package does no I/O and
imports nothing from the rest of the engine (but the list of method names), nor textual or rich.

Its modules: `electorate` validates and aggregates the ballots, `wording` writes the reasons,
`results` builds a `TallyResult`, and the methods live in `single_round`, `runoff` (ranked
choice) and `schulze` (condorcet, over the head-to-head counts and paths of `pairwise`). A tally
takes at most MAX_OPTIONS options and MAX_BALLOTS ballots, and stays fast up to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction

from orkestra_tui.engine.consensus import runoff, schulze, single_round
from orkestra_tui.engine.consensus.electorate import (
    MAX_BALLOTS,
    MAX_OPTIONS,
    BallotError,
    Electorate,
    RankedBallot,
    normalise_ballots,
    too_many_ballots,
    unit_share,
)
from orkestra_tui.engine.consensus.results import TallyResult, undecided
from orkestra_tui.engine.consensus.wording import describe_value, percent, plural, printable, quote_name
from orkestra_tui.engine.methods import METHODS

__all__ = [
    "MAX_BALLOTS",
    "MAX_OPTIONS",
    "METHODS",
    "BallotError",
    "RankedBallot",
    "TallyResult",
    "printable",
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


def tally(
    method: str,
    options: Sequence[str],
    ballots: Iterable[RankedBallot],
    *,
    threshold: float = 0.75,
    quorum: float = 0.0,
) -> TallyResult:
    """Count `ballots` over `options` with `method`; raise BallotError on invalid input.

    `threshold` is the share `supermajority` needs (inclusive); `quorum` is the participation
    below which no method decides anything.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise BallotError(f"unknown method {describe_value(method)}; valid methods: {', '.join(METHODS)}")
    exact_threshold = unit_share("threshold", threshold)
    exact_quorum = unit_share("quorum", quorum)
    electorate = normalise_ballots(options, ballots, with_weights=method == "weighted")
    participation = Fraction(electorate.cast, electorate.total) if electorate.total else Fraction(0)
    if participation < exact_quorum:
        if electorate.total == 0:
            reason = f"There are no ballots, so the quorum of {percent(exact_quorum)} is not met"
        else:
            shown, required = percent(participation, unlike=exact_quorum), percent(exact_quorum)
            reason = (
                f"Participation {shown} ({electorate.cast} of {electorate.total} ballots) "
                f"is below the quorum of {required}"
            )
        return undecided(method, electorate, rounds=(), reason=f"{reason}; no decision")
    if electorate.cast == 0:
        reason = "No ballots were cast"
        if electorate.total:
            reason = f"All {plural(electorate.total, 'ballot')} abstained"
        return undecided(method, electorate, rounds=(), reason=f"{reason}; no decision")
    return _METHOD_FUNCTIONS[method](electorate, exact_threshold)
