"""The audit log's filtered views, and their export as JSON Lines, CSV or Markdown.

Headless (no Textual, no Rich), so the Audit screen and `orkestra audit` share
it. A view is an `AuditFilter` (`audit_search`'s, its cursors unused);
`matching_pages` (or `matching_events`) walks every event it matches, newest
first, a page at a time (keyset pagination on the id, so a million events cost
a million rows read once, never an OFFSET scan, and the memory of one page). `export_events`
writes events to a file atomically: a temporary file beside the target,
renamed over it only once complete, so a failed or cancelled export leaves
whatever was there before.

What the files hold is safe to open: every text passes `redact` once more
(the store already redacts, this guards the file too), and a CSV cell that a
spreadsheet would run as a formula starts with a quote.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from orkestra_tui.engine.models import AuditEvent
from orkestra_tui.engine.store.audit_search import AuditFilter
from orkestra_tui.errors import OrkestraError
from orkestra_tui.secrets import redact

FORMATS = {"jsonl": "JSON Lines", "csv": "CSV", "md": "Markdown"}
"""The export formats, by the name `export_events` takes, with their display names."""
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".md": "md", ".markdown": "md"}
"""The format a file name's extension implies."""
COLUMNS = ("id", "time", "project_id", "project", "actor", "kind", "subject", "summary", "data")
"""The fields of an exported event, in order (CSV columns, JSON keys)."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A CSV cell starting with one of these is a formula to a spreadsheet (CSV injection)."""
EXPORT_PAGE_SIZE = 500

AuditSearch = Callable[..., list[AuditEvent]]
"""`Store.search_audit`: keyword filters, `before_id` and `limit` in; events newest first out."""


class ExportError(OrkestraError):
    """An export could not be written where the user asked."""


def search_arguments(audit_filter: AuditFilter) -> dict[str, Any]:
    """`audit_filter` as keyword arguments of `Store.search_audit` and `audit_count`, without its cursors.

    Blank text and kind are no filter.
    """
    return {
        "text": (audit_filter.text or "").strip() or None,
        "actor": audit_filter.actor or None,
        "kind": (audit_filter.kind or "").strip() or None,
        "project_id": audit_filter.project_id,
        "since": audit_filter.since,
        "until": audit_filter.until,
    }


def filter_active(audit_filter: AuditFilter) -> bool:
    """Whether `audit_filter` leaves any event out."""
    return any(value is not None for value in search_arguments(audit_filter).values())


def matching_pages(
    search: AuditSearch,
    audit_filter: AuditFilter,
    page_size: int = EXPORT_PAGE_SIZE,
    *,
    before_id: int | None = None,
    limit: int | None = None,
) -> Iterator[list[AuditEvent]]:
    """Every event `audit_filter` matches, newest first, in pages of `page_size`: all of them,
    or the newest `limit`; only those older than `before_id` if it is given."""
    remaining = limit
    while remaining is None or remaining > 0:
        size = page_size if remaining is None else min(page_size, remaining)
        page = search(**search_arguments(audit_filter), before_id=before_id, limit=size)
        if page:
            yield page
        if len(page) < size:
            return
        before_id = page[-1].id
        if remaining is not None:
            remaining -= len(page)


def matching_events(
    search: AuditSearch,
    audit_filter: AuditFilter,
    *,
    before_id: int | None = None,
    limit: int | None = None,
) -> Iterator[AuditEvent]:
    """`matching_pages` one event at a time: memory stays that of one page, however many match."""
    for page in matching_pages(search, audit_filter, before_id=before_id, limit=limit):
        yield from page


# ------------------------------------------------------------------ times

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])(?:\s+ago)?$")
_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_time(value: str, now: float) -> float | None:
    """A time typed by the user: `2026-11-23 10:00` (local), `10:00` (today), an ISO time, or an age: `2h`.

    Empty text is no time (None); anything else that is not a time raises
    `OrkestraError` with a one-line hint.
    """
    text = value.strip()
    if not text:
        return None
    relative = _RELATIVE.match(text.lower())
    if relative:
        return now - float(relative.group(1)) * _UNIT_SECONDS[relative.group(2)]
    if _TIME_OF_DAY.match(text):  # a time of day: today's
        text = f"{datetime.fromtimestamp(now).date().isoformat()} {text.zfill(5)}"
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.astimezone()  # a time without a zone is local time
        return moment.timestamp()
    except (ValueError, OverflowError, OSError):
        raise OrkestraError("not a time: try 2026-11-23 10:00, or 2h for two hours ago") from None


def iso_time(timestamp: float) -> str:
    """A timestamp as ISO 8601 in UTC, to the millisecond (as `orkestra audit --json` prints it)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ----------------------------------------------------------------- writing


def format_for(path: Path | str, chosen: str | None = None) -> str:
    """The format to write `path` in: `chosen` if given, else the one its extension implies."""
    if chosen:
        if chosen not in FORMATS:
            raise ExportError(f"unknown format {chosen!r} (choose {', '.join(FORMATS)})")
        return chosen
    implied = EXTENSIONS.get(Path(path).suffix.lower())
    if implied is None:
        raise ExportError("end the file name with an extension (.jsonl, .csv or .md), or choose a format")
    return implied


def event_record(event: AuditEvent, project_names: Mapping[int, str] | None = None) -> dict[str, Any]:
    """An event as exported: every field, its time in ISO 8601 (UTC), its project's name."""
    project = (project_names or {}).get(event.project_id) if event.project_id is not None else None
    return {
        "id": event.id,
        "time": iso_time(event.ts),
        "project_id": event.project_id,
        "project": project,
        "actor": event.actor,
        "kind": event.kind,
        "subject": event.subject,
        "summary": event.summary,
        "data": event.data,
    }


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading `=`, `+`, `-`, `@` gets a quote before it."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def markdown_cell(value: object) -> str:
    """A Markdown table cell that shows `value` literally, on one line."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


class EventWriter:
    """Writes events to a temporary file beside `path`; renames it over `path` on a clean exit.

    Use it as a context manager and call `write` with each page of events; an
    exception (cancellation included) removes the temporary file and leaves
    `path` as it was. The file is created readable by its owner only.
    """

    def __init__(
        self, path: Path | str, export_format: str, *, project_names: Mapping[int, str] | None = None
    ) -> None:
        self.path = Path(path)
        self.format = format_for(self.path, export_format)
        self.project_names = project_names or {}
        self.written = 0
        self._temporary: Path | None = None
        self._handle: IO[str] | None = None
        self._csv: Any = None

    def __enter__(self) -> EventWriter:
        path = self.path
        folder = path.parent
        if path.is_dir():
            raise ExportError(f"{path} is a folder; name a file in it")
        if not folder.is_dir():
            raise ExportError(f"cannot write {path}: the folder {folder} does not exist")
        try:
            descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        except OSError as error:
            raise ExportError(f"cannot write in {folder}: {error.strerror or error}") from None
        self._temporary = Path(name)
        self._handle = os.fdopen(descriptor, "w", encoding="utf-8", newline="")
        if self.format == "csv":
            self._csv = csv.writer(self._handle)
            self._csv.writerow(COLUMNS)
        elif self.format == "md":
            self._handle.write("# Orkestra audit log\n\n")
            self._handle.write("| " + " | ".join(COLUMNS) + " |\n")
            self._handle.write("|" + "---|" * len(COLUMNS) + "\n")
        return self

    def write(self, events: Iterable[AuditEvent]) -> None:
        handle = self._handle
        assert handle is not None, "write inside the `with` block"
        try:
            for event in events:
                record = event_record(event, self.project_names)
                if self.format == "jsonl":
                    handle.write(redact(json.dumps(record, ensure_ascii=False, sort_keys=False)) + "\n")
                elif self.format == "csv":
                    self._csv.writerow([redact(csv_cell(record[column])) for column in COLUMNS])
                else:
                    cells = (redact(markdown_cell(record[column])) for column in COLUMNS)
                    handle.write("| " + " | ".join(cells) + " |\n")
                self.written += 1
        except OSError as error:
            raise ExportError(f"cannot write {self.path}: {error.strerror or error}") from None

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        handle, temporary = self._handle, self._temporary
        self._handle = self._temporary = None
        if handle is None or temporary is None:
            return
        try:
            if error_type is None:
                if self.format == "md" and not self.written:
                    handle.write("\nNo events matched.\n")
                handle.flush()
                os.fsync(handle.fileno())
            handle.close()
            if error_type is None:
                os.replace(temporary, self.path)
        except OSError as problem:
            temporary.unlink(missing_ok=True)
            raise ExportError(f"cannot write {self.path}: {problem.strerror or problem}") from None
        finally:
            if error_type is not None:
                temporary.unlink(missing_ok=True)


def export_events(
    events: Iterable[AuditEvent],
    path: Path | str,
    format: str | None = None,
    *,
    project_names: Mapping[int, str] | None = None,
) -> int:
    """Write `events` to `path` as JSON Lines, CSV or Markdown (None: by extension); how many were written.

    The file appears whole or not at all. Raises `ExportError` with one line
    when the path cannot be written.
    """
    with EventWriter(path, format_for(path, format), project_names=project_names) as writer:
        writer.write(events)
    return writer.written
