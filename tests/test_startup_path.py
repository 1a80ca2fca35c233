"""What the way to the first screen skips or does at once, and what it must still get right."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.store import store as store_module
from orkestra_tui.engine.store.schema import MIGRATIONS, SCHEMA_VERSION
from orkestra_tui.engine.store.store import Store, StoreError
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.plan import PlanScreen


async def test_a_first_run_builds_only_the_brief_of_the_planning_wizard(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        for _ in range(200):
            if screen.body_ready:
                break
            await pilot.pause(0.01)
        wizard = screen.query_one("#wizard")
        assert [child.id for child in wizard.children] == ["step-bar", "brief"]
        assert not screen.query("#plan-tree") and not screen.query("#plan-decision")


def test_missing_migrations_are_applied_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "orkestra.db"
    Store(database).close()
    broken = (*MIGRATIONS, "CREATE TABLE first_of_two (x INTEGER);", "CREATE TABLE second_of_two (;")
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", len(broken))
    with pytest.raises(StoreError):
        Store(database)
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    finally:
        connection.close()
    assert "first_of_two" not in tables  # the first new migration went back with the second


def test_a_new_database_is_created_at_the_newest_version(tmp_path: Path) -> None:
    database = tmp_path / "orkestra.db"
    Store(database).close()
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        connection.close()
