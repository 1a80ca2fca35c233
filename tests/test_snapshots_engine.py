"""Snapshots of the database: taken online and checked, listed, pruned, restored and undone."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orkestra_tui.cli import main
from orkestra_tui.config import ConfigError, Paths, Settings, parse_settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import ProjectStatus, TaskSpec
from orkestra_tui.engine.store import snapshots
from orkestra_tui.engine.store.schema import SCHEMA_VERSION
from orkestra_tui.engine.store.snapshots import SnapshotError

# ------------------------------------------------------------------ helpers


def project_names(paths: Paths, settings: Settings) -> list[str]:
    engine = Engine(paths, settings, clock=FixedClock(), env={})
    try:
        return [project.name for project in engine.projects()]
    finally:
        engine.close()


def integrity(path: Path) -> str:
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def kinds(path: Path, kind: str) -> list[tuple[str, str]]:
    """(summary, data) of a kind of audit event in a database file, oldest first."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "SELECT summary, data FROM audit WHERE kind = ? ORDER BY id", (kind,)
        ).fetchall()
    finally:
        connection.close()


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    try:
        status = main(list(arguments))
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def live_pid() -> Iterator[int]:
    """A process that runs for the test's length, standing in for another `orkestra run`."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child.pid
    child.kill()
    child.wait()


# ------------------------------------------------------------------ taking and listing


def test_a_snapshot_is_a_checked_copy_listed_with_its_time_size_and_schema(
    engine: Engine, paths: Paths
) -> None:
    engine.create_project("Shop")
    snapshot = snapshots.create(paths, "before the release", clock=FixedClock(start=1_800_000_000.0))

    assert snapshot.id == "orkestra-20270115-080000"
    assert snapshot.path == paths.snapshots_dir / "orkestra-20270115-080000.db"
    assert snapshots.list_snapshots(paths) == [snapshot]
    assert snapshot.created_at == 1_800_000_000.0
    assert snapshot.size == snapshot.path.stat().st_size > 0
    assert snapshot.schema_version == SCHEMA_VERSION
    assert integrity(snapshot.path) == "ok"
    assert sorted(item.name for item in paths.snapshots_dir.iterdir()) == [snapshot.path.name]  # no -wal
    (event,) = engine.audit_events(1, kind="snapshot.created")
    assert event.summary == "Snapshot orkestra-20270115-080000 taken (before the release)"
    assert event.data["snapshot"] == snapshot.id


def test_two_snapshots_in_one_second_get_numbered_names_and_list_newest_first(
    engine: Engine, paths: Paths
) -> None:
    clock = FixedClock(start=1_800_000_000.0, step=0.0)
    first = snapshots.create(paths, "one", clock=clock)
    second = snapshots.create(paths, "two", clock=clock)
    third = snapshots.create(paths, "three", clock=clock)

    assert [first.id, second.id, third.id] == [
        "orkestra-20270115-080000",
        "orkestra-20270115-080000-2",
        "orkestra-20270115-080000-3",
    ]
    assert [snapshot.id for snapshot in snapshots.list_snapshots(paths)] == [third.id, second.id, first.id]


def test_files_that_are_not_snapshots_are_not_listed(engine: Engine, paths: Paths) -> None:
    snapshot = snapshots.create(paths, "one", clock=FixedClock())
    (paths.snapshots_dir / "notes.txt").write_text("mine")
    (paths.snapshots_dir / "orkestra-20271399-250000.db").write_bytes(b"")  # no such date
    (paths.snapshots_dir / ".orkestra-20270115-080000-1-abc.partial").write_bytes(b"half")
    assert snapshots.list_snapshots(paths) == [snapshot]


def test_the_keep_limit_removes_the_oldest(engine: Engine, paths: Paths) -> None:
    clock = FixedClock(start=1_800_000_000.0, step=60.0)
    taken = [snapshots.create(paths, f"number {number}", clock=clock) for number in range(5)]

    removed = snapshots.prune(paths, 3)

    assert removed == [taken[1], taken[0]]
    assert snapshots.list_snapshots(paths) == taken[:1:-1]
    assert not taken[0].path.exists()
    with pytest.raises(SnapshotError, match="at least one"):
        snapshots.prune(paths, 0)


def test_nothing_to_snapshot_before_the_database_exists(paths: Paths) -> None:
    with pytest.raises(SnapshotError, match="does not exist yet"):
        snapshots.create(paths, "early")


def test_a_snapshot_taken_while_a_run_writes_is_whole_and_consistent(engine: Engine, paths: Paths) -> None:
    """The scheduler carries out 200 tasks while snapshots are taken in a thread, one after another."""
    project = engine.create_project("Busy")
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    engine.add_tasks(project.id, [TaskSpec(f"Task {number}", instructions="Do it.") for number in range(200)])
    snapshot_clock = FixedClock(start=1_900_000_000.0, step=1.0)

    async def run_and_snapshot() -> list[snapshots.Snapshot]:
        running = asyncio.ensure_future(Scheduler(engine, reviewers=0, max_concurrent=5).run(project.id))
        taken = []
        while not running.done():
            taken.append(
                await asyncio.to_thread(snapshots.create, paths, "during the run", clock=snapshot_clock)
            )
        summary = await running
        assert summary.done == 200
        return taken

    taken = asyncio.run(run_and_snapshot())

    assert taken
    done_counts = []
    for snapshot in taken:
        assert integrity(snapshot.path) == "ok"
        connection = sqlite3.connect(f"{snapshot.path.as_uri()}?mode=ro", uri=True)
        try:
            assert connection.execute("SELECT count(*) FROM task").fetchone()[0] == 200
            done = connection.execute("SELECT count(*) FROM task WHERE status = 'done'").fetchone()[0]
            # One state, not a mix: every task done has its `task.done` event, and no more.
            events = connection.execute("SELECT count(*) FROM audit WHERE kind = 'task.done'").fetchone()[0]
        finally:
            connection.close()
        assert done == events
        done_counts.append(done)
    assert done_counts == sorted(done_counts)
    assert len(engine.audit_events(1000, kind="snapshot.created")) == len(taken)


# ------------------------------------------------------------------ restoring


def test_a_restore_goes_back_and_can_be_undone(paths: Paths, settings: Settings) -> None:
    clock = FixedClock(start=1_800_000_000.0, step=1.0)
    engine = Engine(paths, settings, clock=clock, env={})
    engine.create_project("Before")
    snapshot = snapshots.create(paths, "checkpoint", clock=clock)
    engine.create_project("After")
    engine.close()

    restored = snapshots.restore(paths, snapshot.id, clock=clock)

    assert sorted(item.name for item in paths.data_dir.iterdir()) == ["orkestra.db", "snapshots"]
    assert restored.snapshot == snapshot
    assert restored.undo is not None and restored.undo.id != snapshot.id
    assert restored.set_aside == ()
    assert project_names(paths, settings) == ["Before"]
    ((summary, data),) = kinds(paths.database, "snapshot.restored")
    assert summary == f"Snapshot {snapshot.id} restored; the state before is snapshot {restored.undo.id}"
    assert json.loads(data)["undo"] == restored.undo.id

    snapshots.restore(paths, restored.undo.id, clock=clock)

    assert project_names(paths, settings) == ["Before", "After"]
    assert [json.loads(data)["snapshot"] for _, data in kinds(paths.database, "snapshot.restored")] == [
        restored.undo.id
    ]  # the state undone to never saw the first restore


def test_a_restore_is_refused_while_the_engine_has_the_database_open(engine: Engine, paths: Paths) -> None:
    snapshot = snapshots.create(paths, "checkpoint", clock=FixedClock())
    engine.create_project("Kept")
    with pytest.raises(SnapshotError, match="is open in this process: close the engine first"):
        snapshots.restore(paths, snapshot.id)
    assert [project.name for project in engine.projects()] == ["Kept"]


def lease_to(paths: Paths, owner: str, expires_at: float) -> None:
    with sqlite3.connect(paths.database) as connection:
        connection.execute(
            "UPDATE task SET status = 'running', lease_owner = ?, lease_expires_at = ?", (owner, expires_at)
        )
    connection.close()


def test_a_restore_is_refused_while_a_live_run_holds_leases(
    paths: Paths, settings: Settings, live_pid: int
) -> None:
    clock = FixedClock(start=1_800_000_000.0)
    engine = Engine(paths, settings, clock=clock, env={})
    project = engine.create_project("Busy")
    engine.add_tasks(project.id, [TaskSpec("One"), TaskSpec("Two")])
    snapshot = snapshots.create(paths, "checkpoint", clock=clock)
    engine.close()
    lease_to(
        paths, f"{socket.gethostname()}:{live_pid}:abcd1234", clock.now() - 60
    )  # expired, but alive here
    before = paths.database.read_bytes()

    with pytest.raises(SnapshotError) as refused:
        snapshots.restore(paths, snapshot.id, clock=clock)

    host = socket.gethostname()
    assert str(refused.value).startswith(
        f"a run is under way on {paths.database}: process {live_pid} on {host} holds 2 tasks"
    )
    assert str(refused.value).endswith("stop it (or wait until its leases expire), then restore")
    assert paths.database.read_bytes() == before
    assert snapshots.list_snapshots(paths) == [snapshot]

    lease_to(paths, "elsewhere:123:abcd1234", clock.now() + 30)  # another machine, not expired
    with pytest.raises(SnapshotError, match="process 123 on elsewhere holds 2 task"):
        snapshots.restore(paths, snapshot.id, clock=clock)

    lease_to(paths, "elsewhere:123:abcd1234", clock.now() - 1)  # another machine, expired: a dead run
    assert snapshots.restore(paths, snapshot.id, clock=clock).snapshot == snapshot


def test_a_damaged_database_is_set_aside_not_overwritten(
    engine: Engine, paths: Paths, settings: Settings
) -> None:
    engine.create_project("Good")
    snapshot = snapshots.create(paths, "checkpoint", clock=FixedClock())
    engine.close()
    paths.database.write_bytes(b"scribbled over\n" * 100)

    restored = snapshots.restore(paths, snapshot.id, clock=FixedClock(start=1_800_000_100.0))

    assert restored.undo is None
    assert [path.name for path in restored.set_aside] == ["orkestra.db.damaged-20270115-080140"]
    assert restored.set_aside[0].read_bytes() == b"scribbled over\n" * 100
    assert project_names(paths, settings) == ["Good"]
    ((summary, _data),) = kinds(paths.database, "snapshot.restored")
    assert summary.endswith("the damaged database was moved to orkestra.db.damaged-20270115-080140")


def test_an_unknown_snapshot_names_the_newest(engine: Engine, paths: Paths) -> None:
    with pytest.raises(SnapshotError, match="holds none yet"):
        snapshots.find(paths, "orkestra-20270101-000000")
    clock = FixedClock(start=1_800_000_000.0, step=60.0)
    taken = [snapshots.create(paths, "n", clock=clock) for _ in range(7)]
    with pytest.raises(SnapshotError) as unknown:
        snapshots.find(paths, "nope")
    newest = ", ".join(snapshot.id for snapshot in taken[:1:-1])
    assert str(unknown.value) == f"there is no snapshot 'nope'; the newest are {newest} and 2 older"
    assert snapshots.find(paths, f"{taken[0].id}.db") == taken[0]


def test_a_snapshot_from_a_newer_orkestra_is_not_restored(engine: Engine, paths: Paths) -> None:
    snapshot = snapshots.create(paths, "n", clock=FixedClock())
    engine.close()
    connection = sqlite3.connect(snapshot.path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(SnapshotError, match="written by a newer Orkestra"):
        snapshots.restore(paths, snapshot.id)


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("snapshot_keep = 0", "snapshot_keep in [engine] must be from 1 to 10000, not 0"),
        (
            "snapshot_interval_minutes = -5",
            "snapshot_interval_minutes in [engine] must be from 0 to 10080, not -5",
        ),
    ],
)
def test_snapshot_settings_are_checked(line: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(f"[engine]\n{line}\n", Path("config.toml"))
    assert str(caught.value) == f"config.toml, line 2: {problem}"


def test_snapshot_settings_have_defaults() -> None:
    settings = parse_settings("[engine]\nsnapshot_interval_minutes = 0\n", Path("config.toml"))
    assert settings.engine.snapshot_interval_minutes == 0
    assert settings.engine.snapshot_keep == Settings().engine.snapshot_keep == 24
    assert Settings().engine.snapshot_interval_minutes == 10


# ------------------------------------------------------------------ the command


def test_the_snapshot_command_creates_lists_and_restores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    assert run(capsys, "--data-dir", home, "status")[0] == 0
    status, out, err = run(capsys, "--data-dir", home, "snapshot", "create", "--reason", "by hand")
    assert (status, err) == (0, "")
    assert out.startswith("Snapshot orkestra-") and "taken (" in out

    status, out, _ = run(capsys, "snapshot", "list", "--json", "--data-dir", home)
    assert status == 0
    document = json.loads(out)
    (listed,) = document["snapshots"]
    assert listed["schema_version"] == SCHEMA_VERSION and listed["bytes"] > 0
    assert document["snapshots_dir"] == str(Path(home).resolve() / "data" / "snapshots")

    status, out, _ = run(capsys, "--data-dir", home, "snapshot", "list")
    assert status == 0 and listed["id"] in out

    status, out, err = run(capsys, "--data-dir", home, "snapshot", "restore", listed["id"], "--yes")
    assert (status, err) == (0, "")
    assert f"Snapshot {listed['id']} restored" in out
    assert "orkestra snapshot restore orkestra-" in out  # how to undo it


def test_restore_needs_a_terminal_or_yes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = str(tmp_path / "home")
    run(capsys, "--data-dir", home, "status")
    run(capsys, "--data-dir", home, "snapshot", "create")
    (snapshot,) = json.loads(run(capsys, "--data-dir", home, "snapshot", "list", "--json")[1])["snapshots"]

    monkeypatch.setattr("orkestra_tui.commands.answering.stdin_is_terminal", lambda: False)
    status, out, err = run(capsys, "--data-dir", home, "snapshot", "restore", snapshot["id"])
    assert (status, out) == (2, "")
    assert err == "orkestra: restore replaces the database: confirm on a terminal, or pass --yes\n"

    monkeypatch.setattr("orkestra_tui.commands.answering.stdin_is_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", lambda _question: "n")
    status, out, err = run(capsys, "--data-dir", home, "snapshot", "restore", snapshot["id"])
    assert (status, out, err) == (1, "Nothing was restored.\n", "")

    monkeypatch.setattr("builtins.input", lambda _question: "y")
    assert run(capsys, "--data-dir", home, "snapshot", "restore", snapshot["id"])[0] == 0


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ("snapshot", "restore", "nope", "--yes"),
            "orkestra: there is no snapshot 'nope'; the newest are orkestra-",
        ),
        (("snapshot",), "orkestra snapshot: the following arguments are required: ACTION"),
        (("snapshot", "remove"), "orkestra snapshot: argument ACTION: invalid choice: 'remove'"),
    ],
)
def test_bad_snapshot_commands_get_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...], expected: str
) -> None:
    home = str(tmp_path / "home")
    run(capsys, "--data-dir", home, "status")
    run(capsys, "--data-dir", home, "snapshot", "create")
    status, out, err = run(capsys, "--data-dir", home, *arguments)
    assert (status, out) == (2, "")
    assert err.startswith(expected)
    assert len(err.splitlines()) == 1


def test_snapshot_create_before_any_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "--data-dir", str(tmp_path), "snapshot", "create")
    assert (status, out) == (2, "")
    assert (
        err
        == f"orkestra: {tmp_path / 'data' / 'orkestra.db'} does not exist yet: there is nothing to snapshot\n"
    )


# ------------------------------------------------------------------ the app


async def test_the_app_takes_a_snapshot_from_the_palette_without_blocking(
    engine: Engine, paths: Paths
) -> None:
    from orkestra_tui.tui.app import OrkestraApp

    engine.create_project("Shop")
    app = OrkestraApp(engine)
    announced: list[str] = []
    engine.bus.subscribe(lambda event: announced.append(event.kind))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        commands = [command.title for command in app.get_system_commands(app.screen)]
        assert "Snapshot now" in commands and "Restore a snapshot…" in commands
        app.action_snapshot()
        for _ in range(500):
            await pilot.pause()
            if any("taken" in str(note.message) for note in app._notifications):
                break
        app.action_restore_help()
        await pilot.pause()
        notes = [str(note.message) for note in app._notifications]
    (snapshot,) = snapshots.list_snapshots(paths)
    assert f"Snapshot {snapshot.id} taken" in notes
    assert "snapshot.created" in announced  # the audit screen hears of it
    (event,) = engine.audit_events(1, kind="snapshot.created")
    assert event.actor == "human"
    assert any(
        note.startswith("A restore replaces the database this app is using")
        and note.endswith(f"orkestra --data-dir {paths.config_dir} snapshot restore {snapshot.id}")
        for note in notes
    )
