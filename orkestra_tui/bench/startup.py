"""Time from process start to the first frame painted: orkestra vs a bare Textual app.

Both run headless in a fresh interpreter, started the same way. Each child
prints a marker when Textual reports the app ready, which it does right after
the first screen is mounted, laid out and painted; the time is taken from just
before the process starts to the moment the marker arrives. The median of
several alternating runs is reported.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

DESCRIPTION = "process start to first frame, headless: orkestra vs a bare Textual app"
MARKER = "first-screen-mounted"

ORKESTRA_CHILD = f"""
import sys
from orkestra_tui.cli import build_parser, run_tui

def painted(app):
    print({MARKER!r}, flush=True)
    app.exit()

argv = ["--data-dir", sys.argv[1]]
run_tui(build_parser(argv).parse_args(argv), headless=True, on_first_frame=painted)
"""

BARE_CHILD = f"""
from textual.app import App

class Bare(App):
    def on_ready(self):
        print({MARKER!r}, flush=True)
        self.exit()

Bare().run(headless=True)
"""


def _child_environment() -> dict[str, str]:
    """The environment for both children: bytecode caching on, as for installed software.

    With PYTHONDONTWRITEBYTECODE set, an editable install recompiles every module
    on every start while the installed Textual loads its cached bytecode, which
    would measure the compiler rather than the app.
    """
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment["TEXTUAL_ANIMATIONS"] = "none"
    return environment


def _time_child(code: str, *arguments: str) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_environment(),
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == MARKER:
            elapsed = time.perf_counter() - started
            process.wait(timeout=30)
            return elapsed * 1000.0
    _out, error = process.communicate(timeout=30)
    raise RuntimeError(f"the child exited without mounting a screen: {error.strip()[-400:]}")


def run(*, quick: bool = False) -> dict[str, float | int]:
    repeats = 2 if quick else 7
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as home:
        # Warm-up: writes the config, the database and the bytecode caches.
        _time_child(ORKESTRA_CHILD, home)
        _time_child(BARE_CHILD)
        orkestra: list[float] = []
        bare: list[float] = []
        for _ in range(repeats):
            bare.append(_time_child(BARE_CHILD))
            orkestra.append(_time_child(ORKESTRA_CHILD, home))
    orkestra_ms = statistics.median(orkestra)
    bare_ms = statistics.median(bare)
    return {
        "runs": repeats,
        "orkestra_ms": round(orkestra_ms, 1),
        "bare_textual_ms": round(bare_ms, 1),
        "ratio": round(orkestra_ms / bare_ms, 3),
    }
