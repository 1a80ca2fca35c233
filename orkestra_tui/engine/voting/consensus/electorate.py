"""Ballots in, an electorate out: validation, aggregation of identical rankings, exact numbers.

`normalise_ballots` checks every ballot in one pass, with the common case checked inline and
anything unusual sent to slow checks that name the ballot at fault, then reduces the ballots to
the `Electorate` every method counts. Weights, thresholds and quorums become exact Fractions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from orkestra_tui.engine.voting.consensus.wording import describe_value, quote_name

MAX_OPTIONS = 200
"""The most options a tally takes: head-to-head counts grow with the square of the options."""
MAX_BALLOTS = 100_000
"""The most ballots a tally takes; a ballot's `count` lets one stand for many identical ones."""


class BallotError(ValueError):
    """Invalid input to a tally, described in one line that names the ballot at fault."""


def too_many_ballots() -> BallotError:
    """The error for more than MAX_BALLOTS ballots, in one line that says what to do instead."""
    return BallotError(
        f"more than {MAX_BALLOTS:,} ballots; a tally takes at most {MAX_BALLOTS:,} "
        "(one ballot with a count stands for that many identical ones)"
    )


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
class Electorate:
    """Validated ballots reduced to what every method needs; options are referred to by index."""

    options: tuple[str, ...]
    # Distinct non-empty rankings (option indexes, best first) and how many voters cast each.
    rankings: dict[tuple[int, ...], int]
    first_preferences: tuple[int, ...]
    # Sum of first-preference weights per option; only filled in for `weighted`.
    first_weights: tuple[Fraction, ...]
    cast: int
    total: int


def normalise_ballots(
    options: Sequence[str], ballots: Iterable[RankedBallot], *, with_weights: bool
) -> Electorate:
    """Validate every ballot and aggregate identical rankings, in one pass over the ballots."""
    index_of = _option_indexes(options)
    option_set = frozenset(index_of)
    voters_by_ranking: dict[tuple[str, ...], int] = {}
    voters_by_first_and_weight: dict[tuple[str, float], int] = {}
    total = 0
    for number, ballot in enumerate(ballots, start=1):
        if number > MAX_BALLOTS:
            raise too_many_ballots()
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
            raise BallotError(f"ballot {number}: voter must be a string, not {describe_value(ballot.voter)}")
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


def exact(value: object) -> Fraction:
    """The exact value of a number; a float counts as the decimal it prints as (0.1 is 1/10)."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int | Fraction | Decimal):
        return Fraction(value)  # a Decimal NaN or infinity raises ValueError
    if isinstance(value, float):
        return Fraction(repr(value))  # NaN or infinity raises ValueError
    raise TypeError(f"{type(value).__name__} is not a number")


def unit_share(name: str, value: object) -> Fraction:
    """`value` as an exact share from 0 to 1; raise BallotError naming the setting otherwise."""
    try:
        share = exact(value)
    except (TypeError, ValueError):
        share = Fraction(-1)
    if not 0 <= share <= 1:
        raise BallotError(f"{name} must be a number from 0 to 1, not {describe_value(value)}")
    return share


def _option_indexes(options: Sequence[str]) -> dict[str, int]:
    """Each option's index, once the options are known to be distinct non-empty strings."""
    if isinstance(options, str):
        raise BallotError(f"options must be a sequence of option names, not {describe_value(options)}")
    option_names = tuple(options)
    for position, name in enumerate(option_names, start=1):
        if not isinstance(name, str) or not name:
            raise BallotError(f"option {position} must be a non-empty string, not {describe_value(name)}")
    index_of = {name: index for index, name in enumerate(option_names)}
    if len(index_of) != len(option_names):
        repeated = next(name for name in option_names if option_names.count(name) > 1)
        raise BallotError(f"option {quote_name(repeated)} is listed twice")
    if len(index_of) > MAX_OPTIONS:
        raise BallotError(f"{len(index_of):,} options; a tally takes at most {MAX_OPTIONS}")
    return index_of


def _aggregate(
    index_of: dict[str, int],
    *,
    voters_by_ranking: dict[tuple[str, ...], int],
    voters_by_first_and_weight: dict[tuple[str, float], int],
    total: int,
) -> Electorate:
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
            exact_weights[weight] = exact(weight)
        first_weights[index_of[first]] += exact_weights[weight] * count
    return Electorate(
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
        raise BallotError(
            f"{label}: ranking must be a sequence of option names, not {describe_value(ranking)}"
        )
    seen: set[str] = set()
    for name in ranking:
        if not isinstance(name, str):
            raise BallotError(f"{label}: ranking entries must be option names, not {describe_value(name)}")
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
            f"{label}: count must be a whole number of voters, 0 or more, not {describe_value(count)}"
        )
    return whole


def _exact_weight(ballot: RankedBallot, number: int) -> Fraction:
    try:
        weight = exact(ballot.weight)
    except (TypeError, ValueError):
        weight = Fraction(-1)
    if weight < 0:
        label = _ballot_label(ballot, number)
        raise BallotError(
            f"{label}: weight must be a finite number, 0 or more, not {describe_value(ballot.weight)}"
        )
    return weight
