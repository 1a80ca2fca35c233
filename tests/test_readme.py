"""README stays true: its test command is what CI runs, and its screenshots exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    (ci_command,) = re.findall(r'^TEST_COMMAND="(.+)"$', ci, flags=re.MULTILINE)
    commands = re.findall(r"```sh\n(.+?)\n```", readme)
    assert len(commands) == 2, "README has exactly two set-up commands"
    assert commands[1] == ci_command
    assert commands[0].endswith("orkestra")


def test_every_screen_has_a_screenshot_shown_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for screen in ("plan", "board", "voting", "health", "audit"):
        assert (ROOT / "screenshots" / f"{screen}.svg").exists()
        assert f"screenshots/{screen}.svg" in readme


def test_the_changelog_keeps_an_unreleased_section() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
