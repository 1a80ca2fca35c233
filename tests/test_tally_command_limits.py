"""`orkestra tally` up to its limits (200 options, 100,000 ballots), and one line past them."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from orkestra_tui.cli import main
from orkestra_tui.engine.voting.consensus import MAX_BALLOTS, MAX_OPTIONS, METHODS

BALLOTS_LIMIT_LINE = (
    "more than 100,000 ballots; a tally takes at most 100,000 "
    "(one ballot with a count stands for that many identical ones)"
)


def write_ballots(tmp_path: Path, options: list[str], ballots: list[dict[str, object]]) -> Path:
    path = tmp_path / "ballots.json"
    path.write_text(json.dumps({"options": options, "ballots": ballots}), encoding="utf-8")
    return path


def names(count: int) -> list[str]:
    return [f"Option {number:03d}" for number in range(1, count + 1)]


@pytest.mark.parametrize("method", METHODS)
def test_the_most_options_are_counted_by_every_method(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, method: str
) -> None:
    options = names(MAX_OPTIONS)
    generator = random.Random(5)
    ballots: list[dict[str, object]] = [
        {"voter": f"voter {number}", "ranking": generator.sample(options, generator.randint(1, MAX_OPTIONS))}
        for number in range(40)
    ]
    ballots += [{"voter": "bloc", "ranking": options[::-1], "count": 60}]
    path = write_ballots(tmp_path, options, ballots)
    status = main(["tally", str(path), "--method", method, "--json"])
    captured = capsys.readouterr()
    assert (status, captured.err) == (0, "")
    result = json.loads(captured.out)
    assert result["method"] == method
    assert set(result["rounds"][0]["counts"]) <= set(options)


def test_options_past_the_limit_get_one_line_and_status_2(tmp_path: Path) -> None:
    path = write_ballots(tmp_path, names(MAX_OPTIONS + 1), [{"ranking": ["Option 001"]}])
    finished = subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "tally", str(path), "--method", "condorcet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (finished.returncode, finished.stdout) == (2, "")
    assert finished.stderr == f"orkestra: {path}: 201 options; a tally takes at most 200\n"


def test_ballots_past_the_limit_get_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ballot: dict[str, object] = {"ranking": ["A"]}
    path = write_ballots(tmp_path, ["A", "B"], [ballot] * MAX_BALLOTS)
    assert main(["tally", str(path), "--json"]) == 0
    capsys.readouterr()
    path = write_ballots(tmp_path, ["A", "B"], [ballot] * (MAX_BALLOTS + 1))
    assert main(["tally", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"orkestra: {path}: {BALLOTS_LIMIT_LINE}\n"
