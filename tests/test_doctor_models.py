"""`orkestra doctor` in a real process: the models each endpoint offers, and which problems fail it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orkestra_tui.bench.fake_api import WireFake, serving

FAKE_KEY = "sk-doctor-models-SECRET-0123456789"
OFFERED = ["claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5", "gpt-6.2-sol"]
KEY_VARIABLES = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "XAI_API_KEY")


@pytest.fixture
def fake() -> Iterator[WireFake]:
    with serving() as server:
        server.offered_models = list(OFFERED)
        yield server


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's environment without its keys, and wide enough that no line wraps."""
    env = {name: value for name, value in os.environ.items() if not name.endswith(("_API_KEY", "_TOKEN"))}
    env.update(COLUMNS="250", ANTHROPIC_CONFIG_DIR=str(tmp_path / "anthropic-config"), **extra)
    return env


def doctor(home: Path, env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "doctor", "--data-dir", str(home), *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def live_home(tmp_path: Path, fake: WireFake) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        "[engine]\nmax_attempts = 1\n\n"
        '[[agents]]\nname = "claude"\nprovider = "anthropic"\nmodel = "claude-sonnet-4-5"\n'
        f'base_url = "{fake.url}"\n\n'
        '[[agents]]\nname = "chatgpt"\nprovider = "openai"\nmodel = "gpt-6.2-sol"\n'
        f'base_url = "{fake.url}/v1"\n\n'
        '[[agents]]\nname = "local"\nprovider = "simulated"\n\n[simulation]\nlatency_ms = 0\n'
    )
    return home


def test_doctor_lists_the_models_and_warns_of_one_not_offered_without_failing(
    tmp_path: Path, fake: WireFake
) -> None:
    env = environment(tmp_path, ANTHROPIC_API_KEY=FAKE_KEY, OPENAI_API_KEY=FAKE_KEY)
    result = doctor(live_home(tmp_path, fake), env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    offers = f"offers 4 models: {', '.join(OFFERED)}"
    assert f"claude: {fake.url} {offers}" in lines
    assert f"chatgpt: {fake.url}/v1 {offers}" in lines
    assert (
        f"claude: model claude-sonnet-4-5 is not among the 4 models {fake.url} offers; "
        "closest: claude-sonnet-5-5, claude-opus-5-5, claude-haiku-5-5" in lines
    )
    assert not [line for line in lines if line.startswith("chatgpt: model")]
    assert not [line for line in lines if line.startswith("local:")]  # a simulated agent is not asked
    assert FAKE_KEY not in result.stdout + result.stderr
    listed = sorted(request.path.split("?")[0] for request in fake.received if request.body is None)
    assert listed == ["/v1/models", "/v1/models"]


def test_doctor_json_has_every_offered_model_and_the_verdict(tmp_path: Path, fake: WireFake) -> None:
    env = environment(tmp_path, ANTHROPIC_API_KEY=FAKE_KEY, OPENAI_API_KEY=FAKE_KEY)
    result = doctor(live_home(tmp_path, fake), env, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    claude, chatgpt, local = json.loads(result.stdout)["agents"]
    assert claude["models_offered"] == OFFERED
    assert claude["model_offered"] is False
    assert claude["closest_models"] == ["claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5"]
    assert claude["model_warning"].startswith("model claude-sonnet-4-5 is not among")
    assert chatgpt["model_offered"] is True and chatgpt["model_warning"] == ""
    assert local["models_offered"] is None and local["model_offered"] is None
    assert FAKE_KEY not in result.stdout


def hide_the_copilot_sdk(tmp_path: Path) -> str:
    """A folder for PYTHONPATH whose sitecustomize makes `import copilot` fail, as without the extra."""
    folder = tmp_path / "no-copilot"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text("import sys\nsys.modules['copilot'] = None\n")
    return os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH", "")]))


def test_a_missing_optional_sdk_is_a_warning_and_doctor_exits_0(tmp_path: Path) -> None:
    # A GitHub token in the environment is common; without the extra, Copilot still cannot run.
    env = environment(
        tmp_path, GITHUB_TOKEN="ghp_doctor_token_0123456789", PYTHONPATH=hide_the_copilot_sdk(tmp_path)
    )
    result = doctor(tmp_path / "home", env, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    copilot = next(agent for agent in json.loads(result.stdout)["agents"] if agent["name"] == "copilot")
    assert copilot["simulated"] and copilot["ok"]
    assert "the github-copilot-sdk package is missing" in copilot["simulated_reason"]

    text = doctor(tmp_path / "home", env)
    assert text.returncode == 0, text.stdout + text.stderr
    assert "copilot: Copilot cannot run here: the github-copilot-sdk package is missing" in text.stdout
