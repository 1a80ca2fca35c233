"""`orkestra bench --scenario startup`: the installed command in a pseudo-terminal, beside a bare app."""

from __future__ import annotations

import os
import subprocess

from orkestra_tui.bench.startup import installed_orkestra


def test_the_startup_bench_prints_every_case_beside_the_bare_app() -> None:
    """Only that it runs and reports: the figures themselves are never asserted on."""
    environment = {key: value for key, value in os.environ.items() if key != "ORKESTRA_HOME"}
    result = subprocess.run(
        [installed_orkestra(), "bench", "--scenario", "startup", "--quick"],
        capture_output=True,
        text=True,
        env={**environment, "COLUMNS": "120"},
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures = {line.split()[0]: line.split()[-1] for line in result.stdout.splitlines() if line.strip()}
    for case in ("bare_textual", "fresh_home", "second_launch", "with_project"):
        assert float(figures[f"{case}_ms"].replace(",", "")) > 0
        assert f"{case}_min_ms" in figures and f"{case}_max_ms" in figures
    assert float(figures["fresh_home_ratio"]) > 0 and float(figures["second_launch_ratio"]) > 0
    assert float(figures["with_project_ratio"]) > 0
    for case in ("bare_textual_typed", "fresh_home_typed", "second_launch_typed"):
        assert float(figures[f"{case}_ms"].replace(",", "")) > 0
    assert float(figures["fresh_home_typed_ratio"]) > 0 and float(figures["second_launch_typed_ratio"]) > 0
