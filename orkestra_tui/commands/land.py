"""`orkestra land PROJECT`: merge Orkestra's integration branch into the branch checked out in the repository.

Only when that checkout is clean (no uncommitted change, no merge or rebase under way, a
branch checked out) and the merge has no conflict; otherwise nothing is touched and one
line says why (exit status 2). The user can always merge `orkestra/<project>` with git instead.
"""

from __future__ import annotations

import argparse
import asyncio

from orkestra_tui.commands.context import add_common_options, load_context


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `land` command to `orkestra`."""
    parser = subparsers.add_parser(
        "land",
        help="merge a project's integration branch into your current branch",
        description="Merge orkestra/<project>, where the committee's tasks were merged, into the branch "
        "checked out in the project's repository, only when that checkout is clean. Exit status: 0 landed "
        "(or nothing to land), 2 refused (uncommitted changes, a merge under way, a conflict, no "
        "repository) or bad input.",
    )
    parser.add_argument("project", metavar="PROJECT", help="the project's name")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from orkestra_tui.commands.output import emit, print_json
    from orkestra_tui.commands.project import find_project
    from orkestra_tui.errors import UsageError

    context = load_context(args)
    engine = context.open_engine()
    try:
        project = find_project(engine, args.project)
        link = engine.repository(project.id)
        if link is None:
            from orkestra_tui.engine.voting.consensus import quote_name

            raise UsageError(
                f"{quote_name(project.name)} has no repository; link one with "
                f"orkestra project {quote_name(project.name)} --repo PATH"
            )
        landed = asyncio.run(engine.land(project.id))
        if landed.commit is None:
            line = f"{landed.branch} already has everything on {link.branch}"
        else:
            line = f"landed {link.branch} on {landed.branch} ({landed.commit[:12]})"
        if args.json:
            print_json(
                {
                    "project": project.name,
                    "repository": str(link.path),
                    "from": link.branch,
                    "onto": landed.branch,
                    "commit": landed.commit,
                    "landed": landed.commit is not None,
                }
            )
        else:
            emit(line)
        return 0
    finally:
        engine.close()
