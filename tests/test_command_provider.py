"""The command provider: a CLI that reads the prompt on stdin, run in the workspace, env stripped."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TypedDict, Unpack

import pytest

from orkestra_tui.config import AgentSettings, Paths, Settings
from orkestra_tui.engine.engine import Engine
from orkestra_tui.providers.base import Message, ProviderError, ProviderRequest
from orkestra_tui.providers.command import CommandProvider

FAKE_CLI = """
import json, os, sys, time
prompt = sys.stdin.read()
mode = sys.argv[1]
if mode == "slow":
    time.sleep(5)
if mode == "fail":
    print("something went wrong", file=sys.stderr)
    sys.exit(3)
print(json.dumps({"cwd": os.getcwd(), "env": sorted(os.environ), "prompt": prompt}))
"""

REQUEST = ProviderRequest(system="Be brief.", messages=(Message("user", "Write the docs."),), purpose="task")


@pytest.fixture
def fake_cli(tmp_path: Path) -> Path:
    script = tmp_path / "fake_cli.py"
    script.write_text(FAKE_CLI)
    return script


class ProviderOptions(TypedDict, total=False):
    """The keywords of CommandProvider that a test sets."""

    key_variable: str
    timeout_s: float


def provider(
    fake_cli: Path, tmp_path: Path, mode: str, **options: Unpack[ProviderOptions]
) -> CommandProvider:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "OPENAI_API_KEY": "sk-other-vendor", "MY_KEY": "k"}
    return CommandProvider(
        [sys.executable, str(fake_cli), mode],
        workspace=tmp_path / "workspace",
        env=env,
        **options,
    )


def test_the_prompt_goes_in_on_stdin_and_the_answer_comes_back(fake_cli: Path, tmp_path: Path) -> None:
    response = asyncio.run(provider(fake_cli, tmp_path, "ok").complete(REQUEST))
    answer = json.loads(response.text)
    assert answer["prompt"] == "Be brief.\n\nWrite the docs.\n"
    assert Path(answer["cwd"]) == (tmp_path / "workspace").resolve()
    assert response.tokens_in > 0 and response.tokens_out > 0


def test_the_environment_is_stripped_of_other_keys(fake_cli: Path, tmp_path: Path) -> None:
    answer = json.loads(
        asyncio.run(provider(fake_cli, tmp_path, "ok", key_variable="MY_KEY").complete(REQUEST)).text
    )
    assert "OPENAI_API_KEY" not in answer["env"]
    assert "MY_KEY" in answer["env"] and "PATH" in answer["env"]


def test_a_slow_command_times_out_and_is_killed(fake_cli: Path, tmp_path: Path) -> None:
    with pytest.raises(ProviderError) as caught:
        asyncio.run(provider(fake_cli, tmp_path, "slow", timeout_s=0.3).complete(REQUEST))
    assert caught.value.error_class == "timeout" and caught.value.retryable


def test_a_failing_command_reports_its_last_stderr_line(fake_cli: Path, tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="exited with status 3: something went wrong"):
        asyncio.run(provider(fake_cli, tmp_path, "fail").complete(REQUEST))


def test_a_missing_program_is_not_retried(tmp_path: Path) -> None:
    missing = CommandProvider(["no-such-agent-cli-here"], workspace=tmp_path, env={"PATH": "/nonexistent"})
    with pytest.raises(ProviderError) as caught:
        asyncio.run(missing.complete(REQUEST))
    assert caught.value.error_class == "not_found" and not caught.value.retryable


def test_a_configured_command_agent_runs_through_the_engine(
    paths: Paths, settings: Settings, fake_cli: Path
) -> None:
    from dataclasses import replace

    agent = AgentSettings(name="coder", provider="command", command=[sys.executable, str(fake_cli), "ok"])
    engine = Engine(
        paths, replace(settings, agents=(agent,)), env={"PATH": "/usr/bin:/bin", "GROK_API_KEY": "x" * 20}
    )
    (info,) = engine.agents()
    assert not info.simulated
    outcome = asyncio.run(engine.call("coder", REQUEST))
    assert outcome.response is not None  # the call is ok
    answer = json.loads(outcome.response.text)
    assert Path(answer["cwd"]) == (paths.data_dir / "workspace").resolve()
    assert "GROK_API_KEY" not in answer["env"]


def test_an_agent_built_from_its_settings_gives_its_program_its_own_key_variable(
    fake_cli: Path, tmp_path: Path
) -> None:
    from orkestra_tui.providers.registry import build_agents

    agent = AgentSettings(
        name="tool",
        provider="command",
        command=[sys.executable, str(fake_cli), "ok"],
        api_key_env="MY_TOOL_KEY",
    )
    env = {"PATH": "/usr/bin:/bin", "MY_TOOL_KEY": "tool-key", "ANTHROPIC_API_KEY": "sk-ant-other"}
    (runtime,) = build_agents(Settings(agents=(agent,)), env, workspace=str(tmp_path / "workspace"))
    answer = json.loads(asyncio.run(runtime.provider.complete(REQUEST)).text)
    assert "MY_TOOL_KEY" in answer["env"] and "ANTHROPIC_API_KEY" not in answer["env"]
