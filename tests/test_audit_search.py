"""Searching and filtering the audit log: the store's API, migration 6, `orkestra audit` and its bench."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orkestra_tui.cli import main
from orkestra_tui.commands import audit as audit_command
from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import AuditEvent
from orkestra_tui.engine.store import audit_search
from orkestra_tui.engine.store.schema import MIGRATIONS
from orkestra_tui.engine.store.store import APPLICATION_ID, Store, StoreError, _require_full_text_search

START = 1_800_000_000.0


@dataclass(frozen=True)
class Event:
    actor: str
    kind: str
    summary: str
    subject: str = ""
    project_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "o.db", clock=FixedClock(start=START, step=1.0))
    yield opened
    opened.close()


def record(store: Store, *events: Event) -> list[AuditEvent]:
    """Write `events` in one transaction, as the engine does."""
    with store.transaction() as tx:
        return [
            tx.audit(
                event.actor,
                event.kind,
                event.summary,
                subject=event.subject,
                project_id=event.project_id,
                data=event.data,
            )
            for event in events
        ]


def ids(events: list[AuditEvent]) -> list[int]:
    return [event.id for event in events]


# ------------------------------------------------------------------ search text


@pytest.fixture
def searchable(store: Store) -> list[AuditEvent]:
    return record(
        store,
        Event("claude", "task.done", "Finished the schema migration", "task:1", 1, {"files": ["db.py"]}),
        Event("human", "decision.opened", "Which database should we use?", "decision:1", 1),
        Event("gemini", "call.failed", "Timeout after 30 s", "task:2", 2, {"error": "deadline exceeded"}),
        Event("engine", "task.review", "Review of the migration plan", "task:3", 2),
        Event("grok", "ballot.cast", "Ranked: café first, then crème brûlée", "decision:1", 1),
        Event("chatgpt", "task.done", 'Wrote the "unbalanced quote handler" (a OR b)', "task:4", 1),
        Event("engine", "task.created", "日本語のテキスト and NEAR(x) and a*b", "task:5", 2),
    )


def test_every_word_must_match_somewhere_in_the_event(store: Store, searchable: list[AuditEvent]) -> None:
    assert ids(store.search_audit(text="migration")) == [searchable[3].id, searchable[0].id]
    assert ids(store.search_audit(text="migration schema")) == [searchable[0].id]
    assert ids(store.search_audit(text="migration nowhere")) == []
    # Actor, kind, subject and data are searched as well as the summary.
    assert ids(store.search_audit(text="gemini")) == [searchable[2].id]
    assert ids(store.search_audit(text="review")) == [searchable[3].id]
    assert ids(store.search_audit(text="decision")) == [searchable[4].id, searchable[1].id]
    assert ids(store.search_audit(text="deadline")) == [searchable[2].id]
    assert ids(store.search_audit(text="db.py")) == [searchable[0].id]


def test_phrases_prefixes_case_and_accents(store: Store, searchable: list[AuditEvent]) -> None:
    assert ids(store.search_audit(text='"migration plan"')) == [searchable[3].id]
    assert ids(store.search_audit(text='"plan migration"')) == []
    assert ids(store.search_audit(text="migr*")) == [searchable[3].id, searchable[0].id]
    assert ids(store.search_audit(text="TIMEOUT")) == [searchable[2].id]
    assert ids(store.search_audit(text="cafe creme")) == [searchable[4].id]
    assert ids(store.search_audit(text="brûlée")) == [searchable[4].id]
    assert ids(store.search_audit(text="日本語のテキスト")) == [searchable[6].id]
    assert ids(store.search_audit(text="日本語*")) == [searchable[6].id]


@pytest.mark.parametrize(
    "hostile",
    [
        '"unbalanced',
        'unbalanced"',
        "a OR",
        "OR",
        "AND",
        "NOT",
        "a AND (b",
        "*",
        "**",
        "-",
        "-migration",
        "NEAR(",
        "NEAR(x y, 2)",
        "(",
        ")",
        "^",
        "summary:migration",
        "{actor kind}: x",
        '""',
        "\x00",
        "🎉",
        "'; DROP TABLE audit; --",
    ],
)
def test_hostile_search_text_never_raises(store: Store, searchable: list[AuditEvent], hostile: str) -> None:
    found = store.search_audit(text=hostile)
    assert found == store.search_audit(text=hostile, limit=1000)
    assert store.audit_count(text=hostile) == len(found)
    assert store.audit_count() == len(searchable)


def test_operators_and_quotes_are_searched_as_words(store: Store, searchable: list[AuditEvent]) -> None:
    assert ids(store.search_audit(text='"unbalanced')) == [searchable[5].id]
    assert ids(store.search_audit(text="a OR")) == [searchable[5].id]
    assert ids(store.search_audit(text="NEAR(")) == [searchable[6].id]
    assert ids(store.search_audit(text="-migration")) == [searchable[3].id, searchable[0].id]
    assert ids(store.search_audit(text="summary:migration")) == []  # no column filters from users
    # Nothing searchable (only symbols or quotes) finds nothing; blank text means no search at all.
    assert store.search_audit(text="*") == store.search_audit(text="🎉") == []
    assert len(store.search_audit(text="   ")) == len(searchable)


def test_match_expression_quotes_every_term() -> None:
    assert audit_search.match_expression('say "hi there" x* "odd') == '"say" "hi there" "x"* """odd"'
    assert audit_search.match_expression('a"b OR (c') == '"a""b" "OR" "(c"'
    assert audit_search.match_expression("* - ( ) 🎉") == ""


# ---------------------------------------------------------------------- filters


@pytest.fixture
def varied(store: Store) -> list[AuditEvent]:
    return record(
        store,
        Event("human", "project.created", "Alpha", "project:1", 1),
        Event("engine", "task.created", "Write the parser", "task:1", 1),
        Event("claude", "task.running", "Parser, first try", "task:1", 1),
        Event("claude", "task.done", "Parser written", "task:1", 1),
        Event("policy:random", "inbox.answered", "Tie broken at random", "inbox:1", 1),
        Event("gemini", "taskforce.formed", "Not a task kind", "", 2),
        Event("gemini", "task", "A bare task kind", "task:2", 2),
        Event("engine", "task.review.passed", "Reviewed", "task:2", 2),
        Event("human", "task.done", "Marked done by hand", "task:2", None),
    )


def test_actor_filters(store: Store, varied: list[AuditEvent]) -> None:
    assert ids(store.search_audit(actor="claude")) == [varied[3].id, varied[2].id]
    assert ids(store.search_audit(actor="human")) == [varied[8].id, varied[0].id]
    assert ids(store.search_audit(actor="engine")) == [varied[7].id, varied[1].id]
    assert ids(store.search_audit(actor="agent")) == [varied[6].id, varied[5].id, varied[3].id, varied[2].id]
    assert ids(store.search_audit(actor="policy:random")) == [varied[4].id]
    assert store.search_audit(actor="nobody") == []
    assert len(store.search_audit(actor="", kind="", text="")) == len(varied)  # empty: no filter


def test_a_kind_matches_itself_and_the_kinds_below_it(store: Store, varied: list[AuditEvent]) -> None:
    task_ids = [varied[index].id for index in (8, 7, 6, 3, 2, 1)]
    assert ids(store.search_audit(kind="task")) == task_ids
    assert ids(store.search_audit(kind="task.done")) == [varied[8].id, varied[3].id]
    assert ids(store.search_audit(kind="task.review")) == [varied[7].id]
    assert ids(store.search_audit(kind="taskforce")) == [varied[5].id]
    assert store.search_audit(kind="task.do") == []
    assert store.search_audit(kind="tas") == []
    # The same with text, where the full-text index drives the query.
    assert ids(store.search_audit(kind="task", text="task")) == task_ids


def test_filters_combine(store: Store, varied: list[AuditEvent]) -> None:
    assert ids(store.search_audit(actor="claude", kind="task.done")) == [varied[3].id]
    assert ids(store.search_audit(actor="human", kind="task")) == [varied[8].id]
    assert ids(store.search_audit(actor="agent", kind="task", project_id=2)) == [varied[6].id]
    assert ids(store.search_audit(project_id=1, text="parser")) == [varied[3].id, varied[2].id, varied[1].id]
    assert ids(store.search_audit(project_id=1, text="parser", actor="claude", kind="task.done")) == [
        varied[3].id
    ]
    assert store.search_audit(project_id=2, actor="claude") == []


def test_time_ranges_and_ids(store: Store, varied: list[AuditEvent]) -> None:
    # The fixed clock gives event n (from 0) the time START + n.
    assert ids(store.search_audit(since=START + 7)) == [varied[8].id, varied[7].id]
    assert ids(store.search_audit(until=START + 2)) == [varied[1].id, varied[0].id]
    assert ids(store.search_audit(since=START + 2, until=START + 4)) == [varied[3].id, varied[2].id]
    assert store.search_audit(since=START + 100) == []
    assert ids(store.search_audit(before_id=varied[2].id)) == [varied[1].id, varied[0].id]
    assert ids(store.search_audit(before_id=varied[8].id, limit=2)) == [varied[7].id, varied[6].id]
    # After an id: oldest first, so a tail can page forward without gaps.
    assert ids(store.search_audit(after_id=varied[5].id)) == [varied[6].id, varied[7].id, varied[8].id]
    assert ids(store.search_audit(after_id=varied[0].id, limit=2)) == [varied[1].id, varied[2].id]
    assert ids(store.search_audit(after_id=varied[1].id, before_id=varied[4].id)) == [
        varied[2].id,
        varied[3].id,
    ]
    assert ids(store.search_audit(after_id=varied[0].id, actor="claude", text="parser")) == [
        varied[2].id,
        varied[3].id,
    ]


def test_count_agrees_with_search_and_stops_at_most(store: Store, varied: list[AuditEvent]) -> None:
    assert store.audit_count() == len(varied)
    assert store.audit_count(kind="task") == 6
    assert store.audit_count(kind="task", most=4) == 4
    assert store.audit_count(text="parser", actor="claude") == 2
    assert store.audit_count(actor="agent", since=START + 3) == 3
    assert store.newest_audit_id() == varied[-1].id


def reference(events: list[AuditEvent], wanted: audit_search.AuditFilter) -> list[int]:
    """What the filter means, in plain Python (text aside)."""

    def matches(event: AuditEvent) -> bool:
        if wanted.actor == "agent":
            if event.actor in ("human", "engine") or event.actor.startswith("policy:"):
                return False
        elif wanted.actor is not None and event.actor != wanted.actor:
            return False
        if wanted.kind is not None and not (
            event.kind == wanted.kind or event.kind.startswith(wanted.kind + ".")
        ):
            return False
        return not (
            (wanted.project_id is not None and event.project_id != wanted.project_id)
            or (wanted.since is not None and event.ts < wanted.since)
            or (wanted.until is not None and event.ts >= wanted.until)
            or (wanted.before_id is not None and event.id >= wanted.before_id)
            or (wanted.after_id is not None and event.id <= wanted.after_id)
        )

    found = [event.id for event in events if matches(event)]
    return sorted(found) if wanted.after_id is not None else sorted(found, reverse=True)


@pytest.mark.parametrize(("narrow_range", "most_kinds"), [(50_000, 64), (3, 1)])
def test_every_plan_agrees_with_a_plain_reading_of_the_filters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, narrow_range: int, most_kinds: int
) -> None:
    """Random filters over random events, through each plan: narrow or wide time ranges, kinds
    expanded or checked row by row, with text (the full-text index drives) or without."""
    monkeypatch.setattr(audit_search, "NARROW_RANGE_EVENTS", narrow_range)
    monkeypatch.setattr(audit_search, "MOST_KINDS", most_kinds)
    generator = random.Random(5)
    # A clock that sometimes goes back: time ranges must not assume ts grows with id.
    times = iter([START + generator.uniform(0, 200) for _ in range(400)])

    class WanderingClock(FixedClock):
        def now(self) -> float:
            return next(times)

    store = Store(tmp_path / "o.db", clock=WanderingClock())
    actors = ["human", "engine", "claude", "gemini", "policy:fail"]
    kinds = ["task", "task.done", "task.review.passed", "taskforce.x", "call.ok", "call.failed"]
    events: list[AuditEvent] = []
    for _ in range(8):
        events += record(
            store,
            *(
                Event(
                    generator.choice(actors),
                    generator.choice(kinds),
                    "common " + generator.choice(["alpha", "beta"]),
                    project_id=generator.choice([1, 2, None]),
                )
                for _ in range(50)
            ),
        )
    for _ in range(300):
        low = generator.uniform(0, 200)
        wanted = audit_search.AuditFilter(
            actor=generator.choice([None, "agent", *actors]),
            kind=generator.choice([None, "task", "call", "task.review", *kinds]),
            project_id=generator.choice([None, 1, 2]),
            since=generator.choice([None, START + low]),
            until=generator.choice([None, START + low + generator.choice([1, 20, 150])]),
            before_id=generator.choice([None, generator.randint(1, 400)]),
            after_id=generator.choice([None, None, generator.randint(1, 400)]),
        )
        arguments = {name: getattr(wanted, name) for name in wanted.__dataclass_fields__}
        expected = reference(events, wanted)[:25]
        assert ids(store.search_audit(**arguments, limit=25)) == expected, wanted
        with_text = {**arguments, "text": "common"}
        assert ids(store.search_audit(**with_text, limit=25)) == expected, wanted
        assert store.audit_count(**arguments) == len(reference(events, wanted)), wanted
    store.close()


def test_filter_queries_read_an_index_newest_first(store: Store, varied: list[AuditEvent]) -> None:
    def plan(sql: str, *parameters: object) -> str:
        return " | ".join(row[3] for row in store.query(f"EXPLAIN QUERY PLAN {sql}", parameters))

    newest = "ORDER BY id DESC LIMIT 100"
    assert "audit_by_actor (actor=?)" in plan(f"SELECT * FROM audit WHERE actor = ? {newest}", "claude")
    assert "audit_by_kind (kind=?)" in plan(f"SELECT * FROM audit WHERE kind = ? {newest}", "task.done")
    assert "audit_by_actor_kind (actor=? AND kind=?)" in plan(
        f"SELECT * FROM audit WHERE actor = ? AND kind = ? {newest}", "claude", "task.done"
    )
    assert "audit_by_project (project_id=?)" in plan(f"SELECT * FROM audit WHERE project_id = ? {newest}", 1)
    assert "audit_by_ts (ts>? AND ts<?)" in plan("SELECT min(id) FROM audit WHERE ts > ? AND ts < ?", 0, 1)
    for sql in (
        f"SELECT * FROM audit WHERE actor = ? {newest}",
        f"SELECT * FROM audit WHERE kind = ? {newest}",
        f"SELECT * FROM audit WHERE project_id = ? {newest}",
    ):
        assert "TEMP B-TREE" not in plan(sql, "x")
    assert "TEMP B-TREE" not in plan(
        "SELECT a.id FROM audit_text CROSS JOIN audit a ON a.id = audit_text.rowid"
        " WHERE audit_text MATCH ? ORDER BY audit_text.rowid DESC LIMIT 100",
        '"x"',
    )


# ----------------------------------------------------------- the full-text index


def integrity_check(store: Store) -> None:
    store.query("INSERT INTO audit_text (audit_text, rank) VALUES ('integrity-check', 1)")


def test_the_index_keeps_in_step_within_each_transaction(store: Store) -> None:
    (first,) = record(store, Event("claude", "task.done", "Indexed at once"))
    assert ids(store.search_audit(text="indexed")) == [first.id]
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.audit("claude", "task.done", "Rolled back with its index entry")
        assert store.audit_count(text="rolled") == 1  # same transaction, same connection
        raise RuntimeError("undo")
    assert store.search_audit(text="rolled") == []
    integrity_check(store)
    with store.transaction() as tx:
        tx.execute("DELETE FROM audit WHERE id = ?", (first.id,))
        pruned = tx.audit("human", "audit.pruned", "Pruned one event")
    assert store.search_audit(text="indexed") == []
    assert ids(store.search_audit(text="pruned")) == [pruned.id]
    integrity_check(store)


def test_an_update_moves_the_index_entry(store: Store) -> None:
    (event,) = record(store, Event("claude", "task.done", "Before"))
    with store.transaction() as tx:
        tx.execute("UPDATE audit SET summary = 'After' WHERE id = ?", (event.id,))
        tx.audit("human", "audit.edited", "Edited")
    assert store.search_audit(text="before") == []
    assert ids(store.search_audit(text="after")) == [event.id]
    integrity_check(store)


def test_migration_6_indexes_the_events_of_a_schema_5_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:5]:
        connection.executescript(script)
    connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    connection.execute("PRAGMA user_version = 5")
    connection.executemany(
        "INSERT INTO audit (ts, project_id, actor, kind, subject, summary, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (START, 1, "claude", "task.done", "task:1", "Old news about caching", '{"note":"stale"}'),
            (START + 1, 1, "human", "decision.opened", "decision:1", "An older question", "{}"),
        ],
    )
    connection.close()

    store = Store(path, clock=FixedClock(start=START + 10, step=1.0))
    assert store.schema_version == len(MIGRATIONS) >= 6
    assert ids(store.search_audit(text="caching")) == [1]
    assert ids(store.search_audit(text="stale")) == [1]
    assert ids(store.search_audit(text="older")) == [2]
    record(store, Event("engine", "task.created", "New caching layer"))
    assert ids(store.search_audit(text="caching")) == [3, 1]
    integrity_check(store)
    store.close()


def test_a_sqlite_without_fts5_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    class NoFullTextSearch:
        def execute(self, sql: str, *parameters: object) -> sqlite3.Cursor:
            if "compileoption" in sql:
                return sqlite3.connect(":memory:").execute("SELECT 0")
            raise sqlite3.OperationalError("no such module: fts5")

    with pytest.raises(StoreError, match=r"built without full-text search \(FTS5\)"):
        _require_full_text_search(NoFullTextSearch(), tmp_path / "o.db")  # type: ignore[arg-type]  # a stand-in for the connection: only execute() is called


# --------------------------------------------------------------- orkestra audit


def run_cli(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    try:
        status = main(list(arguments))
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def logged(engine: Engine) -> Engine:
    """An engine whose log holds a few known events in two projects."""
    alpha = engine.create_project("Alpha")
    beta = engine.create_project("Beta")
    record(
        engine.store,
        Event("claude", "task.done", "Cached the [bold]parser[/bold]", "task:1", alpha.id),
        Event("gemini", "call.failed", "Timeout talking to the parser", "task:2", beta.id),
        Event("human", "task.review", "Looks good", "task:1", alpha.id),
    )
    return engine


def audit_json(capsys: pytest.CaptureFixture[str], paths: Paths, *arguments: str) -> list[dict[str, Any]]:
    status, out, err = run_cli(capsys, "--data-dir", str(paths.config_dir), "audit", "--json", *arguments)
    assert (status, err) == (0, "")
    events: list[dict[str, Any]] = json.loads(out)["events"]
    return events


def test_the_command_filters_and_searches(
    logged: Engine, paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    def summaries(*arguments: str) -> list[str]:
        return [event["summary"] for event in audit_json(capsys, paths, *arguments)]

    assert summaries("--search", "parser") == [
        "Timeout talking to the parser",
        "Cached the [bold]parser[/bold]",
    ]
    assert summaries("--search", "parser", "--project", "Alpha") == ["Cached the [bold]parser[/bold]"]
    assert summaries("--actor", "human", "--kind", "task") == ["Looks good"]
    assert summaries("--actor", "agent", "--kind", "call") == ["Timeout talking to the parser"]
    assert summaries("--kind", "task", "--limit", "1") == ["Looks good"]
    assert summaries("--search", '"unbalanced (') == []
    since_everything = datetime.fromtimestamp(START - 60, UTC).strftime("%Y-%m-%dT%H:%M")
    assert len(summaries("--since", since_everything, "--kind", "task")) == 2
    assert summaries("--since", "2099-01-01") == []


def test_since_counts_back_from_now(
    logged: Engine, paths: Paths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    newest = logged.store.search_audit(limit=1)[0]
    moment = datetime.fromtimestamp(newest.ts, UTC)
    monkeypatch.setattr(audit_command, "current_time", lambda: moment + timedelta(seconds=0.5))
    assert [event["id"] for event in audit_json(capsys, paths, "--since", "1s")] == [newest.id]
    assert len(audit_json(capsys, paths, "--since", "1d")) > 1


def test_since_accepts_dates_times_and_ages() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert audit_command.parse_since("10m", now) == now - timedelta(minutes=10)
    assert audit_command.parse_since("2h", now) == now - timedelta(hours=2)
    assert audit_command.parse_since("3d", now) == now - timedelta(days=3)
    assert audit_command.parse_since("1.5h", now) == now - timedelta(minutes=90)
    assert audit_command.parse_since("2026-11-23T10:00Z", now) == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert audit_command.parse_since("2026-11-23", now) == datetime(2026, 11, 23, tzinfo=UTC)  # TZ=UTC
    assert audit_command.parse_since("2026-11-23T10:00", now) == datetime(2026, 11, 23, 10, tzinfo=UTC)
    for bad in ("yesterday", "10 minutes", "-2h", "2026-13-01", "", "10y"):
        with pytest.raises(ValueError):
            audit_command.parse_since(bad, now)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ("--since", "yesterday"),
            'orkestra audit: argument --since: "yesterday" is neither a date nor a time',
        ),
        (("--since", "2026-13-01"), 'orkestra audit: argument --since: "2026-13-01" is neither'),
        (("--project", "Gamma"), 'orkestra: there is no project named "Gamma"; projects: "Alpha", "Beta"'),
        (("--project", "\x1b[31mred"), 'orkestra: there is no project named "\\x1b[31mred"'),
    ],
)
def test_bad_since_and_project_get_one_line_and_exit_2(
    logged: Engine,
    paths: Paths,
    capsys: pytest.CaptureFixture[str],
    arguments: tuple[str, ...],
    expected: str,
) -> None:
    status, out, err = run_cli(capsys, "--data-dir", str(paths.config_dir), "audit", *arguments)
    assert (status, out) == (2, "")
    assert err.startswith(expected)
    assert len(err.splitlines()) == 1


def test_the_table_shows_markup_as_text(
    logged: Engine, paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run_cli(capsys, "--data-dir", str(paths.config_dir), "audit", "--search", "cached")
    assert status == 0
    assert "Cached the [bold]parser[/bold]" in out
    status, out, _ = run_cli(capsys, "--data-dir", str(paths.config_dir), "audit", "--search", "nowhere")
    assert (status, out) == (0, "No event matches.\n")


def test_follow_writes_the_backlog_then_each_new_match(
    logged: Engine, paths: Paths, settings: Settings
) -> None:
    lines: queue.Queue[AuditEvent] = queue.Queue()
    stop = threading.Event()
    failures: list[BaseException] = []

    def tail() -> None:
        store = Store(paths.database)  # its own connection, as another process would have
        try:
            audit_command.follow(store, {"actor": "claude"}, lines.put, backlog=5, stop=stop, interval=0.01)
        except BaseException as error:  # reported by the test below
            failures.append(error)
        finally:
            store.close()

    worker = threading.Thread(target=tail, name="audit-follow")
    worker.start()
    try:
        assert lines.get(timeout=10).summary == "Cached the [bold]parser[/bold]"
        writer = Engine(paths, settings, clock=FixedClock(start=START + 100, step=1.0), env={})
        try:
            new = record(
                writer.store,
                Event("claude", "task.done", "First new one"),
                Event("gemini", "task.done", "Not followed"),
                Event("claude", "task.done", "Second new one"),
            )
        finally:
            writer.close()
        assert [lines.get(timeout=10).id for _ in range(2)] == [new[0].id, new[2].id]
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not failures
    assert lines.empty()


def test_follow_streams_json_lines_and_ctrl_c_ends_it_quietly(
    logged: Engine, paths: Paths, settings: Settings
) -> None:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "orkestra_tui", "--data-dir", str(paths.config_dir)),
            *("audit", "--follow", "--kind", "task", "--limit", "1"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        backlog = json.loads(process.stdout.readline())
        assert backlog["summary"] == "Looks good"
        writer = Engine(paths, settings, clock=FixedClock(start=START + 100, step=1.0), env={})
        try:
            (new,) = record(writer.store, Event("grok", "task.done", "Written by another engine"))
        finally:
            writer.close()
        line = process.stdout.readline()
        assert line.endswith("}\n")
        assert json.loads(line)["id"] == new.id
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# ------------------------------------------------------------------------ bench


def test_the_audit_bench_runs_quick(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "bench", "--quick", "--json", "--scenario", "audit")
    assert status == 0
    figures = json.loads(out)["audit"]
    assert {"events", "insert_per_s", "search_ms", "filter_ms", "baseline_insert_per_s"} <= set(figures)
    assert figures["events"] == 20_000
    assert figures["search_ms"] > 0 and figures["filter_ms"] > 0 and figures["insert_per_s"] > 0
    assert figures["export_json_peak_mb"] > 0 and figures["baseline_export_json_peak_mb"] > 0
