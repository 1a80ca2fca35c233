"""The committee against a real model: SmolLM2-135M-Instruct served on 127.0.0.1 (opt-in).

Run with `pytest -m realmodel` after `bash scripts/realmodel_runtime.sh`; it is
skipped, with the reason, where the runtime or the weights are missing
(`ORKESTRA_REALMODEL_PYTHON` names another runtime interpreter,
`ORKESTRA_REALMODEL_GGUF` another model). One session runs real `orkestra`
processes in a fresh data directory: `doctor`, a ranked-choice vote, a small
plan approved at involvement 1, and a short run stopped with ctrl+c.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orkestra_tui.bench.realmodel import AGENTS, Session, find_runtime, run_session

pytestmark = [pytest.mark.realmodel, pytest.mark.timeout(3 * 3600)]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    python = Path(os.environ.get("ORKESTRA_REALMODEL_PYTHON", ROOT / ".venv-llm" / "bin" / "python"))
    model = os.environ.get("ORKESTRA_REALMODEL_GGUF", "")
    runtime = find_runtime(python, Path(model) if model else None)
    if isinstance(runtime, str):
        pytest.skip(runtime)
    threads = min(2, os.cpu_count() or 1)
    return run_session(runtime, tmp_path_factory.mktemp("realmodel"), seed=1, threads=threads)


def test_doctor_finds_every_agent_live(session: Session) -> None:
    doctor = session.steps["doctor"]
    assert doctor.exit_code == 0, doctor.stderr
    agents = {agent["name"]: agent for agent in doctor.document["agents"]}
    assert sorted(agents) == sorted(name for name, _ in AGENTS)
    assert all(agent["ok"] and not agent["simulated"] for agent in agents.values()), agents


def test_no_command_ends_in_a_traceback(session: Session) -> None:
    assert [name for name, step in session.steps.items() if step.traceback] == []


def test_the_vote_is_decided(session: Session) -> None:
    vote = session.steps["vote"]
    assert vote.exit_code == 0, vote.stderr[-2000:]
    assert vote.document["status"] == "decided"


def test_at_least_half_the_ballots_count(session: Session) -> None:
    reasons = [reason for ranking, reason in session.ballots if ranking in ("", "[]")]
    assert session.ballots
    assert session.counted_ballots() * 2 >= len(session.ballots), reasons


def test_the_plan_has_real_tasks(session: Session) -> None:
    plan = session.steps["plan"]
    assert plan.exit_code == 0, plan.stderr[-2000:]
    assert session.plan["approved"]
    tasks = session.plan_tasks()
    assert tasks
    assert session.real_plan_tasks() == tasks


def test_a_short_run_ends_cleanly(session: Session) -> None:
    run = session.steps.get("run")
    assert run is not None, "no approved plan to run"
    # Done (0), not done (1), or stopped by ctrl+c at the end of the short run (130).
    assert run.exit_code in (0, 1, 130), run.stderr[-2000:]
