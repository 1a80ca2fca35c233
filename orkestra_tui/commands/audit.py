"""`orkestra audit`: the audit log, newest first, searched and filtered; `--follow` tails it.

`--limit 0` means every matching event. Events are read a page at a time (keyset
pagination on the id) and each is written as it is read, so a million of them
take the memory of one page, in the JSON document, the table and `--follow`.

`--follow` prints the newest `--limit` matching events, oldest first, then every
new one as it is committed (by this or any other process), one JSON object per
line, flushed at once. It polls the database every half second and runs until
interrupted: ctrl+c ends it quietly with exit status 0, as ending a tail is the
normal way to stop it.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from orkestra_tui.commands.context import add_common_options, load_context, whole_number
from orkestra_tui.config import Bounds

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from orkestra_tui.engine.models import AuditEvent
    from orkestra_tui.engine.store.audit_export import AuditSearch

FOLLOW_INTERVAL_SECONDS = 0.5
FOLLOW_PAGE = 500
"""Events read per query while catching up."""
TABLE_ROWS = 500
"""Rows of the table printed at once: their widths are measured together."""
EVENTS_PER_WRITE = 500
"""Events of the `--json` document written to stdout at once."""
JSON_EVENT_INDENT = " " * 4
"""How deep an event sits in the `--json` document (as `json.dumps(indent=2)` puts it)."""

LIMIT = Bounds(0, 1_000_000_000)
"""The values of `--limit`; 0 is every event."""


class AuditLog(Protocol):
    """What `follow` reads the log through: the Engine (or a Store)."""

    @property
    def search_audit(self) -> AuditSearch: ...

    def newest_audit_id(self) -> int: ...


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="show the audit log, newest first",
        description="Show recorded actions and decisions, newest first, optionally searched and "
        "filtered. Filters combine: an event must match all of them.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--follow",
        action="store_true",
        help="print the newest events, then each new one as it happens, as JSON lines, until ctrl+c",
    )
    parser.add_argument(
        "--limit",
        type=whole_number(LIMIT),
        default=50,
        metavar="N",
        help=f"at most N events, 0 for every one ({LIMIT.short()}; default 50)",
    )
    parser.add_argument(
        "--actor", metavar="A", help="events by A: an agent's name, human, engine, or agent for every agent"
    )
    parser.add_argument("--kind", metavar="K", help="events of kind K or below it (task matches task.done)")
    parser.add_argument("--project", metavar="P", help="events of the project named P")
    parser.add_argument(
        "--search",
        metavar="TEXT",
        help='events containing every word of TEXT ("a phrase" and prefix* work too)',
    )
    parser.add_argument(
        "--since",
        type=since_argument,
        metavar="TIME",
        help="events from TIME on: a local date or time (2026-11-23, 2026-11-23T10:00) or an age "
        "(30s, 10m, 2h, 3d, 1w)",
    )
    add_common_options(parser)
    parser.set_defaults(handler=run)


def parse_since(text: str, now: datetime) -> datetime:
    """`text` as a moment: an ISO date or date and time (local unless it says otherwise),
    or an age before `now` (`engine.audit_export.parse_time`, as on the Audit screen).
    Raises ValueError on anything else."""
    from orkestra_tui.engine.store.audit_export import parse_time
    from orkestra_tui.errors import OrkestraError

    try:
        moment = parse_time(text, now.timestamp())
    except OrkestraError as problem:
        raise ValueError(str(problem)) from None
    if moment is None:
        raise ValueError("no time given")
    return datetime.fromtimestamp(moment, now.tzinfo)


def current_time() -> datetime:
    """The local time now, that `--since 2h` counts back from (tests pin it)."""
    return datetime.now().astimezone()


def since_argument(text: str) -> float:
    """An argparse type: `--since` as epoch seconds."""
    from orkestra_tui.engine.voting.consensus.wording import quote_name

    try:
        return parse_since(text, current_time()).timestamp()
    except (ValueError, OverflowError, OSError):
        raise argparse.ArgumentTypeError(
            f"{quote_name(text)} is neither a date nor a time (2026-11-23, 2026-11-23T10:00)"
            " nor an age (10m, 2h, 3d)"
        ) from None


def run(args: argparse.Namespace) -> int:
    from orkestra_tui.engine.voting.consensus.wording import quote_name
    from orkestra_tui.errors import UsageError

    context = load_context(args)
    engine = context.open_engine(only_reads=True)
    try:
        filters: dict[str, Any] = {
            "text": args.search,
            "actor": args.actor,
            "kind": args.kind,
            "since": args.since,
        }
        if args.project is not None:
            project = engine.project_by_name(" ".join(args.project.split()))
            if project is None:
                names = ", ".join(quote_name(known.name) for known in engine.projects()) or "none yet"
                raise UsageError(f"there is no project named {quote_name(args.project)}; projects: {names}")
            filters["project_id"] = project.id
        if args.follow:
            return _follow_until_interrupted(engine, filters, backlog=args.limit)
        from orkestra_tui.engine.store.audit_export import matching_events
        from orkestra_tui.engine.store.audit_search import AuditFilter

        # Read a page at a time and write each event as it is read, with the database open.
        events = matching_events(engine.search_audit, AuditFilter(**filters), limit=args.limit or None)
        if args.json:
            _print_json_events(event_document(event) for event in events)
            return 0
        _print_table(events, filtered=any(value is not None for value in filters.values()))
        return 0
    finally:
        engine.close()


def _print_json_events(documents: Iterable[dict[str, Any]]) -> None:
    """`{"events": [...]}` exactly as `print_json` prints it, written one event at a time."""
    import json

    from orkestra_tui.commands.output import emit

    separator = '{\n  "events": [\n'
    pending: list[str] = []
    for document in documents:
        # ASCII only, as print_json: a string holds no raw newline, so each line of it is indented.
        text = json.dumps(document, indent=2, ensure_ascii=True, default=str)
        pending.append(separator + JSON_EVENT_INDENT + text.replace("\n", "\n" + JSON_EVENT_INDENT))
        separator = ",\n"
        if len(pending) == EVENTS_PER_WRITE:  # a few large writes cost less than many small ones
            emit("".join(pending), end="")
            pending.clear()
    pending.append("\n  ]\n}\n" if separator == ",\n" else '{\n  "events": []\n}\n')
    emit("".join(pending), end="")


def event_document(event: AuditEvent) -> dict[str, Any]:
    """An audit event as the JSON output shows it."""
    from orkestra_tui.commands.output import iso_time

    return {
        "id": event.id,
        "time": iso_time(event.ts),
        "project_id": event.project_id,
        "actor": event.actor,
        "kind": event.kind,
        "subject": event.subject,
        "summary": event.summary,
        "data": event.data,
    }


def follow(
    log: AuditLog,
    filters: dict[str, Any],
    write: Callable[[AuditEvent], None],
    *,
    backlog: int,
    stop: threading.Event,
    interval: float = FOLLOW_INTERVAL_SECONDS,
) -> None:
    """Write the newest `backlog` events matching `filters` (0: every one), oldest first, then
    every new match as it is committed, polling every `interval` seconds until `stop` is set.

    Events are read `FOLLOW_PAGE` at a time, however long the backlog.
    """
    seen = log.newest_audit_id()
    _write_between(log, filters, write, _backlog_start(log, filters, backlog, seen), seen)
    while not stop.wait(interval):
        newest = log.newest_audit_id()
        _write_between(log, filters, write, seen, newest)
        seen = max(seen, newest)


def _backlog_start(log: AuditLog, filters: dict[str, Any], backlog: int, newest: int) -> int:
    """The id after which the newest `backlog` matches up to `newest` begin (0: every match)."""
    from orkestra_tui.engine.store.audit_export import matching_events
    from orkestra_tui.engine.store.audit_search import AuditFilter

    if backlog == 0:
        return 0
    oldest = newest + 1
    for event in matching_events(
        log.search_audit, AuditFilter(**filters), before_id=newest + 1, limit=backlog
    ):
        oldest = event.id
    return oldest - 1


def _write_between(
    log: AuditLog, filters: dict[str, Any], write: Callable[[AuditEvent], None], after: int, newest: int
) -> None:
    """Write the matches after id `after` up to id `newest`, oldest first, a page at a time."""
    while newest > after:
        page = log.search_audit(**filters, after_id=after, before_id=newest + 1, limit=FOLLOW_PAGE)
        for event in page:
            write(event)
        if len(page) < FOLLOW_PAGE:
            break
        after = page[-1].id


def _follow_until_interrupted(log: AuditLog, filters: dict[str, Any], *, backlog: int) -> int:
    from orkestra_tui.commands.output import print_json_line

    def write_line(event: AuditEvent) -> None:
        print_json_line(event_document(event))

    try:
        follow(log, filters, write_line, backlog=backlog, stop=threading.Event())
    except KeyboardInterrupt:
        return 0
    return 0


def _print_table(events: Iterable[AuditEvent], *, filtered: bool) -> None:
    """The events as a table, printed `TABLE_ROWS` rows at a time so memory stays flat however many.

    The header comes once; every later block is laid out with the first block's column widths
    (the summary, last, takes what is left), so the blocks line up as one table.
    """
    from rich.table import Table

    from orkestra_tui.commands.output import console, format_time, literal

    out = console()
    widths: list[int] = []

    def new_table() -> Table:
        table = Table(box=None, pad_edge=False, show_header=not widths)
        for index, column in enumerate(("time", "actor", "kind", "subject", "summary")):
            width = widths[index] if index < len(widths) - 1 else None
            table.add_column(column, overflow="fold" if column == "summary" else "ellipsis", width=width)
        return table

    table = new_table()
    for event in events:
        table.add_row(
            format_time(event.ts),
            literal(event.actor),
            literal(event.kind),
            literal(event.subject),
            literal(event.summary),
        )
        if table.row_count == TABLE_ROWS:
            out.print(table)
            widths = widths or _laid_out_widths(out, table)
            table = new_table()
    if table.row_count:
        out.print(table)
    elif not widths:
        out.print("No event matches." if filtered else "The audit log is empty.")


def _laid_out_widths(out: Console, table: Table) -> list[int]:
    """The width of each column of `table` as `out` prints it, padding excluded.

    Rich's own layout (the methods `Table.__rich_console__` calls): measuring the cells
    again would miss how a narrow terminal shrinks the columns.
    """
    laid_out = table._calculate_column_widths(out, out.options)
    return [width - table._get_padding_width(index) for index, width in enumerate(laid_out)]
