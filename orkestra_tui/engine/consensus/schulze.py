"""Condorcet by the Schulze method: head-to-head counts, then the strongest paths between options.

An option that beats every other head to head wins; without one, the option whose strongest
paths (by winning votes) to every rival are at least as strong as theirs back wins, and several
such options tie. The pairwise and path tables go into the single round of the result.
"""

from __future__ import annotations

from fractions import Fraction

from orkestra_tui.engine.consensus.electorate import Electorate
from orkestra_tui.engine.consensus.results import TallyResult, decided, round_counts, undecided
from orkestra_tui.engine.consensus.wording import names_of


def condorcet(electorate: Electorate, threshold: Fraction) -> TallyResult:
    beats = _pairwise(electorate)
    paths = _strongest_paths(beats)
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


def _pairwise(electorate: Electorate) -> list[list[int]]:
    """`beats[x][y]`: voters ranking x above y (a ranked option is above every unranked one).

    Each ranked option is accumulated under the bitmask of the options ranked above it, so the
    work grows with the distinct (option, set above it) pairs rather than with the pairs of
    options on every ballot.
    """
    option_count = len(electorate.options)
    bits = [1 << index for index in range(option_count)]
    voters_by_mask_above: list[dict[int, int]] = [{} for _ in range(option_count)]
    for ranking, count in electorate.rankings.items():
        mask = 0
        for index in ranking:
            by_mask = voters_by_mask_above[index]
            by_mask[mask] = by_mask.get(mask, 0) + count
            mask |= bits[index]
    ranked_by = [sum(by_mask.values()) for by_mask in voters_by_mask_above]
    # both_ranked_above[x][y]: voters ranking both, x above y.
    both_ranked_above = [[0] * option_count for _ in range(option_count)]
    for lower, by_mask in enumerate(voters_by_mask_above):
        for mask, count in by_mask.items():
            remaining = mask
            while remaining:
                lowest_bit = remaining & -remaining
                both_ranked_above[lowest_bit.bit_length() - 1][lower] += count
                remaining ^= lowest_bit
    # x is above y on every ballot ranking x, except those ranking y above x.
    return [
        [0 if x == y else ranked_by[x] - both_ranked_above[y][x] for y in range(option_count)]
        for x in range(option_count)
    ]


def _strongest_paths(beats: list[list[int]]) -> list[list[int]]:
    """Schulze's widest paths over links weighted by winning votes (Floyd-Warshall)."""
    size = len(beats)
    paths = [[beats[x][y] if beats[x][y] > beats[y][x] else 0 for y in range(size)] for x in range(size)]
    for via in range(size):
        for start in range(size):
            to_via = paths[start][via]
            if start == via or to_via == 0:
                continue
            row = paths[start]
            for end in range(size):
                if end not in (start, via):
                    row[end] = max(row[end], min(to_via, paths[via][end]))
    return paths


def _table(electorate: Electorate, matrix: list[list[int]]) -> dict[str, dict[str, int]]:
    options = electorate.options
    return {
        options[x]: {options[y]: matrix[x][y] for y in range(len(options)) if y != x}
        for x in range(len(options))
    }
