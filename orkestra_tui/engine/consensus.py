"""Exact, deterministic tallies of ranked ballots: one pure function per voting method.

Every decision the committee takes goes through `tally`. Arithmetic is exact: counts are
integers, and weights, thresholds and quorums become Fractions of the decimal the caller wrote
(0.1 is one tenth, not the nearest binary float), so no tie or threshold is decided by rounding.
Identical rankings are aggregated first, so the result never depends on the order of the ballots
and a large electorate costs little more than its distinct rankings. This module does no I/O and
imports nothing from the rest of the engine (but the list of method names), nor textual or rich.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from orkestra_tui.engine.methods import METHODS

__all__ = ["METHODS", "BallotError", "RankedBallot", "TallyResult", "tally"]

UNANIMOUS = "unanimous"
STRONG = "strong"
SPLIT = "split"
# Share of cast ballots that must rank the winner first for a `strong` consensus.
STRONG_SHARE = Fraction(4, 5)


class BallotError(ValueError):
    """Invalid input to a tally, described in one line that names the ballot at fault."""


@dataclass(frozen=True)
class RankedBallot:
    """One voter's ranking of options, best first; empty means an abstention.

    `count` stands for that many identical voters; `weight` only matters to `weighted`.
    """

    voter: str
    ranking: tuple[str, ...]
    weight: float = 1.0
    count: int = 1

    def __post_init__(self) -> None:
        # Accept a list from careless callers, but keep the ballot hashable and immutable.
        ranking: object = self.ranking
        if isinstance(ranking, list):
            object.__setattr__(self, "ranking", tuple(ranking))


@dataclass(frozen=True)
class TallyResult:
    """The outcome of a tally and everything needed to explain it.

    `rounds` holds JSON-ready dicts, each with `counts` for every option still in play;
    `support` and `participation` are shares in [0, 1]; `reason` is one sentence.
    """

    method: str
    winner: str | None
    tied: tuple[str, ...]
    rounds: tuple[dict[str, Any], ...]
    support: float
    participation: float
    consensus: str
    reason: str

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
        }


@dataclass(frozen=True)
class _Electorate:
    """Validated ballots reduced to what every method needs; options are referred to by index."""

    options: tuple[str, ...]
    # Distinct non-empty rankings (option indexes, best first) and how many voters cast each.
    rankings: dict[tuple[int, ...], int]
    first_preferences: tuple[int, ...]
    # Sum of first-preference weights per option; only filled in for `weighted`.
    first_weights: tuple[Fraction, ...]
    cast: int
    total: int


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
        raise BallotError(f"unknown method {_describe(method)}; valid methods: {', '.join(METHODS)}")
    exact_threshold = _unit_share("threshold", threshold)
    exact_quorum = _unit_share("quorum", quorum)
    electorate = _normalise(options, ballots, with_weights=method == "weighted")
    participation = Fraction(electorate.cast, electorate.total) if electorate.total else Fraction(0)
    if participation < exact_quorum:
        if electorate.total == 0:
            reason = f"There are no ballots, so the quorum of {_percent(exact_quorum)} is not met"
        else:
            shown, required = _percent(participation, unlike=exact_quorum), _percent(exact_quorum)
            reason = (
                f"Participation {shown} ({electorate.cast} of {electorate.total} ballots) "
                f"is below the quorum of {required}"
            )
        return _undecided(method, electorate, rounds=(), reason=f"{reason}; no decision")
    if electorate.cast == 0:
        reason = "No ballots were cast"
        if electorate.total:
            reason = f"All {_plural(electorate.total, 'ballot')} abstained"
        return _undecided(method, electorate, rounds=(), reason=f"{reason}; no decision")
    return _METHOD_FUNCTIONS[method](electorate, exact_threshold)


def quote_name(text: str) -> str:
    """`text` in double quotes, with quotes, backslashes and unprintable characters escaped.

    Option and voter names are user (or agent) data: quoted this way they can neither break a
    one-line message nor smuggle control sequences into a terminal.
    """
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + printable(escaped) + '"'


def printable(text: str) -> str:
    """`text` with every unprintable character (newline, ESC, ...) replaced by its escape."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text
    )


# Validation and normalisation


def _normalise(options: Sequence[str], ballots: Iterable[RankedBallot], *, with_weights: bool) -> _Electorate:
    """Validate every ballot and aggregate identical rankings, in one pass over the ballots."""
    index_of = _option_indexes(options)
    option_set = frozenset(index_of)
    voters_by_ranking: dict[tuple[str, ...], int] = {}
    voters_by_first_and_weight: dict[tuple[str, float], int] = {}
    total = 0
    for number, ballot in enumerate(ballots, start=1):
        if not isinstance(ballot, RankedBallot):
            raise BallotError(f"ballot {number} is a {type(ballot).__name__}, not a RankedBallot")
        count = ballot.count
        # The common case is checked inline; anything unusual goes to the slow, precise checks.
        if type(count) is not int or count < 0:
            count = _checked_count(ballot, number)
        weight = ballot.weight
        if not (type(weight) is float or type(weight) is int) or not 0 <= weight < math.inf:
            _exact_weight(ballot, number)
        if type(ballot.voter) is not str:
            raise BallotError(f"ballot {number}: voter must be a string, not {_describe(ballot.voter)}")
        ranking = ballot.ranking
        try:
            known_count = voters_by_ranking.get(ranking)
        except TypeError:  # an unhashable ranking or entry, such as a list
            known_count = None
        if known_count is None:
            # A new ranking: valid when it is a tuple of distinct options (checked in C first).
            try:
                valid = (
                    type(ranking) is tuple
                    and option_set.issuperset(ranking)
                    and len(set(ranking)) == len(ranking)
                )
            except TypeError:
                valid = False
            if not valid:
                _check_ranking(ranking, index_of, ballot, number)
            voters_by_ranking[ranking] = count
        else:
            voters_by_ranking[ranking] = known_count + count
        if with_weights and ranking:
            key = (ranking[0], weight)
            voters_by_first_and_weight[key] = voters_by_first_and_weight.get(key, 0) + count
        total += count

    return _aggregate(
        index_of,
        voters_by_ranking=voters_by_ranking,
        voters_by_first_and_weight=voters_by_first_and_weight,
        total=total,
    )


def _option_indexes(options: Sequence[str]) -> dict[str, int]:
    """Each option's index, once the options are known to be distinct non-empty strings."""
    if isinstance(options, str):
        raise BallotError(f"options must be a sequence of option names, not {_describe(options)}")
    option_names = tuple(options)
    for position, name in enumerate(option_names, start=1):
        if not isinstance(name, str) or not name:
            raise BallotError(f"option {position} must be a non-empty string, not {_describe(name)}")
    index_of = {name: index for index, name in enumerate(option_names)}
    if len(index_of) != len(option_names):
        repeated = next(name for name in option_names if option_names.count(name) > 1)
        raise BallotError(f"option {quote_name(repeated)} is listed twice")
    return index_of


def _aggregate(
    index_of: dict[str, int],
    *,
    voters_by_ranking: dict[tuple[str, ...], int],
    voters_by_first_and_weight: dict[tuple[str, float], int],
    total: int,
) -> _Electorate:
    """The electorate from validated tallies of rankings (and of first choices by weight)."""
    rankings: dict[tuple[int, ...], int] = {}
    first_preferences = [0] * len(index_of)
    for ranking, count in voters_by_ranking.items():
        if ranking and count:
            indexes = tuple(map(index_of.__getitem__, ranking))
            rankings[indexes] = count
            first_preferences[indexes[0]] += count
    first_weights = [Fraction(0)] * len(index_of)
    exact_weights: dict[float, Fraction] = {}
    for (first, weight), count in voters_by_first_and_weight.items():
        if weight not in exact_weights:
            exact_weights[weight] = _exact(weight)
        first_weights[index_of[first]] += exact_weights[weight] * count
    return _Electorate(
        options=tuple(index_of),
        rankings=rankings,
        first_preferences=tuple(first_preferences),
        first_weights=tuple(first_weights),
        cast=sum(first_preferences),
        total=total,
    )


def _ballot_label(ballot: RankedBallot, number: int) -> str:
    if isinstance(ballot.voter, str) and ballot.voter:
        return f"ballot {number} (voter {quote_name(ballot.voter)})"
    return f"ballot {number}"


def _check_ranking(ranking: object, index_of: dict[str, int], ballot: RankedBallot, number: int) -> None:
    label = _ballot_label(ballot, number)
    if not isinstance(ranking, tuple):
        raise BallotError(f"{label}: ranking must be a sequence of option names, not {_describe(ranking)}")
    seen: set[str] = set()
    for name in ranking:
        if not isinstance(name, str):
            raise BallotError(f"{label}: ranking entries must be option names, not {_describe(name)}")
        if name not in index_of:
            raise BallotError(f"{label} ranks {quote_name(name)}, which is not an option")
        if name in seen:
            raise BallotError(f"{label} ranks {quote_name(name)} twice")
        seen.add(name)


def _checked_count(ballot: RankedBallot, number: int) -> int:
    count: object = ballot.count
    whole: int | None = None
    if isinstance(count, int) and not isinstance(count, bool):
        whole = count
    elif isinstance(count, float) and count.is_integer():
        whole = int(count)
    if whole is None or whole < 0:
        label = _ballot_label(ballot, number)
        raise BallotError(
            f"{label}: count must be a whole number of voters, 0 or more, not {_describe(count)}"
        )
    return whole


def _exact_weight(ballot: RankedBallot, number: int) -> Fraction:
    try:
        weight = _exact(ballot.weight)
    except (TypeError, ValueError):
        weight = Fraction(-1)
    if weight < 0:
        label = _ballot_label(ballot, number)
        raise BallotError(
            f"{label}: weight must be a finite number, 0 or more, not {_describe(ballot.weight)}"
        )
    return weight


def _exact(value: object) -> Fraction:
    """The exact value of a number; a float counts as the decimal it prints as (0.1 is 1/10)."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int | Fraction | Decimal):
        return Fraction(value)  # a Decimal NaN or infinity raises ValueError
    if isinstance(value, float):
        return Fraction(repr(value))  # NaN or infinity raises ValueError
    raise TypeError(f"{type(value).__name__} is not a number")


def _unit_share(name: str, value: object) -> Fraction:
    try:
        share = _exact(value)
    except (TypeError, ValueError):
        share = Fraction(-1)
    if not 0 <= share <= 1:
        raise BallotError(f"{name} must be a number from 0 to 1, not {_describe(value)}")
    return share


def _describe(value: object) -> str:
    if isinstance(value, str):
        return quote_name(value)
    if isinstance(value, bool | int | float | Fraction | Decimal):
        return str(value)
    return f"a {type(value).__name__}"


# Results and wording


def _decided(
    method: str,
    electorate: _Electorate,
    *,
    winner: int,
    rounds: Sequence[dict[str, Any]],
    support: Fraction,
    reason: str,
) -> TallyResult:
    first_share = Fraction(electorate.first_preferences[winner], electorate.cast)
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
    )


def _undecided(
    method: str,
    electorate: _Electorate,
    *,
    rounds: Sequence[dict[str, Any]],
    reason: str,
    tied: Iterable[int] = (),
) -> TallyResult:
    return TallyResult(
        method=method,
        winner=None,
        tied=tuple(electorate.options[index] for index in sorted(tied)),
        rounds=tuple(rounds),
        support=0.0,
        participation=_participation(electorate),
        consensus=SPLIT,
        reason=reason,
    )


def _participation(electorate: _Electorate) -> float:
    return electorate.cast / electorate.total if electorate.total else 0.0


def _counts(
    electorate: _Electorate, values: Sequence[int | Fraction], indexes: Iterable[int] | None = None
) -> dict[str, int | float]:
    """`{option: number}` in the order of the options, for `indexes` or every option."""
    chosen = range(len(electorate.options)) if indexes is None else sorted(indexes)
    return {electorate.options[index]: _json_number(values[index]) for index in chosen}


def _json_number(value: int | Fraction) -> int | float:
    """A JSON-ready number: exact when whole, else the nearest float (huge values rounded)."""
    if isinstance(value, int) or value.denominator == 1:
        return int(value)
    if abs(value) > 2**53:
        return round(value)
    return float(value)


def _number_text(value: int | Fraction) -> str:
    number = _json_number(value)
    return str(number) if isinstance(number, int) else repr(number)


def _percent(value: Fraction, *, unlike: Fraction | None = None) -> str:
    """`value` as a percentage: exact when it has few decimals, never shown equal to `unlike`."""
    scaled = value * 100
    text = ""
    for decimals in range(7):
        rounded = round(scaled, decimals)
        text = f"{float(rounded):.{decimals}f}%"
        if rounded == scaled:
            return text
        if decimals == 0:
            continue  # an inexact whole percentage reads as exact; show at least one decimal
        if unlike is None or unlike == value or round(unlike * 100, decimals) != rounded:
            return text
    return text


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _names(electorate: _Electorate, indexes: Iterable[int]) -> str:
    """Option names in the order of the options, joined as 'A', 'A and B' or 'A, B and C'."""
    return _join([electorate.options[index] for index in sorted(indexes)])


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _by_count(values: Sequence[int | Fraction]) -> list[int]:
    """Option indexes with a non-zero value, largest first, then in the order of the options."""
    return sorted((index for index, value in enumerate(values) if value), key=lambda i: -values[i])


def _standings(electorate: _Electorate, values: Sequence[int | Fraction]) -> str:
    """'A has 3, B has 1': every option with a non-zero value, largest first."""
    return ", ".join(
        f"{electorate.options[index]} has {_number_text(values[index])}" for index in _by_count(values)
    )


def _runner_up(electorate: _Electorate, values: Sequence[int | Fraction], winner: int) -> str:
    others = [index for index in _by_count(values) if index != winner]
    if not others:
        return ""
    return f"; next was {electorate.options[others[0]]} with {_number_text(values[others[0]])}"


def _ballots_noun(electorate: _Electorate) -> str:
    noun = "ballot" if electorate.cast == 1 else "ballots"
    return f"cast {noun}" if electorate.cast != electorate.total else noun


def _largest(
    method: str,
    electorate: _Electorate,
    *,
    values: Sequence[int | Fraction],
    support_total: int | Fraction,
    describe_win: Callable[[int], str],
    describe_tie: Callable[[list[int]], str],
) -> TallyResult:
    """The option with the largest value wins; several with the largest are a tie."""
    best = max(values)
    leaders = [index for index, value in enumerate(values) if value == best]
    rounds = [{"counts": _counts(electorate, values)}]
    if len(leaders) > 1:
        return _undecided(method, electorate, rounds=rounds, reason=describe_tie(leaders), tied=leaders)
    winner = leaders[0]
    support = Fraction(values[winner]) / support_total if support_total else Fraction(1)
    return _decided(
        method,
        electorate,
        winner=winner,
        rounds=rounds,
        support=support,
        reason=describe_win(winner),
    )


# The methods, one function each: (electorate, threshold) -> TallyResult


def _unanimous(electorate: _Electorate, threshold: Fraction) -> TallyResult:
    firsts = electorate.first_preferences
    rounds = [{"counts": _counts(electorate, firsts)}]
    leaders = _by_count(firsts)
    if len(leaders) == 1:
        winner = leaders[0]
        every = (
            "the only cast ballot ranks"
            if electorate.cast == 1
            else f"all {electorate.cast} cast ballots rank"
        )
        reason = f"{electorate.options[winner]} won unanimously: {every} it first"
        return _decided(
            "unanimous",
            electorate,
            winner=winner,
            rounds=rounds,
            support=Fraction(1),
            reason=reason,
        )
    reason = f"Not unanimous: {_standings(electorate, firsts)}; no decision"
    return _undecided("unanimous", electorate, rounds=rounds, reason=reason)


def _supermajority(electorate: _Electorate, threshold: Fraction) -> TallyResult:
    firsts, cast = electorate.first_preferences, electorate.cast
    rounds = [{"counts": _counts(electorate, firsts)}]
    required = _percent(threshold)
    qualified = [index for index, count in enumerate(firsts) if Fraction(count, cast) >= threshold]
    if not qualified:
        parts = [
            f"{electorate.options[index]} has {firsts[index]} "
            f"({_percent(Fraction(firsts[index], cast), unlike=threshold)})"
            for index in _by_count(firsts)
        ]
        reason = (
            f"No option has at least {required} of the {cast} {_ballots_noun(electorate)}: {', '.join(parts)}"
        )
        return _undecided("supermajority", electorate, rounds=rounds, reason=reason)
    # A threshold of one half or less can let several options qualify: the largest share wins.
    best = max(firsts[index] for index in qualified)
    leaders = [index for index in qualified if firsts[index] == best]
    if len(leaders) > 1:
        reason = (
            f"{_names(electorate, leaders)} each reach the {required} threshold with "
            f"{best} of {cast} first preferences; no winner"
        )
        return _undecided("supermajority", electorate, rounds=rounds, reason=reason, tied=leaders)
    winner = leaders[0]
    share = Fraction(best, cast)
    reason = (
        f"{electorate.options[winner]} won with {best} of {cast} first preferences "
        f"({_percent(share, unlike=threshold)}), meeting the {required} threshold"
    )
    return _decided("supermajority", electorate, winner=winner, rounds=rounds, support=share, reason=reason)


def _majority(electorate: _Electorate, threshold: Fraction) -> TallyResult:
    firsts, cast = electorate.first_preferences, electorate.cast
    rounds = [{"counts": _counts(electorate, firsts)}]
    winners = [index for index, count in enumerate(firsts) if 2 * count > cast]
    if not winners:
        reason = (
            f"No option has more than half of the {cast} {_ballots_noun(electorate)}: "
            f"{_standings(electorate, firsts)}"
        )
        return _undecided("majority", electorate, rounds=rounds, reason=reason)
    winner = winners[0]
    share = Fraction(firsts[winner], cast)
    reason = (
        f"{electorate.options[winner]} won with {firsts[winner]} of {cast} first preferences "
        f"({_percent(share, unlike=Fraction(1, 2))}), more than half"
    )
    return _decided("majority", electorate, winner=winner, rounds=rounds, support=share, reason=reason)


def _plurality(electorate: _Electorate, threshold: Fraction) -> TallyResult:
    firsts, cast = electorate.first_preferences, electorate.cast

    def describe_win(winner: int) -> str:
        count = firsts[winner]
        return (
            f"{electorate.options[winner]} won with the most first preferences, {count} of "
            f"{cast} ({_percent(Fraction(count, cast))}){_runner_up(electorate, firsts, winner)}"
        )

    def describe_tie(leaders: list[int]) -> str:
        return (
            f"{_names(electorate, leaders)} tied for the most first preferences with "
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


def _weighted(electorate: _Electorate, threshold: Fraction) -> TallyResult:
    weights = electorate.first_weights
    total_weight = sum(weights, Fraction(0))
    if total_weight == 0:
        rounds = [{"counts": _counts(electorate, weights)}]
        reason = "Every cast ballot has weight 0; no decision"
        return _undecided("weighted", electorate, rounds=rounds, reason=reason)
    total_text = _number_text(total_weight)

    def describe_win(winner: int) -> str:
        weight = weights[winner]
        return (
            f"{electorate.options[winner]} won with the largest first-preference weight, "
            f"{_number_text(weight)} of {total_text} ({_percent(weight / total_weight)})"
            f"{_runner_up(electorate, weights, winner)}"
        )

    def describe_tie(leaders: list[int]) -> str:
        return (
            f"{_names(electorate, leaders)} tied for the largest first-preference weight with "
            f"{_number_text(weights[leaders[0]])} of {total_text} each; no winner"
        )

    return _largest(
        "weighted",
        electorate,
        values=weights,
        support_total=total_weight,
        describe_win=describe_win,
        describe_tie=describe_tie,
    )


def _borda(electorate: _Electorate, threshold: Fraction) -> TallyResult:
    option_count = len(electorate.options)
    points = [0] * option_count
    for ranking, count in electorate.rankings.items():
        for position, index in enumerate(ranking):
            points[index] += (option_count - 1 - position) * count

    def describe_win(winner: int) -> str:
        return (
            f"{electorate.options[winner]} won the Borda count with "
            f"{_plural(points[winner], 'point')}{_runner_up(electorate, points, winner)}"
        )

    def describe_tie(leaders: list[int]) -> str:
        return (
            f"{_names(electorate, leaders)} tied for the most Borda points with "
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


def _ranked_choice(electorate: _Electorate, threshold: Fraction) -> TallyResult:
    """Instant runoff; only the eliminated option's ballots move from one round to the next."""
    option_count = len(electorate.options)
    in_race = [True] * option_count
    votes = [0] * option_count
    # Each option's pile holds (ranking, voters, position of the option in that ranking).
    piles: list[list[tuple[tuple[int, ...], int, int]]] = [[] for _ in range(option_count)]
    for ranking, count in electorate.rankings.items():
        piles[ranking[0]].append((ranking, count, 0))
        votes[ranking[0]] += count
    history: list[list[int]] = []
    rounds: list[dict[str, Any]] = []
    eliminated: list[int] = []
    exhausted = 0
    while True:
        round_number = len(history) + 1
        racing = [index for index in range(option_count) if in_race[index]]
        counting = electorate.cast - exhausted
        record: dict[str, Any] = {
            "round": round_number,
            "counts": _counts(electorate, votes, racing),
            "eliminated": None,
            "exhausted": exhausted,
            "tie_break": None,
        }
        rounds.append(record)
        after = ""
        if eliminated:
            gone = _join([electorate.options[index] for index in eliminated])
            after = f" after {gone} {'was' if len(eliminated) == 1 else 'were'} eliminated"
        still = f" still counting ({exhausted} exhausted)" if exhausted else ""
        leader = max(racing, key=lambda index: votes[index])
        if counting and 2 * votes[leader] > counting:
            reason = (
                f"{electorate.options[leader]} won in round {round_number} with "
                f"{votes[leader]} of {counting} ballots{still}{after}"
            )
            support = Fraction(votes[leader], counting)
            return _decided(
                "ranked_choice",
                electorate,
                winner=leader,
                rounds=rounds,
                support=support,
                reason=reason,
            )
        if len(racing) <= 2 or counting == 0:
            # Two options with equal votes (or nothing left to count): no winner.
            reason = (
                f"{_names(electorate, racing)} tied in round {round_number} with "
                f"{votes[leader]} each of {counting} ballots{still}{after}; no winner"
            )
            return _undecided("ranked_choice", electorate, rounds=rounds, reason=reason, tied=racing)
        loser, record["tie_break"] = _runoff_loser(electorate, racing, votes, history)
        record["eliminated"] = electorate.options[loser]
        eliminated.append(loser)
        history.append(list(votes))
        in_race[loser] = False
        for ranking, count, loser_position in piles[loser]:
            # The ballot moves to its next choice still in the race, or is exhausted.
            position = loser_position + 1
            while position < len(ranking) and not in_race[ranking[position]]:
                position += 1
            if position == len(ranking):
                exhausted += count
            else:
                piles[ranking[position]].append((ranking, count, position))
                votes[ranking[position]] += count
        piles[loser] = []
        votes[loser] = 0


def _runoff_loser(
    electorate: _Electorate, racing: list[int], votes: list[int], history: list[list[int]]
) -> tuple[int, str | None]:
    """The option to eliminate, and a sentence on how a tie for fewest was broken, if any."""
    fewest = min(votes[index] for index in racing)
    tied = [index for index in racing if votes[index] == fewest]
    if len(tied) == 1:
        return tied[0], None
    opening = f"{_names(electorate, tied)} tied for fewest votes ({fewest})"
    remaining = tied
    # Earlier rounds break the tie, latest round first.
    for round_index in range(len(history) - 1, -1, -1):
        earlier = history[round_index]
        earlier_fewest = min(earlier[index] for index in remaining)
        remaining = [index for index in remaining if earlier[index] == earlier_fewest]
        if len(remaining) == 1:
            loser = remaining[0]
            return loser, (
                f"{opening}; {electorate.options[loser]} is eliminated for having fewer "
                f"in round {round_index + 1}"
            )
    loser = max(remaining)
    return loser, (
        f"{opening}; {electorate.options[loser]} is eliminated as it is listed last of them in the options"
    )


def _pairwise(electorate: _Electorate) -> list[list[int]]:
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


def _condorcet(electorate: _Electorate, threshold: Fraction) -> TallyResult:
    beats = _pairwise(electorate)
    paths = _strongest_paths(beats)
    size = len(electorate.options)
    others = {x: [y for y in range(size) if y != x] for x in range(size)}
    rounds = [
        {
            "counts": _counts(electorate, electorate.first_preferences),
            "pairwise": _table(electorate, beats),
            "strongest_paths": _table(electorate, paths),
        }
    ]
    winners = [x for x in range(size) if all(paths[x][y] >= paths[y][x] for y in others[x])]
    if len(winners) != 1:
        reason = (
            f"{_names(electorate, winners)} tie under the Schulze method: none has a stronger "
            "path to the others than they have back; no winner"
        )
        return _undecided("condorcet", electorate, rounds=rounds, reason=reason, tied=winners)
    winner = winners[0]
    name = electorate.options[winner]
    contested = [y for y in others[winner] if beats[winner][y] + beats[y][winner]]
    shares = {y: Fraction(beats[winner][y], beats[winner][y] + beats[y][winner]) for y in contested}
    closest = min(contested, key=lambda y: shares[y], default=None)
    if closest is None:
        reason = f"{name} won: it is the only option anyone could compare"
        if size == 1:
            reason = f"{name} won as the only option"
        return _decided(
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
    return _decided(
        "condorcet",
        electorate,
        winner=winner,
        rounds=rounds,
        support=shares[closest],
        reason=reason,
    )


def _table(electorate: _Electorate, matrix: list[list[int]]) -> dict[str, dict[str, int]]:
    options = electorate.options
    return {
        options[x]: {options[y]: matrix[x][y] for y in range(len(options)) if y != x}
        for x in range(len(options))
    }


_METHOD_FUNCTIONS: dict[str, Callable[[_Electorate, Fraction], TallyResult]] = {
    "unanimous": _unanimous,
    "supermajority": _supermajority,
    "majority": _majority,
    "plurality": _plurality,
    "ranked_choice": _ranked_choice,
    "weighted": _weighted,
    "borda": _borda,
    "condorcet": _condorcet,
}
