"""An Orkestra database file outside SQLite: its connections, and its header read safely.

POSIX advisory locks belong to a process, not to a descriptor: closing *any*
descriptor of a file drops every lock the process holds on that file, SQLite's
included. A process that holds a connection to `orkestra.db` and then opens and
closes the file itself (to read its header, say) silently loses the shared lock
SQLite keeps on it; the next process to close a connection then believes it is
the last one, checkpoints, and deletes the -wal and -shm files that the first
process still writes to. Its later writes are seen by nobody, and lost.

So two rules, kept here and nowhere else:

- Every connection to an Orkestra database (the store's, the checks', the
  snapshots') is opened by `connect`, which counts it against the file's
  resolved path until it is closed.
- A database file's header is read only by `read_header`, which reads it with a
  plain handle only while no connection to that file is open in this process,
  and otherwise asks SQLite itself (PRAGMAs), through a connection of its own.

No other module opens a database file (or its -wal, -shm or journal) outside
SQLite; a test scans the package's source for it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections import Counter
from pathlib import Path

from orkestra_tui.records import record

SQLITE_HEADER = b"SQLite format 3\x00"
HEADER_BYTES = 100
"""The size of a SQLite database file's header."""

_registry_lock = threading.RLock()
"""Held while a connection is counted or forgotten, and while a header is read with a plain handle.

Reentrant: a connection collected by the garbage collector forgets itself from whatever thread
(and whatever held lock) the collector runs in.
"""
_open_connections: Counter[str] = Counter()
"""Connections open in this process, by the resolved path of their database file."""


@record
class Header:
    """What a database file's header says, as far as it could be read."""

    error: str = ""
    """Why the file could not be read ('' when it could)."""
    is_sqlite: bool = False
    """Whether the file starts as a SQLite database does."""
    schema_version: int = 0
    """`user_version`: Orkestra's schema version (0 if unknown)."""
    truncated: bool = False
    """The file is shorter than its header says (judged only from a plain read, with no journal beside it)."""


class _CountedConnection(sqlite3.Connection):
    """A connection counted against its database file's path until it is closed or collected."""

    _forget: weakref.finalize[[str], _CountedConnection] | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._forget is not None:
                self._forget()  # runs once: a second close() does not count down again


def _key(path: Path) -> str:
    return os.path.realpath(path)


def _count_down(key: str) -> None:
    with _registry_lock:
        _open_connections[key] -= 1
        if _open_connections[key] <= 0:
            del _open_connections[key]


def connect(
    path: Path, *, mode: str = "rwc", timeout: float = 10.0, immutable: bool = False
) -> sqlite3.Connection:
    """A connection (in autocommit mode) to the database at `path`, counted until it is closed.

    `mode` is SQLite's URI mode: `rwc` creates the file if needed, `rw` never
    does, `ro` only reads. `immutable` tells SQLite that nothing can change the
    file (a read-only disk with no -shm): it then takes no lock at all. Raises
    what `sqlite3.connect` raises.
    """
    key = _key(path)
    with _registry_lock:  # counted before SQLite opens the file: no plain read can overlap it
        _open_connections[key] += 1
    try:
        connection = sqlite3.connect(
            f"{path.absolute().as_uri()}?mode={mode}" + ("&immutable=1" if immutable else ""),
            uri=True,
            isolation_level=None,
            timeout=timeout,
            factory=_CountedConnection,
        )
    except BaseException:
        _count_down(key)
        raise
    assert isinstance(connection, _CountedConnection)
    connection._forget = weakref.finalize(connection, _count_down, key)
    return connection


def open_in_this_process(path: Path) -> bool:
    """Whether a connection to the database at `path` is open in this process."""
    with _registry_lock:
        return _open_connections[_key(path)] > 0


def read_header(path: Path) -> Header:
    """The header of the database file at `path`, read without dropping this process's SQLite locks."""
    with _registry_lock:
        if not open_in_this_process(path):
            return _read_plain(path)
    return _read_through_sqlite(path)


def _read_plain(path: Path) -> Header:
    """The header read with a plain handle: only while no connection to the file is open here."""
    try:
        with path.open("rb") as handle:
            header = handle.read(HEADER_BYTES)
    except OSError as error:
        return Header(error=error.strerror or str(error))
    if not header.startswith(SQLITE_HEADER):
        return Header()
    schema_version = int.from_bytes(header[60:64], "big") if len(header) == HEADER_BYTES else 0
    return Header(is_sqlite=True, schema_version=schema_version, truncated=_truncated(path, header))


def _read_through_sqlite(path: Path) -> Header:
    """What the header holds, asked of SQLite: the file is open here, so a plain read would drop its locks."""
    try:
        connection = connect(path, mode="ro")
    except sqlite3.Error as error:
        return Header(error=str(error))
    try:
        schema_version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as error:
        if error.sqlite_errorcode == sqlite3.SQLITE_NOTADB:
            return Header()
        return Header(error=str(error))
    finally:
        connection.close()
    return Header(is_sqlite=True, schema_version=schema_version)


def _truncated(path: Path, header: bytes) -> bool:
    """Whether a database file is shorter than its header says; reads no page, so cheap at start-up.

    Only judged when no journal holds pages not yet written back (a WAL mid-checkpoint, or a hot
    rollback journal): then the file alone must hold every page its header counts.
    """
    try:
        for journal in (Path(f"{path}-wal"), Path(f"{path}-journal")):
            if journal.exists() and journal.stat().st_size > 0:
                return False
        size = path.stat().st_size
    except OSError:
        return False
    if len(header) < HEADER_BYTES:
        return True
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counted = header[24:28] == header[92:96]  # the page count is valid only when these agree
    return counted and pages > 0 and pages * page_size > size


DAMAGE_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
"""SQLite's primary result codes that mean the file itself is damaged (not merely busy or full)."""
DAMAGE_WORDS = ("malformed", "not a database", "corrupt", "disk image")
"""The same, in SQLite's words: for errors raised without a result code."""


def is_damage(error: BaseException) -> bool:
    """Whether an error from SQLite says the database file is damaged."""
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in DAMAGE_CODES:
        return True
    text = str(error).lower()
    return any(word in text for word in DAMAGE_WORDS)


def quick_check_problem(connection: sqlite3.Connection) -> str:
    """'' if the database passes `PRAGMA quick_check`, else its first findings on one line.

    Reads every page (about 90 ms for 70 MB), checking each b-tree, but not that indexes agree
    with their tables. Raises the `sqlite3.DatabaseError` of a file too damaged to check.
    """
    rows = connection.execute("PRAGMA quick_check(3)").fetchall()
    if rows == [("ok",)]:
        return ""
    findings = [
        " ".join(line.split())
        for row in rows
        for line in str(row[0]).splitlines()
        if line.strip() and not line.startswith("*** in database")
    ]
    return "; ".join(findings[:3]) or "it fails its check"
