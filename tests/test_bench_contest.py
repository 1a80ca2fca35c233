"""`orkestra bench --scenario contest`: the contest beside its critical path and a sequential run."""

from __future__ import annotations

import json

import pytest
from test_cli import run


def test_the_contest_scenario_prints_its_figures_beside_both_baselines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "bench", "--quick", "--json", "--scenario", "contest")

    assert status == 0
    figures = json.loads(out)["contest"]
    assert set(figures) == {
        "entries",
        "voters",
        "agent_latency_ms",
        "contest_ms",
        "critical_path_ms",
        "sequential_ms",
        "ratio_to_critical_path",
    }
    assert (figures["entries"], figures["voters"]) == (3, 5)
    assert figures["contest_ms"] > 0 and figures["sequential_ms"] > figures["critical_path_ms"] > 0
