"""Snapshots of the database: taken online, checked, listed, pruned and restored.

A snapshot is a complete copy of `orkestra.db` in the `snapshots` folder of
the data directory, named `orkestra-YYYYMMDD-HHMMSS[-n].db` after the time it
was taken (UTC); its id is that name without `.db`.

- **Taking one** uses SQLite's online backup API from a connection of its own,
  so it may run in a thread while the engine works. The copy is made in steps
  of `BACKUP_PAGES` pages with a pause between them, inside one read
  transaction: in WAL mode a reader never blocks the engine's writes, and the
  copy is of one consistent state. (Without that read transaction, a write by
  the engine between two steps restarts the backup from the first page; under
  a busy run it never finishes.) The copy is written under a hidden name,
  switched to a rollback journal so it is one self-contained file, checked with
  `PRAGMA quick_check`, and only then given its final name. A database that
  fails the check is reported as damaged, and nothing is kept of it.
- **Restoring** first takes a snapshot of the current state (so a restore can
  be undone), then copies the snapshot into the live file through the backup
  API, under an exclusive lock: no other connection can be open meanwhile (the
  app, or `orkestra run`), and SQLite itself replaces the pages and keeps the
  WAL consistent; a crash during the copy leaves the old database or the new
  one. A live database that is damaged is not copied over: it is moved aside
  beside the original (`orkestra.db.damaged-…`), never deleted.

Each snapshot taken and restored is recorded as an audit event in the database
it concerns (`snapshot.created` in the live database; `snapshot.restored` in
the database as restored, which names the snapshot of the state before).
"""

from __future__ import annotations

import calendar
import contextlib
import os
import re
import shlex
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orkestra_tui.config import Paths, resolve_paths
from orkestra_tui.engine.clock import Clock, SystemClock
from orkestra_tui.engine.owners import owner_is_dead
from orkestra_tui.engine.store import dbfile, integrity
from orkestra_tui.engine.store.store import Transaction
from orkestra_tui.errors import DiskFullError, OrkestraError, is_disk_full
from orkestra_tui.wording import plural

SNAPSHOT_NAME = re.compile(r"orkestra-(\d{8})-(\d{6})(?:-(\d+))?\.db")
PARTIAL_SUFFIX = ".partial"
BACKUP_PAGES = 256
"""Pages copied per step (1 MiB at SQLite's default page size)."""
BACKUP_PAUSE_S = 0.002
"""Pause between two steps, so the copy leaves the engine room to work."""
PARTIAL_MAX_AGE_S = 3600.0
"""A hidden partial copy older than this was left by a crash, and is removed by `prune`."""


class SnapshotError(OrkestraError):
    """A snapshot cannot be taken, found or restored as asked."""


@dataclass(frozen=True)
class Snapshot:
    """One snapshot file."""

    id: str
    """The file name without `.db`: `orkestra-20270115-080000` (or `…-2` for a second in that second)."""
    path: Path
    created_at: float
    """When it was taken (from its name, to the second)."""
    size: int
    """Bytes."""
    schema_version: int
    """The schema version of the database it holds."""


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    snapshot: Snapshot
    undo: Snapshot | None
    """The snapshot of the state before the restore (None when that state was damaged or empty)."""
    set_aside: tuple[Path, ...]
    """A damaged database (and its journal files), moved away instead of being copied over."""


# ------------------------------------------------------------------ listing


def list_snapshots(paths: Paths) -> list[Snapshot]:
    """The snapshots in the data directory, newest first."""
    return _snapshots_in(paths.snapshots_dir)


def _snapshots_in(directory: Path) -> list[Snapshot]:
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    found = [found for found in map(_snapshot_at, entries) if found is not None]
    found.sort(key=lambda entry: (entry[0].created_at, entry[1]), reverse=True)
    return [snapshot for snapshot, _number in found]


def _snapshot_at(path: Path) -> tuple[Snapshot, int] | None:
    """The snapshot a file is, with its number within its second; None if the file is not one."""
    match = SNAPSHOT_NAME.fullmatch(path.name)
    if match is None:
        return None
    try:
        created_at = float(calendar.timegm(time.strptime(match[1] + match[2], "%Y%m%d%H%M%S")))
        size = path.stat().st_size
    except (ValueError, OSError):
        return None  # not a date, or removed meanwhile
    return Snapshot(path.stem, path, created_at, size, integrity.header_schema(path)), int(match[3] or 1)


def find(paths: Paths, snapshot_id: str) -> Snapshot:
    """The snapshot with this id (a file name is accepted too), or one line listing the newest."""
    wanted = snapshot_id.strip().removesuffix(".db")
    snapshots = list_snapshots(paths)
    for snapshot in snapshots:
        if snapshot.id == wanted:
            return snapshot
    if not snapshots:
        raise SnapshotError(
            f"there is no snapshot {snapshot_id!r}: {paths.snapshots_dir} holds none yet"
            " (orkestra snapshot create takes one)"
        )
    newest = ", ".join(snapshot.id for snapshot in snapshots[:5])
    more = f" and {len(snapshots) - 5} older" if len(snapshots) > 5 else ""
    raise SnapshotError(f"there is no snapshot {snapshot_id!r}; the newest are {newest}{more}")


def prune(paths: Paths, keep: int) -> list[Snapshot]:
    """Remove all but the newest `keep` snapshots (and partial copies a crash left); those removed."""
    if keep < 1:
        raise SnapshotError("at least one snapshot must be kept")
    removed = list_snapshots(paths)[keep:]
    for snapshot in removed:
        snapshot.path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        for path in paths.snapshots_dir.glob(f".orkestra-*{PARTIAL_SUFFIX}"):
            if time.time() - path.stat().st_mtime > PARTIAL_MAX_AGE_S:
                path.unlink(missing_ok=True)
    return removed


# ------------------------------------------------------------------- taking


def create(paths: Paths, reason: str, *, clock: Clock | None = None, actor: str = "engine") -> Snapshot:
    """Take a checked snapshot of the live database; safe in a thread while the engine works."""
    database = paths.database
    if not database.is_file() or database.stat().st_size == 0:
        raise SnapshotError(f"{database} does not exist yet: there is nothing to snapshot")
    problem = integrity.header_problem(database)
    if problem:
        raise damaged_error(database, problem)
    the_clock = clock or SystemClock()
    source = integrity.connect(database)
    try:
        snapshot = _copy(source, paths.snapshots_dir, the_clock.now(), database)
        _audit(
            source,
            the_clock,
            actor,
            "snapshot.created",
            f"Snapshot {snapshot.id} taken ({reason})",
            subject=f"snapshot:{snapshot.id}",
            data={"snapshot": snapshot.id, "reason": reason, "bytes": snapshot.size},
        )
    finally:
        source.close()
    return snapshot


def _copy(source: sqlite3.Connection, directory: Path, now: float, database: Path) -> Snapshot:
    """Copy `source` into a new, checked snapshot in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    partial = directory / f".orkestra-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}"
    try:
        target = dbfile.connect(partial)
        try:
            source.execute("BEGIN")
            try:
                source.execute("SELECT count(*) FROM sqlite_master").fetchone()  # pins one state to copy
                source.backup(target, pages=BACKUP_PAGES, sleep=BACKUP_PAUSE_S)
            finally:
                source.execute("COMMIT")
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            problem = integrity.connection_problem(target)
        finally:
            target.close()
        if problem:
            raise damaged_error(database, problem)
        final = _publish(partial, directory, stamp)
    except sqlite3.DatabaseError as error:
        if is_disk_full(error, directory):
            raise DiskFullError(directory) from None
        if integrity.is_damage(error):
            raise damaged_error(database, str(error)) from None
        raise SnapshotError(f"{database} could not be copied: {error}") from None
    except OSError as error:
        if is_disk_full(error):
            raise DiskFullError(directory) from None
        raise SnapshotError(f"the snapshot could not be written in {directory}: {error.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)
    described = _snapshot_at(final)
    if described is None:  # pragma: no cover - the name was just made from a valid date
        raise SnapshotError(f"the snapshot {final} vanished as it was written")
    return described[0]


def _publish(partial: Path, directory: Path, stamp: str) -> Path:
    """Give a checked copy its final name, never replacing another snapshot."""
    number = 1
    while True:
        final = directory / (f"orkestra-{stamp}.db" if number == 1 else f"orkestra-{stamp}-{number}.db")
        try:
            os.link(partial, final)  # fails if the name is taken: no snapshot is ever replaced
        except FileExistsError:
            number += 1
            continue
        except OSError:  # a file system without hard links
            if final.exists():
                number += 1
                continue
            os.replace(partial, final)
        _sync_directory(directory)
        return final


# ---------------------------------------------------------------- restoring


def restore(paths: Paths, snapshot_id: str, *, clock: Clock | None = None, actor: str = "human") -> Restored:
    """Replace the live database with a snapshot, after taking a snapshot of the current state.

    Refused while a run holds tasks, or while any other connection has the
    database open (the engine must be closed first), in this process or another.
    """
    the_clock = clock or SystemClock()
    snapshot = find(paths, snapshot_id)
    database = paths.database
    if dbfile.open_in_this_process(database):
        # Moving the file aside, or copying over it, under a connection of this process would
        # leave that connection on a file that is no longer the database.
        raise SnapshotError(f"{database} is open in this process: close the engine first, then restore")
    problem = integrity.file_problem(snapshot.path)
    if problem:
        raise SnapshotError(f"snapshot {snapshot.id} cannot be restored: {problem}")
    fresh = not database.exists() or database.stat().st_size == 0
    if not fresh:
        _refuse_if_running(_leases_readable(database), database, the_clock.now())
    live = _lock(database)
    undo: Snapshot | None = None
    set_aside: tuple[Path, ...] = ()
    try:
        if live is not None and not fresh:
            _refuse_if_running(_lease_rows(live), database, the_clock.now())
            if not integrity.connection_problem(live):
                undo = _copy(live, paths.snapshots_dir, the_clock.now(), database)
        if not fresh and undo is None:  # damaged: keep it aside, and restore into a new file
            if live is not None:
                live.close()
                live = None
            set_aside = _set_aside(database, the_clock.now())
            live = _lock(database)
        if live is None:  # pragma: no cover - a new file is always readable
            raise SnapshotError(f"{database} could not be created")
        live.execute("PRAGMA journal_mode = WAL")
        source = dbfile.connect(snapshot.path, mode="ro")
        try:
            source.backup(live)  # one step, under the exclusive lock: the old state or the new, whole
        finally:
            source.close()
        before = f"; the state before is snapshot {undo.id}" if undo else ""
        aside = f"; the damaged database was moved to {set_aside[0].name}" if set_aside else ""
        _audit(
            live,
            the_clock,
            actor,
            "snapshot.restored",
            f"Snapshot {snapshot.id} restored{before}{aside}",
            subject=f"snapshot:{snapshot.id}",
            data={
                "snapshot": snapshot.id,
                "undo": undo.id if undo else None,
                "set_aside": [str(path) for path in set_aside],
                "schema_version": snapshot.schema_version,
            },
        )
    except sqlite3.DatabaseError as error:
        raise SnapshotError(f"{database} could not be restored from {snapshot.id}: {error}") from None
    finally:
        if live is not None:
            live.close()
    return Restored(snapshot, undo, set_aside)


def _lock(database: Path) -> sqlite3.Connection | None:
    """A connection holding the database exclusively; None if the file is not a readable database."""
    database.parent.mkdir(parents=True, exist_ok=True)
    connection = dbfile.connect(database, timeout=0.5)
    try:
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        connection.execute("BEGIN EXCLUSIVE")
        connection.execute("COMMIT")  # the lock is kept until the connection closes
    except sqlite3.OperationalError as error:
        connection.close()
        if integrity.is_damage(error):
            return None
        raise SnapshotError(
            f"{database} is open in another Orkestra process (the app, or a run): quit it first, then restore"
        ) from None
    except sqlite3.DatabaseError:
        connection.close()
        return None
    return connection


def _leases_readable(database: Path) -> list[tuple[str, float | None, int]]:
    """The leases held in the live database; none if it cannot be read (then it is damaged)."""
    try:
        connection = integrity.connect(database)  # not read-only: that would leave a -shm file behind
    except sqlite3.Error:
        return []
    try:
        return _lease_rows(connection)
    finally:
        connection.close()


def _lease_rows(connection: sqlite3.Connection) -> list[tuple[str, float | None, int]]:
    try:
        return connection.execute(
            "SELECT lease_owner, max(lease_expires_at), count(*) FROM task"
            " WHERE lease_owner IS NOT NULL GROUP BY lease_owner"
        ).fetchall()
    except sqlite3.Error:
        return []  # no task table yet, or a damaged one


def _refuse_if_running(leases: list[tuple[str, float | None, int]], database: Path, now: float) -> None:
    """One line if a run holds tasks: its process lives on this machine, or its leases have not expired."""
    for owner, expires, count in leases:
        if owner_is_dead(owner):
            continue
        host, _, rest = owner.partition(":")
        alive_here = host == socket.gethostname() and rest.partition(":")[0].isdigit()
        if alive_here or (expires is not None and expires >= now):
            pid = rest.partition(":")[0]
            until = (
                f" (its leases run until {time.strftime('%H:%M:%S', time.localtime(expires))})"
                if expires is not None
                else ""
            )
            raise SnapshotError(
                f"a run is under way on {database}: process {pid} on {host} holds "
                f"{plural(count, 'task')}{until}; stop it (or wait until its leases expire), then restore"
            )


def _set_aside(database: Path, now: float) -> tuple[Path, ...]:
    """Move a damaged database and its journal files away, beside it; their new paths."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    moved: list[Path] = []
    for suffix in ("", "-wal", "-shm"):
        current = Path(f"{database}{suffix}")
        if current.exists():
            target = database.with_name(f"{database.name}.damaged-{stamp}{suffix}")
            os.replace(current, target)
            moved.append(target)
    return tuple(moved)


# ------------------------------------------------------------------ checking


def integrity_problem(database: Path) -> str:
    """'' if the database passes `PRAGMA quick_check`, else the one line that says what to do.

    Reads the whole file (about 90 ms for 70 MB): for a background thread or
    an explicit request, not for start-up.
    """
    if not database.is_file():
        return ""
    problem = integrity.header_problem(database)
    if not problem:
        try:
            connection = integrity.connect(database)
        except sqlite3.Error as error:
            problem = str(error)
        else:
            try:
                problem = integrity.connection_problem(connection)
            finally:
                connection.close()
    return damaged_message(database, problem) if problem else ""


def damaged_error(database: Path, problem: str) -> SnapshotError:
    """The error for a damaged database: its line ends with the restore command, never cut."""
    hint = restore_hint(database)
    return SnapshotError(damaged_message(database, problem, hint=hint), advice=hint)


def damaged_message(database: Path, problem: str, *, hint: str | None = None) -> str:
    """One line: the file is damaged, and how to restore the newest good snapshot (`hint`, if known)."""
    return f"{database} is damaged ({problem}); it was left untouched. {hint or restore_hint(database)}"


def restore_hint(database: Path) -> str:
    """The newest good snapshot beside `database` and the exact command that restores it."""
    snapshot = newest_good(database.parent / "snapshots")
    if snapshot is None:
        return f"There is no snapshot to restore in {database.parent / 'snapshots'}."
    taken = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(snapshot.created_at))
    command = restore_command(database, snapshot.id)
    return f"The newest good snapshot is {snapshot.id} (taken {taken}); to restore it, run: {command}"


def restore_command(database: Path, snapshot_id: str) -> str:
    """The shell command that restores a snapshot into `database` (with --data-dir where needed)."""
    return f"orkestra{_data_dir_option(database)} snapshot restore {snapshot_id}"


def newest_good(directory: Path, *, tries: int = 5) -> Snapshot | None:
    """The newest snapshot in `directory` that passes its check (looking at the newest `tries`)."""
    for snapshot in _snapshots_in(directory)[:tries]:
        if not integrity.file_problem(snapshot.path):
            return snapshot
    return None


def _data_dir_option(database: Path) -> str:
    """` --data-dir DIR` when the default paths (with this environment) lead elsewhere."""
    with contextlib.suppress(Exception):
        if resolve_paths(None, os.environ).database.resolve() == database.resolve():
            return ""
    if database.parent.name == "data":
        return f" --data-dir {shlex.quote(str(database.parent.parent))}"
    return ""


def _audit(
    connection: sqlite3.Connection,
    clock: Clock,
    actor: str,
    kind: str,
    summary: str,
    *,
    subject: str,
    data: dict[str, Any],
) -> None:
    """One audit event, in its own transaction on `connection`."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        Transaction(connection, clock).audit(actor, kind, summary, subject=subject, data=data)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _sync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable, where the platform allows it."""
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
