"""The store: migrations, refusals that touch nothing, and all-or-nothing transactions."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.models import AuditEvent
from orkestra_tui.engine.store.schema import MIGRATIONS, SCHEMA_VERSION
from orkestra_tui.engine.store.store import Store, StoreError, UnauditedChangeError

SHIPPED_MIGRATIONS = {
    1: "d592923cd8832b21",
    2: "31ef36f115b4c514",
    3: "ff49a27f1af8ff87",
    4: "91fccb680e380721",
    5: "e47e214ffcdf504a",
    6: "c43444f843941328",
}
"""The first 16 hex digits of each shipped migration's SHA-256; append, never edit."""


def open_store(path: Path) -> Store:
    return Store(path, clock=FixedClock())


def test_a_new_database_gets_every_migration_and_wal(tmp_path: Path) -> None:
    store = open_store(tmp_path / "o.db")
    assert store.schema_version == SCHEMA_VERSION
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA foreign_keys") == 1
    store.close()


def test_shipped_migrations_never_change() -> None:
    """Migrations are append-only: a shipped one edited would split users' schemas."""
    digests = {
        number: hashlib.sha256(script.encode()).hexdigest()[:16]
        for number, script in enumerate(MIGRATIONS, 1)
    }
    for number, digest in SHIPPED_MIGRATIONS.items():
        assert digests[number] == digest, f"migration {number} was edited after it shipped"
    assert len(MIGRATIONS) == SCHEMA_VERSION >= len(SHIPPED_MIGRATIONS)


def test_reopening_keeps_data_and_applies_nothing_twice(tmp_path: Path) -> None:
    store = open_store(tmp_path / "o.db")
    with store.transaction() as tx:
        tx.execute("INSERT INTO project (name, status, created_at) VALUES ('p', 'planning', 0)")
        tx.audit("human", "project.created", "p")
    store.close()
    again = open_store(tmp_path / "o.db")
    assert [project.name for project in again.projects()] == ["p"]
    assert again.schema_version == SCHEMA_VERSION
    again.close()


def test_a_failing_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    store = open_store(tmp_path / "o.db")
    announced: list[object] = []
    store.listener = announced.extend
    with pytest.raises(RuntimeError, match="boom"), store.transaction() as tx:
        tx.execute("INSERT INTO project (name, status, created_at) VALUES ('p', 'planning', 0)")
        tx.audit("human", "project.created", "p")
        raise RuntimeError("boom")
    assert store.projects() == []
    assert store.audit_events() == []
    assert announced == []
    store.close()


def test_a_change_without_an_audit_event_is_refused_and_rolled_back(tmp_path: Path) -> None:
    store = open_store(tmp_path / "o.db")
    with pytest.raises(UnauditedChangeError), store.transaction() as tx:
        tx.execute("INSERT INTO project (name, status, created_at) VALUES ('p', 'planning', 0)")
    assert store.projects() == []
    store.close()


def test_committed_events_reach_the_listener_after_commit(tmp_path: Path) -> None:
    store = open_store(tmp_path / "o.db")
    seen: list[tuple[str, int]] = []

    def listener(events: list[AuditEvent]) -> None:
        # By the time the listener runs, the change is visible to a second connection.
        other = sqlite3.connect(tmp_path / "o.db")
        seen.append(("projects", other.execute("SELECT count(*) FROM project").fetchone()[0]))
        other.close()

    store.listener = listener
    with store.transaction() as tx:
        tx.execute("INSERT INTO project (name, status, created_at) VALUES ('p', 'planning', 0)")
        tx.audit("human", "project.created", "p")
    assert seen == [("projects", 1)]
    store.close()


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    open_store(path).close()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        open_store(path)
    assert str(caught.value) == (
        f"{path} was written by a newer Orkestra (schema {SCHEMA_VERSION + 1}; this version knows "
        f"up to {SCHEMA_VERSION}); upgrade Orkestra to open it"
    )
    assert path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    path.write_bytes(b"these are my notes, not a database\n" * 10)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="is not a SQLite database; it was left untouched"):
        open_store(path)
    assert path.read_bytes() == before
    assert sorted(item.name for item in tmp_path.iterdir()) == ["o.db"]


def test_someone_elses_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE recipes (name TEXT)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="is a SQLite database but not Orkestra's"):
        open_store(path)
    assert path.read_bytes() == before


def test_a_damaged_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    open_store(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\x00" * (4096 - 100)  # wipe the schema page after the header
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"(is damaged|not Orkestra's|cannot be used)"):
        open_store(path)


def test_a_directory_at_the_database_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "o.db").mkdir()
    with pytest.raises(StoreError, match="is a directory"):
        open_store(tmp_path / "o.db")


def test_transactions_do_not_nest(tmp_path: Path) -> None:
    store = open_store(tmp_path / "o.db")
    with pytest.raises(RuntimeError, match="do not nest"), store.transaction(), store.transaction():
        pass
    store.close()
