"""The installed `orkestra` in a real terminal: tmux runs it, keys 1 to 5 switch screens."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.terminal

SCREENS = (("1", "Plan"), ("2", "Board"), ("3", "Voting"), ("4", "Health"), ("5", "Audit"))
WAIT_LIMIT_S = 60.0


def installed_orkestra() -> str:
    beside_python = Path(sys.executable).parent / "orkestra"
    found = str(beside_python) if beside_python.exists() else shutil.which("orkestra")
    assert found, "the orkestra command is not installed"
    return found


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[list[str]]:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is missing; .ci/run installs it")
        pytest.skip("tmux is not installed")
    command = ["tmux", "-L", f"orkestra-test-{os.getpid()}", "-f", os.devnull]
    yield command
    subprocess.run([*command, "kill-server"], capture_output=True, check=False)


def screen_text(tmux: list[str]) -> str:
    result = subprocess.run(
        [*tmux, "capture-pane", "-p", "-t", "app"], capture_output=True, text=True, check=False
    )
    return result.stdout


def wait_for(tmux: list[str], needle: str, *, present: bool = True) -> str:
    """The screen once it shows `needle` (or no longer does); fails with the screen otherwise."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    text = ""
    while time.monotonic() < deadline:
        text = screen_text(tmux)
        if (needle in text) == present:
            return text
        time.sleep(0.1)
    state = "never appeared" if present else "never went away"
    raise AssertionError(f"{needle!r} {state}; the screen shows:\n{text}")


def test_orkestra_runs_in_tmux_and_keys_switch_screens(tmux: list[str], tmp_path: Path) -> None:
    home = tmp_path / "home"
    orkestra = installed_orkestra()
    launch = f"env ORKESTRA_HOME={home} TERM=xterm-256color {orkestra}; echo exited-$?; sleep 30"
    subprocess.run([*tmux, "new-session", "-d", "-s", "app", "-x", "100", "-y", "30", launch], check=True)
    first = wait_for(tmux, "Fill in the brief")  # the Plan screen, the brief form focused
    assert "› Plan" in first and "1 Brief" in first  # a new data dir opens the planning wizard
    wait_for(tmux, "simulated")  # the agents' badge, once the engine is built after the first screen
    # The form has focus, not a field: Enter starts typing, Esc leaves the field again.
    subprocess.run([*tmux, "send-keys", "-t", "app", "Enter"], check=True)
    wait_for(tmux, "Leave field")
    subprocess.run([*tmux, "send-keys", "-t", "app", "Escape"], check=True)
    wait_for(tmux, "Leave field", present=False)
    for key, name in SCREENS:
        subprocess.run([*tmux, "send-keys", "-t", "app", key], check=True)
        shown = wait_for(tmux, f"› {name}")
        assert "Traceback" not in shown
    subprocess.run([*tmux, "send-keys", "-t", "app", "C-q"], check=True)
    assert "exited-0" in wait_for(tmux, "exited-")
    assert (home / "config.toml").exists()
    assert (home / "data" / "orkestra.db").exists()
