"""The default config.toml is known without parsing it, on the first run and after.

A first run writes the file and uses the defaults it wrote; a later run that
finds it untouched knows its settings are the defaults. So the TOML parser is
not imported on the way to the first screen, until the file is edited: then
it is read (and checked) as it is.
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


def test_the_default_config_is_not_parsed_until_it_is_edited(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert not tomllib_imported(home)
    config = home / "config.toml"
    assert config.exists()
    assert not tomllib_imported(home)  # a second run finds the file it wrote, untouched
    text = config.read_text()
    config.write_text(text.replace("max_rounds = 5\n", "max_rounds = 7\n"))  # as long as before
    assert tomllib_imported(home)
    config.write_text(text + "\n")
    assert tomllib_imported(home)
