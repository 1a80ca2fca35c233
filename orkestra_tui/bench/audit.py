"""`orkestra bench --scenario audit`: searching and filtering a million audit events.

The events are written as the engine writes them: through the store's
transactions (`Transaction.audit`: secrets redacted, the full-text index kept
in step by its triggers), `BATCH` per transaction, on a clock that moves half
a second per event. They are seeded, so every run writes the same log: actors
and kinds in the proportions a run produces, summaries and data drawn from a
vocabulary in which each search word is in about one event in thirteen.

`search_ms` is the median over `SEARCH_WORDS` of a full-text search for the
newest 100 matches; `filter_ms` the median over `FILTERS` of an actor plus
kind (or kind prefix) filter; `search_and_filter_ms` both at once. Each query
is timed as the best of `REPEATS`. Baselines from the same run: the same
writes into a database whose full-text triggers were dropped
(`baseline_insert_per_s`), and a plain newest-100 read
(`baseline_latest_ms`).

`export_json_s` and `export_json_peak_mb` are the time and peak memory of the
real `orkestra audit --json --limit 0` over the whole log, written to
/dev/null, beside a raw sqlite3 query in a bare Python writing the same
lines (`baseline_export_json_s`, `baseline_export_json_peak_mb`). Each runs in
its own process, started by a small one (`MEASURE`) that reads its peak memory.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from orkestra_tui.config import resolve_paths
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.store.rows import AUDIT_COLUMNS
from orkestra_tui.engine.store.store import Store

EVENTS = 1_000_000
QUICK_EVENTS = 20_000
BATCH = 1000
REPEATS = 3
SEED = 20261123
AGENTS = ("claude", "chatgpt", "gemini", "copilot", "grok")
KINDS = (
    "task.created",
    "task.ready",
    "task.running",
    "task.done",
    "task.review",
    "task.blocked",
    "task.checked",
    "call.ok",
    "call.failed",
    "ballot.cast",
    "round.started",
    "round.closed",
    "decision.opened",
    "decision.resolution",
    "inbox.opened",
    "inbox.answered",
    "project.budget",
    "agent.registered",
)
_WORDS = (
    "schema migration index cache parser endpoint token retry budget login search export import "
    "report invoice customer order payment refund shipping inventory warehouse stock alert metric "
    "dashboard widget button layout theme font colour screen modal table column row filter sort page "
    "query result error warning timeout latency queue worker thread lock lease vote ballot round "
    "option committee plan phase review test build deploy release branch commit merge conflict patch "
    "diff file folder path config setting secret key session cookie header footer sidebar tooltip "
    "banner upload download"
)
VOCABULARY = tuple(_WORDS.split())
"""The words of summaries and data; each search word is in about one event in thirteen."""
SEARCH_WORDS = ("refund", "timeout", "dashboard", "migration", "release")
FILTERS = (("claude", "task"), ("human", "inbox"), ("engine", "task.done"), ("agent", "call"))
SEARCH_AND_FILTER = (("timeout", "gemini", "call"), ("refund", "agent", "task.review"))
LATEST = f"SELECT {AUDIT_COLUMNS} FROM audit ORDER BY id DESC LIMIT 100"
"""The baseline read: the newest 100 events, no filter."""


BASELINE_EXPORT = r"""
import json, sqlite3, sys
from datetime import UTC, datetime

def iso_time(timestamp):
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

connection = sqlite3.connect(sys.argv[1])
out = sys.stdout
out.write('{\n  "events": [\n')
separator = ""
for row in connection.execute("SELECT COLUMNS FROM audit ORDER BY id DESC"):
    document = {
        "id": row[0], "time": iso_time(row[1]), "project_id": row[2], "actor": row[3], "kind": row[4],
        "subject": row[5], "summary": row[6], "data": json.loads(row[7]) if row[7] else {},
    }
    text = json.dumps(document, indent=2, ensure_ascii=True, default=str)
    out.write(separator + "    " + text.replace("\n", "\n    "))
    separator = ",\n"
out.write("\n  ]\n}\n")
""".replace("COLUMNS", AUDIT_COLUMNS)
"""The export's baseline: a raw sqlite3 query in a bare Python, writing what `orkestra audit --json` does."""


def describe(*, quick: bool = False) -> str:
    """The scenario's title, naming the workload it measures."""
    return (
        f"{QUICK_EVENTS if quick else EVENTS:,} audit events: full-text search and filters"
        " for the newest 100; the JSON of all"
    )


DESCRIPTION = describe()


def run(*, quick: bool = False, events: int | None = None) -> dict[str, float | int]:
    count = events or (QUICK_EVENTS if quick else EVENTS)
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as folder:
        baseline_rate = _insert_rate(Path(folder) / "baseline.db", count, full_text=False)
        home = Path(folder) / "home"
        path = resolve_paths(home).database
        path.parent.mkdir(parents=True)
        insert_rate = _insert_rate(path, count, full_text=True)
        store = Store(path, clock=FixedClock())
        try:
            figures: dict[str, float | int] = {
                "events": store.newest_audit_id(),
                "insert_per_s": round(insert_rate),
                "baseline_insert_per_s": round(baseline_rate),
                "search_ms": _median_ms([partial(store.search_audit, text=word) for word in SEARCH_WORDS]),
                "filter_ms": _median_ms(
                    [partial(store.search_audit, actor=actor, kind=kind) for actor, kind in FILTERS]
                ),
                "search_and_filter_ms": _median_ms(
                    [
                        partial(store.search_audit, text=word, actor=actor, kind=kind)
                        for word, actor, kind in SEARCH_AND_FILTER
                    ]
                ),
                "baseline_latest_ms": _median_ms([partial(store.query, LATEST)]),
                "database_mb": round(path.stat().st_size / 1e6, 1),
            }
        finally:
            store.close()
        export_s, export_mb = _measured_process(
            [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), "audit", "--json", "--limit", "0"]
        )
        baseline_export_s, baseline_export_mb = _measured_process(
            [sys.executable, "-c", BASELINE_EXPORT, str(path)]
        )
        figures |= {
            "export_json_s": export_s,
            "export_json_peak_mb": export_mb,
            "baseline_export_json_s": baseline_export_s,
            "baseline_export_json_peak_mb": baseline_export_mb,
        }
    return figures


MEASURE = r"""
import os, signal, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
signal.signal(signal.SIGINT, signal.SIG_IGN)  # ctrl+c is for the command; this only waits for it
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
print(child.returncode, time.perf_counter() - started, usage.ru_maxrss)
"""
"""Runs a command and prints its exit status, wall time and peak memory (KiB).

A process started from a large one counts that one's memory in its own peak
(`ru_maxrss` keeps the high-water mark of the image it was forked from), so
the command is started from this small process rather than from the bench.
"""


def _measured_process(command: list[str]) -> tuple[float, float]:
    """Run `command` with its output to /dev/null: its wall time in seconds and its own peak memory in MB."""
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=False
    )
    status, seconds, peak_kib = measured.stdout.split()
    if int(status) != 0:
        raise RuntimeError(f"{command[2]} failed: {measured.stderr.strip()}")
    return round(float(seconds), 2), round(int(peak_kib) / 1024, 1)


def make_events(count: int, *, seed: int = SEED) -> Iterator[tuple[str, str, str, str, int, dict[str, Any]]]:
    """`count` events as (actor, kind, subject, summary, project id, data), the same for the same seed."""
    generator = random.Random(seed)
    for _ in range(count):
        draw = generator.random()
        if draw < 0.30:
            actor = "engine"
        elif draw < 0.35:
            actor = "human"
        elif draw < 0.36:
            actor = "policy:random"
        else:
            actor = generator.choice(AGENTS)
        kind = generator.choice(KINDS)
        task_id = generator.randint(1, 20_000)
        title = " ".join(generator.sample(VOCABULARY, generator.randint(3, 6)))
        data = {
            "task_id": task_id,
            "agent": generator.choice(AGENTS),
            "note": " ".join(generator.sample(VOCABULARY, 2)),
        }
        summary = f"{kind.partition('.')[2].replace('_', ' ')}: {title}"
        yield actor, kind, f"task:{task_id}", summary, 1 + task_id % 5, data


def _insert_rate(path: Path, count: int, *, full_text: bool) -> float:
    """Events per second written through the store's transactions, `BATCH` per transaction."""
    store = Store(path, clock=FixedClock(start=time.time() - count * 0.5, step=0.5))
    try:
        if not full_text:  # the baseline: the same writes, with nothing kept in step
            for trigger in ("audit_text_insert", "audit_text_delete", "audit_text_update"):
                store.query(f"DROP TRIGGER {trigger}")
        events = make_events(count)
        seconds = 0.0
        written = 0
        while written < count:
            batch = [next(events) for _ in range(min(BATCH, count - written))]
            started = time.perf_counter()
            with store.transaction() as tx:
                for actor, kind, subject, summary, project_id, data in batch:
                    tx.audit(actor, kind, summary, subject=subject, project_id=project_id, data=data)
            seconds += time.perf_counter() - started
            written += len(batch)
        return count / seconds
    finally:
        store.close()


def _median_ms(queries: list[Callable[[], object]]) -> float:
    """The median over `queries` of each one's best time of `REPEATS`, in milliseconds."""
    best: list[float] = []
    for query in queries:
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            query()
            times.append(time.perf_counter() - started)
        best.append(min(times))
    return round(statistics.median(best) * 1000, 2)
