"""The installed `orkestra serve`, run as a real process by the tests, and its app processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pyte

WAIT_LIMIT_S = 60.0
"""How long a poll waits for what it expects before the test fails, showing what it saw."""
POLL_S = 0.05

CONFIG = "[simulation]\nseed = 3\nlatency_ms = 0\n"
OPEN_LINE = re.compile(r"^Open (http://(?P<host>[^/]+)/(?P<token>[^/\s]+)/) in a browser", re.MULTILINE)


def installed_orkestra() -> str:
    beside_python = Path(sys.executable).parent / "orkestra"
    found = str(beside_python) if beside_python.exists() else shutil.which("orkestra")
    assert found, "the orkestra command is not installed"
    return found


def new_home(tmp_path: Path) -> Path:
    """A fresh data dir whose simulated agents answer at once."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG)
    return home


def poll(what: str, found: Any, show: Any = lambda: "") -> Any:
    """`found()` once it is truthy; fails naming `what` (and `show()`) after WAIT_LIMIT_S."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(POLL_S)
    raise AssertionError(f"{what} never happened; {show()}")


async def poll_async(what: str, found: Any, show: Any = lambda: "") -> Any:
    """`poll` for a test that runs an event loop: the loop goes on between the looks."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        await asyncio.sleep(POLL_S)
    raise AssertionError(f"{what} never happened; {show()}")


@dataclass
class Served:
    """A running `orkestra serve`: its process, the address it printed, and its output files."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    url: str = ""
    token: str = ""
    apps_seen: set[int] = field(default_factory=set)
    """Every app process `app_pids` found: any still running at the end is killed, pass or fail."""

    @property
    def port(self) -> int:
        return int(self.url.split(":")[2].split("/")[0])

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "ws"

    def output(self) -> str:
        return f"stdout: {self.stdout.read_text()!r}; stderr: {self.stderr.read_text()!r}"

    def app_pids(self) -> set[int]:
        """The processes serve started that still run (its children)."""
        found = children_of(self.process.pid)
        self.apps_seen |= found
        return found

    def stop(self, signal_number: int = signal.SIGINT) -> int:
        """Send `signal_number`, wait for the exit, and return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal_number)
        return self.process.wait(timeout=WAIT_LIMIT_S)

    async def stop_async(self, signal_number: int = signal.SIGINT) -> int:
        """`stop`, while the test's tabs go on reading (the server closes them as it stops)."""
        return await asyncio.to_thread(self.stop, signal_number)


@contextmanager
def serving(home: Path, *arguments: str) -> Iterator[Served]:
    """`orkestra serve --port 0 --data-dir HOME ARGUMENTS...`, until it printed its address; stopped after."""
    stdout, stderr = home.parent / "serve.out", home.parent / "serve.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [installed_orkestra(), "serve", "--port", "0", "--data-dir", str(home), *arguments],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    served = Served(process, stdout, stderr)
    try:
        match = poll(
            "the Open line",
            lambda: OPEN_LINE.search(stdout.read_text()) or process.poll() is not None,
            served.output,
        )
        assert match is not True, f"orkestra serve ended early: {served.output()}"
        served.url, served.token = match.group(1), match.group("token")
        yield served
    finally:
        if process.poll() is None:
            served.app_pids()
            process.kill()
            process.wait()
        for pid in served.apps_seen:
            with suppress(OSError):  # gone already; or, checked by its command line, not an app any more
                if not is_gone(pid) and b"orkestra_tui" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)


def children_of(pid: int) -> set[int]:
    """The live processes whose parent is `pid` (zombies hold nothing and count as gone)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = read_stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] != "Z":
                found.add(int(entry.name))
    return found


def read_stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, parent = text.rpartition(")")[2].split()[:2]
    return state, int(parent)


def is_gone(pid: int) -> bool:
    stat = read_stat(pid)
    return stat is None or stat[0] == "Z"


def holders_of(folder: Path) -> set[int]:
    """The processes with a file under `folder` open."""
    holders = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            targets = [os.readlink(link) for link in (entry / "fd").iterdir()]
        except OSError:
            continue
        if any(target.startswith(f"{folder}/") for target in targets):
            holders.add(int(entry.name))
    return holders


class Session:
    """One browser tab without the browser: the page's websocket, its screen kept by pyte."""

    def __init__(self, served: Served, width: int = 120, height: int = 36) -> None:
        self.served = served
        self.width, self.height = width, height
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        self.closed = False

    async def __aenter__(self) -> Session:
        self.client = aiohttp.ClientSession()
        url = f"{self.served.ws_url}?width={self.width}&height={self.height}"
        self.websocket = await self.client.ws_connect(url)
        self.reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.websocket.close()
        await self.reader
        await self.client.close()

    async def _read(self) -> None:
        async for message in self.websocket:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.stream.feed(message.data)
        self.closed = True

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, needle: str) -> str:
        await poll_async(
            repr(needle), lambda: needle in self.text(), lambda: f"the screen shows:\n{self.text()}"
        )
        return self.text()

    async def press(self, key: str) -> None:
        await self.websocket.send_str(json.dumps(["stdin", key]))
