"""Condorcet by the Schulze method: head-to-head counts, then the strongest paths between options.

An option that beats every other head to head wins; without one, the option whose strongest
paths (by winning votes) to every rival are at least as strong as theirs back wins, and several
such options tie. The pairwise and path tables go into the single round of the result.
"""

from __future__ import annotations

from fractions import Fraction

from orkestra_tui.engine.voting.consensus.electorate import Electorate
from orkestra_tui.engine.voting.consensus.pairwise import pairwise_counts, strongest_paths
from orkestra_tui.engine.voting.consensus.results import TallyResult, decided, round_counts, undecided
from orkestra_tui.engine.voting.consensus.wording import names_of


def condorcet(electorate: Electorate, threshold: Fraction) -> TallyResult:
    beats = pairwise_counts(electorate)
    paths = strongest_paths(beats)
    size = len(electorate.options)
    others = {x: [y for y in range(size) if y != x] for x in range(size)}
    rounds = [
        {
            "counts": round_counts(electorate, electorate.first_preferences),
            "pairwise": _table(electorate, beats),
            "strongest_paths": _table(electorate, paths),
        }
    ]
    winners = [x for x in range(size) if all(paths[x][y] >= paths[y][x] for y in others[x])]
    if len(winners) != 1:
        reason = (
            f"{names_of(electorate.options, winners)} tie under the Schulze method: none has a stronger "
            "path to the others than they have back; no winner"
        )
        return undecided("condorcet", electorate, rounds=rounds, reason=reason, tied=winners)
    winner = winners[0]
    name = electorate.options[winner]
    contested = [y for y in others[winner] if beats[winner][y] + beats[y][winner]]
    shares = {y: Fraction(beats[winner][y], beats[winner][y] + beats[y][winner]) for y in contested}
    closest = min(contested, key=lambda y: shares[y], default=None)
    if closest is None:
        reason = f"{name} won: it is the only option anyone could compare"
        if size == 1:
            reason = f"{name} won as the only option"
        return decided(
            "condorcet",
            electorate,
            winner=winner,
            rounds=rounds,
            support=Fraction(1),
            reason=reason,
        )
    closest_text = (
        f"{beats[winner][closest]} to {beats[closest][winner]} against {electorate.options[closest]}"
    )
    if all(beats[winner][y] > beats[y][winner] for y in others[winner]):
        reason = f"{name} beats every other option head to head (closest: {closest_text})"
    else:
        reason = (
            f"No option beats every other head to head; {name} won by the Schulze method, "
            f"with the strongest paths to every rival (its weakest contest: {closest_text})"
        )
    return decided(
        "condorcet",
        electorate,
        winner=winner,
        rounds=rounds,
        support=shares[closest],
        reason=reason,
    )


def _table(electorate: Electorate, matrix: list[list[int]]) -> dict[str, dict[str, int]]:
    options = electorate.options
    return {
        options[x]: {options[y]: matrix[x][y] for y in range(len(options)) if y != x}
        for x in range(len(options))
    }
