"""Checks of a database file, cheap (its header) or thorough (`PRAGMA quick_check`), without the store.

Snapshots use them on the copies they make and on the files they restore from;
the app runs the thorough one in a thread after its first frame. A check gives
'' when the file is sound, else what is wrong in a few words.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from orkestra_tui.engine.schema import SCHEMA_VERSION
from orkestra_tui.engine.store import APPLICATION_ID, SQLITE_HEADER

DAMAGE_WORDS = ("malformed", "not a database", "corrupt", "disk image")
"""Words of SQLite's errors that mean the file itself is damaged (not merely busy)."""


def file_problem(path: Path) -> str:
    """'' if the file is a sound Orkestra database this version can open, else what is wrong."""
    problem = header_problem(path)
    if problem:
        return problem
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        return str(error)
    try:
        problem = connection_problem(connection)
    finally:
        connection.close()
    if not problem and header_schema(path) > SCHEMA_VERSION:
        return f"it was written by a newer Orkestra (schema {header_schema(path)})"
    return problem


def connection_problem(connection: sqlite3.Connection) -> str:
    """'' if an open database passes `PRAGMA quick_check` and is Orkestra's, else what is wrong."""
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            return "; ".join(str(row[0]) for row in rows[:3])
        if int(connection.execute("PRAGMA application_id").fetchone()[0]) != APPLICATION_ID:
            return "it is not an Orkestra database"
    except sqlite3.DatabaseError as error:
        return str(error)
    return ""


def header_problem(path: Path) -> str:
    """'' if the file can be read and starts as a SQLite database does, else what is wrong."""
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as error:
        return f"it cannot be read: {error.strerror}"
    if not header.startswith(SQLITE_HEADER):
        return "it is not a SQLite database"
    return ""


def header_schema(path: Path) -> int:
    """The schema version (`user_version`) recorded in a database file's header; 0 if unreadable."""
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError:
        return 0
    return int.from_bytes(header[60:64], "big") if len(header) == 100 else 0


def is_damage(error: sqlite3.Error) -> bool:
    """Whether a SQLite error says the file is damaged."""
    text = str(error).lower()
    return any(word in text for word in DAMAGE_WORDS)


def connect(database: Path) -> sqlite3.Connection:
    """A second connection to the live database (never creating it), waiting on the engine's writes."""
    return sqlite3.connect(f"{database.as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=10.0)
