"""`orkestra plan --json` and `orkestra run --json` report calls and tokens, as `vote --json` does.

Each command runs in its own process; the figures must agree with the call rows it stored,
every one of which carries its tokens.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec


def orkestra(home: Path, *arguments: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), *arguments, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def open_engine(home: Path) -> Engine:
    return Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})


def stored_usage(home: Path, project_id: int) -> tuple[int, int, int]:
    """The project's calls, their tokens, and how many calls that were answered carry no tokens."""
    engine = open_engine(home)
    try:
        calls, tokens, without = engine.store.query(
            "SELECT count(*), sum(tokens_in + tokens_out),"
            " sum(error_class = '' AND (tokens_in = 0 OR tokens_out = 0))"
            " FROM call WHERE project_id = ?",
            (project_id,),
        )[0]
        return int(calls), int(tokens or 0), int(without or 0)
    finally:
        engine.close()


def make_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8")
    return home


def test_plan_json_reports_the_calls_and_tokens_the_planning_spent(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    document = orkestra(
        home, "plan", "--name", "Shop", "--description", "A small shop.", "--involvement", "1"
    )
    assert document["approved"] is True
    calls, tokens, without = stored_usage(home, document["project"]["id"])
    assert (document["calls"], document["tokens"]) == (calls, tokens)
    assert calls >= 10 and tokens > 0 and without == 0  # five drafts, their votes, the refinement


def test_run_json_reports_the_calls_and_tokens_of_the_run_and_of_each_project(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    engine = open_engine(home)
    try:
        project = engine.create_project("Shop")
        engine.add_tasks(
            project.id,
            [TaskSpec(title=f"Part {number}", instructions=f"Write part {number}.") for number in (1, 2, 3)],
        )
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()
    document = orkestra(home, "run", "--until-done", "--on-review", "approve")
    assert document["counts"]["done"] == 3
    calls, tokens, without = stored_usage(home, project.id)
    assert calls >= 6 and tokens > 0 and without == 0  # a task and its review, at least, for each
    assert (document["calls"], document["tokens"]) == (calls, tokens)
    (reported,) = document["projects"]
    assert (reported["calls"], reported["tokens"]) == (calls, tokens)

    # A second run does nothing: it spent nothing, while the project's figures stand.
    again = orkestra(home, "run", "--until-done", "--on-review", "approve")
    assert (again["calls"], again["tokens"]) == (0, 0)
    assert (again["projects"][0]["calls"], again["projects"][0]["tokens"]) == (calls, tokens)
