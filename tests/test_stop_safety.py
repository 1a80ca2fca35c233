"""A stop keeps the work already done: `orkestra run` stopped by ctrl+c or SIGTERM, then run again.

The real command runs in a subprocess over simulated agents that take a
while to answer. Once some tasks are in review (their agent finished, the
result stored), the run is stopped. Those tasks must still be in review with
their result, no lease held; the tasks whose agent was still working are
ready again, their attempt closed as interrupted and their call recorded as
interrupted. The next run reviews the kept tasks without calling their agent
again: every task ends done exactly once, with one task call per attempt that
reached the agent.

Killed with SIGKILL instead, against the wire fake and the real SDKs, a run
leaves every request the fake received recorded in the `call` table (complete,
or interrupted by the recovery at the next start, at its estimated cost), so
the cost total never counts less than was sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec
from orkestra_tui.wording import plural

TASKS = 12
RUN_TIMEOUT_S = 60.0
CONFIG = "[engine]\nreviewers = 1\nmax_concurrent_tasks = 6\n\n[simulation]\nseed = 5\nlatency_ms = 400\n"
# Ctrl+c raises KeyboardInterrupt in the run even if this test was started with SIGINT ignored.
START = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('orkestra_tui', run_name='__main__')"
)


def make_plan(home: Path) -> None:
    """An active project of TASKS independent tasks."""
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project("Stops")
        engine.add_tasks(
            project.id,
            [
                TaskSpec(title=f"Part {number}", instructions=f"Write part {number}.", key=f"t{number}")
                for number in range(1, TASKS + 1)
            ],
        )
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()


def start_run(home: Path) -> subprocess.Popen[str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith(("_API_KEY", "_TOKEN")) and name != "ORKESTRA_HOME"
    }
    return subprocess.Popen(
        [sys.executable, "-c", START, "--data-dir", str(home), "run", "--on-review", "approve", "--json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def read(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows of `sql`; SQLite's values carry no static type."""
    with sqlite3.connect(database, timeout=10.0) as reader:
        return reader.execute(sql).fetchall()


def wait_for_reviews(database: Path, process: subprocess.Popen[str]) -> None:
    """Poll until the run has tasks in review (under its lease) and others still with their agent."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        counts = dict(
            read(database, "SELECT status, count(*) FROM task WHERE lease_owner IS NOT NULL GROUP BY status")
        )
        if counts.get("review") and counts.get("running", 0) >= 2:  # some still running once signalled
            return
        time.sleep(0.01)
    raise AssertionError(f"no task reached review while others ran (exit {process.poll()})")


def task_calls(database: Path) -> Counter[int]:
    """Calls made for each task by its worker (purpose task), whatever became of them."""
    return Counter(
        int(task_id) for (task_id,) in read(database, "SELECT task_id FROM call WHERE purpose = 'task'")
    )


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stopped_run_keeps_its_reviews_and_the_next_one_finishes_them(
    tmp_path: Path, stop: signal.Signals, code: int
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    make_plan(home)
    database = home / "data" / "orkestra.db"

    process = start_run(home)
    wait_for_reviews(database, process)
    process.send_signal(stop)
    out, err = process.communicate(timeout=RUN_TIMEOUT_S)
    assert process.returncode == code, err
    assert out == "" and "Traceback" not in err

    kept = read(database, "SELECT id, result, artifact, lease_owner FROM task WHERE status = 'review'")
    assert kept, err
    assert all(result and artifact and owner is None for _, result, artifact, owner in kept)
    kept_ids = {int(task_id) for task_id, *_ in kept}
    assert f"{plural(len(kept_ids), 'finished task')} kept for review" in err.splitlines()[-1]
    assert read(database, "SELECT count(*) FROM task WHERE lease_owner IS NOT NULL") == [(0,)]
    assert not read(database, "SELECT id FROM task WHERE status = 'running'")
    outcomes = Counter(outcome for (outcome,) in read(database, "SELECT outcome FROM task_attempt"))
    assert outcomes["running"] == 0 and outcomes["interrupted"] >= 1  # the calls still under way
    assert read(database, "SELECT count(*) FROM call WHERE state = 'started'") == [(0,)]
    interrupted = read(
        database, "SELECT purpose, error_class FROM call WHERE state = 'interrupted' AND purpose = 'task'"
    )
    assert interrupted and {row[1] for row in interrupted} == {"interrupted"}
    calls_before = task_calls(database)
    assert all(calls_before[task_id] == 1 for task_id in kept_ids)

    process = start_run(home)
    out, err = process.communicate(timeout=RUN_TIMEOUT_S)
    assert process.returncode == 0, err
    assert json.loads(out)["stopped"] == "done"

    statuses = dict(read(database, "SELECT id, status FROM task"))
    assert set(statuses.values()) == {"done"} and len(statuses) == TASKS
    calls_after = task_calls(database)
    for task_id in kept_ids:  # reviewed by the second run: its agent was not called again
        assert calls_after[task_id] == 1, task_id
    completed = Counter(
        int(task_id)
        for (task_id,) in read(
            database, "SELECT task_id FROM call WHERE purpose = 'task' AND state = 'complete'"
        )
    )
    assert set(completed.values()) == {1}  # one answered task call per task, whichever run made it
    finished = Counter(
        int(str(subject).partition(":")[2])
        for (subject,) in read(
            database, "SELECT subject FROM audit WHERE kind IN ('task.done', 'task.approved')"
        )
    )
    assert set(finished) == set(statuses) and set(finished.values()) == {1}
    resumed = {
        int(str(subject).partition(":")[2])
        for (subject,) in read(database, "SELECT subject FROM audit WHERE kind = 'task.review_resumed'")
    }
    assert resumed == kept_ids
    assert read(database, "SELECT count(*) FROM call WHERE state = 'started'") == [(0,)]


# --------------------------------------------------------------- kill -9 on the wire


REVIEW_ANSWER = '{"verdict": "approve", "comments": "It meets the instructions."}'
"""What the fake answers every request: a usable review, and a result a task can keep."""
PRICE_IN, PRICE_OUT = 3.0, 15.0


def wire_config(fake_url: str) -> str:
    agents = "".join(
        f'[[agents]]\nname = "{name}"\nprovider = "{provider}"\nmodel = "{name}-model"\n'
        f'base_url = "{fake_url}{suffix}"\nprice_input_per_mtok = {PRICE_IN}\n'
        f"price_output_per_mtok = {PRICE_OUT}\n\n"
        for name, provider, suffix in (("claude", "anthropic", ""), ("gpt", "openai", "/v1"))
    )
    return f"[engine]\nreviewers = 1\nmax_concurrent_tasks = 4\nagent_timeout_s = 30\n\n{agents}"


def test_a_killed_run_leaves_every_request_it_sent_recorded(tmp_path: Path) -> None:
    from orkestra_tui.bench.fake_api import Reply, serving
    from orkestra_tui.engine.execution.recovery import recover

    home = tmp_path / "home"
    home.mkdir()
    with serving() as fake:
        fake.default = Reply(text=REVIEW_ANSWER, delay_s=0.4)
        (home / "config.toml").write_text(wire_config(fake.url), encoding="utf-8")
        make_plan(home)
        environment = {
            name: value
            for name, value in os.environ.items()
            if not name.endswith(("_API_KEY", "_TOKEN")) and name != "ORKESTRA_HOME"
        }
        environment.update(
            ANTHROPIC_API_KEY="sk-ant-fake-key-for-tests",
            OPENAI_API_KEY="sk-fake-key-for-tests",
            ANTHROPIC_CONFIG_DIR=str(tmp_path / "anthropic-config"),
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), "run", "--on-review", "approve"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=environment,
        )
        deadline = time.monotonic() + RUN_TIMEOUT_S
        try:
            while len(fake.received) < 10 and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.01)
            assert len(fake.received) >= 10, process.stderr.read() if process.stderr else ""
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        received = list(fake.received)  # nothing more can come: its sender is gone
        assert process.stderr is not None
        process.stderr.close()

    database = home / "data" / "orkestra.db"
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        report = recover(engine)
    finally:
        engine.close()
    assert report.interrupted_calls >= 1  # some requests were under way when the run died

    rows = read(database, "SELECT purpose, state, cost FROM call")
    assert {state for _, state, _ in rows} <= {"complete", "interrupted"}
    # A request the kill cut short (its headers sent, its body not, or not all of it) reached the
    # fake with no body to tell a task from a review: it counts in the total only.
    whole = [request.body for request in received if isinstance(request.body, dict) and request.body]
    sent_reviews = sum(1 for body in whole if "<<<RESULT" in json.dumps(body))
    sent_tasks = len(whole) - sent_reviews
    recorded = Counter(purpose for purpose, _, _ in rows)
    assert recorded["task"] >= sent_tasks and recorded["review"] >= sent_reviews, (recorded, len(received))
    assert sum(recorded.values()) >= len(received), (recorded, len(received))
    # Each request the fake answered cost 12 tokens in and 5 out; one cut short is counted at its
    # estimate, never less: the total never under-counts what was sent.
    answered_cost = (12 * PRICE_IN + 5 * PRICE_OUT) / 1_000_000
    assert sum(float(str(cost)) for _, _, cost in rows) >= len(received) * answered_cost
    interrupted = [cost for _, state, cost in rows if state == "interrupted"]
    assert interrupted and all(float(str(cost)) > answered_cost for cost in interrupted)


# ------------------------------------------------------------------ recovery of calls


def test_recovery_closes_only_the_calls_whose_process_is_gone(tmp_path: Path) -> None:
    from orkestra_tui.engine.clock import FixedClock
    from orkestra_tui.engine.execution.recovery import recover
    from orkestra_tui.engine.models import CallStart

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("[engine]\nagent_timeout_s = 60\n", encoding="utf-8")
    clock = FixedClock(start=1_800_000_000.0)
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), clock=clock, env={})
    try:
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        child.wait()  # its pid is gone from this machine
        host = engine.call_owner.partition(":")[0]
        owners = {
            "gone": (f"{host}:{child.pid}:dead0000", clock.now()),
            "me": (engine.call_owner, clock.now()),
            "far, recent": ("elsewhere:42:far00000", clock.now() - 60),
            "far, too old": ("elsewhere:43:far00001", clock.now() - 3600),
        }
        ids = {
            name: engine.store.start_call(CallStart("claude", "m", "task", started_at, 0.25, owner))
            for name, (owner, started_at) in owners.items()
        }

        report = recover(engine)

        states = dict(engine.store.query("SELECT id, state FROM call"))
        assert {name: states[call_id] for name, call_id in ids.items()} == {
            "gone": "interrupted",
            "me": "started",
            "far, recent": "started",
            "far, too old": "interrupted",
        }
        assert report.interrupted_calls == 2
        assert "2 interrupted calls recorded" in report.summary()
        assert engine.store.scalar("SELECT sum(cost) FROM call") == 1.0  # every estimate kept
        assert engine.store.calls() == []  # none says how the agent answers
    finally:
        engine.close()


async def test_a_call_cancelled_between_attempts_keeps_the_attempt_it_made(tmp_path: Path) -> None:
    """Stopped while waiting to retry, a call its caller records (`record=False`) is recorded anyway."""
    from fakes import ScriptedProvider

    from orkestra_tui.engine.clock import FixedClock
    from orkestra_tui.providers.base import Message, ProviderError, ProviderRequest

    home = tmp_path / "home"
    home.mkdir()
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), clock=FixedClock(), env={})
    try:
        engine.use_provider("claude", ScriptedProvider(lambda _r, _i: ProviderError("overloaded", "busy")))
        waiting = asyncio.Event()

        async def backoff(_seconds: float) -> None:
            waiting.set()
            await asyncio.Event().wait()  # the stop comes first

        engine.sleep = backoff
        request = ProviderRequest(system="s", messages=(Message("user", "hi"),), purpose="task")
        call = asyncio.ensure_future(engine.call("claude", request, record=False))
        await waiting.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

        rows = engine.store.query("SELECT state, error_class FROM call")
        assert rows == [("complete", "overloaded")]
    finally:
        engine.close()
