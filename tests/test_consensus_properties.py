"""Properties every tally must keep, checked on generated electorates with hypothesis.

Beside the properties the issue asks for, the fast paths (aggregated rankings, incremental
runoff, bitmask pairwise counts) are compared with slow reference counts written straight from
the rules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orkestra_tui.engine.voting.consensus import (
    METHODS,
    BallotError,
    RankedBallot,
    TallyResult,
    tally,
)

OPTION_POOL = ("Ash", "Birch", "Cedar", "Elm", "Fir")
WEIGHTS = (0, 0.1, 0.2, 0.3, 0.5, 1, 2, 2.5)
POSITIVE_WEIGHTS = tuple(weight for weight in WEIGHTS if weight)

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Election = tuple[list[str], list[RankedBallot]]


@st.composite
def elections(
    draw: st.DrawFn,
    *,
    weights: Sequence[float] = WEIGHTS,
    max_ballots: int = 12,
    min_count: int = 0,
) -> Election:
    """Options in a random order, and ballots with partial rankings, counts and weights."""
    options = draw(st.lists(st.sampled_from(OPTION_POOL), min_size=1, max_size=5, unique=True))
    ballots = []
    for number in range(draw(st.integers(0, max_ballots))):
        order = draw(st.permutations(options))
        length = draw(st.integers(0, len(options)))
        ballots.append(
            RankedBallot(
                f"voter {number}",
                tuple(order[:length]),
                weight=draw(st.sampled_from(weights)),
                count=draw(st.integers(min_count, 3)),
            )
        )
    return options, ballots


def expanded(ballots: Sequence[RankedBallot]) -> list[tuple[str, ...]]:
    """One ranking per voter."""
    return [ballot.ranking for ballot in ballots for _ in range(ballot.count)]


def reference_pairwise(options: Sequence[str], ballots: Sequence[RankedBallot]) -> dict[str, dict[str, int]]:
    """Voters ranking x above y, ranked options counting above unranked ones."""
    table = {x: {y: 0 for y in options if y != x} for x in options}
    for ranking in expanded(ballots):
        for x in options:
            for y in options:
                if x == y or x not in ranking:
                    continue
                if y not in ranking or ranking.index(x) < ranking.index(y):
                    table[x][y] += 1
    return table


def reference_runoff(
    options: Sequence[str], ballots: Sequence[RankedBallot]
) -> tuple[str | None, tuple[str, ...], list[str]]:
    """Instant runoff recounted from scratch every round: (winner, tied, eliminated)."""
    rankings = [ranking for ranking in expanded(ballots) if ranking]
    remaining = list(options)
    history: list[dict[str, int]] = []
    eliminated: list[str] = []
    while True:
        votes = dict.fromkeys(remaining, 0)
        for ranking in rankings:
            top = next((option for option in ranking if option in votes), None)
            if top is not None:
                votes[top] += 1
        counting = sum(votes.values())
        for option in remaining:
            if 2 * votes[option] > counting:
                return option, (), eliminated
        if len(remaining) <= 2:
            return None, tuple(remaining), eliminated
        fewest = min(votes.values())
        tied = [option for option in remaining if votes[option] == fewest]
        for earlier in reversed(history):
            earliest_fewest = min(earlier[option] for option in tied)
            tied = [option for option in tied if earlier[option] == earliest_fewest]
        loser = max(tied, key=list(options).index)
        history.append(votes)
        remaining.remove(loser)
        eliminated.append(loser)


def condorcet_winner(options: Sequence[str], ballots: Sequence[RankedBallot]) -> str | None:
    table = reference_pairwise(options, ballots)
    for x in options:
        if all(table[x][y] > table[y][x] for y in options if y != x):
            return x
    return None


def first_preferences(options: Sequence[str], ballots: Sequence[RankedBallot]) -> dict[str, int]:
    counts = dict.fromkeys(options, 0)
    for ranking in expanded(ballots):
        if ranking:
            counts[ranking[0]] += 1
    return counts


def assert_well_formed(result: TallyResult, options: Sequence[str]) -> None:
    """Invariants of every result, whatever the method and the ballots."""
    assert result.method in METHODS
    assert 0.0 <= result.support <= 1.0
    assert 0.0 <= result.participation <= 1.0
    assert result.consensus in ("unanimous", "strong", "split")
    assert set(result.tied) <= set(options)
    if result.winner is None:
        assert result.consensus == "split"
        assert result.support == 0.0
    else:
        assert result.winner in options
        assert result.tied == ()
    for record in result.rounds:
        assert set(record["counts"]) <= set(options)
    assert result.reason
    assert "\n" not in result.reason
    json.dumps(result.to_dict(), allow_nan=False)


# The properties the issue asks for


@SETTINGS
@given(election=elections(), data=st.data())
def test_order_of_ballots_never_changes_the_result(election: Election, data: st.DataObject) -> None:
    options, ballots = election
    shuffled = data.draw(st.permutations(ballots))
    for method in METHODS:
        assert tally(method, options, ballots) == tally(method, options, shuffled), method


@SETTINGS
@given(election=elections(weights=POSITIVE_WEIGHTS, min_count=1), data=st.data())
def test_an_option_everyone_ranks_first_wins_every_method(election: Election, data: st.DataObject) -> None:
    options, ballots = election
    favourite = data.draw(st.sampled_from(options))
    # Move the favourite to the top of every cast ballot, and make sure one ballot is cast.
    ballots = [
        RankedBallot(
            ballot.voter,
            (favourite, *(name for name in ballot.ranking if name != favourite)),
            weight=ballot.weight,
            count=ballot.count,
        )
        for ballot in ballots
        if ballot.ranking
    ] + [RankedBallot("sure", (favourite,))]
    for method in METHODS:
        result = tally(method, options, ballots)
        assert result.winner == favourite, (method, result.reason)
        assert result.consensus == "unanimous"


@SETTINGS
@given(election=elections())
def test_a_condorcet_winner_wins_condorcet(election: Election) -> None:
    options, ballots = election
    result = tally("condorcet", options, ballots)
    expected = condorcet_winner(options, ballots)
    if expected is not None and any(ballot.ranking and ballot.count for ballot in ballots):
        assert result.winner == expected


@SETTINGS
@given(election=elections())
def test_a_first_preference_majority_wins_majority_runoff_and_plurality(
    election: Election,
) -> None:
    options, ballots = election
    firsts = first_preferences(options, ballots)
    cast = sum(firsts.values())
    majority = [option for option, count in firsts.items() if 2 * count > cast]
    for method in ("majority", "ranked_choice", "plurality"):
        result = tally(method, options, ballots)
        assert result.winner == (majority[0] if majority else result.winner), method
        if majority and method == "majority":
            assert result.support == float(Fraction(firsts[majority[0]], cast))


@SETTINGS
@given(election=elections())
def test_count_k_is_k_copies_of_the_ballot(election: Election) -> None:
    options, ballots = election
    copies = [
        RankedBallot(ballot.voter, ballot.ranking, weight=ballot.weight)
        for ballot in ballots
        for _ in range(ballot.count)
    ]
    for method in METHODS:
        assert tally(method, options, ballots) == tally(method, options, copies), method


names = st.text(max_size=3)
arbitrary_ballots = st.builds(
    RankedBallot,
    voter=st.one_of(st.text(max_size=4), st.none()),
    ranking=st.lists(names, max_size=4).map(tuple),
    weight=st.one_of(
        st.floats(),
        st.integers(-2, 10**30),
        st.sampled_from(WEIGHTS),
        st.fractions(min_value=0, max_value=5),
    ),
    count=st.one_of(st.integers(-1, 4), st.floats(-1, 4), st.booleans()),
)


@settings(max_examples=300, deadline=None)
@given(
    method=st.one_of(st.sampled_from(METHODS), st.text(max_size=6)),
    options=st.lists(names, max_size=4),
    ballots=st.lists(arbitrary_ballots, max_size=8),
    threshold=st.one_of(st.floats(), st.fractions(min_value=0, max_value=1)),
    quorum=st.one_of(st.floats(), st.just(0.0), st.fractions(min_value=0, max_value=1)),
)
def test_nothing_crashes_on_arbitrary_ballots(
    method: str,
    options: list[str],
    ballots: list[RankedBallot],
    threshold: float,
    quorum: float,
) -> None:
    try:
        result = tally(method, options, ballots, threshold=threshold, quorum=quorum)
    except BallotError as error:
        assert "\n" not in str(error)
        return
    assert_well_formed(result, options)


@SETTINGS
@given(
    election=elections(max_ballots=6),
    method=st.sampled_from(METHODS),
    extremes=st.lists(st.sampled_from([1e308, 1e-300, 10**40, 3]), min_size=1, max_size=4),
)
def test_extreme_weights_give_json_ready_results(
    election: Election, method: str, extremes: list[float]
) -> None:
    options, ballots = election
    heavy = [
        RankedBallot(f"heavy {number}", (options[0],), weight=weight, count=3)
        for number, weight in enumerate(extremes)
    ]
    assert_well_formed(tally(method, options, ballots + heavy), options)


# The fast paths against slow counts straight from the rules


@SETTINGS
@given(election=elections(), method=st.sampled_from(METHODS), quorum=st.sampled_from([0, 0.5]))
def test_every_result_is_well_formed(election: Election, method: str, quorum: float) -> None:
    options, ballots = election
    assert_well_formed(tally(method, options, ballots, quorum=quorum), options)


@SETTINGS
@given(election=elections(max_ballots=16))
def test_runoff_matches_a_recount_from_scratch(election: Election) -> None:
    options, ballots = election
    result = tally("ranked_choice", options, ballots)
    if not any(ballot.ranking and ballot.count for ballot in ballots):
        assert result.winner is None
        return
    winner, tied, eliminated = reference_runoff(options, ballots)
    assert result.winner == winner
    assert set(result.tied) == set(tied)
    assert [record["eliminated"] for record in result.rounds[:-1]] == eliminated
    for record in result.rounds:
        assert sum(record["counts"].values()) + record["exhausted"] == sum(
            first_preferences(options, ballots).values()
        )


@SETTINGS
@given(election=elections(max_ballots=16))
def test_pairwise_table_matches_a_count_of_every_pair(election: Election) -> None:
    options, ballots = election
    result = tally("condorcet", options, ballots)
    if result.rounds:
        assert result.rounds[0]["pairwise"] == reference_pairwise(options, ballots)


@SETTINGS
@given(election=elections(max_ballots=16))
def test_borda_points_match_a_count_of_every_ballot(election: Election) -> None:
    options, ballots = election
    result = tally("borda", options, ballots)
    points = dict.fromkeys(options, 0)
    for ranking in expanded(ballots):
        for position, option in enumerate(ranking):
            points[option] += len(options) - 1 - position
    if result.rounds:
        assert result.rounds[0]["counts"] == points
