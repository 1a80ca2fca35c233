"""Checks of a database file, cheap (its header) or thorough (`PRAGMA quick_check`), without the store.

Snapshots use them on the copies they make and on the files they restore from;
the app runs the thorough one in a thread after its first frame. A check gives
'' when the file is sound, else what is wrong in a few words.

The header is read through `dbfile`, and every connection opened here is
counted there: a plain read of a file this process has open in SQLite would
drop the process's locks on it (see `dbfile`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from orkestra_tui.engine.store import dbfile
from orkestra_tui.engine.store.schema import SCHEMA_VERSION
from orkestra_tui.engine.store.store import APPLICATION_ID, missing_schema_objects


def file_problem(path: Path) -> str:
    """'' if the file is a sound Orkestra database this version can open, else what is wrong."""
    problem = header_problem(path)
    if problem:
        return problem
    try:
        connection = dbfile.connect(path, mode="ro")
    except sqlite3.Error as error:
        return str(error)
    try:
        problem = connection_problem(connection)
    finally:
        connection.close()
    schema = header_schema(path)
    if not problem and schema > SCHEMA_VERSION:
        return f"it was written by a newer Orkestra (schema {schema})"
    return problem


def connection_problem(connection: sqlite3.Connection) -> str:
    """'' if an open database passes `PRAGMA quick_check`, is Orkestra's and whole, else what is wrong."""
    try:
        problem = dbfile.quick_check_problem(connection)
        if problem:
            return problem
        if int(connection.execute("PRAGMA application_id").fetchone()[0]) != APPLICATION_ID:
            return "it is not an Orkestra database"
        missing = missing_schema_objects(connection)
        if missing:
            return f"{missing[0]} is missing"
    except sqlite3.DatabaseError as error:
        return str(error)
    return ""


def header_problem(path: Path) -> str:
    """'' if the file can be read and starts as a SQLite database does, else what is wrong."""
    header = dbfile.read_header(path)
    if header.error:
        return f"it cannot be read: {header.error}"
    if not header.is_sqlite:
        return "it is not a SQLite database"
    return ""


def header_schema(path: Path) -> int:
    """The schema version (`user_version`) recorded in a database file's header; 0 if unreadable."""
    return dbfile.read_header(path).schema_version


def is_damage(error: sqlite3.Error) -> bool:
    """Whether a SQLite error says the file is damaged."""
    return dbfile.is_damage(error)


def connect(database: Path) -> sqlite3.Connection:
    """A second connection to the live database (never creating it), waiting on the engine's writes."""
    return dbfile.connect(database, mode="rw")
