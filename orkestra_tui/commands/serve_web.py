"""The web server behind `orkestra serve`: textual-serve's, behind a token, its app processes kept in hand.

textual-serve serves a page whose terminal (xterm.js) talks over a websocket to
one app process per connection: the same `orkestra` app, run with Textual's web
driver. This module keeps that and changes four things:

- Every address is under `/<token>/`: the page, its assets and its websocket. The
  page builds the websocket's address by appending `?width=..&height=..`, and its
  assets from one prefix, so a token in the query would not reach them; a path
  prefix reaches them all without a cookie (which the browser would share with
  every other port on the same host). Anything else gets 403, the token compared
  in constant time.
- Each app process runs the given argv directly (no shell), in a session of its
  own (so the terminal's ctrl+c reaches only the server, which then asks each app
  to quit), and on Linux is told to end when the server dies (a killed server
  leaves no app holding the data dir).
- Stopping (ctrl+c, SIGTERM) asks every app to quit, ends those that do not within
  STOP_GRACE_SECONDS, then closes the browsers' connections.
- Logging is one plain line per problem on stderr; no request log (it would show
  the token on every line).

Imported only by `orkestra serve`, once the `web` extra is known to be installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import hmac
import json
import logging
import os
import shlex
import signal
import sys
from asyncio.subprocess import Process
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager
from textual_serve.server import Server

from orkestra_tui.commands import output

STOP_GRACE_SECONDS = 10.0
"""How long an app gets to quit when asked (its engine closes) before its process is ended."""

SHUTDOWN_SECONDS = 5.0
"""How long the server waits for its connections to close once every app has stopped."""

CELLS = range(1, 1001)
"""The terminal sizes (columns or rows) a browser may ask for; others get the default."""

FORBIDDEN_TEXT = "403 Forbidden: open the address that `orkestra serve` printed, token included.\n"

PR_SET_PDEATHSIG = 1
"""prctl(2): the signal a process gets when the thread that started it ends."""

log = logging.getLogger("orkestra.serve")


class AppSession(AppService):
    """One browser tab's app process: the `orkestra` app, run directly, ended with the server."""

    def __init__(
        self,
        app_argv: Sequence[str],
        *,
        write_bytes: Callable[[bytes], Awaitable[None]],
        write_str: Callable[[str], Awaitable[None]],
        close: Callable[[], Awaitable[Any]],
        download_manager: DownloadManager,
    ) -> None:
        super().__init__(
            shlex.join(app_argv),
            write_bytes=write_bytes,
            write_str=write_str,
            close=close,
            download_manager=download_manager,
        )
        self.app_argv = tuple(app_argv)

    @property
    def process(self) -> Process | None:
        return self._process

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        environment = self._build_environment(width=width, height=height)
        self._process = process = await asyncio.create_subprocess_exec(
            *self.app_argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            start_new_session=True,
            preexec_fn=end_with_this_process(),
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def stop(self) -> None:
        """Ask the app to quit and wait for its process; end it (and what it started) if it lingers."""
        process = self._process
        stopping = asyncio.ensure_future(super().stop())
        await asyncio.wait({stopping}, timeout=STOP_GRACE_SECONDS)
        if process is not None:
            try:
                await asyncio.wait_for(process.wait(), timeout=STOP_GRACE_SECONDS)
            except TimeoutError:
                end_process_group(process)
                await process.wait()
        await stopping


def end_process_group(process: Process) -> None:
    """Kill an app that did not quit, and what it started (its session's process group on POSIX)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        killpg = getattr(os, "killpg", None)
        if killpg is not None:
            killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()


def end_with_this_process() -> Callable[[], None] | None:
    """A function for the child, before it runs the app, that has it sent SIGTERM when this process dies.

    Linux only (prctl); elsewhere the app outlives a killed server until it is closed.
    The app's web driver takes SIGTERM as "quit", so its engine closes as usual.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child only calls it
    server_pid = os.getpid()

    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != server_pid:  # the server died before the call: nobody would send it
            os.kill(os.getpid(), signal.SIGTERM)

    return in_child


def token_guard(token: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Middleware that refuses (403) every request whose path does not start with `/<token>/`."""
    expected = token.encode("ascii")

    @web.middleware
    async def require_token(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        segments = request.rel_url.raw_path.split("/", 2)  # the path as sent, not decoded
        first_segment = segments[1] if len(segments) > 1 else ""  # `OPTIONS *` has none
        if not hmac.compare_digest(first_segment.encode("utf-8", "surrogateescape"), expected):
            raise web.HTTPForbidden(text=FORBIDDEN_TEXT)
        return await handler(request)

    return require_token


async def private_headers(request: web.Request, response: web.StreamResponse) -> None:
    """No page or asset tells another site its address (the token), nor stays in a cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"


def cells(text: str | None, default: int) -> int:
    """A terminal size from the browser's query: a whole number in CELLS, else `default`."""
    try:
        value = int(text or "")
    except ValueError:
        return default
    return value if value in CELLS else default


class TokenServer(Server):
    """textual-serve's Server with every address under `/<token>/` and one AppSession per websocket."""

    def __init__(self, app_argv: Sequence[str], *, host: str, port: int, token: str) -> None:
        super().__init__(shlex.join(app_argv), host=host, port=port, title="Orkestra")
        self.app_argv = tuple(app_argv)
        self.token = token
        self.prefix = f"/{token}"
        self.sessions: set[AppSession] = set()
        self.websockets: set[web.WebSocketResponse] = set()

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[token_guard(self.token)])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get(self.prefix, self.handle_bare_prefix),
                web.get(f"{self.prefix}/", self.handle_index, name="index"),
                web.get(f"{self.prefix}/ws", self.handle_websocket, name="websocket"),
                web.static(f"{self.prefix}/static", self.statics_path, name="static"),
            ]
        )
        app.on_response_prepare.append(private_headers)
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def handle_bare_prefix(self, request: web.Request) -> web.StreamResponse:
        """`/<token>` without its slash: the page's relative addresses need it."""
        raise web.HTTPFound(f"{self.prefix}/")

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        """textual-serve's page, its websocket and assets addressed under the token.

        The websocket's address takes the host the browser used (not the one listened on,
        which may be 0.0.0.0); the template escapes it.
        """
        return {
            "font_size": cells(request.query.get("fontsize"), 16),
            "app_websocket_url": f"ws://{request.host}{self.prefix}/ws",
            "config": {"static": {"url": f"{self.prefix}/static/"}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """A browser tab connected: start its app process, and stop it when the tab goes."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = cells(request.query.get("width"), 80)
        height = cells(request.query.get("height"), 24)
        session: AppSession | None = None
        try:
            await websocket.prepare(request)
            self.websockets.add(websocket)
            session = AppSession(
                self.app_argv,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
            )
            self.sessions.add(session)
            await session.start(width, height)
            await self.relay_browser_messages(websocket, session)
        except asyncio.CancelledError:
            await websocket.close()
        except (OSError, ConnectionError) as error:
            log.warning("a browser session ended: %s", error)
        finally:
            if session is not None:
                await session.stop()
                self.sessions.discard(session)
            self.websockets.discard(websocket)
        return websocket

    async def relay_browser_messages(self, websocket: web.WebSocketResponse, session: AppSession) -> None:
        """Keys, sizes and focus from the page to the app; anything malformed is ignored."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(envelope, list) or not envelope:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                await session.send_bytes(data.encode("utf-8", "surrogatepass"))
            elif kind == "resize" and isinstance(data, dict):
                width, height = data.get("width"), data.get("height")
                if isinstance(width, int) and isinstance(height, int) and width in CELLS and height in CELLS:
                    await session.set_terminal_size(width, height)
            elif kind == "ping" and isinstance(data, str):
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await session.blur()
            elif kind == "focus":
                await session.focus()

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: `orkestra serve` prints its own one line."""

    async def on_shutdown(self, app: web.Application) -> None:
        """Every app asked to quit (ended if it lingers), then every browser connection closed."""
        await asyncio.gather(*(session.stop() for session in list(self.sessions)))
        for websocket in list(self.websockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"orkestra serve stopped")


class OneLineHandler(logging.Handler):
    """Each record as one line on stderr, `orkestra serve: <message>`, its exception named, no traceback."""

    def emit(self, record: logging.LogRecord) -> None:
        line = f"orkestra serve: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line += f" ({type(error).__name__}: {error})"
        output.emit(" ".join(line.split()), err=True, flush=True)


def quiet_logging() -> None:
    """Warnings from aiohttp and textual-serve as one line each on stderr; nothing else."""
    handler = OneLineHandler()
    for name in ("aiohttp", "textual-serve", "orkestra.serve", "asyncio"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.WARNING)
        logger.propagate = False


async def serve_until_stopped(server: TokenServer, *, on_listening: Callable[[int], None]) -> None:
    """Listen, call `on_listening` with the port, and serve until SIGINT, SIGTERM or SIGHUP.

    An address that cannot be listened on raises OSError before `on_listening`.
    """
    quiet_logging()
    runner = web.AppRunner(
        await server._make_app(), access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_SECONDS
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, server.host, server.port)
        await site.start()
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            with contextlib.suppress(AttributeError, NotImplementedError):  # not every platform has them
                loop.add_signal_handler(getattr(signal, name), stopped.set)
        on_listening(runner.addresses[0][1])
        await stopped.wait()
    finally:
        await runner.cleanup()
