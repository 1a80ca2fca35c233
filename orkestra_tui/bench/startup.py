"""Time from process start to the first frame: orkestra vs a bare Textual app.

Both run headless in a fresh interpreter, started the same way, with the same
probe: the first time the app hands a composed frame to its driver
(`App._display`), the child prints a marker; when Textual then reports the app
ready (its `Ready` event, handled after the first frame's pending work), it
prints a second marker and exits. Times are taken from just before the process
starts to each marker's arrival; the median of several alternating runs is
reported.

`orkestra_ms` is the issue's figure (first frame painted). `*_ready_ms` is
shown beside it because Orkestra paints its bars first and mounts a screen's
body right after the first frame.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

DESCRIPTION = "process start to first frame, headless: orkestra vs a bare Textual app"
FRAME_MARKER = "first-frame"
READY_MARKER = "ready"

PROBE = f"""
import textual.app

_display = textual.app.App._display

def _probe_display(self, screen, renderable):
    _display(self, screen, renderable)
    if renderable is not None and not getattr(self, "_probe_seen_frame", False):
        self._probe_seen_frame = True
        print({FRAME_MARKER!r}, flush=True)

textual.app.App._display = _probe_display

def _probe_ready(app):
    print({READY_MARKER!r}, flush=True)
    app.exit()
"""

ORKESTRA_CHILD = (
    PROBE
    + """
import argparse
from orkestra_tui.cli import run_tui

# What plain `orkestra` does, with the data dir from ORKESTRA_HOME.
run_tui(argparse.Namespace(), headless=True, on_ready=_probe_ready)
"""
)

BARE_CHILD = (
    PROBE
    + """
from textual.app import App

class Bare(App):
    def on_ready(self):
        _probe_ready(self)

Bare().run(headless=True)
"""
)


def child_environment(home: str | None) -> dict[str, str]:
    """The environment for both children: bytecode caching on, as for installed software.

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


def _time_child(code: str, home: str | None = None) -> tuple[float, float]:
    """Milliseconds from process start to the first frame, and to ready."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_environment(home),
    )
    assert process.stdout is not None
    arrived: dict[str, float] = {}
    for line in process.stdout:
        arrived.setdefault(line.strip(), (time.perf_counter() - started) * 1000.0)
        if READY_MARKER in arrived:
            break
    process.wait(timeout=30)
    if FRAME_MARKER not in arrived or READY_MARKER not in arrived:
        error = process.stderr.read() if process.stderr else ""
        raise RuntimeError(f"the child exited before its first frame: {error.strip()[-400:]}")
    return arrived[FRAME_MARKER], arrived[READY_MARKER]


def run(*, quick: bool = False) -> dict[str, float | int]:
    repeats = 2 if quick else 15
    orkestra: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as home:
        # Warm-up: writes the config, the database and the bytecode caches.
        _time_child(ORKESTRA_CHILD, home)
        _time_child(BARE_CHILD)
        for _ in range(repeats):
            bare.append(_time_child(BARE_CHILD))
            orkestra.append(_time_child(ORKESTRA_CHILD, home))
    orkestra_ms = statistics.median(frame for frame, _ready in orkestra)
    bare_ms = statistics.median(frame for frame, _ready in bare)
    return {
        "runs": repeats,
        "orkestra_ms": round(orkestra_ms, 1),
        "bare_textual_ms": round(bare_ms, 1),
        "ratio": round(orkestra_ms / bare_ms, 3),
        "orkestra_ready_ms": round(statistics.median(ready for _frame, ready in orkestra), 1),
        "bare_textual_ready_ms": round(statistics.median(ready for _frame, ready in bare), 1),
    }
