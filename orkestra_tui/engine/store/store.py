"""SQLite, the source of truth.

One connection in WAL mode. Every change goes through `Store.transaction()`,
and a transaction that changed anything must also have written at least one
audit event: the change and the event that describes it commit together or
not at all. After the commit, the store hands the transaction's audit events
to its listener (the engine's event bus).

The store checks what it opens: a file that is not SQLite, a SQLite database
that is not Orkestra's, or one written by a newer schema is refused with a
clear error, and nothing is written to it. A damaged file (SQLite finds it
corrupt or not a database, or part of the schema is gone) is a
`DatabaseDamagedError`, whose message names the newest good snapshot and the
command that restores it. The connection is opened through `dbfile`.

A store for a user that only reads (`only_reads`) opens the database
read-only when its folder cannot be written (a read-only disk), and writes
nothing then: no migration, no journal mode. Any other store refuses such a
folder at once with a `ReadOnlyError`. A full disk makes the transaction that
hit it roll back whole and raise a `DiskFullError`; what was committed stays.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from orkestra_tui.engine.clock import Clock, SystemClock
from orkestra_tui.engine.models import (
    AuditEvent,
    Ballot,
    CallRecord,
    CallStart,
    Decision,
    DecisionRound,
    DecisionStatus,
    Feedback,
    InboxItem,
    InboxStatus,
    Priority,
    Project,
    Task,
    TaskStatus,
)
from orkestra_tui.engine.store import dbfile
from orkestra_tui.engine.store import rows as convert
from orkestra_tui.engine.store.read_only import check_readable_as_is, connect_read_only, read_only_reason
from orkestra_tui.engine.store.schema import MIGRATIONS, SCHEMA_VERSION
from orkestra_tui.errors import DiskFullError, OrkestraError, ReadOnlyError, is_disk_full, is_read_only
from orkestra_tui.secrets import redact

APPLICATION_ID = 0x4F524B53  # "ORKS"
MALFORMED = "database disk image is malformed"
"""What SQLite says of a corrupt page, and what the one line says when the check finds one."""


class StoreError(OrkestraError):
    """The database cannot be opened or used as it is."""


class DatabaseDamagedError(StoreError):
    """The database file is damaged: SQLite finds it corrupt or not a database, or part of its schema is gone.

    The message is the one line to show: the file, what is wrong, the newest good
    snapshot and the command that restores it.
    """

    def __init__(self, path: Path, problem: str) -> None:
        from orkestra_tui.engine.store.snapshots import damaged_message, restore_hint

        hint = restore_hint(path)
        super().__init__(damaged_message(path, problem, hint=hint), advice=hint)
        self.path = path
        self.problem = problem


def damage_in(path: Path, error: BaseException) -> DatabaseDamagedError | None:
    """The damage an error reveals in the database at `path`; None if it reveals none.

    Looks through the errors it was raised from or while handling, and inside exception groups:
    a page found corrupt mid-transaction may surface as the failed ROLLBACK that followed it.
    """
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, DatabaseDamagedError):
            return current
        if isinstance(current, sqlite3.DatabaseError) and dbfile.is_damage(current):
            return DatabaseDamagedError(path, str(current))
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(linked for linked in (current.__cause__, current.__context__) if linked is not None)
    return None


class UnauditedChangeError(RuntimeError):
    """A transaction changed state without recording an audit event (a bug)."""


def dumps(value: Any) -> str:
    """JSON as the store writes it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


AUDIT_INSERT = (
    "INSERT INTO audit (ts, project_id, actor, kind, subject, summary, data) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
"""How an audit event is written: its summary and data already redacted, its data as `dumps` gives it."""


class Transaction:
    """The writes of one transaction, and the audit events that describe them."""

    def __init__(self, connection: sqlite3.Connection, clock: Clock) -> None:
        self._connection = connection
        self.clock = clock
        self.events: list[AuditEvent] = []
        self.writes = 0

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        self.writes += 1
        return self._connection.execute(sql, parameters)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        self.writes += 1
        return self._connection.executemany(sql, rows)

    def audit(
        self,
        actor: str,
        kind: str,
        summary: str,
        *,
        subject: str = "",
        project_id: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Record what this transaction did; secrets are redacted on the way in."""
        timestamp = self.clock.now()
        summary = redact(summary)
        encoded = redact(dumps(data or {}))
        cursor = self._connection.execute(
            AUDIT_INSERT, (timestamp, project_id, actor, kind, subject, summary, encoded)
        )
        event = AuditEvent(
            id=int(cursor.lastrowid or 0),
            ts=timestamp,
            project_id=project_id,
            actor=actor,
            kind=kind,
            subject=subject,
            summary=summary,
            data=json.loads(encoded) if data else {},
        )
        self.events.append(event)
        return event


class TaskCard(NamedTuple):
    """A task as the Board shows it on a card: no instructions or result, so 10,000 read fast.

    A named tuple rather than a dataclass: 10,000 of them are built and compared
    several times faster.
    """

    id: int
    status: TaskStatus
    priority: Priority
    phase: str
    title: str
    assigned_to: str | None
    pinned_agent: str | None
    note: str
    """The start of the task's note (at most `CARD_NOTE_CHARS`)."""
    updated_at: float
    """When the task last changed: for a running task, when it started running."""
    depends_on: tuple[int, ...] = ()


CARD_NOTE_CHARS = 240
CARD_COLUMNS = (
    f"id, status, priority, phase, title, assigned_to, pinned_agent, substr(note, 1, {CARD_NOTE_CHARS}),"
    " updated_at"
)


@dataclass(frozen=True)
class TaskAttempt:
    """One try of an agent at a task (a `task_attempt` row)."""

    task_id: int
    number: int
    agent: str
    started_at: float
    finished_at: float | None
    outcome: str
    """running, done, failed, retry, awaiting_human, interrupted, abandoned…"""
    error: str


@dataclass(frozen=True)
class TaskReview:
    """One reviewer's verdict on an attempt's result (a `task_review` row)."""

    task_id: int
    attempt: int
    reviewer: str
    verdict: str
    comments: str
    created_at: float


class Store:
    """The Orkestra database at one path."""

    def __init__(self, path: Path, *, clock: Clock | None = None, only_reads: bool = False) -> None:
        self.path = path
        self.clock: Clock = clock or SystemClock()
        self.listener: Callable[[list[AuditEvent]], None] | None = None
        self._in_transaction = False
        self.read_only = False
        """Whether the database was opened read-only (its folder cannot be written): no write will do."""
        self._connection = self._open(only_reads)

    # ------------------------------------------------------------ opening

    def _open(self, only_reads: bool = False) -> sqlite3.Connection:
        path = self.path
        if path.is_dir():
            raise StoreError(f"{path} is a directory, not an Orkestra database")
        if path.exists() and path.stat().st_size > 0:
            header = dbfile.read_header(path)
            if header.error:
                raise StoreError(f"{path} cannot be read: {header.error}")
            if not header.is_sqlite:
                hint = _restore_hint(path, only_if_any=True)
                raise StoreError(
                    f"{path} is not a SQLite database; it was left untouched "
                    "(move it away, or choose another --data-dir)" + (f".{hint}" if hint else ""),
                    advice=hint.strip(),
                )
            if header.truncated:
                raise DatabaseDamagedError(path, "it is shorter than its header says: truncated")
        why_not_writable = read_only_reason(path)
        if why_not_writable:
            if not only_reads:
                raise ReadOnlyError(path.parent, why_not_writable)
            self.read_only = True
            connection = connect_read_only(path)
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                connection = dbfile.connect(path)
            except (OSError, sqlite3.Error) as error:
                raise StoreError(f"{path} cannot be opened: {error}") from None
        try:
            self._check_and_migrate(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _check_and_migrate(self, connection: sqlite3.Connection) -> None:
        path = self.path
        try:
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
            application_id = int(connection.execute("PRAGMA application_id").fetchone()[0])
            tables = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[
                0
            ]
        except sqlite3.DatabaseError as error:
            if is_disk_full(error, path.parent):  # no room for the -shm file: not damage
                raise DiskFullError(path.parent) from None
            if dbfile.is_damage(error):
                raise DatabaseDamagedError(path, str(error)) from None
            raise StoreError(f"{path} cannot be used: {error}") from None
        if application_id not in (0, APPLICATION_ID) or (version == 0 and tables > 0):
            raise StoreError(f"{path} is a SQLite database but not Orkestra's; it was left untouched")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path} was written by a newer Orkestra (schema {version}; this version "
                f"knows up to {SCHEMA_VERSION}); upgrade Orkestra to open it"
            )
        _require_full_text_search(connection, path)
        if self.read_only:
            check_readable_as_is(connection, path, version, SCHEMA_VERSION)
            return
        try:
            connection.execute("PRAGMA busy_timeout = 10000")
            if connection.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
                raise StoreError(f"{path} cannot use write-ahead logging (is it on a network drive?)")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
            if version < SCHEMA_VERSION:
                self._apply_migrations(connection)
            missing = missing_schema_objects(connection)
        except sqlite3.DatabaseError as error:
            if is_disk_full(error, path.parent):
                raise DiskFullError(path.parent) from None
            if dbfile.is_damage(error):
                raise DatabaseDamagedError(path, str(error)) from None
            raise StoreError(f"{path} cannot be used: {error}") from None
        if missing:
            raise DatabaseDamagedError(path, f"{missing[0]} is missing")

    @staticmethod
    def _apply_migrations(connection: sqlite3.Connection) -> None:
        """Apply every migration the database lacks and record the last, in one transaction.

        All or nothing: a database is at its old version or the newest, never between.
        One transaction (a new database's whole schema included) costs one commit, not one each.
        The version is read again under the write lock: another process may have just migrated it.
        """
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
            for script in MIGRATIONS[version:]:
                for statement in _split_statements(script):
                    connection.execute(statement)
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:  # SQLite may have rolled back already (a full disk does)
                connection.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._connection.close()

    def check_pages(self) -> None:
        """Raise `DatabaseDamagedError` unless every page passes `PRAGMA quick_check`.

        Reads the whole file (a few milliseconds a megabyte): commands run it before they work,
        the app in a thread after its first frame, never on its way to that frame.
        """
        try:
            problem = dbfile.quick_check_problem(self._connection)
        except sqlite3.DatabaseError as error:
            damage = damage_in(self.path, error)
            if damage is not None:
                raise damage from None
            raise StoreError(f"{self.path} cannot be checked: {error}") from None
        if problem:  # said as SQLite says it on a read; the check's own findings are for experts
            raise DatabaseDamagedError(self.path, MALFORMED)

    @property
    def schema_version(self) -> int:
        return int(self._connection.execute("PRAGMA user_version").fetchone()[0])

    # -------------------------------------------------------- transactions

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction: committed with its audit events, or rolled back whole."""
        if self._in_transaction:
            raise RuntimeError("transactions do not nest")
        if self.read_only:
            raise ReadOnlyError(self.path.parent, read_only_reason(self.path) or "it is read-only")
        self._in_transaction = True
        try:
            with self._errors_mapped():
                self._connection.execute("BEGIN IMMEDIATE")
                transaction = Transaction(self._connection, self.clock)
                try:
                    yield transaction
                    if transaction.writes and not transaction.events:
                        raise UnauditedChangeError("a transaction changed state without an audit event")
                    self._connection.execute("COMMIT")
                except BaseException:
                    # A full disk (SQLITE_FULL) has SQLite roll back on its own: a second ROLLBACK
                    # would fail and hide the first error.
                    if self._connection.in_transaction:
                        self._connection.execute("ROLLBACK")
                    raise
        finally:
            self._in_transaction = False
        if self.listener is not None and transaction.events:
            self.listener(transaction.events)

    @contextmanager
    def _errors_mapped(self) -> Iterator[None]:
        """A full or read-only disk met by a write, as the one-line error that says so."""
        try:
            yield
        except sqlite3.Error as error:
            if is_disk_full(error, self.path.parent):
                raise DiskFullError(self.path.parent) from error
            if is_read_only(error):
                raise ReadOnlyError(self.path.parent, read_only_reason(self.path) or str(error)) from error
            raise

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._connection.execute(sql, parameters).fetchall()

    def scalar(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        row = self._connection.execute(sql, parameters).fetchone()
        return None if row is None else row[0]

    # --------------------------------------------------------------- reads

    def projects(self) -> list[Project]:
        return [
            convert.project(row)
            for row in self.query(f"SELECT {convert.PROJECT_COLUMNS} FROM project ORDER BY id")
        ]

    def project(self, project_id: int) -> Project | None:
        rows = self.query(f"SELECT {convert.PROJECT_COLUMNS} FROM project WHERE id = ?", (project_id,))
        return convert.project(rows[0]) if rows else None

    def project_by_name(self, name: str) -> Project | None:
        rows = self.query(f"SELECT {convert.PROJECT_COLUMNS} FROM project WHERE name = ?", (name,))
        return convert.project(rows[0]) if rows else None

    def tasks(
        self,
        project_id: int | None = None,
        statuses: Iterable[TaskStatus] | None = None,
        limit: int | None = None,
    ) -> list[Task]:
        clauses: list[str] = []
        parameters: list[Any] = []
        if project_id is not None:
            clauses.append("project_id = ?")
            parameters.append(project_id)
        if statuses is not None:
            wanted = [status.value for status in statuses]
            clauses.append(f"status IN ({', '.join('?' * len(wanted))})")
            parameters.extend(wanted)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        limit_clause = f"LIMIT {int(limit)}" if limit is not None else ""
        rows = self.query(
            f"SELECT {convert.TASK_COLUMNS} FROM task {where} ORDER BY priority, id {limit_clause}",
            parameters,
        )
        dependencies = self._dependencies([row[0] for row in rows])
        return [convert.task(row, dependencies.get(row[0], ())) for row in rows]

    def tasks_with_ids(self, first_id: int, last_id: int) -> list[Task]:
        """Tasks whose ids lie in a range (a batch just created), by id."""
        rows = self.query(
            f"SELECT {convert.TASK_COLUMNS} FROM task WHERE id BETWEEN ? AND ? ORDER BY id",
            (first_id, last_id),
        )
        dependencies = self._dependencies([row[0] for row in rows])
        return [convert.task(row, dependencies.get(row[0], ())) for row in rows]

    def task(self, task_id: int) -> Task | None:
        rows = self.query(f"SELECT {convert.TASK_COLUMNS} FROM task WHERE id = ?", (task_id,))
        if not rows:
            return None
        return convert.task(rows[0], self._dependencies([task_id]).get(task_id, ()))

    def _dependencies(self, task_ids: list[int]) -> dict[int, tuple[int, ...]]:
        if not task_ids:
            return {}
        found: dict[int, list[int]] = {}
        if len(task_ids) > 500:
            rows = self.query("SELECT task_id, depends_on FROM task_dependency ORDER BY task_id, depends_on")
        else:
            marks = ", ".join("?" * len(task_ids))
            rows = self.query(
                f"SELECT task_id, depends_on FROM task_dependency WHERE task_id IN ({marks})"
                " ORDER BY task_id, depends_on",
                task_ids,
            )
        for task_id, depends_on in rows:
            found.setdefault(task_id, []).append(depends_on)
        return {task_id: tuple(values) for task_id, values in found.items()}

    def task_counts(self, project_id: int | None = None) -> dict[TaskStatus, int]:
        """How many tasks are in each status (every status present, zero included)."""
        if project_id is None:
            rows = self.query("SELECT status, count(*) FROM task GROUP BY status")
        else:
            rows = self.query(
                "SELECT status, count(*) FROM task WHERE project_id = ? GROUP BY status",
                (project_id,),
            )
        counts = dict.fromkeys(TaskStatus, 0)
        for status, count in rows:
            counts[TaskStatus(status)] = count
        return counts

    def decisions(self, limit: int = 500) -> list[Decision]:
        """Open decisions first, then the rest, newest first within each group."""
        open_states = [status.value for status in DecisionStatus if status.is_open]
        marks = ", ".join("?" * len(open_states))
        rows = self.query(
            f"SELECT {convert.DECISION_COLUMNS} FROM decision"
            f" ORDER BY (status IN ({marks})) DESC, id DESC LIMIT ?",
            [*open_states, limit],
        )
        return [convert.decision(row) for row in rows]

    def decision(self, decision_id: int) -> Decision | None:
        rows = self.query(f"SELECT {convert.DECISION_COLUMNS} FROM decision WHERE id = ?", (decision_id,))
        return convert.decision(rows[0]) if rows else None

    def ballots(self, decision_id: int, round_number: int | None = None) -> list[Ballot]:
        sql = f"SELECT {convert.BALLOT_COLUMNS} FROM ballot WHERE decision_id = ?"
        parameters: list[Any] = [decision_id]
        if round_number is not None:
            sql += " AND round = ?"
            parameters.append(round_number)
        return [
            convert.ballot(row) for row in self.query(sql + " ORDER BY round, cast_at, voter", parameters)
        ]

    def rounds(self, decision_id: int) -> list[DecisionRound]:
        rows = self.query(
            f"SELECT {convert.ROUND_COLUMNS} FROM decision_round WHERE decision_id = ? ORDER BY round",
            (decision_id,),
        )
        return [convert.decision_round(row) for row in rows]

    def feedback(self, decision_id: int) -> list[Feedback]:
        rows = self.query(
            f"SELECT {convert.FEEDBACK_COLUMNS} FROM feedback WHERE decision_id = ? ORDER BY id",
            (decision_id,),
        )
        return [convert.feedback(row) for row in rows]

    def decision_cost(self, decision_id: int) -> tuple[int, int, float]:
        """The calls, tokens and cost spent on a decision so far."""
        calls, tokens, cost = self.query(
            "SELECT count(*), coalesce(sum(tokens_in + tokens_out), 0), coalesce(sum(cost), 0)"
            " FROM call WHERE decision_id = ?",
            (decision_id,),
        )[0]
        return int(calls), int(tokens), float(cost)

    def renew_leases(self, task_ids: Sequence[int], owner: str, expires_at: float) -> None:
        """Extend `owner`'s leases on `task_ids`.

        Bookkeeping, not a change of state: nothing a user sees moves, so it is
        written without an audit event, outside `transaction`.
        """
        if self._in_transaction:
            raise RuntimeError("leases are renewed between transactions")
        marks = ", ".join("?" * len(task_ids))
        with self._errors_mapped():
            self._connection.execute(  # one statement: its own transaction, in autocommit mode
                f"UPDATE task SET lease_expires_at = ? WHERE lease_owner = ? AND id IN ({marks})",
                [expires_at, owner, *task_ids],
            )

    def swap_decision_runner(self, decision_id: int, expected: str | None, runner: str | None) -> bool:
        """Name `runner` the process running a decision's vote, if `expected` still is; whether it was.

        Bookkeeping, like a lease renewal: which process runs a vote is not a change a user
        sees, so it is written without an audit event, outside `transaction`, as one statement
        (a compare-and-set: of two processes that read the same runner, one wins).
        """
        if self._in_transaction:
            raise RuntimeError("a vote's runner is set between transactions")
        with self._errors_mapped():
            cursor = self._connection.execute(
                "UPDATE decision SET runner = ? WHERE id = ? AND runner IS ?", (runner, decision_id, expected)
            )
        return cursor.rowcount == 1

    def start_call(self, start: CallStart) -> int:
        """Record a call as started, before its request goes out; the row's id.

        Bookkeeping, like a lease renewal: the call's audit event comes with its
        completion (`call_log.record_call`), or with its interruption. Written
        outside `transaction`, as one statement in autocommit mode.
        """
        if self._in_transaction:
            raise RuntimeError("a call is started between transactions (or with call_log.start_call)")
        with self._errors_mapped():
            cursor = self._connection.execute(convert.CALL_START_INSERT, convert.call_start(start))
        return int(cursor.lastrowid or 0)

    def project_costs(self, project_id: int, purposes: Iterable[str] | None = None) -> dict[str, float]:
        """What each agent's calls for a project cost so far, optionally for some purposes only."""
        sql = "SELECT agent, coalesce(sum(cost), 0) FROM call WHERE project_id = ?"
        parameters: list[Any] = [project_id]
        if purposes is not None:
            wanted = list(purposes)
            sql += f" AND purpose IN ({', '.join('?' * len(wanted))})"
            parameters += wanted
        return {agent: float(cost) for agent, cost in self.query(sql + " GROUP BY agent", parameters)}

    def call_usage(self, project_ids: Sequence[int], since: float | None = None) -> tuple[int, int, float]:
        """The calls, tokens (in and out) and cost spent on some projects, optionally since a time."""
        if not project_ids:
            return 0, 0, 0.0
        sql = (
            "SELECT count(*), coalesce(sum(tokens_in + tokens_out), 0), coalesce(sum(cost), 0)"
            f" FROM call WHERE project_id IN ({', '.join('?' * len(project_ids))})"
        )
        parameters: list[Any] = list(project_ids)
        if since is not None:
            sql += " AND started_at >= ?"
            parameters.append(since)
        calls, tokens, cost = self.query(sql, parameters)[0]
        return int(calls), int(tokens), float(cost)

    def inbox(self, status: InboxStatus | None = InboxStatus.OPEN) -> list[InboxItem]:
        if status is None:
            rows = self.query(f"SELECT {convert.INBOX_COLUMNS} FROM inbox ORDER BY id")
        else:
            rows = self.query(
                f"SELECT {convert.INBOX_COLUMNS} FROM inbox WHERE status = ? ORDER BY id", (status.value,)
            )
        return [convert.inbox(row) for row in rows]

    def inbox_item(self, item_id: int) -> InboxItem | None:
        rows = self.query(f"SELECT {convert.INBOX_COLUMNS} FROM inbox WHERE id = ?", (item_id,))
        return convert.inbox(rows[0]) if rows else None

    def audit_events(
        self,
        limit: int = 100,
        *,
        before_id: int | None = None,
        project_id: int | None = None,
        actor: str | None = None,
        kind: str | None = None,
    ) -> list[AuditEvent]:
        """Audit events, newest first."""
        clauses: list[str] = []
        parameters: list[Any] = []
        for column, value in (
            ("id <", before_id),
            ("project_id =", project_id),
            ("actor =", actor),
        ):
            if value is not None:
                clauses.append(f"{column} ?")
                parameters.append(value)
        if kind is not None:
            clauses.append("(kind = ? OR kind LIKE ?)")
            parameters.extend([kind, f"{kind}.%"])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.query(
            f"SELECT {convert.AUDIT_COLUMNS} FROM audit {where} ORDER BY id DESC LIMIT ?",
            [*parameters, limit],
        )
        return [convert.audit(row) for row in rows]

    def search_audit(
        self,
        *,
        text: str | None = None,
        actor: str | None = None,
        kind: str | None = None,
        project_id: int | None = None,
        since: float | None = None,
        until: float | None = None,
        before_id: int | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """Audit events matching every filter given, newest first; after `after_id`, oldest first.

        `text`: words that must all appear (in actor, kind, subject, summary or
        data), `"a phrase"`, `prefix*`; any user input is safe (see
        `audit_search`). `actor`: an exact name, or `agent` for every actor but
        `human`, `engine` and `policy:*`. `kind`: a kind or its prefix (`task`
        matches `task.done`). `since <= ts < until`; `before_id` and `after_id`
        are exclusive. With `after_id` (a live tail), the oldest `limit` events
        after it come first, so paging forward skips nothing.
        """
        from orkestra_tui.engine.store import audit_search  # not on the start-up path

        wanted = audit_search.AuditFilter(
            text=text,
            actor=actor,
            kind=kind,
            project_id=project_id,
            since=since,
            until=until,
            before_id=before_id,
            after_id=after_id,
        )
        return [convert.audit(row) for row in audit_search.search(self.query, wanted, limit)]

    def audit_count(
        self,
        *,
        text: str | None = None,
        actor: str | None = None,
        kind: str | None = None,
        project_id: int | None = None,
        since: float | None = None,
        until: float | None = None,
        before_id: int | None = None,
        after_id: int | None = None,
        most: int | None = None,
    ) -> int:
        """How many events `search_audit` would find with no limit, counting at most `most`.

        Exact counts read every match; a header showing "10,000+" should pass `most`.
        """
        from orkestra_tui.engine.store import audit_search  # not on the start-up path

        wanted = audit_search.AuditFilter(
            text=text,
            actor=actor,
            kind=kind,
            project_id=project_id,
            since=since,
            until=until,
            before_id=before_id,
            after_id=after_id,
        )
        return audit_search.count(self.query, wanted, most)

    def newest_audit_id(self) -> int:
        """The id of the newest audit event (0 when there is none): where a live tail starts."""
        return int(self.scalar("SELECT coalesce(max(id), 0) FROM audit"))

    def calls(self, agent: str | None = None, limit: int = 1000) -> list[CallRecord]:
        """Completed calls, oldest first among the newest `limit`.

        Calls under way, and those a stopped process interrupted, say nothing of how the agent
        answers: they count in costs, not here (nor in an agent's health).
        """
        if agent is None:
            rows = self.query(
                f"SELECT {convert.CALL_COLUMNS} FROM call WHERE state = 'complete' ORDER BY id DESC LIMIT ?",
                (limit,),
            )
        else:
            rows = self.query(
                f"SELECT {convert.CALL_COLUMNS} FROM call WHERE agent = ? AND state = 'complete'"
                " ORDER BY id DESC LIMIT ?",
                (agent, limit),
            )
        return [convert.call(row) for row in reversed(rows)]

    def agent_overrides(self) -> dict[str, bool]:
        """Agents the user enabled or disabled in the app, by name."""
        return {name: bool(enabled) for name, enabled in self.query("SELECT name, enabled FROM agent")}

    # --------------------------------------------------- the Board's reads

    def task_cards(self, project_id: int, task_ids: Sequence[int] | None = None) -> list[TaskCard]:
        """A project's tasks as cards (or only `task_ids`), by priority then id, with their dependencies."""
        sql = f"SELECT {CARD_COLUMNS} FROM task WHERE project_id = ?"
        parameters: list[Any] = [project_id]
        if task_ids is not None:
            if not task_ids:
                return []
            sql += f" AND id IN ({', '.join('?' * len(task_ids))})"
            parameters += list(task_ids)
        rows = self.query(sql + " ORDER BY priority, id", parameters)
        if task_ids is None:
            found: dict[int, list[int]] = {}
            for task_id, depends_on in self.query(
                "SELECT d.task_id, d.depends_on FROM task_dependency d JOIN task t ON t.id = d.task_id"
                " WHERE t.project_id = ? ORDER BY d.task_id, d.depends_on",
                (project_id,),
            ):
                found.setdefault(task_id, []).append(depends_on)
            dependencies = {task_id: tuple(values) for task_id, values in found.items()}
        else:
            dependencies = self._dependencies([row[0] for row in rows])
        statuses = {status.value: status for status in TaskStatus}
        priorities = {int(priority): priority for priority in Priority}
        return [
            TaskCard(
                row[0],
                statuses[row[1]],
                priorities[row[2]],
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                row[8],
                dependencies.get(row[0], ()),
            )
            for row in rows
        ]

    def task_attempts(self, task_id: int) -> list[TaskAttempt]:
        """A task's attempts, first to last."""
        rows = self.query(
            "SELECT task_id, number, agent, started_at, finished_at, outcome, error FROM task_attempt"
            " WHERE task_id = ? ORDER BY number, id",
            (task_id,),
        )
        return [TaskAttempt(*row) for row in rows]

    def task_reviews(self, task_id: int) -> list[TaskReview]:
        """The reviewers' verdicts on a task, by attempt."""
        rows = self.query(
            "SELECT task_id, attempt, reviewer, verdict, comments, created_at FROM task_review"
            " WHERE task_id = ? ORDER BY attempt, id",
            (task_id,),
        )
        return [TaskReview(*row) for row in rows]

    def subject_events(
        self, subject: str, *, project_id: int | None = None, limit: int = 200
    ) -> list[AuditEvent]:
        """The audit events about one subject (`task:12`), oldest first among the newest `limit`."""
        sql = f"SELECT {convert.AUDIT_COLUMNS} FROM audit WHERE subject = ?"
        parameters: list[Any] = [subject]
        if project_id is not None:
            sql += " AND project_id = ?"  # the project's index narrows the scan
            parameters.append(project_id)
        rows = self.query(sql + " ORDER BY id DESC LIMIT ?", [*parameters, limit])
        return [convert.audit(row) for row in reversed(rows)]


def _require_full_text_search(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse, before writing anything, a SQLite library without FTS5 (the audit log's index)."""
    if connection.execute("SELECT sqlite_compileoption_used('ENABLE_FTS5')").fetchone()[0]:
        return
    try:  # FTS5 may also be built in without the compile option being reported
        connection.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(text)")
        connection.execute("DROP TABLE temp.fts5_probe")
    except sqlite3.OperationalError:
        raise StoreError(
            f"{path} cannot be opened: this Python's SQLite {sqlite3.sqlite_version} was built"
            " without full-text search (FTS5), which the audit log needs; use a Python whose"
            " sqlite3 module has it"
        ) from None


_CREATED = re.compile(r"CREATE\s+(?:VIRTUAL\s+)?(TABLE|INDEX|TRIGGER)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I)
_DROPPED = re.compile(r"DROP\s+(TABLE|INDEX|TRIGGER)\s+(?:IF\s+EXISTS\s+)?(\w+)", re.I)


@functools.cache
def expected_schema_objects(version: int = SCHEMA_VERSION) -> tuple[tuple[str, str], ...]:
    """Every table, index and trigger the first `version` migrations leave behind, as (type, name)."""
    objects: dict[str, str] = {}
    for script in MIGRATIONS[:version]:
        for statement in _split_statements(script):
            if created := _CREATED.match(statement):
                objects[created[2]] = created[1].lower()
            elif dropped := _DROPPED.match(statement):
                objects.pop(dropped[2], None)
    return tuple((kind, name) for name, kind in objects.items())


def missing_schema_objects(connection: sqlite3.Connection) -> list[str]:
    """The tables, indexes and triggers of its schema version that a database lacks ('table decision'…).

    One read of the schema SQLite has already loaded: cheap enough for every start. A table
    dropped by hand (or lost with its schema row) is damage that `PRAGMA quick_check` cannot see.
    """
    version = min(int(connection.execute("PRAGMA user_version").fetchone()[0]), SCHEMA_VERSION)
    present = set(connection.execute("SELECT type, name FROM sqlite_master").fetchall())
    return [
        f"{kind} {name}" for kind, name in expected_schema_objects(version) if (kind, name) not in present
    ]


def _restore_hint(path: Path, *, only_if_any: bool = False) -> str:
    """` The newest good snapshot is …; to restore it, run: …` (or that there is none), for a damaged file."""
    from orkestra_tui.engine.store.snapshots import newest_good, restore_hint

    if only_if_any and newest_good(path.parent / "snapshots") is None:
        return ""
    return " " + restore_hint(path)


def _split_statements(script: str) -> list[str]:
    """The statements of a migration script (they contain no semicolons in literals).

    A trigger's body holds semicolons of its own: pieces are joined again until
    SQLite deems them one complete statement.
    """
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statement = pending.strip().removesuffix(";").strip()
            if statement:
                statements.append(statement)
            pending = ""
    return statements
