"""The scheduler carrying out a large task graph, next to the same writes with raw sqlite3.

A project of N tasks (10,000; quick: 500) in chains of ten, the head of each
chain after the first ten also waiting on the last task of the chain ten
before it, is run by `Scheduler.run` to the end. The agents are the default
roster, simulated, answering at once (zero latency); one reviewer of another
vendor judges each result and always approves, so every task is done and the
figure is not swayed by which results a persona happens to block. Only the
scheduler's run is timed, not creating the graph.

The baseline writes, with plain sqlite3 on the same pragmas, what the
scheduler writes for each task, in as many transactions (four), running the
very statements the scheduler's task writes run (the constants of
`engine/execution/tasks.py`, the one module that writes a task's status):

1. claim: the lease, the attempt row, the pre-check and `task.running` audit rows;
2. the move to review, with the result, its audit row, and the task call's
   record and its audit row (`engine/agents/call_log.py`);
3. the review call's record and its audit row;
4. finish: the status and lease release, the attempt's outcome, the review
   row, `task.done`, each dependent made ready with its `task.ready`, and the
   post-check audit row;

plus one lease renewal per task (the scheduler renews its leases each time it
wakes). It reads only what it must (the next ready task, the dependents) and
writes no artifact file: the scheduler also stores each result as a Markdown
file (written atomically), and its other reads (routing, checks,
the request's context) are its own cost too. `ratio` is
tasks_per_s / raw_sqlite_per_s.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from orkestra_tui.config import EngineSettings, Settings, SimulationSettings, resolve_paths
from orkestra_tui.engine.execution import tasks as task_writes
from orkestra_tui.engine.models import TaskSpec
from orkestra_tui.providers.simulated import SimulatedProvider

DESCRIPTION = "the scheduler runs a task graph with one reviewer per task, vs raw sqlite3"
DEFAULT_TASKS = 10_000
QUICK_TASKS = 500
CHAIN = 10
"""Tasks per chain; the head of a chain waits on the chain CHAIN chains before it."""
RESULT = "# Result\n\nApproach of a bench agent.\n\n1. Step 1 of 2 completed.\n2. Step 2 of 2 completed.\n"


class ApprovingAgent(SimulatedProvider):
    """A simulated agent whose reviews always approve."""

    def review(self, context: Mapping[str, Any], rng: Any) -> dict[str, Any]:
        return {"verdict": "approve", "comments": "meets the acceptance criteria."}


def run(*, quick: bool = False, tasks: int | None = None) -> dict[str, float | int]:
    count = tasks or (QUICK_TASKS if quick else DEFAULT_TASKS)
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as folder:
        scheduler_seconds, done = asyncio.run(_scheduler_run(Path(folder) / "engine", count))
        raw_seconds = _raw_run(Path(folder) / "raw.db", count)
    if done != count:
        raise RuntimeError(f"the scheduler finished {done} of {count} tasks")
    rate = count / scheduler_seconds
    raw_rate = count / raw_seconds
    return {
        "tasks": count,
        "tasks_per_s": round(rate, 1),
        "raw_sqlite_per_s": round(raw_rate, 1),
        "ratio": round(rate / raw_rate, 3),
    }


def graph(count: int) -> list[TaskSpec]:
    """The benchmark's tasks: chains of CHAIN, each head after the first CHAIN chains waiting on one more."""
    specs = []
    for number in range(1, count + 1):
        depends_on: tuple[str, ...] = ()
        if (number - 1) % CHAIN:
            depends_on = (f"t{number - 1}",)
        elif number > CHAIN * CHAIN:
            depends_on = (f"t{number - CHAIN * CHAIN + CHAIN - 1}",)
        specs.append(
            TaskSpec(
                title=f"Task {number}",
                instructions="Do it.",
                key=f"t{number}",
                depends_on=depends_on,
                acceptance=("it is done",),
            )
        )
    return specs


def dependencies(count: int) -> dict[int, tuple[int, ...]]:
    """The graph as task numbers: each task's dependencies."""
    return {
        number: tuple(int(key[1:]) for key in spec.depends_on)
        for number, spec in enumerate(graph(count), start=1)
    }


async def _scheduler_run(folder: Path, count: int) -> tuple[float, int]:
    """Seconds `Scheduler.run` took, and the tasks done."""
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.execution.scheduler import Scheduler
    from orkestra_tui.engine.models import ProjectStatus, TaskStatus

    settings = replace(
        Settings(),
        engine=replace(EngineSettings(), reviewers=1),
        simulation=SimulationSettings(seed=1, latency_ms=0, failure_rate=0.0),
    )
    engine = Engine(resolve_paths(folder), settings, demo=True, env={})
    try:
        for runtime in engine.enabled_agents():
            engine.use_provider(
                runtime.name,
                ApprovingAgent(runtime.name, vendor=runtime.vendor, seed=1, latency_ms=0, jitter=False),
            )
        project = engine.create_project("bench")
        engine.add_tasks(project.id, graph(count))
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
        scheduler = Scheduler(engine)
        started = time.perf_counter()
        await scheduler.run(project.id, until_done=True)
        seconds = time.perf_counter() - started
        return seconds, engine.task_counts(project.id).get(TaskStatus.DONE, 0)
    finally:
        engine.close()


def _raw_run(path: Path, count: int) -> float:
    """Seconds to write, with plain sqlite3, what the scheduler writes for `count` tasks."""
    from orkestra_tui.engine.store.schema import MIGRATIONS

    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        for script in MIGRATIONS:
            connection.executescript(script)
        _raw_graph(connection, count)
        started = time.perf_counter()
        for _ in range(count):
            raw_task(connection)
        seconds = time.perf_counter() - started
        done = connection.execute("SELECT count(*) FROM task WHERE status = 'done'").fetchone()[0]
        if done != count:
            raise RuntimeError(f"the baseline finished {done} of {count} tasks")
        return seconds
    finally:
        connection.close()


def _raw_graph(connection: sqlite3.Connection, count: int) -> None:
    now = time.time()
    connection.execute("BEGIN")
    connection.execute(
        "INSERT INTO project (id, name, status, created_at) VALUES (1, 'bench', 'active', ?)", (now,)
    )
    depends = dependencies(count)
    connection.executemany(
        "INSERT INTO task (id, project_id, key, title, instructions, status, created_at, updated_at)"
        " VALUES (?, 1, ?, ?, 'Do it.', ?, ?, ?)",
        [
            (number, f"t{number}", f"Task {number}", "pending" if depends[number] else "ready", now, now)
            for number in range(1, count + 1)
        ],
    )
    connection.executemany(
        "INSERT INTO task_dependency (task_id, depends_on) VALUES (?, ?)",
        [(number, dep) for number, deps in depends.items() for dep in deps],
    )
    connection.execute("COMMIT")


AUDIT = "INSERT INTO audit (ts, project_id, actor, kind, subject, summary, data) VALUES (?, 1, ?, ?, ?, ?, ?)"
CALL = (
    "INSERT INTO call (agent, model, purpose, started_at, latency_ms, tokens_in, tokens_out, cost,"
    " error_class, error, decision_id, task_id, project_id)"
    " VALUES (?, ?, ?, ?, 0, 100, 40, 0, '', '', NULL, ?, 1)"
)
CHECKS = {
    "dependencies": "ok",
    "agent": "ok",
    "lease": "ok",
    "budget": "ok",
    "workspace": "ok",
    "disk": "ok",
    "instructions": "ok",
    "cycle": "ok",
}


def raw_task(connection: sqlite3.Connection, *, reviewer: str | None = "chatgpt", renew: bool = True) -> None:
    """The next ready task of project 1 carried out, as the scheduler writes it: four transactions
    (three with no `reviewer`: no review call, no review row), and with `renew` its lease renewal."""
    owner, agent = "bench:1:0", "claude"
    subject_of = "task:{}".format
    # 1. claim
    connection.execute("BEGIN IMMEDIATE")
    task_id, title = connection.execute(
        "SELECT id, title FROM task WHERE status = 'ready' AND project_id = 1"
        " ORDER BY priority, created_at, id LIMIT 1"
    ).fetchone()
    subject, now = subject_of(task_id), time.time()
    _audit(
        connection, "engine", "task.checked", subject, f"Checks before {title!r}: all passed", checks=CHECKS
    )
    connection.execute(task_writes.CLAIM_SQL, (owner, now + 30, agent, "bench", 1, now, task_id))
    connection.execute(task_writes.START_ATTEMPT_SQL, (task_id, 1, agent, now))
    _audit(connection, "engine", "task.running", subject, f"Task {title!r} went to {agent}", to="running")
    connection.execute("COMMIT")
    # 2. to review, with the result and the task call's record
    connection.execute("BEGIN IMMEDIATE")
    connection.execute(CALL, (agent, "simulated", "task", time.time(), task_id))
    _audit(connection, agent, "call.ok", f"agent:{agent}", f"{agent} answered a task in 0 ms", tokens=140)
    artifact = f"projects/1/artifacts/{task_id:05d}.md"
    connection.execute(task_writes.TO_REVIEW_SQL, (RESULT, artifact, time.time(), task_id, owner))
    connection.execute(task_writes.ATTEMPT_REVIEWED_SQL, (task_id, 1))
    _audit(
        connection,
        agent,
        "task.review",
        subject,
        f"{agent} finished {title!r}; it goes to review",
        to="review",
    )
    connection.execute("COMMIT")
    # 3. the review call's record
    if reviewer is not None:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(CALL, (reviewer, "simulated", "review", time.time(), task_id))
        _audit(
            connection,
            reviewer,
            "call.ok",
            f"agent:{reviewer}",
            f"{reviewer} answered a review in 0 ms",
            tokens=140,
        )
        connection.execute("COMMIT")
    # 4. finish
    connection.execute("BEGIN IMMEDIATE")
    now = time.time()
    note = f"approved by {reviewer}" if reviewer is not None else ""
    connection.execute(task_writes.FINISH_SQL, ("done", note, 0, now, task_id, owner))
    connection.execute(task_writes.END_ATTEMPT_SQL, ("done", "", now, task_id, 1))
    if reviewer is not None:
        connection.execute(
            task_writes.REVIEW_ROW_SQL,
            (task_id, 1, reviewer, "approve", "meets the acceptance criteria.", now),
        )
    summary = f"Task {title!r} is done" + (f": {note}" if note else "")
    _audit(connection, agent, "task.done", subject, summary, to="done")
    for dependent_id, dependent_title in connection.execute(
        task_writes.DEPENDENTS_DONE_QUERY, (task_id,)
    ).fetchall():
        connection.execute(task_writes.READY_SQL, (now, dependent_id))
        _audit(
            connection,
            "engine",
            "task.ready",
            subject_of(dependent_id),
            f"Task {dependent_title!r} is ready: its dependencies are done",
            to="ready",
        )
    _audit(
        connection, "engine", "task.checked", subject, f"Checks after {title!r}: all passed", checks=CHECKS
    )
    connection.execute("COMMIT")
    if renew:  # the lease renewal of the scheduler's next wake (one statement, autocommit)
        connection.execute(
            "UPDATE task SET lease_expires_at = ? WHERE lease_owner = ? AND id IN (?)", (now, owner, 0)
        )


def _audit(
    connection: sqlite3.Connection, actor: str, kind: str, subject: str, summary: str, **data: Any
) -> None:
    encoded = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    connection.execute(AUDIT, (time.time(), actor, kind, subject, summary, encoded))
