"""A read-only data dir: the commands that only read work, the others say so in one line.

The data dir is a real read-only bind mount of a folder (see `mounts`): root,
which runs these tests, ignores permission bits but not a read-only mount.
Every command runs in a real process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from mounts import read_only_view  # noqa: F401 (a fixture)

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec

CONFIG = "[simulation]\nseed = 3\nlatency_ms = 0\n"
COMMAND_TIMEOUT_S = 120

READING_COMMANDS = (
    ("status",),
    ("status", "--json"),
    ("audit",),
    ("audit", "--json"),
    ("snapshot", "list"),
    ("snapshot", "list", "--json"),
    ("doctor", "--json"),
)
WRITING_COMMANDS = (
    ("vote", "Which?", "--option", "A", "--option", "B", "--tie-break", "first"),
    ("vote", "--resume", "1", "--tie-break", "first"),
    ("run", "--on-review", "approve"),
    ("plan", "--name", "New", "--description", "Something new", "--yes", "--tie-break", "first"),
    ("snapshot", "create"),
    ("snapshot", "restore", "20260101-000000", "--yes"),
)


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


def open_engine(home: Path) -> Engine:
    return Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})


@pytest.fixture
def homes(read_only_view: tuple[Path, Path]) -> tuple[Path, Path]:  # noqa: F811
    """(writable, read-only): one data dir holding a decided vote and a project, and its read-only view."""
    source, view = read_only_view
    (source / "config.toml").write_text(CONFIG, encoding="utf-8")
    voted = orkestra(source, "vote", "Which?", "--option", "A", "--option", "B", "--tie-break", "first")
    assert voted.returncode in (0, 1), voted.stderr
    engine = open_engine(source)
    try:
        project = engine.create_project("Shop")
        engine.add_tasks(project.id, [TaskSpec(title="Build it", instructions="Build it.")])
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()
    assert not (source / "data" / "orkestra.db-wal").exists()  # closed cleanly: no -wal, no -shm
    return source, view


def assert_read_only_line(result: subprocess.CompletedProcess[str], view: Path) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr == (
        f"orkestra: cannot write in {view / 'data'}: it is on a read-only disk; this needs a writable"
        " data directory (status, audit, decisions export, snapshot list and doctor only read)\n"
    ), result.stderr


def test_commands_that_only_read_work_on_a_read_only_data_dir(homes: tuple[Path, Path]) -> None:
    source, view = homes
    database = source / "data" / "orkestra.db"
    before = database.read_bytes()
    for command in READING_COMMANDS:
        result = orkestra(view, *command)
        assert result.returncode == 0, (command, result.stderr)
        assert "Traceback" not in result.stderr, (command, result.stderr)
        assert "orkestra:" not in result.stderr, (command, result.stderr)
    assert database.read_bytes() == before
    with sqlite3.connect(database) as reader:
        assert reader.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_status_and_audit_show_what_the_read_only_dir_holds(homes: tuple[Path, Path], tmp_path: Path) -> None:
    _source, view = homes
    status = json.loads(orkestra(view, "status", "--json").stdout)
    assert [project["name"] for project in status["projects"]] == ["Shop"]
    audit = json.loads(orkestra(view, "audit", "--json").stdout)
    assert {"project.created", "decision.opened"} <= {event["kind"] for event in audit["events"]}

    out = tmp_path / "records"
    exported = orkestra(view, "decisions", "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert [path.name for path in out.iterdir()] == ["decision-0001-which.md"]


def test_a_read_only_dir_with_a_live_write_ahead_log_shows_its_newest_writes(
    homes: tuple[Path, Path],
) -> None:
    source, view = homes
    writer = open_engine(source)  # kept open: its -wal and -shm stay beside the database
    try:
        writer.create_project("Newest")
        assert (source / "data" / "orkestra.db-wal").exists()
        status = orkestra(view, "status", "--json")
        assert status.returncode == 0, status.stderr
        assert [project["name"] for project in json.loads(status.stdout)["projects"]] == ["Shop", "Newest"]
    finally:
        writer.close()


def test_commands_that_write_say_the_dir_is_read_only(homes: tuple[Path, Path]) -> None:
    source, view = homes
    before = sorted(path.name for path in (source / "data").iterdir())
    for command in WRITING_COMMANDS:
        assert_read_only_line(orkestra(view, *command), view)
    assert sorted(path.name for path in (source / "data").iterdir()) == before


def test_the_app_refuses_a_read_only_dir_before_its_first_frame(homes: tuple[Path, Path]) -> None:
    _source, view = homes
    result = orkestra(view)
    assert_read_only_line(result, view)
    assert result.stdout == ""


def test_reading_needs_no_config_file_and_writes_none(homes: tuple[Path, Path]) -> None:
    source, view = homes
    (source / "config.toml").unlink()
    result = orkestra(view, "status", "--json")
    assert result.returncode == 0, result.stderr
    assert not (source / "config.toml").exists()
