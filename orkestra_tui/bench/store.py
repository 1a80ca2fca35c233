"""Persisting work through the engine, next to the same writes with raw sqlite3.

The engine creates N tasks in one batch and then has zero-latency simulated
agents carry out each one on the scheduler's path (`Scheduler.run_task`: the
pre-checks, the lease, the call, the result stored as an artifact, the
finish; no reviewer), every change in its own transaction with its audit
events. The baseline writes the same rows with plain sqlite3 on the same
pragmas and the same number of commits, running the scheduler's own task
statements (`bench/run.py`'s `raw_task`, with no review), so the ratio is the
cost of the engine's own layers.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from orkestra_tui.bench.run import raw_task
from orkestra_tui.config import Settings, SimulationSettings, resolve_paths
from orkestra_tui.engine.models import TaskSpec

DESCRIPTION = "create and complete tasks through the engine vs raw sqlite3"
DEFAULT_TASKS = 10_000


def run(*, quick: bool = False, tasks: int | None = None) -> dict[str, float | int]:
    count = tasks or (500 if quick else DEFAULT_TASKS)
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as folder:
        engine_seconds = asyncio.run(_engine_run(Path(folder) / "engine", count))
        raw_seconds = _raw_run(Path(folder) / "raw.db", count)
    engine_rate = count / engine_seconds
    raw_rate = count / raw_seconds
    return {
        "tasks": count,
        "engine_tasks_per_s": round(engine_rate, 1),
        "raw_sqlite_per_s": round(raw_rate, 1),
        "ratio": round(engine_rate / raw_rate, 3),
    }


async def _engine_run(folder: Path, count: int) -> float:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.execution.scheduler import Scheduler

    settings = replace(Settings(), simulation=SimulationSettings(seed=1, latency_ms=0, failure_rate=0.0))
    engine = Engine(resolve_paths(folder), settings, demo=True, env={})
    agent_names = [agent.name for agent in engine.agents()]
    scheduler = Scheduler(engine, reviewers=0)
    try:
        started = time.perf_counter()
        project = engine.create_project("bench")
        created = engine.add_tasks(
            project.id,
            [TaskSpec(title=f"Task {number}", instructions="Do it.") for number in range(count)],
        )
        for index, task in enumerate(created):
            outcome = await scheduler.run_task(task.id, agent_names[index % len(agent_names)])
            if outcome != "done":
                raise RuntimeError(f"task {task.id} ended {outcome}")
        return time.perf_counter() - started
    finally:
        engine.close()


def _raw_run(path: Path, count: int) -> float:
    from orkestra_tui.engine.store.schema import MIGRATIONS

    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        for script in MIGRATIONS:
            connection.executescript(script)
        audit = (
            "INSERT INTO audit (ts, project_id, actor, kind, subject, summary, data)"
            " VALUES (?, 1, ?, ?, ?, ?, '{}')"
        )
        started = time.perf_counter()
        now = time.time()
        connection.execute("BEGIN")
        connection.execute(
            "INSERT INTO project (name, status, created_at) VALUES ('bench', 'planning', ?)", (now,)
        )
        connection.execute(audit, (now, "human", "project.created", "project:1", "created"))
        connection.execute("COMMIT")
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO task (id, project_id, title, status, created_at, updated_at)"
            " VALUES (?, 1, ?, 'ready', ?, ?)",
            [(number + 1, f"Task {number}", now, now) for number in range(count)],
        )
        connection.executemany(
            audit,
            [(now, "engine", "task.created", f"task:{number + 1}", "created") for number in range(count)],
        )
        connection.execute("COMMIT")
        for _ in range(count):
            raw_task(connection, reviewer=None, renew=False)
        return time.perf_counter() - started
    finally:
        connection.close()
