"""`orkestra snapshot create | list | restore ID`: copies of the database, and going back to one.

`create` works while the app or a run uses the database (the copy is taken
online). `restore` replaces the database, so it needs every other Orkestra
process closed; it first keeps the current state as a snapshot of its own, so
a restore can be undone by restoring that one. It asks for confirmation on a
terminal, and without a terminal it needs `--yes`.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from orkestra_tui.commands.context import add_common_options, load_context
from orkestra_tui.wording import plural

if TYPE_CHECKING:
    from orkestra_tui.engine.store.snapshots import Snapshot

DECLINED = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "snapshot",
        help="take, list and restore snapshots of the database",
        description=(
            "Take, list and restore snapshots of the database (the app also takes one every "
            "snapshot_interval_minutes). Exit status: 0 done, 1 restore declined, 2 refused."
        ),
    )
    add_common_options(parser)
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="take a snapshot now", description="Take a snapshot now.")
    create.add_argument("--reason", default="taken by hand", metavar="TEXT", help="why, for the audit log")
    add_common_options(create)
    listing = actions.add_parser(
        "list", help="list the snapshots, newest first", description="List the snapshots, newest first."
    )
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    add_common_options(listing)
    restore = actions.add_parser(
        "restore",
        help="replace the database with a snapshot",
        description=(
            "Replace the database with a snapshot. The current state is kept as a new snapshot "
            "first; quit the app and stop any run before restoring."
        ),
    )
    restore.add_argument("snapshot_id", metavar="ID", help="the snapshot's id, as `list` shows it")
    restore.add_argument(
        "--yes", action="store_true", help="restore without asking (needed without a terminal)"
    )
    add_common_options(restore)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "create":
        return _create(args)
    if args.action == "list":
        return _list(args)
    return _restore(args)


def _create(args: argparse.Namespace) -> int:
    from orkestra_tui.commands.output import emit
    from orkestra_tui.engine.store.snapshots import create, prune

    context = load_context(args)
    context.require_writable()
    snapshot = create(context.paths, args.reason, actor="human")
    keep = context.settings.engine.snapshot_keep
    removed = prune(context.paths, keep)
    emit(f"Snapshot {snapshot.id} taken ({_size(snapshot.size)}): {snapshot.path}")
    if removed:
        emit(f"{plural(len(removed), 'older snapshot')} removed (snapshot_keep = {keep}).")
    return 0


def _list(args: argparse.Namespace) -> int:
    from orkestra_tui.commands.output import iso_time
    from orkestra_tui.engine.store.snapshots import list_snapshots

    context = load_context(args)
    snapshots = list_snapshots(context.paths)
    if args.json:
        from orkestra_tui.commands.output import print_json

        print_json(
            {
                "snapshots_dir": str(context.paths.snapshots_dir),
                "snapshots": [
                    {
                        "id": snapshot.id,
                        "time": iso_time(snapshot.created_at),
                        "bytes": snapshot.size,
                        "schema_version": snapshot.schema_version,
                        "path": str(snapshot.path),
                    }
                    for snapshot in snapshots
                ],
            }
        )
        return 0
    from rich.table import Table
    from rich.text import Text

    from orkestra_tui.commands.output import console, format_date_time

    out = console()
    if not snapshots:
        out.print(
            Text.assemble(
                f"No snapshots in {context.paths.snapshots_dir} yet: ",
                ("orkestra snapshot create", "bold"),
                " takes one.",
            )
        )
        return 0
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("id", no_wrap=True)
    table.add_column("taken", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("schema", justify="right", no_wrap=True)
    for snapshot in snapshots:
        table.add_row(
            snapshot.id,
            format_date_time(snapshot.created_at),
            _size(snapshot.size),
            str(snapshot.schema_version),
        )
    out.print(table)
    return 0


def _restore(args: argparse.Namespace) -> int:
    from orkestra_tui.commands.answering import stdin_is_terminal
    from orkestra_tui.commands.output import emit
    from orkestra_tui.engine.store.snapshots import find, restore
    from orkestra_tui.errors import UsageError

    context = load_context(args)
    context.require_writable()
    snapshot = find(context.paths, args.snapshot_id)
    if not args.yes:
        if not stdin_is_terminal():
            raise UsageError("restore replaces the database: confirm on a terminal, or pass --yes")
        if not _confirmed(snapshot, str(context.paths.database)):
            emit("Nothing was restored.")
            return DECLINED
    restored = restore(context.paths, snapshot.id)
    emit(f"Snapshot {snapshot.id} restored into {context.paths.database}.")
    if restored.undo is not None:
        emit(
            f"The state before is kept as snapshot {restored.undo.id}: "
            f"orkestra snapshot restore {restored.undo.id} undoes this."
        )
    for path in restored.set_aside[:1]:
        emit(f"The damaged database was moved to {path}.")
    return 0


def _confirmed(snapshot: Snapshot, database: str) -> bool:
    from orkestra_tui.commands.output import ask, format_date_time

    question = (
        f"Replace {database} with snapshot {snapshot.id} (taken {format_date_time(snapshot.created_at)})?"
        " The current state is kept as a new snapshot first. [y/N] "
    )
    try:
        answer = ask(question)
    except EOFError:
        return False
    finally:
        sys.stdout.flush()
    return answer.strip().lower() in ("y", "yes")


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
