"""`orkestra project NAME [--repo PATH]`: show a project's repository, or link the project to one.

Linking makes Orkestra's integration branch (`orkestra/<project>`) from the base branch,
with its own worktree under the data dir; the user's checkout is not touched. A folder
that is not a repository is refused in one line unless `--init-repo` asks to make it one.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orkestra_tui.commands.context import add_common_options, load_context
from orkestra_tui.errors import UsageError

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.models import Project
    from orkestra_tui.engine.repo.changes import RepositoryLink


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `project` command to `orkestra`."""
    parser = subparsers.add_parser(
        "project",
        help="show a project's repository, or link it to one",
        description="Show the git repository project NAME works in, or link it to one with --repo: its "
        "tasks then run in worktrees of their own and merge into Orkestra's branch orkestra/<project>, "
        "never into your checkout (orkestra land merges that branch into yours). Exit status: 0 shown "
        "or linked, 2 bad input (no such project, not a repository, git missing).",
    )
    parser.add_argument("name", metavar="NAME", help="the project's name")
    add_repository_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def add_repository_options(parser: argparse.ArgumentParser) -> None:
    """`--repo`, `--init-repo` and `--base`, as `project` and `plan` take them."""
    parser.add_argument(
        "--repo",
        metavar="PATH",
        help="the git repository the project's work lands in (on Orkestra's own branch)",
    )
    parser.add_argument(
        "--init-repo",
        action="store_true",
        help="make --repo PATH a git repository (with a first, empty commit) if it is not one",
    )
    parser.add_argument(
        "--base",
        metavar="BRANCH",
        help="the branch Orkestra's branch starts from (default: base in the repository's "
        ".orkestra.toml, else the branch checked out)",
    )


def checked_repository_options(args: argparse.Namespace) -> Path | None:
    """The folder --repo names (None without it); --init-repo and --base without --repo are refused."""
    if args.repo is None:
        for flag, given in (("--init-repo", args.init_repo), ("--base", args.base is not None)):
            if given:
                raise UsageError(f"{flag} goes with --repo PATH")
        return None
    if not args.repo.strip():
        raise UsageError("--repo needs the path of a folder")
    if args.base is not None and not args.base.strip():
        raise UsageError("--base needs a branch name")
    return Path(args.repo).expanduser().absolute()


async def check_folder(engine: Engine, folder: Path, args: argparse.Namespace) -> None:
    """Refuse, in one line, a folder that cannot be linked as asked (before anything is made for it)."""
    check = await engine.check_repository_folder(folder, init=args.init_repo, base=args.base)
    if check.problem is None:
        return
    if not check.is_repository and folder.is_dir():
        raise UsageError(f"{check.problem}; pass --init-repo to make it one")
    raise UsageError(check.problem)


def link_document(link: RepositoryLink | None) -> dict[str, Any] | None:
    """A repository link as `--json` shows it."""
    if link is None:
        return None
    return {
        "path": str(link.path),
        "base": link.base,
        "branch": link.branch,
        "worktree": str(link.worktree),
    }


def link_line(project_name: str, link: RepositoryLink) -> str:
    """`"Shop" works in /src/shop on orkestra/shop (from main)`."""
    from orkestra_tui.engine.voting.consensus import quote_name

    return f"{quote_name(project_name)} works in {link.path} on {link.branch} (from {link.base})"


def run(args: argparse.Namespace) -> int:
    folder = checked_repository_options(args)
    context = load_context(args)
    engine = context.open_engine(only_reads=folder is None)
    try:
        project = find_project(engine, args.name)
        link: RepositoryLink | None
        if folder is not None:
            link = asyncio.run(_link(engine, project, folder, args))
        else:
            link = engine.repository(project.id)
        _report(project, link, linked=folder is not None, as_json=args.json)
        return 0
    finally:
        engine.close()


def find_project(engine: Engine, name: str) -> Project:
    """The project named NAME, or one line naming the projects there are."""
    from orkestra_tui.engine.voting.consensus import quote_name

    project = engine.project_by_name(" ".join(name.split()))
    if project is None:
        names = ", ".join(quote_name(project.name) for project in engine.projects()) or "none yet"
        raise UsageError(f"there is no project named {quote_name(name)}; projects: {names}")
    return project


async def _link(engine: Engine, project: Project, folder: Path, args: argparse.Namespace) -> RepositoryLink:
    await check_folder(engine, folder, args)
    return await engine.link_repository(project.id, folder, init=args.init_repo, base=args.base)


def _report(project: Project, link: RepositoryLink | None, *, linked: bool, as_json: bool) -> None:
    from orkestra_tui.commands.output import emit, print_json
    from orkestra_tui.engine.voting.consensus import quote_name

    if as_json:
        print_json(
            {"project": project.name, "id": project.id, "linked": linked, "repository": link_document(link)}
        )
    elif link is None:
        emit(f"{quote_name(project.name)} has no repository: its results are Markdown files in the data dir")
        emit(f"link one with: orkestra project {quote_name(project.name)} --repo PATH")
    else:
        emit(("linked: " if linked else "") + link_line(project.name, link))
        emit(f"worktrees: {link.worktree.parent}")
