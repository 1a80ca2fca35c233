"""`orkestra audit`: the audit log, newest first, searched and filtered; `--follow` tails it.

`--follow` prints the newest `--limit` matching events, oldest first, then every
new one as it is committed (by this or any other process), one JSON object per
line, flushed at once. It polls the database every half second and runs until
interrupted: ctrl+c ends it quietly with exit status 0, as ending a tail is the
normal way to stop it.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from orkestra_tui.commands.context import add_common_options, load_context, positive_int

if TYPE_CHECKING:
    from orkestra_tui.engine.models import AuditEvent
    from orkestra_tui.engine.store import Store

FOLLOW_INTERVAL_SECONDS = 0.5
FOLLOW_PAGE = 500
"""Events read per query while catching up."""


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
        "--limit", type=positive_int, default=50, metavar="N", help="at most N events (default 50)"
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
    from orkestra_tui.engine.audit_export import parse_time
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
    from orkestra_tui.engine.consensus.wording import quote_name

    try:
        return parse_since(text, current_time()).timestamp()
    except (ValueError, OverflowError, OSError):
        raise argparse.ArgumentTypeError(
            f"{quote_name(text)} is neither a date nor a time (2026-11-23, 2026-11-23T10:00)"
            " nor an age (10m, 2h, 3d)"
        ) from None


def run(args: argparse.Namespace) -> int:
    from orkestra_tui.engine.consensus.wording import quote_name
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
            project = engine.store.project_by_name(" ".join(args.project.split()))
            if project is None:
                names = ", ".join(quote_name(known.name) for known in engine.projects()) or "none yet"
                raise UsageError(f"there is no project named {quote_name(args.project)}; projects: {names}")
            filters["project_id"] = project.id
        if args.follow:
            return _follow_until_interrupted(engine.store, filters, backlog=args.limit)
        events = engine.store.search_audit(**filters, limit=args.limit)
    finally:
        engine.close()
    if args.json:
        from orkestra_tui.commands.output import print_json

        print_json({"events": [event_document(event) for event in events]})
        return 0
    _print_table(events, filtered=any(value is not None for value in filters.values()))
    return 0


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
    store: Store,
    filters: dict[str, Any],
    write: Callable[[AuditEvent], None],
    *,
    backlog: int,
    stop: threading.Event,
    interval: float = FOLLOW_INTERVAL_SECONDS,
) -> None:
    """Write the newest `backlog` events matching `filters`, oldest first, then every new match
    as it is committed, polling every `interval` seconds until `stop` is set."""
    seen = store.newest_audit_id()
    for event in reversed(store.search_audit(**filters, before_id=seen + 1, limit=backlog)):
        write(event)
    while not stop.wait(interval):
        newest = store.newest_audit_id()
        after = seen
        while newest > after:
            page = store.search_audit(**filters, after_id=after, before_id=newest + 1, limit=FOLLOW_PAGE)
            for event in page:
                write(event)
            if len(page) < FOLLOW_PAGE:
                break
            after = page[-1].id
        seen = max(seen, newest)


def _follow_until_interrupted(store: Store, filters: dict[str, Any], *, backlog: int) -> int:
    from orkestra_tui.commands.output import print_json_line

    def write_line(event: AuditEvent) -> None:
        print_json_line(event_document(event))

    try:
        follow(store, filters, write_line, backlog=backlog, stop=threading.Event())
    except KeyboardInterrupt:
        return 0
    return 0


def _print_table(events: list[AuditEvent], *, filtered: bool) -> None:
    from rich.table import Table

    from orkestra_tui.commands.output import console, format_time, literal

    out = console()
    if not events:
        out.print("No event matches." if filtered else "The audit log is empty.")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("time", "actor", "kind", "subject", "summary"):
        table.add_column(column, overflow="fold" if column == "summary" else "ellipsis")
    for event in events:
        table.add_row(
            format_time(event.ts),
            literal(event.actor),
            literal(event.kind),
            literal(event.subject),
            literal(event.summary),
        )
    out.print(table)
