"""`orkestra vote` and `orkestra plan` in a script: no terminal, no `--tie-break`, and ties or none.

Without a terminal the default is to leave a tie in the inbox for the app and
end with status 3; without a tie the command simply succeeds. Each case runs
the real command in a subprocess whose stdin is not a terminal.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import DecisionStatus, InboxKind, InboxStatus

QUESTION = "Which database should back the ledger?"
AGREED = ("SQLite: simple, safe and tested", "PostgreSQL")
"""With seed 0 the five simulated agents agree on the first of these in round 1."""
SPLIT = (
    "SQLite: simple, safe and tested",
    "PostgreSQL: scale and data tooling",
    "A bold new event store",
    "Plain files with a typed code layer",
)
"""With seed 0, plurality and one round, these tie, and so does the compromise round after it."""
GUARD_S = 120
"""Only so a regression that waits for input fails instead of hanging the suite."""


def home_with(tmp_path: Path, engine: str = "") -> Path:
    (tmp_path / "config.toml").write_text(
        f"{engine}[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8"
    )
    return tmp_path


def orkestra(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orkestra_tui", *arguments, "--data-dir", str(home)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=GUARD_S,
        check=False,
    )


def options(*texts: str) -> list[str]:
    return [argument for text in texts for argument in ("--option", text)]


def open_engine(home: Path) -> Engine:
    return Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})


def test_readme_vote_example_runs_without_a_terminal(tmp_path: Path) -> None:
    home = home_with(tmp_path)
    done = orkestra(home, "vote", "Which database?", "--option", "SQLite", "--option", "PostgreSQL")
    assert done.returncode == 0, done.stderr
    assert "Winner: " in done.stdout
    assert "needs a terminal" not in done.stderr


def test_a_tied_vote_without_a_terminal_is_left_for_the_app(tmp_path: Path) -> None:
    home = home_with(tmp_path)
    split = [QUESTION, *options(*SPLIT), "--method", "plurality", "--rounds", "1"]
    done = orkestra(home, "vote", *split, "--json")
    assert done.returncode == 3, done.stderr
    document = json.loads(done.stdout)
    assert document["status"] == "awaiting_human" and document["winner"] is None
    last_line = done.stderr.splitlines()[-1]
    assert last_line.startswith(f"orkestra: decision {document['decision_id']} is tied and waits for you")
    assert f"orkestra vote --resume {document['decision_id']}" in last_line
    engine = open_engine(home)
    try:
        decision = engine.store.decision(document["decision_id"])
        assert decision is not None and decision.status is DecisionStatus.AWAITING_HUMAN
        (item,) = [item for item in engine.inbox.open_items() if item.kind is InboxKind.TIE_BREAK]
        assert item.status is InboxStatus.OPEN
    finally:
        engine.close()
    # Run again without a policy: still left, at once; with one, the tie is broken.
    again = orkestra(home, "vote", "--resume", str(document["decision_id"]))
    assert again.returncode == 3, again.stderr
    broken = orkestra(
        home, "vote", "--resume", str(document["decision_id"]), "--tie-break", "first", "--json"
    )
    assert broken.returncode == 0, broken.stderr
    assert json.loads(broken.stdout)["tie_break_by"] == "policy:first"


def test_the_summary_says_the_vote_waits(tmp_path: Path) -> None:
    home = home_with(tmp_path)
    done = orkestra(home, "vote", QUESTION, *options(*SPLIT), "--method", "plurality", "--rounds", "1")
    assert done.returncode == 3, done.stderr
    assert "Waiting for your tie-break" in done.stdout


def test_ask_given_without_a_terminal_is_refused(tmp_path: Path) -> None:
    home = home_with(tmp_path)
    done = orkestra(home, "vote", QUESTION, *options(*AGREED), "--tie-break", "ask")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "orkestra: --tie-break ask needs a terminal to ask on; pass --tie-break first, random or fail\n"
    )


@pytest.mark.parametrize("flag", [[], ["--tie-break", "first"]])
def test_resuming_a_decision_that_does_not_exist(tmp_path: Path, flag: list[str]) -> None:
    done = orkestra(home_with(tmp_path), "vote", "--resume", "999", *flag)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "orkestra: decision 999 does not exist\n"


def test_readme_plan_example_runs_without_a_terminal(tmp_path: Path) -> None:
    home = home_with(tmp_path)
    done = orkestra(
        home, "plan", "--name", "Shop", "--description", "A small online shop", "--feature", "cart"
    )
    assert done.returncode == 0, done.stderr
    assert "needs a terminal" not in done.stderr


def test_a_tied_plan_without_a_terminal_is_left_for_the_app(tmp_path: Path) -> None:
    home = home_with(tmp_path, "[engine]\nmax_rounds = 1\n\n")
    brief = ["--name", "Shop", "--description", "A small online shop", "--method", "plurality"]
    done = orkestra(home, "plan", *brief, "--json")
    assert done.returncode == 3, done.stderr
    assert json.loads(done.stdout)["step"] == "vote"
    assert done.stderr.splitlines()[-1].startswith(
        'orkestra: the vote on the plans for "Shop" is tied and waits for you'
    )
    engine = open_engine(home)
    try:
        assert [item.kind for item in engine.inbox.open_items()] == [InboxKind.TIE_BREAK]
    finally:
        engine.close()
    broken = orkestra(home, "plan", "--resume", "Shop", "--tie-break", "first", "--json")
    assert broken.returncode == 0, broken.stderr
    assert json.loads(broken.stdout)["step"] == "review"
