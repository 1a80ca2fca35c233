"""`orkestra serve`: the same app in a browser, through textual-serve (the `web` extra).

Each browser tab gets an app process of its own, on the same data dir: that keeps
the app's design (one engine in one process) as it is, and the data dir is already
safe for several processes at once (SQLite in WAL mode, leases on tasks, screens
that reload on other processes' writes). The address printed at start holds a
random token, and every request without it is refused; the server listens on
127.0.0.1 unless `--host` says otherwise, and then warns.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path
from types import ModuleType

from orkestra_tui.commands.context import Context, add_common_options, load_context, whole_number
from orkestra_tui.commands.output import emit
from orkestra_tui.errors import OrkestraError
from orkestra_tui.settings import Bounds

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
PORTS = Bounds(0, 65535)
INSTALL_WEB = "pip install 'orkestra-tui[web]'"
WEB_EXTRA_MODULES = frozenset({"textual_serve", "aiohttp", "aiohttp_jinja2", "jinja2"})
"""What the web extra brings: a failed import of one of them means the extra is not installed."""
TOKEN_BYTES = 32
"""The token's randomness, in bytes (secrets.token_urlsafe: about 43 characters in the address)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="open the app in a browser (needs the web extra)",
        description="Serve the app to a browser: it prints an address with a secret token to open; "
        "each tab runs its own app on the same data dir. Listens on 127.0.0.1 unless --host "
        f"says otherwise. Needs the web extra: {INSTALL_WEB}. ctrl+c stops it.",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="the address to listen on (default: %(default)s, this machine only); any other, such as "
        "0.0.0.0, lets other machines in, with the token as the only protection and no TLS",
    )
    parser.add_argument(
        "--port",
        type=whole_number(PORTS),
        default=DEFAULT_PORT,
        help="the port to listen on (default: %(default)s; 0 picks a free one)",
    )
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    serve_web = web_server_module()
    context = load_context(args)
    context.require_writable()
    context.open_engine().close()  # a damaged or newer database: one line now, not one per tab
    host: str = args.host
    if not is_loopback(host):
        where = host or "every address"
        emit(
            f"orkestra serve: listening on {where}, not only this machine: anyone who can reach port "
            f"{args.port} and has the address with its token gets the app (no TLS)",
            err=True,
            flush=True,
        )
    import asyncio
    import secrets

    token = secrets.token_urlsafe(TOKEN_BYTES)
    server = serve_web.TokenServer(app_command(args, context), host=host, port=args.port, token=token)

    listening = False

    def announce(port: int) -> None:
        nonlocal listening
        listening = True
        address = f"http://{shown_host(host)}:{port}/{token}/"
        emit(f"Open {address} in a browser (ctrl+c stops the server)", flush=True)

    try:
        asyncio.run(serve_web.serve_until_stopped(server, on_listening=announce))
    except OSError as error:
        if listening:  # not about the address: the CLI's own handling (a full disk, say) takes it
            raise
        raise OrkestraError(listen_error(host, args.port, error)) from None
    return 0


def web_server_module() -> ModuleType:
    """`serve_web`, which needs the web extra; without it, one line that says how to install it."""
    try:
        from orkestra_tui.commands import serve_web
    except ImportError as error:
        if (error.name or "").partition(".")[0] not in WEB_EXTRA_MODULES:
            raise
        raise OrkestraError(
            f"orkestra serve needs the web extra: {INSTALL_WEB}", advice=INSTALL_WEB
        ) from None
    return serve_web


def web_extra_installed() -> bool:
    """Whether every module of the web extra can be imported (found, not imported: that is slow)."""
    import importlib.util

    try:
        return all(importlib.util.find_spec(name) is not None for name in WEB_EXTRA_MODULES)
    except (ImportError, ValueError):  # a module set aside (None in sys.modules) or half installed
        return False


def app_command(args: argparse.Namespace, context: Context) -> list[str]:
    """The argv of each tab's app: this installed Orkestra, on the same data dir, config and mode.

    The same interpreter runs the same package (`python -m orkestra_tui` is the
    `orkestra` command), with `--data-dir` made absolute when one was given; else
    ORKESTRA_HOME or the per-user directories, from the environment the app inherits.
    The token is in neither the argv nor the environment.
    """
    argv = [sys.executable, "-m", "orkestra_tui"]
    data_dir = getattr(args, "data_dir", None)
    if data_dir is not None:
        argv += ["--data-dir", str(Path(data_dir).expanduser().resolve())]
    if context.demo:
        argv.append("--demo")
    return argv


def is_loopback(host: str) -> bool:
    """Whether `host` reaches this machine only: localhost or a loopback address."""
    if host.strip().casefold().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may stand for any address


def shown_host(host: str) -> str:
    """The host as the printed address has it: 127.0.0.1 for all addresses, IPv6 in brackets."""
    bare = host.strip("[]")
    if not bare:  # an empty host listens on every address
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return host
    if address.is_unspecified:
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return f"[{bare}]" if address.version == 6 else bare


def listen_error(host: str, port: int, error: OSError) -> str:
    """The one line for an address that cannot be listened on."""
    import errno

    if error.errno == errno.EADDRINUSE:
        return f"port {port} is in use on {host}; choose another with --port (0 picks a free one)"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: it is not an address of this machine"
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"cannot listen on port {port}: permission denied; choose a port above 1023 with --port"
    reason = error.strerror or str(error)
    return f"cannot listen on {host} port {port}: {reason}"
