"""The head-to-head counts and Schulze paths against counts written straight from the rules; the
tie conventions README documents; and the limits on options and ballots.

The fast paths (bit planes of positions, voters weighed through the bits of their counts, paths
found strongest link first) are compared on random elections, with options past 128 and
counts past 2**64 so that every plane and every bit of a count is used.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orkestra_tui.engine.voting.consensus import MAX_BALLOTS, MAX_OPTIONS, BallotError, RankedBallot, tally
from orkestra_tui.engine.voting.consensus.electorate import normalise_ballots
from orkestra_tui.engine.voting.consensus.pairwise import pairwise_counts, strongest_paths

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Election = tuple[list[str], list[RankedBallot]]


def ballots(*groups: tuple[int, str]) -> list[RankedBallot]:
    """Ballots from (count, ranking) pairs, one option per letter."""
    return [
        RankedBallot(f"bloc {number}", tuple(ranking), count=count)
        for number, (count, ranking) in enumerate(groups, start=1)
    ]


@st.composite
def elections(draw: st.DrawFn, *, max_options: int = 9) -> Election:
    """Options, and ballots with partial rankings and counts from 0 to far past 2**64."""
    option_count = draw(st.integers(1, max_options))
    options = [f"option {number}" for number in range(option_count)]
    counts = st.one_of(st.integers(0, 3), st.integers(0, 2**70))
    election = []
    for number in range(draw(st.integers(0, 14))):
        order = draw(st.permutations(options))
        length = draw(st.integers(0, option_count))
        election.append(RankedBallot(f"voter {number}", tuple(order[:length]), count=draw(counts)))
    return options, election


def reference_beats(options: Sequence[str], election: Sequence[RankedBallot]) -> list[list[int]]:
    """Voters ranking x above y, ballot by ballot and pair by pair, unranked options below."""
    size = len(options)
    beats = [[0] * size for _ in range(size)]
    for ballot in election:
        for x in range(size):
            for y in range(size):
                x_name, y_name = options[x], options[y]
                if x == y or x_name not in ballot.ranking:
                    continue
                if y_name not in ballot.ranking or ballot.ranking.index(x_name) < ballot.ranking.index(
                    y_name
                ):
                    beats[x][y] += ballot.count
    return beats


def reference_paths(beats: Sequence[Sequence[int]]) -> list[list[int]]:
    """Schulze's strongest paths by Floyd-Warshall, as the method is usually written."""
    size = len(beats)
    paths = [[beats[x][y] if beats[x][y] > beats[y][x] else 0 for y in range(size)] for x in range(size)]
    for via in range(size):
        for start in range(size):
            if start == via:
                continue
            for end in range(size):
                if end not in (start, via):
                    paths[start][end] = max(paths[start][end], min(paths[start][via], paths[via][end]))
    return [[0 if x == y else paths[x][y] for y in range(size)] for x in range(size)]


# The fast paths against the references


@SETTINGS
@given(election=elections())
def test_pairwise_counts_match_a_count_of_every_pair(election: Election) -> None:
    options, votes = election
    electorate = normalise_ballots(options, votes, with_weights=False)
    assert pairwise_counts(electorate) == reference_beats(options, votes)


@SETTINGS
@given(election=elections())
def test_condorcet_result_matches_the_reference_paths_and_winners(election: Election) -> None:
    options, votes = election
    result = tally("condorcet", options, votes)
    if not result.rounds:
        return  # nothing cast: no tables
    paths = reference_paths(reference_beats(options, votes))
    table = {
        options[x]: {options[y]: paths[x][y] for y in range(len(options)) if y != x}
        for x in range(len(options))
    }
    assert result.rounds[0]["strongest_paths"] == table
    winners = [
        options[x]
        for x in range(len(options))
        if all(paths[x][y] >= paths[y][x] for y in range(len(options)) if y != x)
    ]
    if len(winners) == 1:
        assert result.winner == winners[0]
    else:
        assert result.winner is None
        assert result.tied == tuple(winners)


@SETTINGS
@given(
    size=st.integers(1, 8),
    data=st.data(),
)
def test_strongest_paths_match_floyd_warshall_with_ties_between_links(size: int, data: st.DataObject) -> None:
    # Few distinct strengths, so that links of equal strength and equal head-to-head counts abound.
    beats = [[0 if x == y else data.draw(st.integers(0, 4)) for y in range(size)] for x in range(size)]
    assert strongest_paths(beats) == reference_paths(beats)


def test_wide_electorates_match_the_reference() -> None:
    """200 options (every bit plane of a position in use), long and short rankings, huge counts."""
    generator = random.Random(13)
    options = [f"option {number:03d}" for number in range(MAX_OPTIONS)]
    votes = []
    for number in range(24):
        order = generator.sample(options, len(options))
        length = generator.choice((1, 2, 50, 199, 200))
        count = generator.choice((1, 1, 2, 7, 2**64 + 3))
        votes.append(RankedBallot(f"voter {number}", tuple(order[:length]), count=count))
    electorate = normalise_ballots(options, votes, with_weights=False)
    beats = pairwise_counts(electorate)
    assert beats == reference_beats(options, votes)
    assert strongest_paths(beats) == reference_paths(beats)


# The tie conventions README documents


def test_schulze_weighs_links_by_winning_votes_not_margins() -> None:
    # A beats C 6 to 3 and C beats D 5 to 4, so A's path to D (5) beats D's over A (4, winning
    # votes); counted by margins, A to D would be 1 against D's 2, and D would win.
    result = tally("condorcet", tuple("ABCD"), ballots((2, "ACB"), (4, "DA"), (3, "C")))
    record = result.rounds[0]
    assert record["pairwise"]["D"]["A"] == 4
    assert record["strongest_paths"]["A"]["D"] == 5
    assert record["strongest_paths"]["D"]["A"] == 4
    assert result.winner == "A"


def test_schulze_counts_a_ranked_option_above_an_unranked_one() -> None:
    result = tally("condorcet", tuple("ABC"), ballots((3, "C"), (2, "AB")))
    assert result.rounds[0]["pairwise"]["C"] == {"A": 3, "B": 3}
    assert result.rounds[0]["pairwise"]["B"] == {"A": 0, "C": 2}
    assert result.winner == "C"


def test_borda_gives_unranked_options_nothing() -> None:
    # Four options: first gets 3, second 2, third 1, and an option left off gets 0.
    result = tally("borda", tuple("ABCD"), ballots((1, "AB"), (1, "C")))
    assert result.rounds[0]["counts"] == {"A": 3, "B": 2, "C": 3, "D": 0}
    assert result.winner is None
    assert result.tied == ("A", "C")


def test_runoff_looks_back_before_eliminating_the_option_listed_last() -> None:
    # Round 2: B and C tie on 3 once D is gone. C is listed before B, but it had fewer on count 1.
    looked_back = tally("ranked_choice", tuple("ACBD"), ballots((4, "A"), (3, "B"), (2, "C"), (1, "DC")))
    assert looked_back.rounds[1]["counts"] == {"A": 4, "C": 3, "B": 3}
    assert looked_back.rounds[1]["eliminated"] == "C"
    assert "for having fewer on count 1" in str(looked_back.rounds[1]["tie_break"])
    # Equal in every round so far: the option listed last of the tied ones goes.
    listed_last = tally("ranked_choice", tuple("ABC"), ballots((3, "A"), (2, "B"), (2, "C")))
    assert listed_last.rounds[0]["eliminated"] == "C"
    assert "listed last of them in the options" in str(listed_last.rounds[0]["tie_break"])


def test_runoff_ending_in_a_two_way_tie_decides_nothing() -> None:
    # C goes first (listed after B, equal so far); its ballot moves to B, and A and B tie 2 to 2.
    result = tally("ranked_choice", tuple("ABC"), ballots((2, "A"), (1, "B"), (1, "CB")))
    assert result.rounds[-1]["counts"] == {"A": 2, "B": 2}
    assert result.winner is None
    assert result.tied == ("A", "B")
    assert result.reason.endswith("no winner")


# The limits


@pytest.mark.parametrize("method", ["ranked_choice", "condorcet"])
def test_the_most_options_a_tally_takes_are_counted(method: str) -> None:
    options = [f"option {number}" for number in range(MAX_OPTIONS)]
    result = tally(method, options, [RankedBallot("voter", tuple(options[-2:]))])
    assert result.winner == options[-2]


def test_one_option_past_the_limit_is_refused_in_one_line() -> None:
    options = [f"option {number}" for number in range(MAX_OPTIONS + 1)]
    with pytest.raises(BallotError) as raised:
        tally("plurality", options, [])
    assert str(raised.value) == "201 options; a tally takes at most 200"


def test_one_ballot_past_the_limit_is_refused_in_one_line() -> None:
    ballot = RankedBallot("voter", ("A",))
    assert tally("plurality", ["A", "B"], [ballot] * MAX_BALLOTS).rounds[0]["counts"]["A"] == MAX_BALLOTS
    with pytest.raises(BallotError) as raised:
        tally("plurality", ["A", "B"], [ballot] * (MAX_BALLOTS + 1))
    assert str(raised.value) == (
        "more than 100,000 ballots; a tally takes at most 100,000 "
        "(one ballot with a count stands for that many identical ones)"
    )
    # A count stands for that many voters, past the limit on ballots.
    many = tally("plurality", ["A", "B"], [RankedBallot("bloc", ("A",), count=MAX_BALLOTS * 10)])
    assert many.rounds[0]["counts"]["A"] == MAX_BALLOTS * 10
