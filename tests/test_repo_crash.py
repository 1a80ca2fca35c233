"""`orkestra run` on a repository project, killed with SIGKILL again and again: every task merges once.

A plan of 24 tasks in a project linked to a real repository (with a real gate) is run by the
real command in a subprocess, killed (SIGKILL: no cleanup at all) once it has made some
progress while it holds leases, four times, then run until it exits 0. Then every task is
done, its change merged into the integration branch exactly once (one merge commit with its
trailer, or no change at all), no worktree is left that no live task owns, the user's own
checkout is exactly as it was, and `git fsck` is clean.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import Counter
from pathlib import Path

from repos import assert_fsck_clean, git, make_repository, write
from test_crash_safety import kill_after_progress, start_run

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec

TASKS = 24
PROGRESS_BEFORE_KILL = (1, 3, 6, 6)
RUN_TIMEOUT_S = 120.0
CONFIG = "[engine]\nlease_s = 2.0\nreviewers = 1\n\n[simulation]\nseed = 5\nlatency_ms = 5\n"
GATES = 'gates = ["python -m compileall -q ."]\n'


async def plan_in_repository(home: Path, repository: Path) -> str:
    """An active project of TASKS tasks (chains of four) linked to REPOSITORY; its integration branch."""
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project("Crash repo")
        specs = [
            TaskSpec(
                title=f"Module {number}",
                instructions=f"Write module {number}.",
                key=f"t{number}",
                depends_on=(f"t{number - 1}",) if (number - 1) % 4 else (),
            )
            for number in range(1, TASKS + 1)
        ]
        engine.add_tasks(project.id, specs)
        link = await engine.link_repository(project.id, repository)
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
        return link.branch
    finally:
        engine.close()


def test_killed_runs_merge_every_task_exactly_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    repository = make_repository(tmp_path / "repository", {"README.md": "# App\n", ".orkestra.toml": GATES})
    write(repository / "notes.txt", "the user's own uncommitted work\n")
    status_before = git(repository, "status", "--porcelain=v2")
    head_before = git(repository, "rev-parse", "HEAD")
    branch = asyncio.run(plan_in_repository(home, repository))
    log = tmp_path / "runs.log"

    killed = 0
    for progress in PROGRESS_BEFORE_KILL:
        was_killed, _held = kill_after_progress(home, log, progress)
        if not was_killed:
            break
        killed += 1
    assert killed >= 3, log.read_text(errors="replace")

    status = None
    for _ in range(3):
        process = start_run(home, tmp_path / "final.log")
        status = process.wait(timeout=RUN_TIMEOUT_S)
        if status == 0:
            break
    assert status == 0, (tmp_path / "final.log").read_text(errors="replace")

    database = home / "data" / "orkestra.db"
    with sqlite3.connect(database) as reader:
        statuses = dict(reader.execute("SELECT id, status FROM task"))
        changes = {
            task: (state, files, worktree)
            for task, state, files, worktree in reader.execute(
                "SELECT task_id, state, files, worktree FROM task_change"
            )
        }
    reader.close()
    assert set(statuses.values()) == {"done"}, statuses

    # Merged exactly once: one merge commit per task with a change, none for a task without one.
    merges = Counter(
        int(found)
        for found in re.findall(
            r"Orkestra-Task: (\d+)", git(repository, "log", "--merges", "--format=%B", branch)
        )
    )
    with_change = {task for task, (_state, files, _wt) in changes.items() if files != "[]"}
    assert set(merges) == with_change
    assert set(merges.values()) == {1}
    assert all(state == "merged" for state, _files, _wt in changes.values())

    # No worktree left behind: only the user's checkout and the integration worktree remain.
    listed = git(repository, "worktree", "list", "--porcelain")
    trees = [line.split(" ", 1)[1] for line in listed.splitlines() if line.startswith("worktree ")]
    assert len(trees) == 2, trees
    assert all(worktree is None for _state, _files, worktree in changes.values())
    assert not list((home / "data" / "worktrees").glob("*/tasks/*"))

    # The user's checkout is exactly as it was; the repository is sound.
    assert git(repository, "status", "--porcelain=v2") == status_before
    assert git(repository, "rev-parse", "HEAD") == head_before
    assert_fsck_clean(repository)
