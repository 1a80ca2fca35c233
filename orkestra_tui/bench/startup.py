"""Time from launch to the first screen a user reads: `orkestra` vs a bare Textual app.

What a user sees, measured the way a user meets it: the installed `orkestra`
console script runs in a pseudo-terminal (TERM=xterm-256color, 120x40), its
output is fed to a terminal emulator (pyte), and the clock stops at the first
moment the emulated screen shows the first screen's own text, not just the top
bar. Three cases:

- fresh home: a new, empty ORKESTRA_HOME each run, so writing the first
  config.toml and creating the database count;
- second launch: the home the fresh run just made, opened again;
- with a project: a home whose database holds a project of five tasks, as
  after a first plan, where the app opens on the Board (the daily launch).
  Its engine is built before the first frame, since the Board shows what the
  store holds; the clock stops when the Board shows the project and its tasks.

The baseline is a bare Textual app (one Static with one line) started as
`python -c` with the same interpreter the console script names, in the same
pseudo-terminal, detected the same way. Runs alternate bare, fresh, second, with a project;
each figure is the median, with the fastest and slowest run beside it.

Beside each, when the form takes typing: as soon as the screen shows, the
keys a user would press are sent (Tab into the Name field; once the key bar
shows a field has the focus, a letter), and the clock stops when the letter
shows in the field. Its baseline is a bare Textual app with one focused
Input, the letter typed the same way.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from orkestra_tui.errors import OrkestraError

if TYPE_CHECKING:
    import pyte

DESCRIPTION = "launch to the first screen's text, in a pseudo-terminal: orkestra vs a bare Textual app"
COLUMNS, ROWS = 120, 40
WAIT_LIMIT_S = 60.0
QUIT_LIMIT_S = 10.0
QUIT_KEY = b"\x11"  # ctrl+q: both apps quit on it

ORKESTRA_SCREEN_TEXT = ("› Plan", "1 Brief", "ctrl+s asks the agents for plans")
"""The top bar's place, then the Plan screen's own text: the wizard's step bar and the brief's last line."""
PROJECT_TASKS = 5
BOARD_SCREEN_TEXT = ("› Board", f"0/{PROJECT_TASKS} done", "Ready")
"""The top bar's place, then the Board's own text: the project's progress line and the first column."""

BARE_LINE = "A bare Textual app, ready."
BARE_APP = f"""
from textual.app import App, ComposeResult
from textual.widgets import Static

class Bare(App):
    def compose(self) -> ComposeResult:
        yield Static({BARE_LINE!r})

Bare().run()
"""

TYPED_LETTER = "Q"
BARE_TYPING_APP = f"""
from textual.app import App, ComposeResult
from textual.widgets import Input, Static

class BareTyping(App):
    def compose(self) -> ComposeResult:
        yield Static({BARE_LINE!r})
        yield Input(compact=True)

BareTyping().run()
"""


def orkestra_in_a_field(lines: Sequence[str]) -> bool:
    """Whether a field of the form has the focus: the key bar offers to leave it."""
    return any("esc Leave field" in line for line in lines)


def orkestra_echoed(lines: Sequence[str]) -> bool:
    """Whether the Name field shows the typed letter (its placeholder gone)."""
    return any(re.search(rf"\bName +{TYPED_LETTER}(\s|$)", line) for line in lines)


def bare_echoed(lines: Sequence[str]) -> bool:
    """Whether the bare app's Input shows the typed letter."""
    return any(line.strip() == TYPED_LETTER for line in lines)


@dataclass(frozen=True)
class Keystroke:
    """Keys a user sends, and what the screen shows once the app has taken them."""

    keys: bytes
    taken: Callable[[Sequence[str]], bool]


ORKESTRA_TYPING = (
    # Tab: from the form (which holds the focus on arrival, so that screen keys work) into Name.
    Keystroke(b"\t", orkestra_in_a_field),
    Keystroke(TYPED_LETTER.encode(), orkestra_echoed),
)
"""Each sent once the one before shows as taken: as a user, Textual acts on a key before the next."""
BARE_TYPING = (Keystroke(TYPED_LETTER.encode(), bare_echoed),)


@dataclass(frozen=True)
class Launch:
    """Milliseconds from just before the process starts until the screen showed, and took the keys."""

    shown_ms: float
    typed_ms: float | None = None


def installed_orkestra() -> str:
    """The `orkestra` console script of this environment: beside the interpreter, else on PATH."""
    beside_python = Path(sys.executable).parent / "orkestra"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("orkestra")
    if found is None:
        raise OrkestraError("the orkestra command is not installed beside this Python or on PATH")
    return found


def child_environment(home: str | None) -> dict[str, str]:
    """The environment of a benchmark's child apps: bytecode caching on, as for installed software.

    With PYTHONDONTWRITEBYTECODE set, an editable install recompiles every module
    on every start while the installed Textual loads its cached bytecode, which
    would measure the compiler rather than the app.
    """
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment["TEXTUAL_ANIMATIONS"] = "none"
    if home is not None:
        environment["ORKESTRA_HOME"] = home
    return environment


def terminal_environment(home: str | None) -> dict[str, str]:
    """The environment of a launch in the pseudo-terminal: a user's, with the terminal's name and size."""
    environment = child_environment(home)
    for name in ("TEXTUAL_ANIMATIONS", "COLUMNS", "LINES", "TEXTUAL_DRIVER", "TEXTUAL_HEADLESS"):
        environment.pop(name, None)
    environment["TERM"] = "xterm-256color"
    return environment


def time_to_screen(
    argv: Sequence[str],
    environment: dict[str, str],
    screen_text: Sequence[str],
    typing: Sequence[Keystroke] = (),
) -> Launch:
    """Milliseconds from just before the process starts until the screen shows all of `screen_text`.

    Then each of `typing` is sent as soon as the screen shows the one before
    taken; the second figure is when it shows the last one taken. The child
    then gets ctrl+q and is waited for (killed if it does not quit), so that
    a fresh home is left whole for the next launch.
    """
    import pyte

    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    screen = pyte.Screen(COLUMNS, ROWS)
    started = time.perf_counter()
    process = subprocess.Popen(
        list(argv),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=environment,
        start_new_session=True,
    )
    os.close(follower)
    try:
        shown_ms = _wait_for(leader, screen, started, partial(_shows, screen_text=screen_text))
        if shown_ms is None:
            raise OrkestraError(f"{Path(argv[0]).name} never showed {screen_text[-1]!r}{_last_line(screen)}")
        typed_ms = None
        for keystroke in typing:
            os.write(leader, keystroke.keys)
            typed_ms = _wait_for(leader, screen, started, keystroke.taken)
            if typed_ms is None:
                raise OrkestraError(
                    f"{Path(argv[0]).name} never showed the keys {keystroke.keys!r} taken{_last_line(screen)}"
                )
        os.write(leader, QUIT_KEY)
        _drain_until_exit(leader, process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(leader)
    return Launch(shown_ms, typed_ms)


def _wait_for(
    leader: int, screen: pyte.Screen, started: float, condition: Callable[[Sequence[str]], bool]
) -> float | None:
    """Feed the output to the emulator until its lines meet `condition`: ms since `started`, or None.

    The time is when the output that meets it arrived, not when the emulator had
    read it: pyte takes about 5 µs a byte (a real terminal, well under a
    millisecond for a whole screen), and a terminal hands its output over 4 kB
    at a time, so a screen of 10 kB read and emulated piece by piece arrived
    some 20 ms late, an app's whole screen later than a bare app's line. So
    everything already there is read before any of it is emulated.
    """
    import pyte

    stream = pyte.ByteStream(screen)
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        data = _read(leader, timeout=0.5)
        if data is None:
            return None  # the child closed the terminal: it exited
        arrived = time.perf_counter()
        while data and (more := _read(leader, timeout=0)):
            data += more
            arrived = time.perf_counter()
        if data:
            stream.feed(data)
            if condition(screen.display):
                return (arrived - started) * 1000.0
    return None


def _last_line(screen: pyte.Screen) -> str:
    shown = [line.strip() for line in screen.display if line.strip()]
    return f"; its screen ends with {shown[-1][:80]!r}" if shown else ""


def _read(leader: int, *, timeout: float) -> bytes | None:
    """What the child wrote within `timeout` (b"" for nothing yet), None once it closed the terminal."""
    ready, _, _ = select.select([leader], [], [], timeout)
    if not ready:
        return b""
    try:
        data = os.read(leader, 1 << 16)
    except OSError:  # EIO: every descriptor of the follower side is closed
        return None
    return data or None


def _shows(lines: Sequence[str], screen_text: Sequence[str]) -> bool:
    """Whether the emulated screen's lines show every one of `screen_text`."""
    text = "\n".join(lines)
    return all(words in text for words in screen_text)


def _drain_until_exit(leader: int, process: subprocess.Popen[bytes]) -> None:
    """Keep reading, so the child never blocks on a full terminal, until it exits."""
    deadline = time.monotonic() + QUIT_LIMIT_S
    while process.poll() is None and time.monotonic() < deadline:
        if _read(leader, timeout=0.1) is None:
            break
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def make_project(home: str) -> None:
    """Give the (launched once) `home` a project of `PROJECT_TASKS` tasks, as a first plan leaves it."""
    from orkestra_tui.config import load_settings, resolve_paths
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.models import ProjectStatus, TaskSpec

    paths = resolve_paths(home)
    engine = Engine(paths, load_settings(paths.config_file), env={})
    try:
        project = engine.create_project("Bench shop", "A small online shop.")
        specs = [
            TaskSpec(f"Part {number}", f"Build part {number} of the shop.", "code")
            for number in range(1, PROJECT_TASKS + 1)
        ]
        engine.add_tasks(project.id, specs)
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()


def _summary(name: str, times: list[float], bare: list[float]) -> dict[str, float]:
    median = statistics.median(times)
    return {
        f"{name}_ms": round(median, 1),
        f"{name}_min_ms": round(min(times), 1),
        f"{name}_max_ms": round(max(times), 1),
        f"{name}_ratio": round(median / statistics.median(bare), 2),
    }


def run(*, quick: bool = False) -> dict[str, float | int | str]:
    # Fifteen: on a busy machine a bare app alone varies by a fifth from run to run, and nine
    # runs left the median's ratio a few hundredths either way from one bench to the next.
    repeats = 2 if quick else 15
    orkestra = [installed_orkestra()]
    bare_app = [sys.executable, "-c", BARE_APP]
    bare_typing_app = [sys.executable, "-c", BARE_TYPING_APP]
    bare: list[float] = []
    bare_typed: list[float] = []
    fresh: list[Launch] = []
    second: list[Launch] = []
    with_project: list[float] = []
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as scratch:
        # Warm-up: the bytecode caches of both, and the page cache.
        time_to_screen(bare_typing_app, terminal_environment(None), (BARE_LINE,), BARE_TYPING)
        time_to_screen(
            orkestra, terminal_environment(f"{scratch}/warm-up"), ORKESTRA_SCREEN_TEXT, ORKESTRA_TYPING
        )
        make_project(f"{scratch}/warm-up")
        time_to_screen(orkestra, terminal_environment(f"{scratch}/warm-up"), BOARD_SCREEN_TEXT)
        for run_number in range(repeats):
            home = f"{scratch}/home-{run_number}"
            bare.append(time_to_screen(bare_app, terminal_environment(None), (BARE_LINE,)).shown_ms)
            typed = time_to_screen(bare_typing_app, terminal_environment(None), (BARE_LINE,), BARE_TYPING)
            bare_typed.append(_typed(typed))
            fresh.append(
                time_to_screen(orkestra, terminal_environment(home), ORKESTRA_SCREEN_TEXT, ORKESTRA_TYPING)
            )
            second.append(
                time_to_screen(orkestra, terminal_environment(home), ORKESTRA_SCREEN_TEXT, ORKESTRA_TYPING)
            )
            shown = time_to_screen(orkestra, terminal_environment(f"{scratch}/warm-up"), BOARD_SCREEN_TEXT)
            with_project.append(shown.shown_ms)
    bare_ms = statistics.median(bare)
    return {
        "runs": repeats,
        "terminal": f"pty {COLUMNS}x{ROWS}, TERM=xterm-256color",
        "bare_textual_ms": round(bare_ms, 1),
        "bare_textual_min_ms": round(min(bare), 1),
        "bare_textual_max_ms": round(max(bare), 1),
        **_summary("fresh_home", [launch.shown_ms for launch in fresh], bare),
        **_summary("second_launch", [launch.shown_ms for launch in second], bare),
        **_summary("with_project", with_project, bare),
        "bare_textual_typed_ms": round(statistics.median(bare_typed), 1),
        **_summary("fresh_home_typed", [_typed(launch) for launch in fresh], bare_typed),
        **_summary("second_launch_typed", [_typed(launch) for launch in second], bare_typed),
    }


def _typed(launch: Launch) -> float:
    assert launch.typed_ms is not None  # every launch given keys to type reports when they showed
    return launch.typed_ms
