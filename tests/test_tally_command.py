"""`orkestra tally FILE`: JSON and Rich output, and one clear line for every bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orkestra_tui.cli import main
from orkestra_tui.engine.voting.consensus import METHODS

TENNESSEE_FILE = Path(__file__).parent / "data" / "ballots_tennessee.json"
RESULT_KEYS = [
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


def run_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, Any]:
    status = main(["tally", *arguments, "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.err == ""
    document: dict[str, Any] = json.loads(captured.out)
    return document


def write_json(tmp_path: Path, document: object) -> str:
    path = tmp_path / "ballots.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


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
def test_json_result_of_each_method(
    capsys: pytest.CaptureFixture[str], method: str, winner: str | None
) -> None:
    document = run_json(capsys, str(TENNESSEE_FILE), "--method", method)
    assert list(document) == RESULT_KEYS
    assert document["method"] == method
    assert document["winner"] == winner
    assert document["participation"] == 100 / 104


def test_default_method_is_ranked_choice(capsys: pytest.CaptureFixture[str]) -> None:
    document = run_json(capsys, str(TENNESSEE_FILE))
    assert document["method"] == "ranked_choice"
    assert document["reason"] == (
        "Knoxville won on count 3 of the runoff with 58 of 100 cast ballots"
        " after Chattanooga and Nashville were eliminated; 4 of the 104 ballots abstained"
    )
    assert [record["eliminated"] for record in document["rounds"]] == [
        "Chattanooga",
        "Nashville",
        None,
    ]


def test_threshold_and_quorum_options(capsys: pytest.CaptureFixture[str]) -> None:
    passing = run_json(capsys, str(TENNESSEE_FILE), "--method", "supermajority", "--threshold", "0.42")
    assert passing["winner"] == "Memphis"
    failing = run_json(capsys, str(TENNESSEE_FILE), "--quorum", "0.97")
    assert failing["winner"] is None
    assert failing["rounds"] == []
    assert failing["reason"] == (
        "Participation 96.2% (100 of 104 ballots, 4 abstained) is below the quorum of 97% (101 of 104);"
        " no decision"
    )


def test_rich_output_shows_each_round_and_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tally", str(TENNESSEE_FILE)]) == 0
    output = capsys.readouterr().out
    for heading in ("Round 1", "Round 2", "Round 3", "eliminated: Chattanooga"):
        assert heading in output
    assert "Winner: Knoxville" in output
    assert "Knoxville won on count 3 of the runoff" in output


def test_rich_output_for_condorcet_shows_the_pairwise_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tally", str(TENNESSEE_FILE), "--method", "condorcet"]) == 0
    output = capsys.readouterr().out
    assert "Head to head" in output
    assert "Strongest paths" in output
    assert "Nashville beats every other option" in output


def test_rich_output_escapes_option_names(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sneaky = "[bold red]Plan[/] \x1b[2J"
    path = write_json(
        tmp_path,
        {"options": [sneaky, "Other"], "ballots": [{"voter": "ann", "ranking": [sneaky]}]},
    )
    for method in METHODS:
        assert main(["tally", path, "--method", method]) == 0
        output = capsys.readouterr().out
        assert "[bold red]Plan[/]" in output, method
        assert "\x1b" not in output, method


def test_json_output_is_ascii(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_json(tmp_path, {"options": ["Zürich", "Ab\x9bc"], "ballots": [{"ranking": ["Ab\x9bc"]}]})
    assert main(["tally", path, "--json"]) == 0
    output = capsys.readouterr().out
    assert output.isascii()
    assert json.loads(output)["winner"] == "Ab\x9bc"


def test_abstentions_only_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_json(tmp_path, {"options": ["A"], "ballots": [{"ranking": [], "count": 2}]})
    document = run_json(capsys, path)
    assert document["winner"] is None
    assert document["reason"] == "All 2 ballots abstained; no decision"


VALID_BALLOT = {"voter": "ann", "ranking": ["A"]}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {
                "options": ["A", "B"],
                "ballots": [VALID_BALLOT, VALID_BALLOT, {"voter": "ann", "ranking": ["Z"]}],
            },
            'ballot 3 (voter "ann") ranks "Z", which is not an option',
        ),
        (
            {"options": ["A", "B"], "ballots": [{"voter": "bo", "ranking": ["A", "B", "A"]}]},
            'ballot 1 (voter "bo") ranks "A" twice',
        ),
        (
            {"options": ["A"], "ballots": [{"ranking": ["A"], "count": -2}]},
            "ballot 1: count must be a whole number of voters, 0 or more, not -2",
        ),
        (
            {"options": ["A"], "ballots": [{"ranking": ["A"], "count": 2.5}]},
            "ballot 1: count must be a whole number of voters, 0 or more, not 2.5",
        ),
        (
            {"options": ["A"], "ballots": [{"ranking": ["A"], "count": "3"}]},
            'ballot 1: count must be a number, not "3"',
        ),
        (
            {"options": ["A"], "ballots": [{"voter": "cy", "ranking": ["A"], "weight": -1}]},
            'ballot 1 (voter "cy"): weight must be a finite number, 0 or more, not -1',
        ),
        (
            {"options": ["A"], "ballots": [{"voter": "cy", "ranking": ["A"], "weight": "heavy"}]},
            'ballot 1 (voter "cy"): weight must be a number, not "heavy"',
        ),
        (
            {"options": ["A"], "ballots": [{"voter": "cy", "ranking": ["A"], "weight": True}]},
            'ballot 1 (voter "cy"): weight must be a number, not true',
        ),
        (
            {"options": ["A"], "ballots": [{"voter": "cy", "ranking": ["A"], "weight": 1e999}]},
            "is not a number JSON allows",
        ),
        (
            {"options": ["A"], "ballots": [{"voter": "dee", "rank": ["A"]}]},
            'ballot 1 (voter "dee"): unknown key "rank" (did you mean "ranking"?)',
        ),
        (
            {"options": ["A"], "ballots": [{"voter": "dee"}]},
            'ballot 1 (voter "dee") has no "ranking" (an empty list [] abstains)',
        ),
        (
            {"options": ["A"], "ballots": [{"ranking": "A"}]},
            "ballot 1: ranking must be a list of option names, not a string",
        ),
        (
            {"options": ["A"], "ballots": [{"ranking": ["A", 2]}]},
            "ballot 1: ranking entry 2 must be an option name, not 2",
        ),
        (
            {"options": ["A"], "ballots": [{"voter": 7, "ranking": ["A"]}]},
            "ballot 1: voter must be a string, not 7",
        ),
        (
            {"options": ["A"], "ballots": ["A"]},
            'ballot 1 must be an object with a "ranking", not a string',
        ),
        (
            {"options": "A, B", "ballots": []},
            '"options" must be a list of option names, not a string',
        ),
        ({"options": [], "ballots": []}, '"options" is empty; list at least one option'),
        ({"options": ["A", "A"], "ballots": []}, 'option "A" is listed twice'),
        ({"options": ["A", ""], "ballots": []}, 'option 2 must be a non-empty string, not ""'),
        ({"options": ["A"], "ballots": {}}, '"ballots" must be a list of ballots, not an object'),
        ({"options": ["A"]}, 'missing "ballots"'),
        ({"option": ["A"], "ballots": []}, 'unknown key "option" (did you mean "options"?)'),
        ([1, 2], 'expected an object with "options" and "ballots", not a list'),
    ],
)
def test_bad_ballots_file_gives_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, document: object, expected: str
) -> None:
    path = tmp_path / "ballots.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert_one_line_error(capsys, ["tally", str(path)], f"{path}: ", expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"options": ["A"], "ballots": [', "invalid JSON at line 1, column 32: Expecting value"),
        ("", "invalid JSON at line 1, column 1: Expecting value"),
        ('{"options": ["A"], "options": ["B"], "ballots": []}', 'key "options" appears twice'),
        (
            '{"options": ["A"], "ballots": [{"ranking": ["A"], "weight": NaN}]}',
            "NaN is not a number",
        ),
        ("[" * 100_000 + "]" * 100_000, "invalid JSON"),
    ],
)
def test_invalid_json_gives_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "ballots.json"
    path.write_text(text, encoding="utf-8")
    assert_one_line_error(capsys, ["tally", str(path)], f"{path}: ", expected)


def test_file_that_is_not_utf8(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "ballots.json"
    path.write_bytes(b'{"options": ["\xff"]}')
    assert_one_line_error(capsys, ["tally", str(path)], f"{path}: ", "is not UTF-8 text")


def test_missing_file_and_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    assert_one_line_error(capsys, ["tally", str(missing)], f"{missing}: ", "no such file")
    assert_one_line_error(capsys, ["tally", str(tmp_path)], f"{tmp_path}: ", "is a directory")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ["--method", "approval"],
            'unknown method "approval"; valid methods: unanimous, supermajority, majority, '
            "plurality, ranked_choice, weighted, borda, condorcet",
        ),
        (["--threshold", "high"], '--threshold must be a number from 0 to 1, not "high"'),
        (["--threshold", "1.5"], '--threshold must be a number from 0 to 1, not "1.5"'),
        (["--quorum", "nan"], '--quorum must be majority or a number from 0 to 1, not "nan"'),
    ],
)
def test_bad_options_give_one_line(
    capsys: pytest.CaptureFixture[str], arguments: list[str], expected: str
) -> None:
    assert_one_line_error(capsys, ["tally", str(TENNESSEE_FILE), *arguments], "", expected)


def assert_one_line_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], prefix: str, expected: str
) -> None:
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert "Traceback" not in captured.err
    assert captured.err.endswith("\n")
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith(f"orkestra: {prefix}")
    assert expected in captured.err


def test_bench_scenario_reports_the_figures() -> None:
    from orkestra_tui.bench import tally as tally_bench

    figures = tally_bench.run(quick=True)
    assert figures["ballots"] == 10_000
    assert figures["options"] == 10
    assert int(figures["ranked_choice_rounds"]) > 3
    for key in ("baseline_ms", "ranked_choice_ms", "condorcet_ms"):
        assert figures[key] >= 0
    assert tally_bench.make_ballots(50) == tally_bench.make_ballots(50)
