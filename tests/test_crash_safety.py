"""`orkestra run --until-done` killed with SIGKILL, again and again, still does every task exactly once.

A plan of 200 tasks is run by the real command in a subprocess. Each run is
killed (SIGKILL: no cleanup at all) once it has made some progress while it
holds leases, four times; then it is run until it exits 0. The database must
then be whole and agree with itself: every task done once, by one finishing
event and one finishing attempt, the audit log's last word on each task equal
to its status, and the leases of the killed runs taken up by the next run at
once (their process is gone from this machine), not after they expired.
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
from pathlib import Path

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec

TASKS = 200
PROGRESS_BEFORE_KILL = (1, 15, 30, 30)
"""Tasks each killed run must finish (while it holds leases) before it is killed."""
RUN_TIMEOUT_S = 60.0
CONFIG = "[engine]\nlease_s = 2.0\nreviewers = 1\n\n[simulation]\nseed = 3\nlatency_ms = 5\n"


def plan_of_200(home: Path) -> None:
    """An active project of TASKS tasks: chains of five, every tenth also waiting on the one ten back."""
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project("Crash test")
        specs = []
        for number in range(1, TASKS + 1):
            depends_on = [f"t{number - 1}"] if (number - 1) % 5 else []
            if number % 10 == 0 and number > 10:
                depends_on.append(f"t{number - 10}")
            specs.append(
                TaskSpec(
                    title=f"Task {number}",
                    instructions=f"Write part {number}.",
                    key=f"t{number}",
                    depends_on=tuple(depends_on),
                )
            )
        engine.add_tasks(project.id, specs)
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()


def start_run(home: Path, log: Path) -> subprocess.Popen[bytes]:
    # No key reaches the run, so every agent is simulated.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith(("_API_KEY", "_TOKEN")) and name != "ORKESTRA_HOME"
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orkestra_tui",
                "--data-dir",
                str(home),
                "run",
                "--until-done",
                "--on-review",
                "approve",
                "--json",
            ],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            env=environment,
        )


def done_count(database: Path) -> int:
    with sqlite3.connect(database, timeout=10.0) as reader:
        return int(reader.execute("SELECT count(*) FROM task WHERE status = 'done'").fetchone()[0])


def leases_of(database: Path, pid: int) -> list[tuple[int, str, float]]:
    """The leases a process holds: task id, owner and expiry."""
    with sqlite3.connect(database, timeout=10.0) as reader:
        rows = reader.execute(
            "SELECT id, lease_owner, lease_expires_at FROM task WHERE lease_owner IS NOT NULL"
        ).fetchall()
    return [(int(task), str(owner), float(expires)) for task, owner, expires in rows if f":{pid}:" in owner]


def kill_after_progress(home: Path, log: Path, progress: int) -> tuple[bool, list[tuple[int, str, float]]]:
    """Start a run and SIGKILL it once it finished `progress` tasks while holding leases.

    Returns whether it was killed (False: it ended first) and the leases it held when killed.
    """
    database = home / "data" / "orkestra.db"
    before = done_count(database)
    process = start_run(home, log)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if done_count(database) - before >= progress:
                held = leases_of(database, process.pid)
                if held:
                    process.send_signal(signal.SIGKILL)
                    process.wait()  # reaped: its pid is gone, as after a real crash
                    return True, leases_of(database, process.pid)
            time.sleep(0.005)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode is not None
    return False, []


def test_killed_runs_lose_and_repeat_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    plan_of_200(home)
    log = tmp_path / "runs.log"
    started = time.monotonic()

    killed: list[tuple[float, list[tuple[int, str, float]]]] = []
    for progress in PROGRESS_BEFORE_KILL:
        was_killed, held = kill_after_progress(home, log, progress)
        if not was_killed:
            break
        killed.append((time.time(), held))
    assert len(killed) >= 3, log.read_text(errors="replace")
    assert any(held for _, held in killed)

    for _ in range(3):
        process = start_run(home, tmp_path / "final.log")
        status = process.wait(timeout=RUN_TIMEOUT_S)
        if status == 0:
            break
    final_output = (tmp_path / "final.log").read_text(errors="replace")
    assert status == 0, final_output
    assert time.monotonic() - started < 60

    database = home / "data" / "orkestra.db"
    with sqlite3.connect(database) as reader:
        assert reader.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        statuses = dict(reader.execute("SELECT id, status FROM task"))
        leases = reader.execute("SELECT count(*) FROM task WHERE lease_owner IS NOT NULL").fetchone()[0]
        attempts = reader.execute("SELECT task_id, outcome FROM task_attempt").fetchall()
        reviews = Counter(task for (task,) in reader.execute("SELECT task_id FROM task_review"))
        events = [
            (int(subject.partition(":")[2]), kind, ts, summary, json.loads(data))
            for subject, kind, ts, summary, data in reader.execute(
                "SELECT subject, kind, ts, summary, data FROM audit WHERE subject LIKE 'task:%' ORDER BY id"
            )
        ]
        open_reviews = reader.execute(
            "SELECT count(*) FROM inbox WHERE kind = 'task_review' AND status = 'open'"
        ).fetchone()[0]

    # None lost: every task is done, no lease is left, no review waits.
    assert len(statuses) == TASKS
    assert set(statuses.values()) == {"done"}
    assert leases == 0
    assert open_reviews == 0

    # None repeated: one finishing event per task, by the scheduler (task.done) or by the policy's
    # approval of a task the reviewer sent to the human (task.approved), never both.
    finished = Counter(task for task, kind, *_ in events if kind in ("task.done", "task.approved"))
    assert set(finished) == set(statuses)
    assert set(finished.values()) == {1}
    by_scheduler = {task for task, kind, *_ in events if kind == "task.done"}
    approved = {task for task, kind, *_ in events if kind == "task.approved"}
    outcomes: dict[int, Counter[str]] = {}
    for task, outcome in attempts:
        outcomes.setdefault(task, Counter())[outcome] += 1
    for task in statuses:
        if task in by_scheduler:
            assert outcomes[task]["done"] == 1, (task, outcomes[task])
        else:
            assert task in approved
            assert (outcomes[task]["done"], outcomes[task]["awaiting_human"]) == (0, 1), (
                task,
                outcomes[task],
            )
        assert outcomes[task]["running"] == 0  # every attempt of a killed run was closed (abandoned)
        assert reviews[task] >= 1

    # The audit log agrees with the table: the last status a task.* event moved it to is its status.
    last_status: dict[int, str] = {}
    for task, kind, _ts, _summary, data in events:
        if kind.startswith("task.") and "to" in data:
            last_status[task] = data["to"]
    assert last_status == statuses

    # The killed runs' leases were taken up by the next run, at once when their process was gone.
    releases = {
        (task, data["owner"]): (ts, summary)
        for task, kind, ts, summary, data in events
        if kind == "task.lease_expired"
    }
    gone = 0
    for _, held in killed:
        for task, owner, expires in held:
            assert (task, owner) in releases, (task, owner)
            released_at, summary = releases[(task, owner)]
            if released_at < expires:
                assert summary.endswith("its process is gone"), summary
                gone += 1
    assert gone >= 1
