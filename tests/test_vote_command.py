"""`orkestra vote`: the vote run to its end, its JSON and progress, tie-breaks, resuming, bad input."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sys
from pathlib import Path

import pytest

from orkestra_tui.cli import main
from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.voting.methods import METHODS

QUESTION = "Which database should back the ledger?"
AGREED = ("SQLite: simple, safe and tested", "PostgreSQL")
"""With seed 0 the five simulated agents agree on the first of these in round 1 (majority)."""
SPLIT = (
    "SQLite: simple, safe and tested",
    "PostgreSQL: scale and data tooling",
    "A bold new event store",
    "Plain files with a typed code layer",
)
"""With seed 0 and plurality in one round these tie, and so does the compromise round after it."""
BALLOT_KEYS = {"voter", "ranking", "confidence", "reasoning", "abstain_reason", "excluded"}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data dir whose simulated agents answer at once, with a seed the cases above were found with."""
    (tmp_path / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], home: Path, *arguments: str) -> tuple[int, str, str]:
    try:
        status = main(["vote", "--data-dir", str(home), *arguments])
    except SystemExit as exit_:  # argparse's own exits
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def options(*texts: str) -> list[str]:
    return [argument for text in texts for argument in ("--option", text)]


def split_vote(capsys: pytest.CaptureFixture[str], home: Path, *arguments: str) -> tuple[int, str, str]:
    return run(capsys, home, QUESTION, *options(*SPLIT), "--method", "plurality", "--rounds", "1", *arguments)


# ------------------------------------------------------------------ results


def test_agreement_in_one_round_as_json(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    status, out, err = run(capsys, home, QUESTION, *options(*AGREED), "--tie-break", "first", "--json")
    assert status == 0
    document = json.loads(out)
    assert document["question"] == QUESTION
    assert document["options"] == list(AGREED)
    assert document["method"] == "majority"
    assert document["rules"] == {"threshold": 0.75, "quorum": "majority"}
    assert document["status"] == "decided"
    assert document["winner"] == AGREED[0]
    assert document["how"] == "vote"
    assert document["resolution"] == []
    assert document["consensus"] in ("unanimous", "strong", "split")
    assert 0.5 < document["support"] <= 1
    assert document["calls"] == 5 and document["tokens"] > 0 and document["cost"] == 0.0
    (only,) = document["rounds"]
    assert only["round"] == 1 and only["options"] == list(AGREED) and only["note"] == ""
    assert only["tally"]["winner"] == AGREED[0]
    assert only["estimate"] == 0.0
    assert sorted(ballot["voter"] for ballot in only["ballots"]) == sorted(document["voters"])
    assert all(set(ballot) == BALLOT_KEYS for ballot in only["ballots"])
    assert all(ballot["ranking"] and ballot["reasoning"] for ballot in only["ballots"])
    # Progress, one plain line per event, goes to stderr when it is not a terminal.
    lines = err.splitlines()
    assert lines[0] == "Round 1 of 5 started: estimated cost $0.0000"
    assert sum(line.startswith("  ") and line.endswith(")") for line in lines) == 5
    assert any(line.startswith("Round 1 closed: ") for line in lines)
    assert lines[-1] == f"Decided: {AGREED[0]}"


def test_the_summary_names_the_winner_and_the_rounds(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    status, out, _ = run(capsys, home, QUESTION, *options(*AGREED), "--tie-break", "first")
    assert status == 0
    assert f"Winner: {AGREED[0]}" in out
    assert "Decided by vote after 1 round; method majority" in out
    assert "First preferences" in out and "round 1" in out
    assert "Cost: $0.0000 · 5 calls" in out


def test_a_tie_broken_by_the_first_policy(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    status, out, err = split_vote(capsys, home, "--tie-break", "first", "--json")
    assert status == 0
    document = json.loads(out)
    assert document["how"] == "policy tie-break"
    assert document["tie_break_by"] == "policy:first"
    assert document["resolution"] == ["compromise", "human"]
    first, compromise = document["rounds"]
    assert compromise["note"].startswith("compromise by ")
    assert len(compromise["options"]) == len(SPLIT) + 1
    assert first["tally"]["tied"] and document["winner"] == first["tally"]["tied"][0]
    mediator = compromise["note"].removeprefix("compromise by ")
    assert next(b for b in compromise["ballots"] if b["voter"] == mediator)["excluded"] == [
        compromise["options"][-1]
    ]
    assert "Extra round 2 started (compromise by " in err
    assert f"Tie broken by policy:first: {document['winner']}" in err


def test_a_tie_left_unbroken_is_no_decision(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    status, out, err = split_vote(capsys, home, "--tie-break", "fail", "--json")
    assert status == 1
    document = json.loads(out)
    assert document["status"] == "no_decision"
    assert document["winner"] is None and document["how"] == "none"
    assert len(document["tied"]) >= 2
    assert "Tie left unbroken (policy: fail)" in err


def test_ask_prompts_on_the_terminal(
    capsys: pytest.CaptureFixture[str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class TerminalInput(io.StringIO):
        def isatty(self) -> bool:
            return True

    # An out-of-range answer is asked again; then the second tied option is chosen.
    monkeypatch.setattr(sys, "stdin", TerminalInput("7\n2\n"))
    status, out, err = split_vote(capsys, home, "--json")
    assert status == 0
    document = json.loads(out)
    assert document["tie_break_by"] == "human"
    assert "The committee is tied on: " + QUESTION in err
    assert "Type a number from 1 to 2." in err
    assert document["winner"] == document["rounds"][0]["tally"]["tied"][1]


def test_agent_and_user_text_reaches_the_terminal_escaped(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    hostile = "[bold red]Ledger\x1b[2J db"
    status, out, err = run(capsys, home, QUESTION, *options(hostile, "PostgreSQL"), "--tie-break", "first")
    assert status in (0, 1)
    assert "\x1b" not in out and "\x1b" not in err
    assert "[bold red]Ledger\\x1b[2J db" in out + err


def test_resume_finishes_an_open_decision(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        decision_id = engine.open_decision(QUESTION, list(AGREED)).id
    finally:
        engine.close()
    status, out, err = run(capsys, home, "--resume", str(decision_id), "--tie-break", "first", "--json")
    assert status == 0
    assert json.loads(out)["winner"] == AGREED[0]
    assert err.startswith(f"Resuming decision {decision_id} (before its first round)\n")
    status, _, err = run(capsys, home, "--resume", str(decision_id), "--tie-break", "first")
    assert (status, err) == (2, f"orkestra: decision {decision_id} is already decided\n")


def test_resume_answers_a_tie_break_left_open(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    async def stop_at_the_tie_break(engine: Engine, decision_id: int) -> None:
        voting = asyncio.create_task(engine.decide(decision_id))
        while not engine.inbox.open_items():
            await asyncio.sleep(0)
        voting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await voting

    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        decision_id = engine.open_decision(QUESTION, SPLIT, method="plurality", max_rounds=1).id
        asyncio.run(stop_at_the_tie_break(engine, decision_id))
    finally:
        engine.close()
    status, out, err = run(capsys, home, "--resume", str(decision_id), "--tie-break", "first", "--json")
    assert status == 0
    assert json.loads(out)["tie_break_by"] == "policy:first"
    assert err.startswith(f"Resuming decision {decision_id} (waiting for a tie-break after round 2)\n")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            (QUESTION, *options(*AGREED), "--method", "nope"),
            f'unknown method "nope"; valid methods: {", ".join(METHODS)}',
        ),
        ((QUESTION, *options("Only one")), "a vote needs at least two non-empty options"),
        ((QUESTION, *options("Same", " Same ")), 'option "Same" is given twice'),
        ((QUESTION, *options(*AGREED), "--voter", "bob"), 'unknown voter "bob"; agents: claude, chatgpt'),
        ((QUESTION, *options(*AGREED), "--rounds", "0"), "--rounds must be from 1 to 100, not 0"),
        ((QUESTION, *options(*AGREED), "--rounds", "two"), '--rounds must be a whole number, not "two"'),
        (
            (QUESTION, *options(*AGREED), "--threshold", "1.5"),
            '--threshold must be a number from 0 to 1, not "1.5"',
        ),
        (
            (QUESTION, *options(*AGREED), "--quorum", "-0.1"),
            '--quorum must be majority or a number from 0 to 1, not "-0.1"',
        ),
        ((*options(*AGREED),), "a vote needs a question"),
        (("--resume", "1", QUESTION), "--resume continues a decision as it was opened; drop QUESTION"),
        (("--resume", "41"), "decision 41 does not exist"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], home: Path, arguments: tuple[str, ...], expected: str
) -> None:
    status, out, err = run(capsys, home, *arguments, "--tie-break", "first")
    assert (status, out) == (2, "")
    assert err.startswith(f"orkestra: {expected}")
    assert len(err.splitlines()) == 1


def test_a_broken_config_gets_one_line(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    (home / "config.toml").write_text("[simulation]\nlatency = 0\n", encoding="utf-8")
    status, out, err = run(capsys, home, QUESTION, *options(*AGREED), "--tie-break", "first")
    assert (status, out) == (2, "")
    assert err.startswith("orkestra: ") and "config.toml, line 2: unknown key 'latency'" in err
    assert len(err.splitlines()) == 1


def test_ask_without_a_terminal_is_refused_up_front(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    status, out, err = run(capsys, home, QUESTION, *options(*AGREED), "--tie-break", "ask")
    assert (status, out) == (2, "")
    assert (
        err
        == "orkestra: --tie-break ask needs a terminal to ask on; pass --tie-break first, random or fail\n"
    )
    assert not (home / "data" / "orkestra.db").exists()


# -------------------------------------------------------------------- bench


def test_the_round_bench_gives_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--json", "--scenario", "round"]) == 0
    figures = json.loads(capsys.readouterr().out)["round"]
    assert set(figures) == {"agents", "agent_latency_ms", "round_ms", "sequential_ms", "ratio"}
    assert figures["agents"] == 5
    assert figures["sequential_ms"] == figures["agents"] * figures["agent_latency_ms"]
