"""Textbook cases with known answers for every voting method, and the edges of the rules."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence

import pytest

from orkestra_tui.engine.voting.consensus import (
    METHODS,
    BallotError,
    RankedBallot,
    TallyResult,
    quote_name,
    tally,
)

TENNESSEE = ("Memphis", "Nashville", "Chattanooga", "Knoxville")


def ballots(*groups: tuple[int, str | Sequence[str]]) -> list[RankedBallot]:
    """Ballots from (count, ranking) pairs; a string ranking is one option per letter."""
    return [
        RankedBallot(f"bloc {number}", tuple(ranking), count=count)
        for number, (count, ranking) in enumerate(groups, start=1)
    ]


def tennessee_ballots() -> list[RankedBallot]:
    """The capital-of-Tennessee election, as used to illustrate voting methods."""
    return ballots(
        (42, ("Memphis", "Nashville", "Chattanooga", "Knoxville")),
        (26, ("Nashville", "Chattanooga", "Knoxville", "Memphis")),
        (15, ("Chattanooga", "Knoxville", "Nashville", "Memphis")),
        (17, ("Knoxville", "Chattanooga", "Nashville", "Memphis")),
    )


def schulze_ballots() -> list[RankedBallot]:
    """The 45-voter example of the Schulze method, whose winner is E."""
    return ballots(
        (5, "ACBED"),
        (5, "ADECB"),
        (8, "BEDAC"),
        (3, "CABED"),
        (7, "CAEBD"),
        (2, "CBADE"),
        (7, "DCEBA"),
        (8, "EBADC"),
    )


# Textbook elections


@pytest.mark.parametrize(
    ("method", "winner"),
    [
        ("unanimous", None),
        ("supermajority", None),
        ("majority", None),
        ("plurality", "Memphis"),
        ("ranked_choice", "Knoxville"),
        ("weighted", "Memphis"),
        ("borda", "Nashville"),
        ("condorcet", "Nashville"),
    ],
)
def test_tennessee_winner_of_each_method(method: str, winner: str | None) -> None:
    result = tally(method, TENNESSEE, tennessee_ballots())
    assert result.winner == winner
    assert result.tied == ()
    assert result.participation == 1.0


def test_tennessee_instant_runoff_rounds_and_reason() -> None:
    result = tally("ranked_choice", TENNESSEE, tennessee_ballots())
    assert [record["counts"] for record in result.rounds] == [
        {"Memphis": 42, "Nashville": 26, "Chattanooga": 15, "Knoxville": 17},
        {"Memphis": 42, "Nashville": 26, "Knoxville": 32},
        {"Memphis": 42, "Knoxville": 58},
    ]
    assert [record["eliminated"] for record in result.rounds] == ["Chattanooga", "Nashville", None]
    assert [record["round"] for record in result.rounds] == [1, 2, 3]
    assert all(record["exhausted"] == 0 for record in result.rounds)
    assert result.support == 0.58
    assert result.consensus == "split"
    assert result.reason == (
        "Knoxville won on count 3 of the runoff with 58 of 100 ballots"
        " after Chattanooga and Nashville were eliminated"
    )


def test_tennessee_borda_points() -> None:
    result = tally("borda", TENNESSEE, tennessee_ballots())
    assert result.rounds[0]["counts"] == {
        "Memphis": 126,
        "Nashville": 194,
        "Chattanooga": 173,
        "Knoxville": 107,
    }
    assert result.reason == "Nashville won the Borda count with 194 points; next was Chattanooga with 173"


def test_tennessee_condorcet_winner_beats_everyone() -> None:
    result = tally("condorcet", TENNESSEE, tennessee_ballots())
    assert result.rounds[0]["pairwise"]["Nashville"] == {
        "Memphis": 58,
        "Chattanooga": 68,
        "Knoxville": 68,
    }
    assert result.support == 0.58
    assert result.reason == (
        "Nashville beats every other option head to head (closest: 58 to 42 against Memphis)"
    )


def test_schulze_example_tables_and_winner() -> None:
    result = tally("condorcet", tuple("ABCDE"), schulze_ballots())
    record = result.rounds[0]
    assert record["pairwise"] == {
        "A": {"B": 20, "C": 26, "D": 30, "E": 22},
        "B": {"A": 25, "C": 16, "D": 33, "E": 18},
        "C": {"A": 19, "B": 29, "D": 17, "E": 24},
        "D": {"A": 15, "B": 12, "C": 28, "E": 14},
        "E": {"A": 23, "B": 27, "C": 21, "D": 31},
    }
    assert record["strongest_paths"] == {
        "A": {"B": 28, "C": 28, "D": 30, "E": 24},
        "B": {"A": 25, "C": 28, "D": 33, "E": 24},
        "C": {"A": 25, "B": 29, "D": 29, "E": 24},
        "D": {"A": 25, "B": 28, "C": 28, "E": 24},
        "E": {"A": 25, "B": 28, "C": 28, "D": 31},
    }
    assert record["counts"] == {"A": 10, "B": 8, "C": 12, "D": 7, "E": 8}
    assert result.winner == "E"
    assert "No option beats every other head to head; E won by the Schulze method" in result.reason


def test_condorcet_cycle_is_a_tie() -> None:
    result = tally("condorcet", tuple("ABC"), ballots((1, "ABC"), (1, "BCA"), (1, "CAB")))
    assert result.winner is None
    assert result.tied == ("A", "B", "C")
    assert result.consensus == "split"
    assert result.support == 0.0


def test_condorcet_counts_unranked_options_below_ranked_ones() -> None:
    result = tally("condorcet", tuple("ABC"), ballots((2, "A"), (1, "BC")))
    assert result.rounds[0]["pairwise"]["A"] == {"B": 2, "C": 2}
    assert result.rounds[0]["pairwise"]["B"] == {"A": 1, "C": 1}
    assert result.rounds[0]["pairwise"]["C"] == {"A": 1, "B": 0}
    assert result.winner == "A"


# Thresholds and exact arithmetic


def test_majority_needs_strictly_more_than_half() -> None:
    failing = tally("majority", ("A", "B"), ballots((2, "A"), (2, "B")))
    assert failing.winner is None
    assert failing.tied == ()
    assert failing.reason == "No option has more than half of the 4 ballots: A has 2, B has 2"
    passing = tally("majority", ("A", "B"), ballots((3, "A"), (1, "B")))
    assert passing.winner == "A"
    assert passing.support == 0.75
    assert passing.reason == "A won with 3 of 4 first preferences (75%), more than half"


@pytest.mark.parametrize(("threshold", "winner"), [(0.75, "A"), (0.74, "A"), (0.76, None), (1.0, None)])
def test_supermajority_threshold_is_inclusive(threshold: float, winner: str | None) -> None:
    result = tally("supermajority", ("A", "B"), ballots((3, "A"), (1, "B")), threshold=threshold)
    assert result.winner == winner


def test_supermajority_thresholds_are_read_as_decimals() -> None:
    # 0.8 and 0.7 are not exact binary floats; 4 of 5 and 7 of 10 must still meet them.
    assert tally("supermajority", tuple("AB"), ballots((4, "A"), (1, "B")), threshold=0.8).winner == "A"
    assert tally("supermajority", tuple("AB"), ballots((7, "A"), (3, "B")), threshold=0.7).winner == "A"
    result = tally("supermajority", tuple("AB"), ballots((7, "A"), (3, "B")), threshold=0.71)
    assert result.winner is None
    assert result.reason == ("No option has at least 71% of the 10 ballots: A has 7 (70%), B has 3 (30%)")


def test_supermajority_percentages_never_look_equal_to_the_threshold() -> None:
    # 2 of 3 is 66.67% < 66.67%? The reason must show enough digits to tell them apart.
    result = tally("supermajority", tuple("AB"), ballots((2, "A"), (1, "B")), threshold=0.6667)
    assert result.winner is None
    assert "A has 2 (66.67%)" not in result.reason
    assert "66.667%" in result.reason


def test_supermajority_with_a_low_threshold_takes_the_largest_qualifying_share() -> None:
    result = tally("supermajority", tuple("ABC"), ballots((5, "A"), (4, "B"), (1, "C")), threshold=0.4)
    assert result.winner == "A"
    tie = tally("supermajority", tuple("ABC"), ballots((4, "A"), (4, "B"), (2, "C")), threshold=0.4)
    assert tie.winner is None
    assert tie.tied == ("A", "B")


def test_unanimous_ignores_abstentions_but_its_consensus_level_counts_them() -> None:
    result = tally("unanimous", tuple("AB"), ballots((3, "AB"), (2, "A"), (4, "")))
    assert result.winner == "A"
    assert result.consensus == "split"  # 5 of 9 ballots: no unanimity of the committee
    assert result.support == 1.0
    assert result.participation == 5 / 9
    assert result.reason == (
        "A won unanimously: all 5 cast ballots rank it first; 4 of the 9 ballots abstained"
    )
    split = tally("unanimous", tuple("AB"), ballots((3, "AB"), (1, "B")))
    assert split.winner is None
    assert split.reason == "Not unanimous: A has 3, B has 1; no decision"


def test_plurality_tie_lists_the_leaders() -> None:
    result = tally("plurality", tuple("ABC"), ballots((4, "B"), (4, "A"), (3, "C")))
    assert result.winner is None
    assert result.tied == ("A", "B")
    assert result.reason == "A and B tied for the most first preferences with 4 of 11 each; no winner"


def test_weighted_sums_are_exact() -> None:
    options = ("A", "B")
    equal = [
        RankedBallot("ann", ("A",), weight=0.1),
        RankedBallot("bob", ("A",), weight=0.2),
        RankedBallot("cy", ("B",), weight=0.3),
    ]
    result = tally("weighted", options, equal)
    assert result.winner is None
    assert result.tied == ("A", "B")
    assert result.rounds[0]["counts"] == {"A": 0.3, "B": 0.3}


def test_weighted_uses_weights_and_other_methods_ignore_them() -> None:
    weighted_ballots = [
        RankedBallot("lead", ("B", "A"), weight=3),
        RankedBallot("ann", ("A", "B")),
        RankedBallot("bob", ("A", "B")),
    ]
    result = tally("weighted", tuple("AB"), weighted_ballots)
    assert result.winner == "B"
    assert result.support == 0.6
    assert result.rounds[0]["counts"] == {"A": 2, "B": 3}
    assert result.reason == (
        "B won with the largest first-preference weight, 3 of 5 (60%); next was A with 2"
    )
    for method in ("plurality", "majority", "ranked_choice", "borda", "condorcet"):
        assert tally(method, tuple("AB"), weighted_ballots).winner == "A"


def test_weighted_with_no_weight_decides_nothing() -> None:
    zero = [RankedBallot("ann", ("A",), weight=0), RankedBallot("bob", ("B",), weight=0.0)]
    result = tally("weighted", tuple("AB"), zero)
    assert result.winner is None
    assert result.tied == ()
    assert result.reason == "Every cast ballot has weight 0; no decision"


def test_borda_tie_and_unranked_options_score_zero() -> None:
    result = tally("borda", tuple("ABC"), ballots((1, "AB"), (1, "BA")))
    assert result.rounds[0]["counts"] == {"A": 3, "B": 3, "C": 0}
    assert result.tied == ("A", "B")


# Instant runoff


def test_runoff_exhausted_ballots_do_not_count_toward_the_half() -> None:
    result = tally("ranked_choice", tuple("ABC"), ballots((4, "A"), (3, "B"), (2, "C")))
    assert [record["exhausted"] for record in result.rounds] == [0, 2]
    assert result.winner == "A"
    assert result.support == 4 / 7
    assert result.reason == (
        "A won on count 2 of the runoff with 4 of 7 ballots still counting (2 exhausted)"
        " after C was eliminated"
    )


def test_runoff_options_nobody_ranked_first_go_first_with_zero_votes() -> None:
    result = tally("ranked_choice", tuple("ABCD"), ballots((3, "AB"), (2, "BA"), (2, "CDB")))
    first = result.rounds[0]
    assert first["counts"] == {"A": 3, "B": 2, "C": 2, "D": 0}
    assert first["eliminated"] == "D"
    assert result.winner == "B"


def test_runoff_tie_for_fewest_is_broken_by_the_previous_round() -> None:
    # After D goes, B and C both have 6; in round 1 C had 5 and B had 6, so C goes.
    result = tally("ranked_choice", tuple("ABCD"), ballots((10, "A"), (6, "B"), (5, "CB"), (1, "DCB")))
    second = result.rounds[1]
    assert second["counts"] == {"A": 10, "B": 6, "C": 6}
    assert second["eliminated"] == "C"
    assert second["tie_break"] == (
        "B and C tied for fewest votes (6); C is eliminated for having fewer on count 1"
    )
    assert result.winner == "B"


def test_runoff_tie_break_looks_at_the_latest_earlier_round_first() -> None:
    # In round 3 X and Y tie with 6. Round 2 (X 4, Y 5) decides before round 1 (X 4, Y 3).
    group = ballots((10, "A"), (4, "XY"), (3, "YX"), (2, "PXY"), (1, "PY"), (2, "QY"))
    result = tally("ranked_choice", tuple("AXYPQ"), group)
    assert [record["eliminated"] for record in result.rounds] == ["Q", "P", "X", None]
    assert result.rounds[2]["counts"] == {"A": 10, "X": 6, "Y": 6}
    assert result.rounds[2]["tie_break"] == (
        "X and Y tied for fewest votes (6); X is eliminated for having fewer on count 2"
    )
    assert result.winner == "Y"
    assert result.reason == (
        "Y won on count 4 of the runoff with 12 of 22 ballots after Q, P and X were eliminated"
    )


def test_runoff_tie_in_every_round_eliminates_the_option_listed_later() -> None:
    result = tally("ranked_choice", tuple("ABC"), ballots((1, "ABC"), (1, "BCA"), (1, "CAB")))
    assert result.rounds[0]["eliminated"] == "C"
    assert "C is eliminated as it is listed last of them in the options" in str(result.rounds[0]["tie_break"])
    assert result.winner == "A"
    listed_the_other_way = tally("ranked_choice", tuple("CBA"), ballots((1, "ABC"), (1, "BCA"), (1, "CAB")))
    assert listed_the_other_way.rounds[0]["eliminated"] == "A"


def test_runoff_two_options_left_with_equal_votes_is_a_tie() -> None:
    result = tally("ranked_choice", tuple("ABC"), ballots((2, "A"), (2, "B"), (1, "C")))
    assert result.winner is None
    assert result.tied == ("A", "B")
    assert result.rounds[-1]["counts"] == {"A": 2, "B": 2}
    assert result.reason == (
        "A and B tied on count 2 of the runoff with 2 each of 4 ballots still counting (1 exhausted) "
        "after C was eliminated; no winner"
    )


# Quorum, participation and consensus


def test_quorum_failure_decides_nothing() -> None:
    result = tally("plurality", tuple("AB"), ballots((2, "A"), (3, "")), quorum=0.5)
    assert result.winner is None
    assert result.rounds == ()
    assert result.participation == 0.4
    assert result.reason == (
        "Participation 40% (2 of 5 ballots, 3 abstained) is below the quorum of 50% (3 of 5); no decision"
    )


def test_quorum_is_inclusive_and_exact() -> None:
    assert tally("plurality", tuple("AB"), ballots((1, "A"), (1, "")), quorum=0.5).winner == "A"
    three_of_ten = ballots((3, "A"), (7, ""))
    assert tally("plurality", tuple("AB"), three_of_ten, quorum=0.3).winner == "A"
    assert tally("plurality", tuple("AB"), three_of_ten, quorum=0.31).winner is None


def test_quorum_percentages_never_look_equal() -> None:
    result = tally("plurality", tuple("AB"), ballots((2, "A"), (1, "")), quorum=0.667)
    assert result.winner is None
    assert "Participation 66.67% (2 of 3 ballots, 1 abstained) is below the quorum of 66.7%" in result.reason


@pytest.mark.parametrize(("first_for_a", "consensus"), [(5, "unanimous"), (4, "strong"), (3, "split")])
def test_consensus_levels(first_for_a: int, consensus: str) -> None:
    group = ballots((first_for_a, "AB"), (5 - first_for_a, "BA"))
    result = tally("borda", tuple("AB"), group)
    assert result.winner == "A"
    assert result.consensus == consensus


def test_no_ballots_and_only_abstentions() -> None:
    empty = tally("ranked_choice", tuple("AB"), [])
    assert (empty.winner, empty.participation, empty.reason) == (
        None,
        0.0,
        "No ballots were cast; no decision",
    )
    abstaining = tally("condorcet", tuple("AB"), ballots((3, "")))
    assert abstaining.reason == "All 3 ballots abstained; no decision"
    no_ballots_with_quorum = tally("majority", tuple("AB"), [], quorum=0.5)
    assert no_ballots_with_quorum.reason == (
        "There are no ballots, so the quorum of 50% is not met; no decision"
    )


def test_zero_count_ballots_change_nothing() -> None:
    with_zero = ballots((2, "A"), (1, "B"), (0, "B"), (0, ""))
    assert tally("plurality", tuple("AB"), with_zero) == tally(
        "plurality", tuple("AB"), ballots((2, "A"), (1, "B"))
    )


def test_single_option() -> None:
    for method in METHODS:
        result = tally(method, ("Only",), ballots((2, ("Only",)), (1, ())))
        assert result.winner == "Only", method
        assert result.support == 1.0, method


# The result object


@pytest.mark.parametrize("method", METHODS)
def test_result_dict_is_json_ready_with_the_documented_keys(method: str) -> None:
    result = tally(method, TENNESSEE, tennessee_ballots())
    as_dict = result.to_dict()
    assert list(as_dict) == [
        "method",
        "winner",
        "tied",
        "rounds",
        "support",
        "participation",
        "consensus",
        "reason",
        "ballots",
        "cast",
        "abstained",
        "quorum",
        "quorum_met",
    ]
    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict
    assert as_dict["method"] == method
    assert as_dict["rounds"], "every decided method reports its counts"
    for record in as_dict["rounds"]:
        assert set(record["counts"]) <= set(TENNESSEE)
    assert set(as_dict["rounds"][0]["counts"]) == set(TENNESSEE)
    assert "\n" not in as_dict["reason"]


def test_to_dict_is_a_copy() -> None:
    result = tally("condorcet", TENNESSEE, tennessee_ballots())
    as_dict = result.to_dict()
    as_dict["rounds"][0]["counts"]["Memphis"] = 0
    assert result.rounds[0]["counts"]["Memphis"] == 42


def test_ranking_given_as_a_list_is_accepted() -> None:
    ballot = RankedBallot("ann", ["A", "B"])  # type: ignore[arg-type]  # a list where a tuple is declared, on purpose
    assert ballot.ranking == ("A", "B")
    assert tally("plurality", tuple("AB"), [ballot]).winner == "A"


def test_result_is_independent_of_ballot_order() -> None:
    forward = tennessee_ballots()
    assert tally("ranked_choice", TENNESSEE, forward) == tally(
        "ranked_choice", TENNESSEE, list(reversed(forward))
    )


# Invalid input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"method": "approval"},
            'unknown method "approval"; valid methods: unanimous, supermajority, majority, '
            "plurality, ranked_choice, weighted, borda, condorcet",
        ),
        (
            {"ballots": [RankedBallot("ok", ("A",)), RankedBallot("ann", ("A", "Z"))]},
            'ballot 2 (voter "ann") ranks "Z", which is not an option',
        ),
        (
            {"ballots": [RankedBallot("ann", ("A", "B", "A"))]},
            'ballot 1 (voter "ann") ranks "A" twice',
        ),
        (
            {"ballots": [RankedBallot("", ("A",), count=-1)]},
            "ballot 1: count must be a whole number of voters, 0 or more, not -1",
        ),
        (
            {"ballots": [RankedBallot("bo", ("A",), count=1.5)]},  # type: ignore[arg-type]  # a wrong type, on purpose
            'ballot 1 (voter "bo"): count must be a whole number of voters, 0 or more, not 1.5',
        ),
        (
            {"ballots": [RankedBallot("bo", ("A",), count=True)]},
            'ballot 1 (voter "bo"): count must be a whole number of voters, 0 or more, not True',
        ),
        (
            {"ballots": [RankedBallot("cy", ("A",), weight=-0.5)]},
            'ballot 1 (voter "cy"): weight must be a finite number, 0 or more, not -0.5',
        ),
        (
            {"ballots": [RankedBallot("cy", ("A",), weight=float("nan"))]},
            'ballot 1 (voter "cy"): weight must be a finite number, 0 or more, not nan',
        ),
        (
            {"ballots": [RankedBallot("cy", ("A",), weight=float("inf"))]},
            'ballot 1 (voter "cy"): weight must be a finite number, 0 or more, not inf',
        ),
        (
            {"ballots": [RankedBallot("cy", ("A",), weight="2")]},  # type: ignore[arg-type]  # a wrong type, on purpose
            'ballot 1 (voter "cy"): weight must be a finite number, 0 or more, not "2"',
        ),
        (
            {"ballots": [RankedBallot("dee", "AB")]},  # type: ignore[arg-type]  # a wrong type, on purpose
            'ballot 1 (voter "dee"): ranking must be a sequence of option names, not "AB"',
        ),
        (
            {"ballots": [RankedBallot("dee", (["A"],))]},  # type: ignore[arg-type]  # a wrong type, on purpose
            'ballot 1 (voter "dee"): ranking entries must be option names, not a list',
        ),
        ({"ballots": [("A",)]}, "ballot 1 is a tuple, not a RankedBallot"),
        ({"options": ("A", "B", "A")}, 'option "A" is listed twice'),
        ({"options": ("A", "")}, 'option 2 must be a non-empty string, not ""'),
        ({"threshold": 1.5}, "threshold must be a number from 0 to 1, not 1.5"),
        ({"quorum": -0.1}, "quorum must be a number from 0 to 1, not -0.1"),
        ({"quorum": float("nan")}, "quorum must be a number from 0 to 1, not nan"),
    ],
)
def test_invalid_input_raises_one_line_ballot_error(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "method": "plurality",
        "options": ("A", "B"),
        "ballots": [RankedBallot("ann", ("A",))],
    }
    arguments.update(kwargs)
    with pytest.raises(BallotError) as raised:
        tally(**arguments)  # type: ignore[arg-type]  # arguments of mixed types, some wrong on purpose
    assert str(raised.value) == message
    assert isinstance(raised.value, ValueError)


def test_invalid_ballot_is_reported_even_with_zero_count() -> None:
    with pytest.raises(BallotError, match='ranks "Z"'):
        tally("plurality", tuple("AB"), [RankedBallot("x", ("Z",), count=0)])


def test_quote_name_keeps_messages_on_one_line() -> None:
    assert quote_name('say "hi"\n\x1b[31m') == '"say \\"hi\\"\\n\\x1b[31m"'
    with pytest.raises(BallotError) as raised:
        tally("plurality", tuple("AB"), [RankedBallot("evil\nname", ("A\x1b[2J",))])
    assert "\n" not in str(raised.value)
    assert "\x1b" not in str(raised.value)


def test_tally_result_is_frozen() -> None:
    result = tally("plurality", tuple("AB"), [RankedBallot("ann", ("A",))])
    assert isinstance(result, TallyResult)
    with pytest.raises(AttributeError):
        result.winner = "B"  # type: ignore[misc]  # frozen: the assignment must fail


def test_module_imports_nothing_of_the_ui_or_the_rest_of_the_engine() -> None:
    code = (
        "import sys, orkestra_tui.engine.voting.consensus\n"
        "own = ('orkestra_tui.engine', 'orkestra_tui.engine.voting',\n"
        "       'orkestra_tui.engine.voting.consensus', 'orkestra_tui.engine.voting.methods')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')\n"
        "    or (m.startswith('orkestra_tui.engine.')\n"
        "        and m not in own and not m.startswith('orkestra_tui.engine.voting.consensus.')))\n"
        "print(','.join(bad))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == ""
