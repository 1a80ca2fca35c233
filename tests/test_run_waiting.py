"""Two `orkestra run --until-done` on one project: the one with nothing to do waits, and takes over.

Real processes on one data dir. The project is one chain of tasks, so only one
task is ready at a time: whichever run does not hold it has nothing to do but
wait for the other. Both must end with exit 0 and every task done exactly once;
and when the run holding a task is killed, the waiting one takes its task over.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from orkestra_tui.commands.run_waiting import waiting_line
from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec

TASKS = 6
TIMEOUT_S = 90.0
CONFIG = "[engine]\nreviewers = 1\nlease_s = 30.0\n\n[simulation]\nseed = 5\nlatency_ms = 300\n"


def chain_project(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project("Shop")
        engine.add_tasks(
            project.id,
            [
                TaskSpec(
                    title=f"Part {n}",
                    instructions=f"Write part {n}.",
                    key=f"t{n}",
                    depends_on=(f"t{n - 1}",) if n > 1 else (),
                )
                for n in range(1, TASKS + 1)
            ],
        )
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()
    return home


def start_run(home: Path, log: Path) -> subprocess.Popen[bytes]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith(("_API_KEY", "_TOKEN")) and name != "ORKESTRA_HOME"
    }
    with log.open("wb") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orkestra_tui",
                "--data-dir",
                str(home),
                "run",
                "--project",
                "Shop",
                "--until-done",
                "--on-review",
                "approve",
            ],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
        )


def read(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database, timeout=10.0) as reader:
        return reader.execute(sql).fetchall()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` (a callable) until it holds; the other processes do the work meanwhile."""
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def holds_a_lease(database: Path, pid: int) -> bool:
    return any(f":{pid}:" in str(owner) for (owner,) in read(database, "SELECT lease_owner FROM task"))


def finish(process: subprocess.Popen[bytes]) -> int:
    try:
        return process.wait(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def assert_each_task_done_once(database: Path) -> None:
    statuses = Counter(str(status) for (status,) in read(database, "SELECT status FROM task"))
    assert statuses == {"done": TASKS}
    finished = Counter(
        str(subject) for (subject,) in read(database, "SELECT subject FROM audit WHERE kind = 'task.done'")
    )
    assert len(finished) == TASKS and set(finished.values()) == {1}, finished
    attempts = read(database, "SELECT task_id, count(*) FROM task_attempt WHERE outcome = 'done' GROUP BY 1")
    assert len(attempts) == TASKS and {count for _task, count in attempts} == {1}, attempts


def test_two_runs_on_one_project_both_end_done(tmp_path: Path) -> None:
    home = chain_project(tmp_path)
    database = home / "data" / "orkestra.db"
    first = start_run(home, tmp_path / "first.log")
    try:
        wait_until(lambda: holds_a_lease(database, first.pid), "the first run holds a task")
        second = start_run(home, tmp_path / "second.log")
        second_code = finish(second)
    finally:
        first_code = finish(first)
    first_log = (tmp_path / "first.log").read_text(encoding="utf-8")
    second_log = (tmp_path / "second.log").read_text(encoding="utf-8")
    assert (first_code, second_code) == (0, 0), first_log + second_log
    assert "held by another run (pid" in first_log + second_log
    assert_each_task_done_once(database)


def test_a_waiting_run_takes_over_the_tasks_of_a_killed_one(tmp_path: Path) -> None:
    home = chain_project(tmp_path)
    database = home / "data" / "orkestra.db"
    first = start_run(home, tmp_path / "first.log")
    second_log = tmp_path / "second.log"
    try:
        wait_until(lambda: holds_a_lease(database, first.pid), "the first run holds a task")
        second = start_run(home, second_log)
        try:
            wait_until(lambda: "waiting:" in second_log.read_text(encoding="utf-8"), "the second run waits")
            assert f"(pid {first.pid})" in second_log.read_text(encoding="utf-8")
            first.send_signal(signal.SIGKILL)
            first.wait()  # reaped: its pid is gone, as after a real crash
            second_code = finish(second)
        finally:
            if second.poll() is None:
                second.kill()
                second.wait()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert second_code == 0, second_log.read_text(encoding="utf-8")
    assert_each_task_done_once(database)


def test_the_waiting_line_names_the_runs() -> None:
    import socket

    here = socket.gethostname()
    assert waiting_line(Counter({f"{here}:41:ab": 3})) == "waiting: 3 tasks held by another run (pid 41)"
    two = waiting_line(Counter({f"{here}:41:ab": 1, f"{here}:41:ef": 1, "elsewhere:7:cd": 1}))
    assert two.startswith("waiting: 3 tasks held by 2 other runs (")
    assert "pid 41" in two and "pid 7 on elsewhere" in two
