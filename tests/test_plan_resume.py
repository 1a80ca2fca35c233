"""A headless `orkestra plan` killed mid-way resumes when run again, paying for nothing twice.

The real command runs in a subprocess with simulated agents that take their
time; it is killed (SIGKILL) once some proposals, or some ballots, are stored.
Running the same command again goes on with the stored plan: it says so, ends
with the plan approved, and makes no call again for a proposal or a ballot that
was already stored (counted in the `call` table, per agent and purpose).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from orkestra_tui.cli import main

TIMEOUT_S = 90.0
CONFIG = "[simulation]\nseed = 0\nlatency_ms = 1200\n"
COMMAND = ("plan", "--name", "Shop", "--description", "A small online shop.", "--involvement", "1", "--json")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "config.toml").write_text(CONFIG, encoding="utf-8")
    return folder


def environment() -> dict[str, str]:
    """No key reaches the command, so every agent is simulated."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.endswith(("_API_KEY", "_TOKEN")) and name != "ORKESTRA_HOME"
    }


def command(home: Path, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), *arguments]


def read(home: Path, sql: str) -> list[tuple[object, ...]]:
    database = home / "data" / "orkestra.db"
    if not database.exists():
        return []
    with sqlite3.connect(database, timeout=10.0) as reader:
        try:
            return reader.execute(sql).fetchall()
        except sqlite3.OperationalError:  # the schema is not there yet
            return []


def stored_proposals(home: Path) -> set[str]:
    """The agents whose valid draft the plan session holds."""
    rows = read(home, "SELECT proposals FROM plan_session")
    drafts = json.loads(str(rows[0][0])) if rows else []
    return {draft["agent"] for draft in drafts if draft["plan"] is not None}


def ballots(home: Path) -> Counter[str]:
    return Counter(str(voter) for (voter,) in read(home, "SELECT voter FROM ballot"))


def calls(home: Path, purpose: str) -> Counter[str]:
    rows = read(home, f"SELECT agent FROM call WHERE purpose = '{purpose}'")
    return Counter(str(agent) for (agent,) in rows)


def kill_when(home: Path, condition: Callable[[Path], bool], what: str) -> None:
    """Start the plan and SIGKILL it as soon as `condition(home)` holds."""
    process = subprocess.Popen(
        command(home, *COMMAND),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment(),
    )
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while not condition(home):
            assert process.poll() is None, f"the plan ended before {what}"
            assert time.monotonic() < deadline, f"never happened: {what}"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def run_again(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(home, *arguments),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment(),
        timeout=TIMEOUT_S,
        check=False,
    )


def test_a_plan_killed_during_the_proposals_resumes_without_asking_again(home: Path) -> None:
    kill_when(home, lambda folder: bool(stored_proposals(folder)), "a proposal is stored")
    drafted = stored_proposals(home)
    paid = calls(home, "plan")

    again = run_again(home, *COMMAND)

    assert again.returncode == 0, again.stderr
    assert 'orkestra: resuming the plan for "Shop" at the proposals step' in again.stderr
    assert json.loads(again.stdout)["approved"] is True
    after = calls(home, "plan")
    assert {agent: after[agent] for agent in drafted} == {agent: paid[agent] for agent in drafted}
    assert len(stored_proposals(home)) == 5


def test_a_plan_killed_during_the_vote_resumes_with_its_ballots(home: Path) -> None:
    kill_when(home, lambda folder: bool(ballots(folder)), "a ballot is stored")
    cast, paid, drafts_paid = ballots(home), calls(home, "ballot"), calls(home, "plan")

    again = run_again(home, "plan", "--resume", "--json")

    assert again.returncode == 0, again.stderr
    assert 'orkestra: resuming the plan for "Shop" at the vote step: 5 of 5 proposals and' in again.stderr
    assert json.loads(again.stdout)["approved"] is True
    assert calls(home, "plan") == drafts_paid  # no draft asked for again
    cast_after, paid_after = ballots(home), calls(home, "ballot")
    # Each ballot stored before the kill is kept, and each call after it is for a new ballot.
    assert all(cast_after[voter] >= count for voter, count in cast.items())
    assert paid_after - paid == cast_after - cast


def test_a_finished_plan_keeps_its_name(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (home / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8")
    arguments = ["--data-dir", str(home), *COMMAND]
    assert main(arguments) == 0
    capsys.readouterr()
    assert main(arguments) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        'orkestra: project "Shop" already exists and its plan was approved; choose another --name '
        "(orkestra status shows it)"
    ]
    assert main(["--data-dir", str(home), "plan", "--resume"]) == 2
    assert "no plan is under way to resume" in capsys.readouterr().err


def test_a_project_left_before_its_plan_was_stored_is_planned(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orkestra_tui.config import load_settings, resolve_paths
    from orkestra_tui.engine.engine import Engine

    (home / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8")
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        engine.create_project("Shop", "A small online shop.")  # killed right after, as it were
    finally:
        engine.close()
    assert main(["--data-dir", str(home), *COMMAND]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["project"]["id"], document["approved"]) == (1, True)


def test_a_plan_another_run_is_making_is_left_to_it(home: Path) -> None:
    process = subprocess.Popen(
        command(home, *COMMAND),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment(),
    )
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not stored_proposals(home):
            assert process.poll() is None and time.monotonic() < deadline, "no proposal was stored"
            time.sleep(0.01)
        again = run_again(home, *COMMAND)
        assert (again.returncode, again.stdout) == (2, "")
        assert again.stderr == (
            f'orkestra: the plan for "Shop" is being made by another run (pid {process.pid}); '
            "let it finish, or stop it first\n"
        )
        assert process.wait(timeout=TIMEOUT_S) == 0  # the first run was not disturbed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
