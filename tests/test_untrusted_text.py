"""No escape sequence from a model, a file or the user reaches the terminal, through any command.

A committee of live agents (three vendors' SDKs against the wire fake) whose every answer
carries OSC 52, OSC 2, CSI 2J, C1 controls, bidi overrides and Rich markup plans, votes and
carries out a project; then every command that prints what they produced runs, and not one
of those characters may appear in what it wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_model import HOSTILE, HostileModel, Terminal, committee_config, unsafe_in

from orkestra_tui.bench.fake_api import WireFake, serving


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    monkeypatch.setenv("COLUMNS", "2000")  # tables on one line each, so what is shown can be looked for
    for variable in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.setenv(variable, f"{variable.lower()}-0123456789abcdef")
    with serving() as server:
        server.responder = HostileModel(lambda _request: HOSTILE)
        yield server


def test_no_command_puts_a_hostile_models_control_sequences_on_the_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: WireFake
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    committee_config(home, fake.url)
    terminal = Terminal(capsys, home)
    description = f"A shop {HOSTILE}"
    policies = ("--yes", "--tie-break", "first")
    terminal.expect(0, "plan", "--name", "Shop", "--description", description, *policies)
    terminal.expect(0, "plan", "--name", "Mall", "--description", description, *policies, "--json")
    terminal.expect(0, "run", "--project", "Shop", "--until-done", "--on-review", "approve")
    terminal.expect(0, "run", "--project", "Mall", "--until-done", "--on-review", "approve", "--json")
    vote = ("vote", f"Which one? {HOSTILE}", "--option", f"Red {HOSTILE}", "--option", "Blue")
    terminal.expect(0, *vote, "--tie-break", "first")
    terminal.expect(0, *vote, "--tie-break", "first", "--json")
    status = terminal.expect(0, "status")
    terminal.expect(0, "status", "--json")
    audit = terminal.expect(0, "audit", "--limit", "500")
    terminal.expect(0, "audit", "--limit", "500", "--json")
    records = tmp_path / "records"
    terminal.expect(0, "decisions", "export", "--out", str(records))
    terminal.expect(1, "doctor")  # the refused agent fails its check
    terminal.expect(1, "doctor", "--json")
    terminal.expect(0, "snapshot", "create", "--reason", HOSTILE)
    terminal.expect(0, "snapshot", "list")
    ballots = tmp_path / "ballots.json"
    ballots.write_text(
        json.dumps({"options": [HOSTILE, "Blue"], "ballots": [{"voter": HOSTILE, "ranking": [HOSTILE]}]}),
        encoding="utf-8",
    )
    terminal.expect(0, "tally", str(ballots))
    terminal.expect(0, "tally", str(ballots), "--method", "condorcet")
    terminal.expect(0, "tally", str(ballots), "--json")
    # Error lines: a missing file, a config key and a folder with control characters in their names.
    terminal.expect(2, "tally", str(tmp_path / f"{HOSTILE}.json"))
    hostile_home = tmp_path / f"home {HOSTILE.replace('/', '')}"
    hostile_home.mkdir()
    (hostile_home / "config.toml").write_text(f"{json.dumps(HOSTILE)} = 1\n", encoding="utf-8")
    terminal.expect(2, "status", home=hostile_home)
    (hostile_home / "config.toml").write_text(f"[engine\n{HOSTILE}", encoding="utf-8")
    terminal.expect(2, "status", home=hostile_home)
    terminal.expect(2, "run", "--on-review", HOSTILE)
    terminal.expect(2, "audit", "--project", HOSTILE)

    leaks = terminal.leaks()
    assert leaks == {}, f"raw controls written by: {' | '.join(map(ascii, leaks))}"
    assert "Two \\x1b]52;c;cm0gLXJmIH4=\\x07" in status  # the phase names are there, escaped
    assert "\\x1b]2;pwned" in audit and "\\u202eevil" in audit and "[bold red]m[/]" in audit
    assert all(not unsafe_in(path.read_text(encoding="utf-8")) for path in records.iterdir())
