"""`orkestra run` killed with SIGKILL in the middle of a contest: the next run pays for no entry twice.

A contest of 3 simulated agents (answering in about a second and a half each, at different
speeds) is run by the real command in a subprocess, killed once one entry is stored and
another is still being made, then run again until it exits 0. The entries finished before
the kill are not asked for again (one task call each in the call log); the others are; the
contest is won and the task done.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from test_crash_safety import start_run

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec

CONFIG = "[engine]\nlease_s = 2.0\nreviewers = 1\n\n[simulation]\nseed = 5\nlatency_ms = 1500\n"
RUN_TIMEOUT_S = 120.0


def contest_task(home: Path) -> int:
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project("Essays", "Write short essays.")
        (task,) = engine.add_tasks(
            project.id, [TaskSpec(title="An essay on rivers", instructions="Write it.", category="writing")]
        )
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
        engine.set_task_contest(task.id, 3)
        return task.id
    finally:
        engine.close()


def entry_states(database: Path) -> dict[str, tuple[str, str]]:
    """Letter to (agent, state) of the contest's entries."""
    with sqlite3.connect(database, timeout=10.0) as reader:
        rows = reader.execute("SELECT letter, agent, state FROM contest_entry").fetchall()
    reader.close()
    return {letter: (agent, state) for letter, agent, state in rows}


def task_calls(database: Path, task_id: int) -> dict[str, list[str]]:
    """Agent to the states of its task calls (not reviews) for the task."""
    with sqlite3.connect(database, timeout=10.0) as reader:
        rows = reader.execute(
            "SELECT agent, state FROM call WHERE task_id = ? AND purpose = 'task' ORDER BY id", (task_id,)
        ).fetchall()
    reader.close()
    found: dict[str, list[str]] = {}
    for agent, state in rows:
        found.setdefault(agent, []).append(state)
    return found


def test_a_killed_contest_resumes_without_paying_again_for_finished_entries(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    task_id = contest_task(home)
    database = home / "data" / "orkestra.db"
    log = tmp_path / "runs.log"

    process = start_run(home, log)
    finished_at_kill: dict[str, str] = {}
    deadline = time.monotonic() + RUN_TIMEOUT_S
    try:
        while process.poll() is None and time.monotonic() < deadline:
            states = entry_states(database) if database.exists() else {}
            finished = {agent: state for agent, state in states.values() if state != "running"}
            if finished and len(finished) < len(states):
                process.send_signal(signal.SIGKILL)
                process.wait()  # reaped: its pid is gone, as after a real crash
                finished_at_kill = finished
                break
            time.sleep(0.005)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert finished_at_kill, log.read_text(errors="replace")
    unfinished_at_kill = {agent for agent, _state in entry_states(database).values()} - set(finished_at_kill)
    assert unfinished_at_kill

    final = start_run(home, tmp_path / "final.log")
    assert final.wait(timeout=RUN_TIMEOUT_S) == 0, (tmp_path / "final.log").read_text(errors="replace")

    calls = task_calls(database, task_id)
    for agent in finished_at_kill:
        assert calls[agent] == ["complete"], calls  # stored before the kill: never asked again
    for agent in unfinished_at_kill:
        assert calls[agent][-1] == "complete" and len(calls[agent]) == 2, calls  # cut off, then made
    with sqlite3.connect(database) as reader:
        status = reader.execute("SELECT status FROM task WHERE id = ?", (task_id,)).fetchone()[0]
        contest = reader.execute("SELECT state, winner FROM contest WHERE task_id = ?", (task_id,)).fetchone()
        kinds = [kind for (kind,) in reader.execute("SELECT kind FROM audit WHERE kind LIKE 'contest.%'")]
    reader.close()
    assert status == "done" and contest[0] == "won" and contest[1] in "ABC"
    assert kinds.count("contest.started") == 1  # the entries were not started afresh
