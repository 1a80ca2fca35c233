"""`orkestra bench --scenario repo`, and a scenario whose workload goes wrong: one line, not a traceback."""

from __future__ import annotations

import json

import pytest
from test_cli import run

from orkestra_tui.bench import repo


def test_the_repo_scenario_lands_every_task_beside_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "bench", "--quick", "--json", "--scenario", "repo")
    assert status == 0
    figures = json.loads(out)["repo"]
    assert set(figures) == {"tasks", "cycles", "orkestra_s", "script_s", "ms_per_task", "ratio"}
    assert figures["tasks"] == repo.QUICK_TASKS and figures["cycles"] >= figures["tasks"]
    assert figures["orkestra_s"] > 0 and figures["script_s"] > 0


def test_a_scenario_whose_workload_fails_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unfinished(*, quick: bool = False) -> dict[str, float]:
        raise RuntimeError("197 of 200 tasks were merged")

    monkeypatch.setattr(repo, "run", unfinished)
    status, out, err = run(capsys, "bench", "--quick", "--scenario", "repo")
    assert status == 1
    assert err == "orkestra: the repo scenario could not be measured: 197 of 200 tasks were merged\n"
    assert "Traceback" not in out + err
