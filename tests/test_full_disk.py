"""A full disk: one line and exit 2, what was committed stays, and the work goes on once there is room.

The commands run in real processes on a real small tmpfs that a filler file
fills (see `mounts`); the store's own handling of SQLITE_FULL is also checked
in-process, where `PRAGMA max_page_count` makes SQLite report a full disk.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mounts import fill, small_disk  # noqa: F401 (a fixture)

from orkestra_tui.config import Paths, Settings, load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec, TaskStatus
from orkestra_tui.errors import DiskFullError

CONFIG = "[engine]\nmin_free_mb = 0\nreviewers = 1\n\n[simulation]\nseed = 3\nlatency_ms = 0\n"
COMMAND_TIMEOUT_S = 120
LEAVE_FREE_BYTES = 128 * 1024
"""What the filler leaves for a vote: room to start it, not to finish it."""
LEAVE_FREE_FOR_RUN_BYTES = 2 * 1024 * 1024
"""What the filler leaves for a run of 40 tasks: room for some of them, not all."""
COMMITTED_TABLES = ("project", "task", "decision", "decision_round", "ballot", "call", "audit")


def orkestra(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The real command in a process of its own; no key reaches it, so every agent is simulated."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith(("_API_KEY", "_TOKEN")) and name != "ORKESTRA_HOME"
    }
    return subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), *arguments],
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment,
        timeout=COMMAND_TIMEOUT_S,
    )


def assert_one_disk_full_line(result: subprocess.CompletedProcess[str], folder: Path) -> str:
    """Exit 2 and one error line, last on stderr (after any progress lines), saying the disk is full."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("orkestra:")]
    assert len(errors) == 1, result.stderr
    line = errors[0]
    assert result.stderr.endswith(line + "\n"), result.stderr
    assert line.startswith(f"orkestra: the disk holding {folder} is full; free some space and "), line
    assert line.endswith("nothing recorded was lost"), line
    return line


def committed_rows(database: Path) -> dict[str, set[tuple[Any, ...]]]:
    with sqlite3.connect(database, timeout=10.0) as reader:
        return {table: set(reader.execute(f"SELECT * FROM {table}").fetchall()) for table in COMMITTED_TABLES}


def integrity(database: Path) -> str:
    with sqlite3.connect(database, timeout=10.0) as reader:
        return str(reader.execute("PRAGMA integrity_check").fetchone()[0])


def assert_kept(before: dict[str, set[tuple[Any, ...]]], database: Path) -> None:
    """Every row committed before the disk filled is still there, unchanged (tasks and votes move on)."""
    after = committed_rows(database)
    for table in ("ballot", "call", "audit", "decision_round"):
        closed_before = {row for row in before[table] if table != "decision_round" or row[-1] is not None}
        if table == "call":  # a call left started when the disk filled is closed on the next start
            closed_before = {row for row in closed_before if "started" not in row}
        assert closed_before <= after[table], table
    for table in ("project", "task", "decision"):
        assert {row[0] for row in before[table]} <= {row[0] for row in after[table]}, table


# ----------------------------------------------------------------- the store itself


def test_a_transaction_that_fills_the_disk_rolls_back_whole_and_says_so(
    paths: Paths, settings: Settings
) -> None:
    engine = Engine(paths, settings, env={})
    try:
        project = engine.create_project("Kept")
        pages = engine.store.scalar("PRAGMA page_count")
        engine.store.query(f"PRAGMA max_page_count = {pages}")  # SQLite now finds the disk full
        with pytest.raises(DiskFullError) as raised:
            engine.add_tasks(
                project.id, [TaskSpec(title=f"Task {n}", instructions="x" * 5000) for n in range(50)]
            )
        assert str(raised.value).startswith(f"the disk holding {paths.data_dir} is full;")
        assert "cannot rollback" not in repr(raised.value.__cause__)
        assert engine.store.tasks(project.id) == []  # none of the batch, not half of it
        engine.store.query(f"PRAGMA max_page_count = {pages * 100}")  # room again
        engine.add_tasks(project.id, [TaskSpec(title="After", instructions="go on")])
        assert [task.title for task in engine.store.tasks(project.id)] == ["After"]
        assert engine.store.scalar("PRAGMA integrity_check") == "ok"
    finally:
        engine.close()


def test_an_artifact_that_finds_the_disk_full_sends_its_task_back_to_ready(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orkestra_tui.engine.execution.scheduler import Scheduler
    from orkestra_tui.engine.repo import workspace

    project = engine.create_project("Full")
    engine.add_tasks(project.id, [TaskSpec(title="Write it", instructions="Write it.")])
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)

    def no_space(path: Path, text: str) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(workspace, "write_artifact", no_space)
    with pytest.raises(DiskFullError):
        asyncio.run(Scheduler(engine).run(project.id))
    (task,) = engine.store.tasks(project.id)
    assert task.status is TaskStatus.READY  # not failed: it is done once there is room
    assert [attempt.outcome for attempt in engine.store.task_attempts(task.id)] == ["interrupted"]


def test_too_little_free_space_stops_the_run_and_blocks_no_task(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG.replace("min_free_mb = 0", "min_free_mb = 100000000"))
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project("Waits")
        engine.add_tasks(project.id, [TaskSpec(title="One", instructions="Do it.")])
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()
    result = orkestra(home, "run", "--on-review", "approve")
    assert result.returncode == 2, result.stderr
    assert re.fullmatch(
        r"orkestra: the disk holding \S+ is nearly full \(\d+ MB free\); free some space and run the"
        r" command again — nothing recorded was lost\n",
        result.stderr,
    ), result.stderr
    database = home / "data" / "orkestra.db"
    with sqlite3.connect(database) as reader:
        assert reader.execute("SELECT status FROM task").fetchall() == [("ready",)]


# ----------------------------------------------------------------- real processes on a full disk


def test_a_vote_that_fills_the_disk_says_one_line_and_resumes(small_disk: Path) -> None:  # noqa: F811
    home = small_disk
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    warm_up = orkestra(home, "vote", "Warm up?", "--option", "Yes", "--option", "No", "--tie-break", "first")
    assert warm_up.returncode in (0, 1), warm_up.stderr
    filler = fill(home, LEAVE_FREE_BYTES)

    question = ["vote", "Which database?", "--option", "SQLite", "--option", "Postgres", "--option", "Both"]
    full = orkestra(home, *question, "--tie-break", "first", "--json")
    line = assert_one_disk_full_line(full, home / "data")
    assert full.stdout == ""
    resume = re.search(r"resume the vote with: (orkestra vote --resume \d+ .*) — nothing", line)
    assert resume is not None, line
    database = home / "data" / "orkestra.db"
    before = committed_rows(database)
    assert integrity(database) == "ok"

    filler.unlink()
    words = shlex.split(resume.group(1))
    resumed = orkestra(home, *words[1 : words.index("--data-dir")], "--json")
    assert resumed.returncode in (0, 1), resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert integrity(database) == "ok"
    assert_kept(before, database)
    with sqlite3.connect(database) as reader:
        assert reader.execute("SELECT count(*) FROM decision WHERE status = 'open'").fetchone()[0] == 0


def test_a_run_that_fills_the_disk_says_one_line_and_goes_on_once_there_is_room(
    small_disk: Path,  # noqa: F811
) -> None:
    home = small_disk
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project("Filled")
        specs = [TaskSpec(title=f"Part {n}", instructions=f"Write part {n}.", key=f"p{n}") for n in range(40)]
        engine.add_tasks(project.id, specs)
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()
    filler = fill(home, LEAVE_FREE_FOR_RUN_BYTES)

    full = orkestra(home, "run", "--until-done", "--on-review", "approve", "--json")
    assert_one_disk_full_line(full, home / "data")
    assert full.stdout == ""
    database = home / "data" / "orkestra.db"
    before = committed_rows(database)
    assert integrity(database) == "ok"
    assert not {row for row in before["task"] if "done" in row} >= before["task"]  # stopped part way

    filler.unlink()
    again = orkestra(home, "run", "--until-done", "--on-review", "approve", "--json")
    assert again.returncode == 0, again.stderr
    assert integrity(database) == "ok"
    assert_kept(before, database)
    with sqlite3.connect(database) as reader:
        assert reader.execute("SELECT status, count(*) FROM task GROUP BY status").fetchall() == [
            ("done", 40)
        ]


def test_a_record_export_to_a_full_disk_leaves_no_file(
    small_disk: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    voted = orkestra(home, "vote", "Which?", "--option", "A", "--option", "B", "--tie-break", "first")
    assert voted.returncode in (0, 1), voted.stderr
    out = small_disk / "records"
    out.mkdir()
    fill(small_disk, 0)

    result = orkestra(home, "decisions", "export", "--out", str(out))
    assert_one_disk_full_line(result, out)
    assert list(out.iterdir()) == []


def test_a_snapshot_on_a_full_disk_says_one_line_and_leaves_no_partial_file(small_disk: Path) -> None:  # noqa: F811
    home = small_disk
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    voted = orkestra(home, "vote", "Which?", "--option", "A", "--option", "B", "--tie-break", "first")
    assert voted.returncode in (0, 1), voted.stderr
    (home / "data" / "snapshots").mkdir()
    filler = fill(home, LEAVE_FREE_BYTES)

    result = orkestra(home, "snapshot", "create")
    assert_one_disk_full_line(result, home / "data" / "snapshots")
    assert list((home / "data" / "snapshots").iterdir()) == []

    filler.unlink()
    again = orkestra(home, "snapshot", "create")
    assert again.returncode == 0, again.stderr
    assert integrity(home / "data" / "orkestra.db") == "ok"


def test_a_disk_with_no_room_at_all_is_called_full_not_damaged(small_disk: Path) -> None:  # noqa: F811
    """With no room for the -shm file, SQLite says "disk I/O error" at open: that is a full disk too."""
    home = small_disk
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    voted = orkestra(home, "vote", "Which?", "--option", "A", "--option", "B", "--tie-break", "first")
    assert voted.returncode in (0, 1), voted.stderr
    filler = fill(home, 0)
    for command in (
        ("status",),
        ("vote", "Again?", "--option", "A", "--option", "B", "--tie-break", "first"),
    ):
        assert_one_disk_full_line(orkestra(home, *command), home / "data")
    filler.unlink()
    assert orkestra(home, "status").returncode == 0
    assert integrity(home / "data" / "orkestra.db") == "ok"


# ----------------------------------------------------------------- the commands' common error path


def test_any_command_says_a_full_or_read_only_disk_in_one_line(tmp_path: Path) -> None:
    import argparse

    from orkestra_tui.cli import _disk_line

    args = argparse.Namespace(data_dir=str(tmp_path / "home"))
    artifact = tmp_path / "home" / "data" / "projects" / "1" / "artifacts" / ".orkestra-1.tmp"
    no_space = OSError(errno.ENOSPC, "No space left on device", str(artifact))
    assert _disk_line(args, no_space) == str(DiskFullError(artifact.parent))
    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")  # as SQLite raises it: code 13
        except sqlite3.OperationalError as full:
            full.sqlite_errorcode = 13
            raise RuntimeError("cannot rollback - no transaction is active") from None
    except RuntimeError as masked:
        assert _disk_line(args, masked) == str(DiskFullError(tmp_path / "home" / "data"))
    read_only = OSError(errno.EROFS, "Read-only file system", str(tmp_path / "home" / "data" / "snapshots"))
    assert "needs a writable data directory" in str(_disk_line(args, read_only))
    elsewhere = OSError(errno.EROFS, "Read-only file system", str(tmp_path / "cdrom" / "out.md"))
    assert _disk_line(args, elsewhere) == f"cannot write in {tmp_path / 'cdrom'}: it is on a read-only disk"
    assert _disk_line(args, ValueError("a bug")) is None


def test_workspace_files_on_a_full_disk_stop_the_answer_and_leave_nothing_half_written(
    small_disk: Path,  # noqa: F811
) -> None:
    from orkestra_tui.engine.repo.workspace import FileBlock, write_file_blocks

    workspace = small_disk / "workspace"
    workspace.mkdir()
    (workspace / "kept.txt").write_text("old")
    fill(small_disk, 0)
    blocks = [FileBlock("kept.txt", "new " * 10_000), FileBlock("src/new.py", "print('hi')\n" * 1000)]
    with pytest.raises(DiskFullError, match=f"the disk holding {workspace} is full"):
        write_file_blocks(workspace, blocks)
    assert (workspace / "kept.txt").read_text() == "old"
    assert sorted(path.name for path in workspace.rglob("*")) == ["kept.txt"]
