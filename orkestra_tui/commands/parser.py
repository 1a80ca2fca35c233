"""The `orkestra` command line: its options and subcommands, built only when there are arguments.

Only the command named (if any) has its module imported and its arguments
defined; the others appear in --help by name, so `orkestra COMMAND` imports one
command module, and plain `orkestra` none of this.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from orkestra_tui import __version__
from orkestra_tui.commands.context import add_common_options
from orkestra_tui.commands.output import emit

COMMANDS: dict[str, str] = {
    "status": "show projects, task counts and agents",
    "audit": "show the audit log, newest first",
    "tally": "count a ballots file with one of the voting methods",
    "vote": "put a question to the committee and run the vote",
    "decisions": "export decision records as Markdown",
    "plan": "have the committee plan a new project from a brief",
    "run": "carry out the tasks of approved projects",
    "doctor": "check paths, config and every agent with a live call",
    "snapshot": "take, list and restore snapshots of the database",
    "bench": "run benchmarks (not tests) and print the figures",
    "project": "show a project's repository, or link it to one",
    "land": "merge a project's integration branch into your current branch",
    "mcp": "serve the committee to coding agents over MCP (stdio)",
    "serve": "open the app in a browser (needs the web extra)",
}
"""Each command and its one-line help; its module is imported only when it runs."""
COMMAND_MODULES = {"mcp": "mcp_server"}
"""A command whose module is not named after it (`commands.mcp` would read as the MCP SDK)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        hint = f"see '{self.prog} --help'"
        self.exit(2, f"{self.prog}: {message} ({hint})\n")

    def _print_message(self, message: str, file: Any = None) -> None:
        # Usage, help and errors echo what was typed (a file name, a choice): escaped like all output.
        if message:
            with contextlib.suppress(AttributeError, OSError):  # as argparse: no stream, no message
                emit(message, err=file is not sys.stdout, end="", flush=True)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser: global options, the TUI's options and the subcommands (only the named one in full)."""
    import importlib

    parser = _Parser(
        prog="orkestra",
        description=(
            "A committee of LLM agents that plans, votes on and carries out a project. "
            "With no command, opens the full-screen app."
        ),
    )
    parser.add_argument("--version", action="version", version=f"orkestra {__version__}")
    add_common_options(parser)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    chosen = _command_in(sys.argv[1:] if argv is None else argv)
    for name, help_text in COMMANDS.items():
        if name == chosen:
            module = COMMAND_MODULES.get(name, name)
            importlib.import_module(f"orkestra_tui.commands.{module}").register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The command named in `argv`: the first word that is not an option or its value."""
    skip_next = False
    for word in argv:
        if skip_next:
            skip_next = False
        elif word == "--data-dir":
            skip_next = True
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None
