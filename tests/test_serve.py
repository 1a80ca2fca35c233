"""`orkestra serve`: the token, the address it listens on, its tabs' app processes and their end.

Each test runs the installed `orkestra serve` as a real process on a fresh data dir
and a free port. A tab is played by a websocket client that keeps the screen with
pyte, as the page's terminal would (the real browser is in test_serve_browser.py).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import http.client
import json
import signal
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from processes import orkestra
from serving import (
    Served,
    Session,
    holders_of,
    installed_orkestra,
    is_gone,
    new_home,
    poll,
    poll_async,
    read_stat,
    serving,
)

from orkestra_tui.cli import main
from orkestra_tui.commands import serve
from orkestra_tui.commands.context import load_context

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/<pid>")

QUESTION = "Which database?"


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def raw_status(served: Served, request_line: str) -> int:
    """The status of a request sent exactly as written (no client tidies its path)."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as connection:
        connection.sendall(f"{request_line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        reply = connection.makefile("rb").readline().decode()
    return int(reply.split()[1])


def handshake_status(served: Served, path: str) -> int:
    """The status of a websocket handshake on `path` (101 when the server switches to the websocket)."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    try:
        connection.request(
            "GET",
            path,
            headers={
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_only_addresses_under_the_printed_token_are_served(tmp_path: Path) -> None:
    with serving(new_home(tmp_path)) as served:
        root = f"http://127.0.0.1:{served.port}"
        wrong = "A" * len(served.token)  # the same length: only the comparison can refuse it
        with urllib.request.urlopen(served.url, timeout=30) as response:
            page = response.read().decode()
            assert response.headers["Referrer-Policy"] == "no-referrer"
        # The page's own addresses carry the token: its assets and its websocket.
        assert f'src="/{served.token}/static/js/textual.js"' in page
        assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/{served.token}/ws"' in page
        assert status_of(f"{served.url}static/js/textual.js") == 200
        assert status_of(served.url.rstrip("/")) == 200  # redirected to the page
        for refused in (
            f"{root}/",
            f"{root}/ws",
            f"{root}/static/js/textual.js",
            f"{root}/{wrong}/",
            f"{root}/{served.token[:-1]}/",
            f"{root}/?token={served.token}",
            f"{root}/x/{served.token}/",
        ):
            assert status_of(refused) == 403, refused
        assert raw_status(served, "OPTIONS * HTTP/1.1") == 403
        for outside in ("../", "static/../../../../../../etc/passwd"):  # only the page's files are served
            assert raw_status(served, f"GET /{served.token}/{outside} HTTP/1.1") in (403, 404)
        assert handshake_status(served, "/ws") == 403
        assert handshake_status(served, f"/{wrong}/ws") == 403
        assert handshake_status(served, f"/{served.token}/ws") == 101
        assert served.stop() == 0
    assert "Traceback" not in served.output()
    assert served.stdout.read_text().count(served.token) == 1  # printed once, never logged


def test_listening_beyond_this_machine_warns_in_one_line(tmp_path: Path) -> None:
    with serving(new_home(tmp_path), "--host", "0.0.0.0") as served:
        assert served.url.startswith("http://127.0.0.1:")
        assert status_of(served.url) == 200
        assert served.stop() == 0
    warning = served.stderr.read_text().splitlines()
    assert len(warning) == 1 and "0.0.0.0" in warning[0] and "token" in warning[0], warning
    assert "no TLS" in warning[0]


def test_loopback_listens_without_a_warning(tmp_path: Path) -> None:
    with serving(new_home(tmp_path)) as served:
        assert served.url.startswith("http://127.0.0.1:")
        assert served.stop() == 0
    assert served.stderr.read_text() == ""


def test_a_port_in_use_is_one_line_and_status_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        home = new_home(tmp_path)
        result = orkestra(home, "serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == f"orkestra: port {port} is in use on 127.0.0.1; choose another with --port (0 picks a free one)\n"
    )


def test_without_the_web_extra_it_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # what an install without the extra has
    monkeypatch.delitem(sys.modules, "orkestra_tui.commands.serve_web", raising=False)
    assert main(["serve", "--data-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "orkestra: orkestra serve needs the web extra: pip install 'orkestra-tui[web]'\n"


async def test_each_tab_runs_its_own_app_on_the_one_data_dir(tmp_path: Path) -> None:
    """Two tabs at once, and a command beside them: each app sees what the others write."""
    home = new_home(tmp_path)
    with serving(home) as served:
        async with Session(served) as first, Session(served) as second:
            await first.wait_for("Fill in the brief")
            await second.wait_for("Fill in the brief")
            apps = served.app_pids()
            assert len(apps) == 2
            for pid in apps:  # the installed Orkestra, on the same data dir; the token in neither place
                command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                environment = Path(f"/proc/{pid}/environ").read_bytes()
                data_dir = str(home.resolve()).encode()
                assert command_line[1:5] == [b"-m", b"orkestra_tui", b"--data-dir", data_dir]
                assert served.token.encode() not in b"".join(command_line) + environment
            await first.press("3")
            await second.press("3")
            await first.wait_for("› Voting")
            await second.wait_for("› Voting")
            vote = await asyncio.to_thread(
                orkestra, home, "vote", QUESTION, "--option", "SQLite", "--option", "Postgres"
            )
            assert vote.returncode == 0, vote.stderr
            await first.wait_for(QUESTION)  # another process's write, noticed by each app
            await second.wait_for(QUESTION)
            await first.press("2")
            await first.wait_for("› Board")
        poll("both apps ending with their tabs", lambda: all(is_gone(pid) for pid in apps), served.output)
        assert served.stop() == 0
    output = served.output()
    assert "Traceback" not in output and "Error" not in output, output


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["ctrl+c", "SIGTERM"])
async def test_stopping_the_server_ends_its_apps_cleanly(tmp_path: Path, signal_number: int) -> None:
    home = new_home(tmp_path)
    with serving(home) as served:
        async with Session(served) as tab:
            await tab.wait_for("Fill in the brief")
            apps = served.app_pids()
            assert len(apps) == 1
            assert await served.stop_async(signal_number) == 0
            await poll_async("the tab's connection closing", lambda: tab.closed)
    assert all(is_gone(pid) for pid in apps)
    assert not holders_of(home)
    output = served.output()
    assert "Traceback" not in output and served.stderr.read_text() == "", output


async def test_a_killed_server_leaves_no_app_holding_the_data_dir(tmp_path: Path) -> None:
    home = new_home(tmp_path)
    with serving(home) as served:
        async with Session(served) as tab:
            await tab.wait_for("Fill in the brief")
            apps = served.app_pids()
            assert len(apps) == 1

            # On a fresh home the brief is drawn first and the engine opens the database just after.
            def holding() -> bool:
                return bool(holders_of(home) & apps)

            await poll_async("the app opening its database", holding, lambda: holders_of(home))
            served.process.kill()
            served.process.wait()
            await poll_async(
                "the app ending after its server was killed",
                lambda: all(is_gone(pid) for pid in apps),
                lambda: {pid: read_stat(pid) for pid in apps},
            )
    poll("no process holding the data dir", lambda: not holders_of(home), lambda: holders_of(home))


def test_each_tab_runs_the_installed_orkestra_with_the_same_data_dir_and_mode(tmp_path: Path) -> None:
    arguments = argparse.Namespace(data_dir=str(tmp_path / "." / "home"), demo=True)
    command = serve.app_command(arguments, load_context(arguments))
    assert command == [sys.executable, "-m", "orkestra_tui", "--data-dir", str(tmp_path / "home"), "--demo"]
    inherited = argparse.Namespace()  # no --data-dir: ORKESTRA_HOME or the per-user dirs, inherited
    assert serve.app_command(inherited, load_context(inherited)) == [sys.executable, "-m", "orkestra_tui"]
    assert Path(installed_orkestra()).exists()


@pytest.mark.parametrize(
    ("host", "loopback", "shown"),
    [
        ("127.0.0.1", True, "127.0.0.1"),
        ("127.0.0.2", True, "127.0.0.2"),
        ("localhost", True, "localhost"),
        ("::1", True, "[::1]"),
        ("0.0.0.0", False, "127.0.0.1"),
        ("::", False, "[::1]"),
        ("192.168.1.20", False, "192.168.1.20"),
        ("example.lan", False, "example.lan"),
        ("", False, "127.0.0.1"),
    ],
)
def test_which_hosts_reach_this_machine_only(host: str, loopback: bool, shown: str) -> None:
    assert serve.is_loopback(host) is loopback
    assert serve.shown_host(host) == shown


@pytest.mark.parametrize(
    ("error_number", "line"),
    [
        (
            errno.EADDRINUSE,
            "port 8765 is in use on 10.0.0.9; choose another with --port (0 picks a free one)",
        ),
        (errno.EADDRNOTAVAIL, "cannot listen on 10.0.0.9: it is not an address of this machine"),
        (errno.EACCES, "cannot listen on port 8765: permission denied; choose a port above 1023 with --port"),
        (errno.ENETDOWN, "cannot listen on 10.0.0.9 port 8765: the network is down"),
    ],
)
def test_an_address_that_cannot_be_listened_on_is_one_line(error_number: int, line: str) -> None:
    assert serve.listen_error("10.0.0.9", 8765, OSError(error_number, "the network is down")) == line


def test_the_command_is_listed_and_its_help_names_the_extra(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    help_text = capsys.readouterr().out
    assert "orkestra-tui[web]" in help_text and "--host" in help_text and "--port" in help_text
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "serve" in capsys.readouterr().out


def test_doctor_says_whether_the_web_extra_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = new_home(tmp_path)
    assert main(["doctor", "--json", "--data-dir", str(home)]) == 0
    web = json.loads(capsys.readouterr().out)["web"]
    assert web == {"installed": True, "install": "pip install 'orkestra-tui[web]'"}
    monkeypatch.setitem(sys.modules, "textual_serve", None)
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["doctor", "--data-dir", str(home)]) == 0  # a missing extra is no failure
    assert "web extra not installed (orkestra serve needs it): pip install 'orkestra-tui[web]'" in (
        capsys.readouterr().out
    )
