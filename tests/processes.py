"""The real `orkestra` command, run in a process of its own by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def orkestra(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m orkestra_tui --data-dir HOME ARGUMENTS...`, its output captured, 200 columns wide."""
    return subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
