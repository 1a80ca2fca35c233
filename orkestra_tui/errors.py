"""Errors that reach the user as one clear line.

Anything raised as an `OrkestraError` is a problem with the user's input or
environment (a broken config file, a malformed ballots file, a database from a
newer version). The CLI prints its message on one line and exits with status 2;
the TUI refuses to start with the same line. Any other exception is a bug.
"""

from __future__ import annotations

import os
import shutil


class OrkestraError(Exception):
    """A problem the user can fix, described in one line."""

    exit_code = 2

    def __init__(self, message: str, *, advice: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.advice = advice
        """The end of the message that says what to do (a command to copy): an error line never cuts it."""

    def __str__(self) -> str:
        return self.message


class UsageError(OrkestraError):
    """A command was called with arguments that do not make sense."""


DISK_FULL_ERRNOS = frozenset({28, 122})
"""ENOSPC (no space left on device) and EDQUOT (disk quota exceeded), as Linux and macOS number them."""
READ_ONLY_ERRNOS = frozenset({30})
"""EROFS: a read-only file system."""
SQLITE_FULL = 13
SQLITE_READONLY = 8
SQLITE_IOERR = 10
NO_ROOM_BYTES = 1024 * 1024
"""Less free space than this, on the disk an I/O error came from, counts as a full disk."""


class DiskFullError(OrkestraError):
    """The disk holding Orkestra's files (or an output folder) has no space left.

    Whatever was committed before stays committed: SQLite rolls the failed
    transaction back whole, and files are written beside their target and
    renamed, so the work goes on once there is space.
    """

    def __init__(
        self, directory: object, *, then: str = "run the command again", free_bytes: int | None = None
    ) -> None:
        if free_bytes is None:
            situation = f"the disk holding {directory} is full"
        else:
            situation = f"the disk holding {directory} is nearly full ({free_bytes // (1024 * 1024)} MB free)"
        advice = f"free some space and {then} — nothing recorded was lost"
        super().__init__(f"{situation}; {advice}", advice=advice)
        self.directory = directory
        self.free_bytes = free_bytes
        self.situation = situation
        """What is wrong, without the advice (the app gives its own)."""


class ReadOnlyError(OrkestraError):
    """Orkestra must write in a directory that is read-only (a read-only disk, or no permission)."""

    def __init__(self, directory: object, why: str = "it is read-only", *, data_dir: bool = True) -> None:
        advice = (
            "; this needs a writable data directory (status, audit, decisions export, snapshot list"
            " and doctor only read)"
            if data_dir
            else ""
        )
        super().__init__(f"cannot write in {directory}: {why}{advice}")
        self.directory = directory


def is_disk_full(error: BaseException, folder: os.PathLike[str] | str | None = None) -> bool:
    """Whether `error` says the disk (or the user's quota) is full: SQLite's SQLITE_FULL, or ENOSPC/EDQUOT.

    With `folder` (where the failed write went), SQLite's "disk I/O error" counts too when that
    disk has no room left: SQLite reports a -shm file it cannot grow, on a full disk, that way.
    """
    if isinstance(error, OSError):
        return error.errno in DISK_FULL_ERRNOS
    code = _sqlite_code(error)
    if code == SQLITE_FULL:
        return True
    if code != SQLITE_IOERR or folder is None:
        return False
    try:
        return shutil.disk_usage(folder).free < NO_ROOM_BYTES
    except OSError:
        return False


def is_read_only(error: BaseException) -> bool:
    """Whether `error` says a file could not be written because its disk or file is read-only."""
    if isinstance(error, OSError):
        return error.errno in READ_ONLY_ERRNOS
    return _sqlite_code(error) == SQLITE_READONLY


def _sqlite_code(error: BaseException) -> int | None:
    """The primary result code of a sqlite3 error (extended codes carry it in their low byte)."""
    code = getattr(error, "sqlite_errorcode", None)
    if not isinstance(code, int) or not type(error).__module__.startswith("sqlite3"):
        return None
    return code & 0xFF
