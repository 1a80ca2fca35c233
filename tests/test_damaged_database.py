"""A damaged database is caught by every command and by the app: one line, exit 2, nothing written.

The fixtures really damage a closed database that holds a project with tasks,
decisions and a long audit log: bytes overwritten in the middle of the file
(pages that `status` or a vote never reads), a table whose schema row is gone
(`PRAGMA writable_schema`), and a table dropped outright. Each command must
refuse before it reads or writes anything, with one line that names the file,
the newest good snapshot and the command that restores it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from orkestra_tui.cli import main
from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec
from orkestra_tui.engine.store import snapshots
from orkestra_tui.engine.store.store import DatabaseDamagedError, Store, damage_in

CONFIG = "[simulation]\nseed = 3\nlatency_ms = 0\n"


def overwrite_the_middle(database: Path) -> None:
    """Bytes overwritten in the middle fifth of the file: pages of the audit log and its index."""
    data = bytearray(database.read_bytes())
    start, end = len(data) * 2 // 5, len(data) * 3 // 5
    data[start:end] = b"\xa5" * (end - start)
    database.write_bytes(bytes(data))


def lose_a_schema_row(database: Path) -> None:
    """The `decision` table's row in the schema deleted, as a stray tool with writable_schema would."""
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA writable_schema = ON")
    connection.execute("DELETE FROM sqlite_master WHERE name = 'decision'")
    connection.commit()
    connection.close()


def drop_a_table(database: Path) -> None:
    """A table dropped outright: a file SQLite deems sound, but not Orkestra's whole schema."""
    connection = sqlite3.connect(database)
    connection.execute("DROP TABLE feedback")
    connection.commit()
    connection.close()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "pages": overwrite_the_middle,
    "schema row": lose_a_schema_row,
    "dropped table": drop_a_table,
}


def with_history(paths: Paths, settings: Settings) -> snapshots.Snapshot:
    """A data dir holding an active project with tasks, decided votes and a long audit log; its snapshot."""
    from orkestra_tui.demo.sample import populate

    paths.config_dir.mkdir(parents=True, exist_ok=True)
    (paths.config_dir / "config.toml").write_text(CONFIG, encoding="utf-8")
    engine = Engine(paths, settings, clock=FixedClock(), env={})
    asyncio.run(populate(engine))
    project = engine.create_project("Shop")
    engine.add_tasks(
        project.id, [TaskSpec(f"Task {number}", "Do it.", key=f"t{number}") for number in range(40)]
    )
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    with engine.store.transaction() as tx:
        for number in range(3000):
            tx.audit("engine", "note", f"Note {number}: " + "x" * 200, project_id=project.id)
    snapshot = snapshots.create(paths, "checkpoint", clock=FixedClock(start=1_800_000_000.0))
    engine.close()
    return snapshot


@pytest.fixture
def saved(paths: Paths, settings: Settings) -> snapshots.Snapshot:
    return with_history(paths, settings)


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    try:
        status = main(list(arguments))
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


COMMANDS = {
    "status": ["status"],
    "status --json": ["status", "--json"],
    "audit": ["audit"],
    "vote": ["vote", "Which database?", "--option", "SQLite", "--option", "Postgres", "--tie-break", "first"],
    "run": ["run", "--until-done"],
    "plan": ["plan", "--name", "Blog", "--description", "A blog.", "--yes", "--tie-break", "first"],
    "decisions export": ["decisions", "export", "--out", "{out}"],
    "doctor": ["doctor"],
    "snapshot create": ["snapshot", "create"],
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_every_command_refuses_a_damaged_database_in_one_line(
    damage: str, paths: Paths, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = with_history(paths, settings)
    DAMAGE[damage](paths.database)
    damaged_bytes = paths.database.read_bytes()
    hint = f"to restore it, run: orkestra --data-dir {paths.config_dir} snapshot restore {saved.id}"

    for name, arguments in COMMANDS.items():
        filled = [argument.replace("{out}", str(tmp_path / "records")) for argument in arguments]
        status, out, err = run(capsys, "--data-dir", str(paths.config_dir), *filled)
        assert (name, status, out) == (name, 2, ""), err
        assert len(err.splitlines()) == 1, (name, err)
        assert err.startswith(f"orkestra: {paths.database} is damaged ("), (name, err)
        assert err.endswith(hint + "\n"), (name, err)
    assert paths.database.read_bytes() == damaged_bytes  # nothing was written to it
    assert [snapshot.id for snapshot in snapshots.list_snapshots(paths)] == [saved.id]
    assert not (tmp_path / "records").exists()

    restored = snapshots.restore(paths, saved.id)
    assert restored.set_aside and restored.set_aside[0].read_bytes() == damaged_bytes
    assert run(capsys, "--data-dir", str(paths.config_dir), "status", "--json")[0] == 0


def test_a_dropped_table_is_caught_when_the_store_opens(paths: Paths, settings: Settings) -> None:
    saved = with_history(paths, settings)
    drop_a_table(paths.database)
    with pytest.raises(DatabaseDamagedError) as refused:
        Store(paths.database)
    assert str(refused.value).startswith(f"{paths.database} is damaged (table feedback is missing);")
    assert str(refused.value).endswith(f"snapshot restore {saved.id}")


def test_damage_found_mid_transaction_is_recognised_through_the_failed_rollback(tmp_path: Path) -> None:
    corrupt = sqlite3.DatabaseError("database disk image is malformed")
    try:
        try:
            raise corrupt
        except sqlite3.DatabaseError:
            raise sqlite3.OperationalError("cannot rollback - no transaction is active")  # noqa: B904
    except sqlite3.OperationalError as error:
        found = damage_in(tmp_path / "orkestra.db", error)
    assert found is not None and found.problem == "database disk image is malformed"
    assert damage_in(tmp_path / "orkestra.db", sqlite3.OperationalError("database is locked")) is None
    assert damage_in(tmp_path / "orkestra.db", ExceptionGroup("votes", [ValueError(), corrupt])) is not None


# ------------------------------------------------------------------ the app


def corrupt_the_task_table(database: Path) -> None:
    """The root page of the task table overwritten: the Board's first read fails."""
    connection = sqlite3.connect(database)
    page_size = int(connection.execute("PRAGMA page_size").fetchone()[0])
    root = int(connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'task'").fetchone()[0])
    connection.close()
    data = bytearray(database.read_bytes())
    data[(root - 1) * page_size : root * page_size] = b"\xa5" * page_size
    database.write_bytes(bytes(data))


@pytest.mark.parametrize(("damage", "mode"), [("pages", "plan"), ("task table", "board")])
async def test_the_app_shows_the_damage_on_a_screen_of_its_own_and_quits_with_status_2(
    damage: str, mode: str, paths: Paths, settings: Settings, saved: snapshots.Snapshot
) -> None:
    from textual.widgets import Static

    from orkestra_tui.tui.app import OrkestraApp
    from orkestra_tui.tui.screens.damaged import DamagedDatabaseScreen

    (corrupt_the_task_table if damage == "task table" else overwrite_the_middle)(paths.database)
    engine = Engine(paths, settings, clock=FixedClock(), env={})  # as the app opens it: no page check
    try:
        app = OrkestraApp(engine, first_mode=mode)
        async with app.run_test(size=(110, 30)) as pilot:
            for _ in range(500):  # the Board's first read, or the check after the first frame
                await pilot.pause()
                if isinstance(app.screen, DamagedDatabaseScreen):
                    break
            assert isinstance(app.screen, DamagedDatabaseScreen)
            shown = str(app.screen.query_one("#damage-line", Static).render())
            await pilot.press("1")  # the other modes stay behind it
            assert isinstance(app.screen, DamagedDatabaseScreen)
            await pilot.press("q")
        assert app.return_code == 2
    finally:
        engine.close()
    assert app.damage is not None
    assert app.damage.startswith(f"{paths.database} is damaged (")
    assert app.damage.endswith(f"snapshot restore {saved.id}")
    assert " ".join(shown.split()) == app.damage
