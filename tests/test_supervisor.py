"""The supervisor: what the app and `orkestra run` share, each in a process of its own.

Recovery runs once per process; a vote a killed process left open is resumed by
the next process that resumes votes (the app), after whichever of the app or
`orkestra run` started first has recovered what the dead one left; a plan
another live process carries is not resumed twice; and the scheduler stops
cleanly on shutdown, its leases released, and starts afresh after.

The killed processes are real ones (`python -m orkestra_tui`, SIGKILL: no
cleanup at all), with simulated agents that take their time; the database is
real SQLite, shared by the processes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import ScriptedProvider
from textual.pilot import Pilot

from orkestra_tui.config import Paths, Settings, SimulationSettings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import DecisionStatus, ProjectStatus, TaskSpec, TaskStatus
from orkestra_tui.engine.supervisor import Supervisor
from orkestra_tui.providers.base import ProviderRequest, ProviderResponse

TIMEOUT_S = 90.0
SLOW_AGENTS = "[simulation]\nseed = 0\nlatency_ms = 1500\n"
"""The killed process's agents: slow enough to be killed mid-way."""
VOTE = ("vote", "Which database?", "--option", "SQLite", "--option", "Postgres", "--tie-break", "first")
RESULT = "# Done\n\nThe cart, written.\n"
REVIEW = '{"verdict": "approve", "comments": "Good."}'
PLAN = ("plan", "--name", "Shop", "--description", "A small online shop.", "--involvement", "1")

# ------------------------------------------------------------------ helpers


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "config.toml").write_text(SLOW_AGENTS, encoding="utf-8")
    return folder


@pytest.fixture
def quick() -> Settings:
    """The next process's agents answer at once."""
    return replace(Settings(), simulation=SimulationSettings(seed=7, latency_ms=0, failure_rate=0.0))


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


def start(home: Path, *arguments: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command(home, *arguments),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment(),
    )


def wait_for(process: subprocess.Popen[bytes], condition: Callable[[], bool], what: str) -> None:
    """Poll the shared database until `condition` holds, while the process still runs."""
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        assert process.poll() is None, f"the process ended before {what}"
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app work until `condition` holds (each pause waits for the app, never a fixed time)."""
    for _ in range(600):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"never happened: {what}")


def recovered_events(engine: Engine) -> list[dict[str, object]]:
    return [event.data for event in engine.audit_events(100, kind="recovered")]


def dead_owner() -> str:
    """A lease owner on this machine whose process has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:deadbeef"


# ------------------------------------------------------------------ recovery


def test_recovery_runs_once_per_process_and_the_next_start_finds_nothing_left(
    paths: Paths, quick: Settings
) -> None:
    engine = Engine(paths, quick, env={})
    try:
        project = engine.create_project("Shop")
        (task,) = engine.add_tasks(project.id, [TaskSpec("One")])
        with sqlite3.connect(paths.database) as killed:  # what a killed run's claim leaves
            killed.execute(
                "UPDATE task SET status = 'running', lease_owner = ?, lease_expires_at = ?, attempts = 1"
                " WHERE id = ?",
                (dead_owner(), engine.clock.now() + 600, task.id),
            )
        killed.close()
        supervisor = Supervisor(engine)

        first = supervisor.recover()
        again = supervisor.recover()

        assert first.released_tasks == (task.id,) and first.recovered
        assert again is first  # not run again: the store is not read or written twice
        assert len(recovered_events(engine)) == 1
        assert engine.task(task.id).status is TaskStatus.READY
    finally:
        engine.close()

    engine = Engine(paths, quick, env={})  # the next process on this data dir
    try:
        assert not Supervisor(engine).recover().recovered
        assert len(recovered_events(engine)) == 1
    finally:
        engine.close()


# ------------------------------------------------------------------ a killed vote


def kill_mid_vote(home: Path) -> int:
    """Run `orkestra vote` and SIGKILL it once round 1 has a ballot stored; the decision's id."""
    process = start(home, *VOTE)
    try:
        wait_for(process, lambda: bool(read(home, "SELECT 1 FROM ballot")), "a ballot is stored")
    finally:
        kill(process)
    ((decision_id,),) = read(home, "SELECT id FROM decision")
    return int(str(decision_id))


def status_of(engine: Engine, decision_id: int) -> DecisionStatus:
    decision = engine.decision(decision_id)
    assert decision is not None
    return decision.status


def approved_project(home: Path, settings: Settings) -> None:
    """One active project with one task, for `orkestra run` to carry out."""
    engine = Engine(resolve_paths(home), settings, env={})
    try:
        project = engine.create_project("Shop")
        engine.add_tasks(project.id, [TaskSpec("Write the cart", "Add, remove, total.")])
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()


@pytest.mark.parametrize("first", ["app", "run"])
async def test_a_vote_a_killed_process_left_open_is_resumed_by_the_next_start(
    home: Path, quick: Settings, first: str
) -> None:
    from orkestra_tui.tui.app import OrkestraApp

    decision_id = kill_mid_vote(home)
    kept = set(read(home, "SELECT voter, ranking FROM ballot"))
    if first == "run":
        approved_project(home, quick)
        ran = subprocess.run(
            command(home, "run"),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=environment(),
            timeout=TIMEOUT_S,
            check=False,
        )
        # `orkestra run` carries out tasks, not votes: it recovers what the dead vote left
        # (its calls under way) and leaves the vote, listed, for the process that resumes votes.
        assert ran.returncode == 0, ran.stderr
        assert "1 vote to resume" in ran.stderr
        ((status,),) = read(home, "SELECT status FROM decision")
        assert DecisionStatus(str(status)).is_open
        assert not read(home, "SELECT 1 FROM call WHERE state = 'started'")

    engine = Engine(resolve_paths(home), quick, env={})
    try:
        assert Supervisor(engine).votes_to_resume() == [decision_id]
        app = OrkestraApp(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: not status_of(engine, decision_id).is_open, "the vote ended")
        assert status_of(engine, decision_id) is DecisionStatus.DECIDED
        ballots = engine.store.query("SELECT voter, ranking FROM ballot WHERE round = 1")
        assert kept <= set(ballots)  # what the dead process stored is kept, not asked again
        assert len(ballots) == len({voter for voter, _ in ballots})
        assert len(recovered_events(engine)) == 1  # by whichever started first
        assert not engine.store.query("SELECT 1 FROM call WHERE state = 'started'")
    finally:
        engine.close()


# ------------------------------------------------------------------ a plan made elsewhere


@pytest.fixture
def planning(home: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real `orkestra plan` under way, its agents still drafting."""
    process = start(home, *PLAN)
    try:
        wait_for(
            process,
            lambda: (
                bool(read(home, "SELECT 1 FROM plan_session"))
                and bool(read(home, "SELECT 1 FROM audit WHERE kind = 'plan.run'"))
            ),
            "the plan runs",
        )
        yield process
    finally:
        kill(process)


async def test_a_plan_another_live_process_carries_is_not_resumed_twice(
    home: Path, quick: Settings, planning: subprocess.Popen[bytes]
) -> None:
    from orkestra_tui.tui.app import OrkestraApp

    engine = Engine(resolve_paths(home), quick, env={})
    try:
        (project_id,) = engine.plans_under_way()
        assert Supervisor(engine).plans_to_resume() == []
        app = OrkestraApp(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert not app.planning_running(project_id)
        assert planning.poll() is None  # still the one making it
        runs = engine.store.query("SELECT count(*) FROM audit WHERE kind = 'plan.run'")
        assert runs == [(1,)]

        kill(planning)  # now nobody carries it: the next start does
        assert Supervisor(engine).plans_to_resume() == [project_id]
    finally:
        engine.close()


# ------------------------------------------------------------------ the scheduler's life


class Stalling(ScriptedProvider):
    """An agent whose answers never come while `stalling`: the tasks stay under way."""

    def __init__(self) -> None:
        super().__init__(lambda request, _index: REVIEW if request.purpose == "review" else RESULT)
        self.stalling = True

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        if self.stalling:
            self.requests.append(request)
            await asyncio.Event().wait()  # cancelled by the shutdown
        return await super().complete(request)


async def test_shutdown_gives_the_work_back_and_releases_the_leases(engine: Engine) -> None:
    providers = {name: Stalling() for name in engine.runtimes}
    for name, provider in providers.items():
        engine.use_provider(name, provider)
    project = engine.create_project("Shop")
    tasks = engine.add_tasks(
        project.id,
        [TaskSpec("Write the cart", "Add, remove, total."), TaskSpec("Search items", "Full-text search.")],
    )
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    supervisor = Supervisor(engine)
    states: list[str] = []
    subscription = engine.bus.subscribe(
        lambda event: states.append(supervisor.scheduler_state) if event.kind == "engine.scheduler" else None
    )

    run = supervisor.start_scheduler()
    assert run is not None and supervisor.scheduler_state == "running"
    working = asyncio.ensure_future(run)
    for _ in range(1000):
        if sum(len(provider.requests) for provider in providers.values()) == 2:
            break
        await asyncio.sleep(0)
    held = engine.store.query("SELECT id FROM task WHERE lease_owner IS NOT NULL ORDER BY id")
    assert held == [(task.id,) for task in tasks]
    supervisor.pause_scheduler()
    assert supervisor.scheduler_state == "paused"
    assert supervisor.start_scheduler() is None  # a paused scheduler resumes: no second run
    assert supervisor.scheduler_state == "running"

    await supervisor.shutdown()

    assert working.done() and working.result().stopped == "stopped"
    assert supervisor.scheduler_state == "idle"
    assert engine.store.query("SELECT id FROM task WHERE lease_owner IS NOT NULL") == []
    assert [engine.task(task.id).status for task in tasks] == [TaskStatus.READY, TaskStatus.READY]
    outcomes = {outcome for (outcome,) in engine.store.query("SELECT outcome FROM task_attempt")}
    assert outcomes == {"interrupted"}
    assert states == ["running", "paused", "running", "idle"]

    # Started again, a fresh scheduler (a new lease owner) takes the tasks up and finishes them.
    before = supervisor.scheduler
    for provider in providers.values():
        provider.stalling = False
    run = supervisor.start_scheduler()
    assert run is not None and supervisor.scheduler is not before
    working = asyncio.ensure_future(run)
    for _ in range(5000):
        if all(engine.task(task.id).status is TaskStatus.DONE for task in tasks):
            break
        await asyncio.sleep(0)
    await supervisor.shutdown()
    subscription.close()
    assert [engine.task(task.id).status for task in tasks] == [TaskStatus.DONE, TaskStatus.DONE]
    assert working.result().done == 2
