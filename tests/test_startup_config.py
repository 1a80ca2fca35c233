"""A first run writes the default config.toml and uses those settings without parsing the file back.

So the TOML parser is not imported on the way to a first run's first screen;
a later run reads (and checks) the file it finds, as before.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LOAD_AND_REPORT = """
import argparse, sys
from orkestra_tui.commands.context import load_context
load_context(argparse.Namespace())
print("tomllib" in sys.modules)
"""


def tomllib_imported(home: Path) -> bool:
    """Whether loading the context (paths, config) of `home` in a fresh process imports tomllib."""
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_REPORT],
        env={"ORKESTRA_HOME": str(home), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip() == "True"


def test_a_first_run_does_not_parse_the_config_it_wrote(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert not tomllib_imported(home)
    assert any(home.rglob("config.toml"))
    assert tomllib_imported(home)  # a second run reads the file it finds
