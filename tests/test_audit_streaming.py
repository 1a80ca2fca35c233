"""`orkestra audit` over a large log: read a page at a time, each event written as it is read.

The JSON document, the table and `--follow` all keep the memory of one page,
however many events there are; the real command runs in a subprocess and its
peak memory is read from the kernel (`wait4`'s `ru_maxrss`, of that child alone).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import IO, Any

import pytest

from orkestra_tui.bench.audit import make_events
from orkestra_tui.commands import audit as audit_command
from orkestra_tui.commands.output import print_json
from orkestra_tui.config import Paths, Settings, resolve_paths
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.store.audit_export import matching_events, matching_pages
from orkestra_tui.engine.store.audit_search import AuditFilter
from orkestra_tui.engine.store.store import AUDIT_INSERT, Store, dumps

LARGE_LOG = 100_000
"""Events in the large log. Reading them all into a list first took 430 MB for the JSON
document and 150 MB for `--follow`; a page at a time takes about 30 MB."""
MOST_MB = 100
"""The most memory `orkestra audit` may use over the large log, whatever the limit."""


def fill_audit(database: Path, count: int, *, start: float = 1_790_000_000.0) -> None:
    """Append `count` seeded events to the audit log of `database`, half a second apart.

    Written with `executemany` and the store's own insert; the full-text index is
    built once at the end (the 'rebuild' its migration runs) instead of row by row
    by its trigger, which is put back as it was: the same index, several times faster.
    """
    Store(database).close()  # the schema, at its current version
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        (trigger,) = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_text_insert'"
        ).fetchone()
        rows = (
            (start + number * 0.5, None, actor, kind, subject, summary, dumps(data))
            for number, (actor, kind, subject, summary, _, data) in enumerate(make_events(count))
        )
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("DROP TRIGGER audit_text_insert")
        connection.executemany(AUDIT_INSERT, rows)
        connection.execute(trigger)
        connection.execute("INSERT INTO audit_text (audit_text) VALUES ('rebuild')")
        connection.execute("COMMIT")
    finally:
        connection.close()


@pytest.fixture(scope="module")
def large_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A data dir whose audit log holds `LARGE_LOG` events (and the agents' registrations), and its count."""
    home = tmp_path_factory.mktemp("large-log")
    paths = resolve_paths(home)
    paths.create()
    fill_audit(paths.database, LARGE_LOG)
    Engine(paths, Settings(), env={}).close()  # registers the agents, as any first command would
    with sqlite3.connect(paths.database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM audit").fetchone()
    return home, int(count)


LAUNCHER = r"""
import os, signal, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
signal.signal(signal.SIGINT, signal.SIG_IGN)  # ctrl+c is for the command; this only waits for it
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as report:
    report.write(f"{child.returncode} {usage.ru_maxrss}")
"""
"""Starts a command and writes its exit status and peak memory (KiB) to the file named first.

Started straight from pytest, the command's peak would count pytest's own memory
(`ru_maxrss` keeps the high-water mark of the image a process was forked from),
so a small process starts it.
"""


class Measured:
    """The real `orkestra` command, started by `LAUNCHER` in a session of its own."""

    def __init__(self, home: Path, *arguments: str, stdout: IO[Any] | int) -> None:
        self.report = home.parent / f"report-{os.getpid()}-{id(self)}.txt"
        command = [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), *arguments]
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(self.report), *command],
            stdout=stdout,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"},
            start_new_session=True,  # so ctrl+c can go to its group, as from a terminal
        )

    def interrupt(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def finish(self) -> tuple[int, float, str]:
        """Wait for the command: its exit status, its peak memory in MB, and what it wrote on stderr."""
        try:
            _, errors = self.process.communicate(timeout=300)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        status, peak_kib = self.report.read_text().split()
        self.report.unlink()
        return int(status), int(peak_kib) / 1024, errors.decode()  # KiB on Linux


# ------------------------------------------------------------------ the large log


def test_the_json_of_every_event_keeps_the_memory_of_a_page(
    large_log: tuple[Path, int], tmp_path: Path
) -> None:
    home, count = large_log
    output = tmp_path / "audit.json"
    with output.open("wb") as handle:
        status, peak_mb, errors = Measured(home, "audit", "--json", "--limit", "0", stdout=handle).finish()
    assert (status, errors) == (0, "")
    assert peak_mb < MOST_MB, f"{peak_mb:.0f} MB"
    ids = [event["id"] for event in json.loads(output.read_text())["events"]]
    assert ids == list(range(count, 0, -1))


def test_the_table_keeps_the_memory_of_a_page(large_log: tuple[Path, int]) -> None:
    home, _ = large_log
    peaks = []
    for limit in ("500", "8000"):
        status, peak_mb, errors = Measured(
            home, "audit", "--limit", limit, stdout=subprocess.DEVNULL
        ).finish()
        assert (status, errors) == (0, "")
        peaks.append(peak_mb)
    # Sixteen times the rows, about the same memory (a table of every row took 40 MB more).
    assert peaks[1] - peaks[0] < 15, f"{peaks[0]:.0f} MB for 500 rows, {peaks[1]:.0f} MB for 8000"


def test_following_every_event_keeps_the_memory_of_a_page(large_log: tuple[Path, int]) -> None:
    home, count = large_log
    command = Measured(home, "audit", "--follow", "--limit", "0", stdout=subprocess.PIPE)
    stdout = command.process.stdout
    assert stdout is not None
    try:
        ids = [json.loads(stdout.readline())["id"] for _ in range(count)]
        assert ids == list(range(1, count + 1))  # the whole backlog, oldest first
        command.interrupt()
    finally:
        status, peak_mb, errors = command.finish()
    assert (status, errors) == (0, "")
    assert peak_mb < MOST_MB, f"{peak_mb:.0f} MB"


# --------------------------------------------------------------- what is written


@pytest.fixture
def small_log(paths: Paths, settings: Settings) -> Iterator[Engine]:
    paths.create()
    fill_audit(paths.database, 1_203)
    engine = Engine(paths, settings, clock=FixedClock(start=1_790_100_000.0), env={})
    try:
        yield engine
    finally:
        engine.close()


def test_the_streamed_json_is_the_document_print_json_wrote(small_log: Engine) -> None:
    for limit in (0, 1, 700):
        events = list(matching_events(small_log.store.search_audit, AuditFilter(), limit=limit or None))
        expected, streamed = io.StringIO(), io.StringIO()
        with redirect_stdout(expected):
            print_json({"events": [audit_command.event_document(event) for event in events]})
        with redirect_stdout(streamed):
            audit_command._print_json_events(audit_command.event_document(event) for event in events)
        assert streamed.getvalue() == expected.getvalue()
    empties: list[Iterable[dict[str, Any]]] = [[], iter(())]
    for empty in empties:
        streamed = io.StringIO()
        with redirect_stdout(streamed):
            audit_command._print_json_events(empty)
        assert streamed.getvalue() == '{\n  "events": []\n}\n'


def test_pages_stop_at_the_limit_and_start_below_the_given_id(small_log: Engine) -> None:
    search = small_log.store.search_audit
    newest = small_log.store.newest_audit_id()
    assert [len(page) for page in matching_pages(search, AuditFilter(), limit=1_100)] == [500, 500, 100]
    assert [len(page) for page in matching_pages(search, AuditFilter(), limit=1_000)] == [500, 500]
    everything = [event.id for event in matching_events(search, AuditFilter())]
    assert everything == list(range(newest, 0, -1))
    below = [event.id for event in matching_events(search, AuditFilter(), before_id=600, limit=3)]
    assert below == [599, 598, 597]
    by_claude = list(matching_events(search, AuditFilter(actor="claude"), limit=None))
    assert by_claude and {event.actor for event in by_claude} == {"claude"}
    assert len(by_claude) == small_log.store.audit_count(actor="claude")


@pytest.mark.parametrize("backlog", [1, 499, 500, 501, 700, 0])
def test_follow_writes_the_newest_backlog_oldest_first_across_pages(small_log: Engine, backlog: int) -> None:
    import threading

    store = small_log.store
    written: list[int] = []
    stop = threading.Event()
    stop.set()  # only the backlog
    audit_command.follow(
        store, {"kind": "task"}, lambda event: written.append(event.id), backlog=backlog, stop=stop
    )
    newest_first = [event.id for event in matching_events(store.search_audit, AuditFilter(kind="task"))]
    expected = newest_first[:backlog] if backlog else newest_first
    assert written == sorted(expected)


def test_the_table_lines_up_across_blocks(
    small_log: Engine, paths: Paths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orkestra_tui.cli import main

    monkeypatch.setattr(audit_command, "TABLE_ROWS", 7)
    for columns in ("200", "80", "50"):
        monkeypatch.setenv("COLUMNS", columns)
        assert main(["--data-dir", str(paths.config_dir), "audit", "--limit", "40"]) == 0
        lines = capsys.readouterr().out.splitlines()
        header = lines[0]
        assert header.split() == ["time", "actor", "kind", "subject", "summary"]
        actor_at, subject_at = header.index("actor"), header.index("subject")
        rows = [line for line in lines[1:] if line[actor_at] != " "]  # not a row's wrapped lines
        assert len(rows) == 40  # and the header came once
        assert max(len(line) for line in lines) <= int(columns)
        assert {row[subject_at - 2 : subject_at] for row in rows} == {"  "}  # every row's subject lines up
        assert " " not in {row[subject_at] for row in rows}


def test_an_empty_log_says_so(paths: Paths, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from orkestra_tui.cli import main

    assert main(["--data-dir", str(paths.config_dir), "audit", "--kind", "nothing.like.this"]) == 0
    assert capsys.readouterr().out == "No event matches.\n"


def test_a_reader_that_goes_away_ends_the_stream_quietly(large_log: tuple[Path, int]) -> None:
    home, _ = large_log
    command = Measured(home, "audit", "--json", "--limit", "0", stdout=subprocess.PIPE)
    stdout = command.process.stdout
    assert stdout is not None
    head = b"".join(itertools.islice(stdout, 5))
    assert head.startswith(b'{\n  "events": [\n    {\n')
    stdout.close()
    status, _, errors = command.finish()
    assert (status, errors) == (1, "")
