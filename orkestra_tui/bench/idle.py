"""CPU used while nothing happens: orkestra vs a bare Textual app, in the same run.

Each app starts headless in its own interpreter; a second after Textual reports
it ready (so that start-up work is over), it sits idle for the measuring window
and then prints the CPU time its process used in that window. Orkestra starts on a
fresh data dir, so its first screen is the Plan screen with a blinking cursor in
the name field: the busier case.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile

from orkestra_tui.bench.startup import child_environment

DESCRIPTION = "CPU while idle after start: orkestra vs a bare Textual app"

PROBE = """
import sys, time

WINDOW_S = float(sys.argv[1])
SETTLE_S = 1.0

def _measure_idle(app):
    def start():
        start_cpu, start_wall = time.process_time(), time.perf_counter()

        def finish():
            cpu = time.process_time() - start_cpu
            wall = time.perf_counter() - start_wall
            print(f"cpu-percent {100 * cpu / wall:.3f}", flush=True)
            app.exit()

        app.set_timer(WINDOW_S, finish)

    app.set_timer(SETTLE_S, start)
"""

ORKESTRA_CHILD = (
    PROBE
    + """
import argparse
from orkestra_tui.cli import run_tui

run_tui(argparse.Namespace(), headless=True, on_ready=_measure_idle)
"""
)

BARE_CHILD = (
    PROBE
    + """
from textual.app import App

class Bare(App):
    def on_ready(self):
        _measure_idle(self)

Bare().run(headless=True)
"""
)


def _idle_cpu_percent(code: str, window_s: float, home: str | None = None) -> float:
    result = subprocess.run(
        [sys.executable, "-c", code, str(window_s)],
        capture_output=True,
        text=True,
        env=child_environment(home),
        timeout=window_s + 90,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith("cpu-percent "):
            return float(line.split()[1])
    raise RuntimeError(f"the child did not report its CPU use: {result.stderr.strip()[-400:]}")


def run(*, quick: bool = False) -> dict[str, float | int]:
    window_s = 1.0 if quick else 10.0
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as home:
        orkestra = _idle_cpu_percent(ORKESTRA_CHILD, window_s, home)
    bare = _idle_cpu_percent(BARE_CHILD, window_s)
    return {
        "seconds": window_s,
        "orkestra_cpu_percent": round(orkestra, 2),
        "bare_textual_cpu_percent": round(bare, 2),
    }
