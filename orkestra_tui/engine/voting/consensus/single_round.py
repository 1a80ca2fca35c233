"""The single-round methods: one count per option, and a rule that reads the winner from it.

`unanimous`, `supermajority` and `majority` need a share of first preferences; `plurality`,
`weighted` (first preferences by voter weight) and `borda` (points by position in the ranking)
elect the option with the largest count. Each takes (electorate, threshold), like every method.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

from orkestra_tui.engine.voting.consensus.electorate import Electorate
from orkestra_tui.engine.voting.consensus.results import TallyResult, decided, round_counts, undecided
from orkestra_tui.engine.voting.consensus.wording import (
    ballots_noun,
    by_count,
    names_of,
    number_text,
    percent,
    plural,
    runner_up,
    standings,
)


def unanimous(electorate: Electorate, threshold: Fraction) -> TallyResult:
    firsts = electorate.first_preferences
    rounds = [{"counts": round_counts(electorate, firsts)}]
    leaders = by_count(firsts)
    if len(leaders) == 1:
        winner = leaders[0]
        every = (
            "the only cast ballot ranks"
            if electorate.cast == 1
            else f"all {electorate.cast} cast ballots rank"
        )
        reason = f"{electorate.options[winner]} won unanimously: {every} it first"
        return decided(
            "unanimous",
            electorate,
            winner=winner,
            rounds=rounds,
            support=Fraction(1),
            reason=reason,
        )
    reason = f"Not unanimous: {standings(electorate.options, firsts)}; no decision"
    return undecided("unanimous", electorate, rounds=rounds, reason=reason)


def supermajority(electorate: Electorate, threshold: Fraction) -> TallyResult:
    firsts, cast = electorate.first_preferences, electorate.cast
    rounds = [{"counts": round_counts(electorate, firsts)}]
    required = percent(threshold)
    qualified = [index for index, count in enumerate(firsts) if Fraction(count, cast) >= threshold]
    if not qualified:
        parts = [
            f"{electorate.options[index]} has {firsts[index]} "
            f"({percent(Fraction(firsts[index], cast), unlike=threshold)})"
            for index in by_count(firsts)
        ]
        reason = (
            f"No option has at least {required} of the {cast} "
            f"{ballots_noun(electorate.cast, electorate.total)}: {', '.join(parts)}"
        )
        return undecided("supermajority", electorate, rounds=rounds, reason=reason)
    # A threshold of one half or less can let several options qualify: the largest share wins.
    best = max(firsts[index] for index in qualified)
    leaders = [index for index in qualified if firsts[index] == best]
    if len(leaders) > 1:
        reason = (
            f"{names_of(electorate.options, leaders)} each reach the {required} threshold with "
            f"{best} of {cast} first preferences; no winner"
        )
        return undecided("supermajority", electorate, rounds=rounds, reason=reason, tied=leaders)
    winner = leaders[0]
    share = Fraction(best, cast)
    reason = (
        f"{electorate.options[winner]} won with {best} of {cast} first preferences "
        f"({percent(share, unlike=threshold)}), meeting the {required} threshold"
    )
    return decided("supermajority", electorate, winner=winner, rounds=rounds, support=share, reason=reason)


def majority(electorate: Electorate, threshold: Fraction) -> TallyResult:
    firsts, cast = electorate.first_preferences, electorate.cast
    rounds = [{"counts": round_counts(electorate, firsts)}]
    winners = [index for index, count in enumerate(firsts) if 2 * count > cast]
    if not winners:
        reason = (
            f"No option has more than half of the {cast} {ballots_noun(electorate.cast, electorate.total)}: "
            f"{standings(electorate.options, firsts)}"
        )
        return undecided("majority", electorate, rounds=rounds, reason=reason)
    winner = winners[0]
    share = Fraction(firsts[winner], cast)
    reason = (
        f"{electorate.options[winner]} won with {firsts[winner]} of {cast} first preferences "
        f"({percent(share, unlike=Fraction(1, 2))}), more than half"
    )
    return decided("majority", electorate, winner=winner, rounds=rounds, support=share, reason=reason)


def plurality(electorate: Electorate, threshold: Fraction) -> TallyResult:
    firsts, cast = electorate.first_preferences, electorate.cast

    def describe_win(winner: int) -> str:
        count = firsts[winner]
        return (
            f"{electorate.options[winner]} won with the most first preferences, {count} of "
            f"{cast} ({percent(Fraction(count, cast))}){runner_up(electorate.options, firsts, winner)}"
        )

    def describe_tie(leaders: list[int]) -> str:
        return (
            f"{names_of(electorate.options, leaders)} tied for the most first preferences with "
            f"{firsts[leaders[0]]} of {cast} each; no winner"
        )

    return _largest(
        "plurality",
        electorate,
        values=firsts,
        support_total=cast,
        describe_win=describe_win,
        describe_tie=describe_tie,
    )


def weighted(electorate: Electorate, threshold: Fraction) -> TallyResult:
    weights = electorate.first_weights
    total_weight = sum(weights, Fraction(0))
    if total_weight == 0:
        rounds = [{"counts": round_counts(electorate, weights)}]
        reason = "Every cast ballot has weight 0; no decision"
        return undecided("weighted", electorate, rounds=rounds, reason=reason)
    total_text = number_text(total_weight)

    def describe_win(winner: int) -> str:
        weight = weights[winner]
        return (
            f"{electorate.options[winner]} won with the largest first-preference weight, "
            f"{number_text(weight)} of {total_text} ({percent(weight / total_weight)})"
            f"{runner_up(electorate.options, weights, winner)}"
        )

    def describe_tie(leaders: list[int]) -> str:
        return (
            f"{names_of(electorate.options, leaders)} tied for the largest first-preference weight with "
            f"{number_text(weights[leaders[0]])} of {total_text} each; no winner"
        )

    return _largest(
        "weighted",
        electorate,
        values=weights,
        support_total=total_weight,
        describe_win=describe_win,
        describe_tie=describe_tie,
    )


def borda(electorate: Electorate, threshold: Fraction) -> TallyResult:
    option_count = len(electorate.options)
    points = [0] * option_count
    for ranking, count in electorate.rankings.items():
        for position, index in enumerate(ranking):
            points[index] += (option_count - 1 - position) * count

    def describe_win(winner: int) -> str:
        return (
            f"{electorate.options[winner]} won the Borda count with "
            f"{plural(points[winner], 'point')}{runner_up(electorate.options, points, winner)}"
        )

    def describe_tie(leaders: list[int]) -> str:
        return (
            f"{names_of(electorate.options, leaders)} tied for the most Borda points with "
            f"{points[leaders[0]]} each; no winner"
        )

    return _largest(
        "borda",
        electorate,
        values=points,
        support_total=sum(points),
        describe_win=describe_win,
        describe_tie=describe_tie,
    )


def _largest(
    method: str,
    electorate: Electorate,
    *,
    values: Sequence[int | Fraction],
    support_total: int | Fraction,
    describe_win: Callable[[int], str],
    describe_tie: Callable[[list[int]], str],
) -> TallyResult:
    """The option with the largest value wins; several with the largest are a tie."""
    best = max(values)
    leaders = [index for index, value in enumerate(values) if value == best]
    rounds = [{"counts": round_counts(electorate, values)}]
    if len(leaders) > 1:
        return undecided(method, electorate, rounds=rounds, reason=describe_tie(leaders), tied=leaders)
    winner = leaders[0]
    support = Fraction(values[winner]) / support_total if support_total else Fraction(1)
    return decided(
        method,
        electorate,
        winner=winner,
        rounds=rounds,
        support=support,
        reason=describe_win(winner),
    )
