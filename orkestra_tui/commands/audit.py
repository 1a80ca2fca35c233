"""`orkestra audit`: the audit log, newest first."""

from __future__ import annotations

import argparse

from orkestra_tui.commands.context import add_common_options, load_context, positive_int


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="show the audit log, newest first",
        description="Show recorded actions and decisions, newest first.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--limit", type=positive_int, default=50, metavar="N", help="at most N events (default 50)"
    )
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from orkestra_tui.commands.output import iso_time

    context = load_context(args)
    engine = context.open_engine()
    try:
        events = engine.audit_events(args.limit)
    finally:
        engine.close()
    if args.json:
        from orkestra_tui.commands.output import print_json

        print_json(
            {
                "events": [
                    {
                        "id": event.id,
                        "time": iso_time(event.ts),
                        "project_id": event.project_id,
                        "actor": event.actor,
                        "kind": event.kind,
                        "subject": event.subject,
                        "summary": event.summary,
                        "data": event.data,
                    }
                    for event in events
                ]
            }
        )
        return 0
    from rich.table import Table
    from rich.text import Text

    from orkestra_tui.commands.output import console, format_time

    table = Table(box=None, pad_edge=False)
    for column in ("time", "actor", "kind", "subject", "summary"):
        table.add_column(column, overflow="fold" if column == "summary" else "ellipsis")
    for event in events:
        table.add_row(
            format_time(event.ts),
            Text(event.actor),
            event.kind,
            Text(event.subject),
            Text(event.summary),
        )
    out = console()
    if events:
        out.print(table)
    else:
        out.print("The audit log is empty.")
    return 0
