"""The `orkestra` command: the TUI by default, headless subcommands beside it.

Each subcommand lives in `orkestra_tui.commands.<name>` and exposes
`register(subparsers)`, which adds its parser and sets `handler` to a function
taking the parsed arguments and returning an exit status. Command modules keep
their heavy imports inside the handler, so `orkestra --help` stays fast. Plain
`orkestra` builds no parser at all (`commands/parser.py`): the app is on screen
that much sooner.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from orkestra_tui.errors import OrkestraError

if TYPE_CHECKING:
    import argparse


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `orkestra` command and return its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments:
        from orkestra_tui.commands.parser import build_parser

        args = build_parser(arguments).parse_args(arguments)
    else:  # plain `orkestra` opens the app at once, without building the argument parser
        args = cast("argparse.Namespace", SimpleNamespace())
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            return run_tui(args)
        status: int = handler(args)
        return status
    except OrkestraError as error:
        _say(error)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`orkestra audit | head`); say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as error:
        # A full or read-only disk, or a page found damaged after the database opened: one line
        # naming it, as for any bad input.
        line = _disk_error(args, error) or _damaged_database_line(args, error)
        if line is None:
            raise
        _say(line)
        return 2


def _say(error: OrkestraError) -> None:
    """The one line for `error` on stderr (the output module is imported only when there is one)."""
    from orkestra_tui.commands.output import error_line

    error_line(error)


def _disk_line(args: argparse.Namespace, error: BaseException) -> str | None:
    """The one line for a write that found the disk full or read-only; None for any other error."""
    found = _disk_error(args, error)
    return None if found is None else str(found)


def _disk_error(args: argparse.Namespace, error: BaseException) -> OrkestraError | None:
    """The error for a write that found the disk full or read-only (here or in what caused it); None else.

    The store already says so itself; this catches the files written beside it
    (artifacts, snapshots, exports, config.toml) and any write outside a transaction.
    """
    from orkestra_tui.errors import DiskFullError, ReadOnlyError, is_disk_full, is_read_only

    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, (DiskFullError, ReadOnlyError)):
            return cause
        sqlite_error = getattr(cause, "sqlite_errorcode", None) is not None  # maybe an I/O error for no room
        if is_disk_full(cause) or (sqlite_error and is_disk_full(cause, _folder_of(args, cause))):
            return DiskFullError(_folder_of(args, cause))
        if is_read_only(cause):
            folder = _folder_of(args, cause)
            return ReadOnlyError(folder, "it is on a read-only disk", data_dir=_in_data_dir(args, folder))
        cause = cause.__cause__ or cause.__context__
    return None


def _in_data_dir(args: argparse.Namespace, folder: str) -> bool:
    """Whether `folder` is one of Orkestra's own (config, data, state, logs) or inside one."""
    from pathlib import Path

    from orkestra_tui.config import resolve_paths

    paths = resolve_paths(getattr(args, "data_dir", None), os.environ)
    own = (paths.config_dir, paths.data_dir, paths.state_dir, paths.log_dir)
    return any(Path(folder).is_relative_to(directory) for directory in own)


def _folder_of(args: argparse.Namespace, error: BaseException) -> str:
    """The folder a failed write was for: the file's folder if the error names it, else the data dir."""
    from pathlib import Path

    filename = getattr(error, "filename", None)
    if isinstance(filename, (str, os.PathLike)):
        return str(Path(filename).parent)
    from orkestra_tui.config import resolve_paths

    return str(resolve_paths(getattr(args, "data_dir", None), os.environ).data_dir)


def _damaged_database_line(args: argparse.Namespace, error: Exception) -> OrkestraError | None:
    """The one line for an error that says the database file is damaged; None for any other error."""
    store = sys.modules.get("orkestra_tui.engine.store.store")  # imported if a database was opened at all
    if store is None:
        return None
    from orkestra_tui.config import resolve_paths

    damage: OrkestraError | None = store.damage_in(
        resolve_paths(getattr(args, "data_dir", None), os.environ).database, error
    )
    return damage


def run_tui(
    args: argparse.Namespace,
    *,
    headless: bool = False,
    on_ready: Callable[[Any], None] | None = None,
) -> int:
    """Open the engine, then the full-screen app over it.

    Everything that can fail on bad input (the config, the database) is opened
    before the first frame, so it is reported as one line, not inside the app.

    The garbage collector waits until the first screen is on show with its content:
    start-up (the imports, the widgets) makes many objects and frees few, so the
    collections it would run meanwhile find next to nothing and only keep the user
    waiting. Then what start-up made is frozen out of later collections.
    """
    import gc

    gc.disable()

    def started(app: Any) -> None:
        gc.freeze()
        gc.enable()
        if on_ready is not None:
            on_ready(app)

    try:
        return _open_app(args, headless=headless, on_ready=started)
    finally:
        gc.enable()


def _open_app(args: argparse.Namespace, *, headless: bool, on_ready: Callable[[Any], None]) -> int:
    """A home without projects opens on the brief, drawn before the engine is built (`engine_opening.py`)."""
    from orkestra_tui.commands.context import load_context
    from orkestra_tui.engine.store.peek import holds_projects

    context = load_context(args)
    from orkestra_tui.tui.app import OrkestraApp
    from orkestra_tui.tui.engine_opening import EngineOpening

    # The database is checked page by page in the background, after the first frame.
    opening = EngineOpening(context.settings, partial(context.open_engine, check_pages=False, in_app=True))
    engine = None if holds_projects(context.paths.database) is False else opening.build()
    app: OrkestraApp | None = None
    try:
        app = OrkestraApp(opening if engine is None else engine, on_ready=on_ready)
        app.run(headless=headless)
        if app.engine_error is not None:
            raise app.engine_error  # reported as when the engine is built before the app
        if app.damage is not None:
            from orkestra_tui.engine.store.store import StoreError

            raise StoreError(app.damage)  # the same line as the app showed, on the terminal
        return app.return_code or 0
    finally:
        if app is not None:
            engine = app.opened_engine
        if engine is not None:
            engine.close()
