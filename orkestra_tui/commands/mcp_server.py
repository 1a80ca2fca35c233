"""`orkestra mcp`: the committee as an MCP server on standard input and output.

Coding agents (Claude Code, Codex, Gemini CLI) start it as a subprocess and call
its tools (see `mcp_tools`): put a question to the committee, tally a ballots
file, list projects and tasks, read a task's result or diff, search the audit
log, add a task. It opens the engine on the same data dir as the app, as every
headless command does, before it speaks the protocol: a broken config or a
damaged database is one line on stderr and exit status 2. While it serves,
standard output carries the protocol and nothing else (the SDK points any
stray write at stderr); it closes the engine on end of input or SIGTERM.

The MCP SDK is an optional extra (`orkestra-tui[mcp]`), imported only here and
only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from orkestra_tui.commands.context import add_common_options, load_context
from orkestra_tui.errors import UsageError

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine

INSTALL_HINT = "orkestra mcp needs the MCP SDK: pip install 'orkestra-tui[mcp]'"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `mcp` command to `orkestra`."""
    parser = subparsers.add_parser(
        "mcp",
        help="serve the committee to coding agents over MCP (stdio)",
        description="Serve Orkestra as an MCP server on standard input and output, for coding agents: "
        "ask_committee, decision, tally_ballots, list_projects, list_tasks, task_result, search_audit "
        "and add_task. It uses the same data dir as the app; every question and change it makes is "
        "recorded in the audit log with the actor mcp. Needs the extra: pip install 'orkestra-tui[mcp]'.",
    )
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the SDK and open the engine (one line and exit 2 on a problem), then serve until EOF."""
    try:
        import mcp.server.mcpserver  # noqa: F401  (the SDK's 2.x server; imported again where used)
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    context = load_context(args)
    engine = context.open_engine()
    try:
        import anyio

        anyio.run(serve, engine)
    finally:
        engine.close()
    return 0


async def serve(engine: Engine) -> None:
    """Serve the tools over stdio until the client closes its end or SIGTERM comes."""
    import signal

    import anyio

    from orkestra_tui.commands.mcp_tools import build_server

    server = build_server(engine)
    async with anyio.create_task_group() as group:

        async def stop_on_sigterm() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM) as signals:
                async for _signal in signals:
                    group.cancel_scope.cancel()
                    return

        group.start_soon(stop_on_sigterm)
        await server.run_stdio_async()
        group.cancel_scope.cancel()
