"""`orkestra decisions export`: every finished vote's Markdown decision record, as files.

Writes one record per decided (or no-decision) vote, of one project or of all,
into a folder (default: the current one), and prints the paths it wrote, or one
JSON document with `--json`. Exit status: 0 when the records are written or
there is nothing to export, 2 for bad input (an unknown project or decision, an
open vote, a folder that cannot be written, files that exist without --force),
in which case nothing is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from orkestra_tui.commands.context import add_common_options, load_context, positive_int


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `decisions` and its `export` action to `orkestra`."""
    parser = subparsers.add_parser(
        "decisions",
        help="export decision records as Markdown",
        description="Work with the committee's decisions.",
    )
    actions = parser.add_subparsers(
        title="actions", metavar="ACTION", dest="action", required=True, parser_class=type(parser)
    )
    export = actions.add_parser(
        "export",
        help="write every finished vote's decision record as a Markdown file",
        description="Write the Markdown decision record of every decided (or no-decision) vote, of one "
        "project or of all, into DIR, one file per vote, named decision-0042-the-question.md. Exit status: "
        "0 written (or nothing to export), 2 bad input; nothing is written then.",
    )
    export.add_argument("--project", metavar="NAME", help="only this project's votes (default: all)")
    export.add_argument(
        "--out",
        metavar="DIR",
        default=".",
        help="the folder to write into, created if its parent exists (default: the current folder)",
    )
    export.add_argument(
        "--decision",
        metavar="ID",
        type=positive_int,
        nargs="+",
        action="extend",
        help="only these decisions (repeatable)",
    )
    export.add_argument("--force", action="store_true", help="replace record files that already exist")
    export.add_argument("--json", action="store_true", help="print one JSON document")
    add_common_options(export)
    export.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    from orkestra_tui.engine.voting.records import RecordExistsError
    from orkestra_tui.errors import UsageError

    out_dir = Path(args.out).expanduser().absolute()
    context = load_context(args)
    engine = context.open_engine(only_reads=True)
    try:
        project = engine.project_named(args.project) if args.project is not None else None
        try:
            written = engine.export_decision_records(
                out_dir,
                project_id=project.id if project else None,
                decision_ids=args.decision,
                overwrite=args.force,
            )
        except RecordExistsError as error:
            them = "it" if len(error.paths) == 1 else "them"
            raise UsageError(f"{error}; pass --force to replace {them}") from None
    finally:
        engine.close()
    from orkestra_tui.commands.output import emit, print_json

    if args.json:
        print_json({"out": str(out_dir), "records": [str(path) for path in written]})
    elif written:
        for path in written:
            emit(path)
    else:
        where = f"project {project.name!r} has" if project else "there are"
        emit(f"Nothing to export: {where} no decided votes yet.")
    return 0
