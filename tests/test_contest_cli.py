"""Contests headless: `orkestra run --contest N` in a real subprocess, a bad N, `orkestra status`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.contest import records as contests
from orkestra_tui.engine.execution.contest.view import EntryState
from orkestra_tui.engine.models import ProjectStatus, TaskSpec

CONFIG = "[engine]\nreviewers = 1\n\n[simulation]\nseed = 3\nlatency_ms = 0\n"


def environment() -> dict[str, str]:
    """No key reaches the command, so every agent is simulated."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.endswith(("_API_KEY", "_TOKEN")) and name != "ORKESTRA_HOME"
    }


def orkestra(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), *arguments],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment(),
        timeout=120,
        check=False,
    )


def project_of(home: Path, *titles: str) -> list[int]:
    """An active project with a task per title; their ids."""
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project("Essays", "Write short essays.")
        specs = [
            TaskSpec(title=title, instructions=f"Write {title.lower()}.", category="writing")
            for title in titles
        ]
        ids = [task.id for task in engine.add_tasks(project.id, specs)]
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
        return ids
    finally:
        engine.close()


def test_run_contest_makes_each_task_a_contest_and_says_who_won(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    task_ids = project_of(home, "An essay on rivers", "An essay on bridges")

    done = orkestra(
        home,
        "run",
        "--contest",
        "3",
        "--until-done",
        "--on-review",
        "approve",
        "--tie-break",
        "first",
        "--json",
    )

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["stopped"] == "done"
    # The run's lines: entries finished, the winner, and each task done by its winner.
    winners = re.findall(r"Entry [A-C] by (\w+) wins", done.stderr)
    done_by = re.findall(r"^done .*\((\w+), [\d.]+ s\)$", done.stderr, re.MULTILINE)
    assert len(winners) == 2 and sorted(done_by) == sorted(winners), done.stderr
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={}, only_reads=True)
    try:
        for task_id in task_ids:
            view = engine.contest(task_id)
            assert view is not None and view.source == "run" and len(view.entries) == 3
            assert len({entry.agent for entry in view.entries}) == 3 and view.winner is not None
            assert engine.task(task_id).status.value == "done"
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("agents", "problem"),
    [
        ("1", "a contest needs at least 2 agents, not 1"),
        ("9", "a contest of 9 needs 9 agents, and 5 can be called"),
    ],
)
def test_a_bad_contest_size_gets_one_line_and_status_2(tmp_path: Path, agents: str, problem: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    project_of(home, "An essay on rivers")

    refused = orkestra(home, "run", "--contest", agents)

    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [f"orkestra: --contest {agents}: {problem}"]


def test_status_shows_each_contest_in_progress_in_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (task_id,) = project_of(home, "An essay on rivers")
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        engine.set_task_contest(task_id, 3)
        with engine.store.transaction() as tx:
            contests.start_entries(tx, task_id, ["claude", "chatgpt", "gemini"], title="An essay on rivers")
            contests.finish_entry(tx, task_id, "B", EntryState.PASSED, result="# Rivers\n")
    finally:
        engine.close()

    shown = orkestra(home, "status")
    as_json = orkestra(home, "status", "--json")

    assert shown.returncode == 0 and as_json.returncode == 0, shown.stderr
    line = f"Essays #{task_id} An essay on rivers: contest of 3, running: 1/3 entries finished, 1 passed"
    assert line in shown.stdout
    (contest,) = json.loads(as_json.stdout)["projects"][0]["contests"]
    assert contest["state"] == "running" and contest["agents"] == 3
    assert [entry["state"] for entry in contest["entries"]] == ["running", "passed", "running"]
