"""Opening a database whose folder cannot be written (a read-only disk, or no permission).

Commands that only read still work there: the database is opened with
SQLite's `mode=ro`, which reads a WAL database as long as its -shm file can be
read or made. When it cannot (a database closed cleanly leaves no -shm, and a
read-only folder cannot hold a new one), and only when the folder itself
cannot be written, the file is opened `immutable`: no writer can be at work
then, since a writer needs a -wal file beside the database.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from orkestra_tui.engine.store import dbfile
from orkestra_tui.errors import OrkestraError

SQLITE_CANTOPEN = 14


def read_only_reason(database: Path) -> str:
    """Why the database (or the folder holding it) cannot be written, in a few words; '' when it can.

    A folder still to be made counts as writable when its nearest existing parent is.
    """
    folder = database.parent
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    for target in (folder, database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if target is not folder and not target.exists():
            continue
        if not os.access(target, os.W_OK | (os.X_OK if target.is_dir() else 0)):
            return "it is on a read-only disk" if _on_read_only_disk(target) else "permission denied"
    return ""


def _on_read_only_disk(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows)
        return False


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to `path`, which exists and cannot be written (see the module)."""
    if not path.is_file():
        raise OrkestraError(
            f"there is no database at {path} yet, and its folder cannot be written to make one"
        )
    connection: sqlite3.Connection | None = None
    try:
        connection = dbfile.connect(path, mode="ro")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return connection
    except sqlite3.OperationalError as error:
        if connection is not None:
            connection.close()
        no_shm = getattr(error, "sqlite_errorcode", 0) & 0xFF == SQLITE_CANTOPEN
        folder_writable = os.access(path.parent, os.W_OK | os.X_OK)
        if not no_shm or folder_writable:
            raise OrkestraError(f"{path} cannot be opened read-only: {error}") from None
    try:
        return dbfile.connect(path, mode="ro", immutable=True)
    except sqlite3.Error as error:
        raise OrkestraError(f"{path} cannot be opened read-only: {error}") from None


def check_readable_as_is(connection: sqlite3.Connection, path: Path, version: int, current: int) -> None:
    """Refuse a database that would need a migration (a write) before it can be read."""
    if version == 0:
        raise OrkestraError(f"{path} holds nothing yet, and its folder cannot be written to set it up")
    if version < current:
        raise OrkestraError(
            f"{path} was written by an older Orkestra (schema {version}) and must be upgraded,"
            " which needs to write; its folder cannot be written"
        )
    connection.execute("PRAGMA busy_timeout = 10000")
