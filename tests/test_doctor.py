"""`orkestra doctor`: paths, config, and a live call to every agent, keys never shown."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orkestra_tui.bench.fake_api import Reply, WireFake, serving
from orkestra_tui.cli import main

FAKE_KEY = "sk-ant-doctor-SECRET-0123456789"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as server:
        yield server


def live_home(tmp_path: Path, fake: WireFake, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        "[engine]\nmax_attempts = 1\n\n"
        '[[agents]]\nname = "claude"\nprovider = "anthropic"\nmodel = "claude-test"\n'
        f'base_url = "{fake.url}"\n\n'
        '[[agents]]\nname = "local"\nprovider = "simulated"\n\n[simulation]\nlatency_ms = 0\n'
    )
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    return home


def test_doctor_reports_every_agent_and_exits_0_when_all_answer(
    tmp_path: Path, fake: WireFake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = live_home(tmp_path, fake, monkeypatch)
    assert main(["doctor", "--json", "--data-dir", str(home)]) == 0
    out = capsys.readouterr().out
    document = json.loads(out)
    assert document["config"] == "valid"
    assert document["paths"]["database"].endswith("orkestra.db")
    claude, local = document["agents"]
    assert claude["key_present"] and claude["key_variable"] == "ANTHROPIC_API_KEY"
    assert claude["ok"] and not claude["simulated"] and claude["latency_ms"] >= 0
    assert local["simulated"] and local["ok"]
    assert FAKE_KEY not in out
    # The ping and the models list go out together, in either order.
    assert sorted(received.path.split("?")[0] for received in fake.received) == ["/v1/messages", "/v1/models"]


def test_doctor_names_the_classified_error_and_exits_1(
    tmp_path: Path, fake: WireFake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = live_home(tmp_path, fake, monkeypatch)
    fake.then(Reply(status=401, body={"error": {"message": f"invalid x-api-key {FAKE_KEY}"}}))
    assert main(["doctor", "--data-dir", str(home)]) == 1
    captured = capsys.readouterr()
    assert "auth: HTTP 401" in captured.out
    assert "ANTHROPIC_API_KEY" in captured.out
    assert FAKE_KEY not in captured.out + captured.err


def test_doctor_says_when_the_copilot_sdk_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "copilot", None)  # `import copilot` now fails
    assert main(["doctor", "--data-dir", str(tmp_path)]) == 0  # the default committee, simulated
    out = capsys.readouterr().out
    assert "copilot: Copilot cannot run here: the github-copilot-sdk package is missing" in out
    assert "pip install 'orkestra-tui[copilot]'" in out


def test_doctor_says_when_the_copilot_cli_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COPILOT_CLI_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-bin"))
    assert main(["doctor", "--data-dir", str(tmp_path)]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the line may wrap in the terminal
    assert "copilot: Copilot cannot run here: the Copilot CLI was not found" in out
    assert "COPILOT_CLI_PATH" in out


def test_doctor_with_a_broken_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.toml").write_text("[engine]\nmax_attempts = 'x'\n")
    assert main(["doctor", "--data-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("orkestra: ") and "line 2" in error and len(error.splitlines()) == 1
