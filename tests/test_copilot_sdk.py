"""The Copilot adapter through the real github-copilot-sdk, against a fake Copilot CLI.

The SDK's own CopilotClient and session classes start tests/fake_copilot_cli.py
as their CLI (COPILOT_CLI_PATH) and speak JSON-RPC to it over stdio.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orkestra_tui.providers.base import Message, ProviderError, ProviderRequest
from orkestra_tui.providers.copilot import CopilotProvider, cli_available

pytest.importorskip("copilot")

FAKE_CLI = Path(__file__).with_name("fake_copilot_cli.py")
REQUEST = ProviderRequest(system="Be brief.", messages=(Message("user", "Hello?"),))


class FakeCli:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log = tmp_path / "cli.log"
        self.monkeypatch = monkeypatch
        launcher = tmp_path / "bin" / "copilot"
        launcher.parent.mkdir()
        launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_CLI}" "$@"\n')
        launcher.chmod(0o755)
        monkeypatch.setenv("COPILOT_CLI_PATH", str(launcher))
        monkeypatch.setenv("FAKE_COPILOT_LOG", str(self.log))

    def mode(self, mode: str) -> None:
        self.monkeypatch.setenv("FAKE_COPILOT_MODE", mode)

    def received(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def requests(self, method: str) -> list[dict[str, Any]]:
        return [entry for entry in self.received() if entry.get("method") == method]


@pytest.fixture
def fake_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCli]:
    import copilot._cli_download as downloads

    def no_download(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("the SDK tried to download a Copilot CLI")

    monkeypatch.setattr(downloads, "ensure_runtime_wrapper", no_download)
    monkeypatch.setattr(downloads, "_fetch_url_bytes", no_download)
    yield FakeCli(tmp_path, monkeypatch)


async def ask_once(provider: CopilotProvider, request: ProviderRequest = REQUEST) -> str:
    try:
        return (await provider.complete(request)).text
    finally:
        await provider.close()


def test_a_reply_comes_back_through_the_real_sdk(fake_cli: FakeCli, tmp_path: Path) -> None:
    provider = CopilotProvider("gpt-5-fake", workspace=tmp_path / "ws", timeout_s=30)
    assert asyncio.run(ask_once(provider)) == "Echo: Be brief.\n\nHello?"
    (create,) = fake_cli.requests("session.create")
    assert create["params"]["model"] == "gpt-5-fake"
    assert create["params"]["workingDirectory"] == str(tmp_path / "ws")
    assert create["params"]["requestPermission"] is True
    (start, *_rest) = fake_cli.received()
    assert start["cwd"] == str(tmp_path / "ws")
    assert "--stdio" in start["argv"] and "--headless" in start["argv"]
    assert fake_cli.requests("session.detach")  # closed cleanly


def test_an_older_cli_is_answered_through_send_and_the_events_until_idle(
    fake_cli: FakeCli, tmp_path: Path
) -> None:
    fake_cli.mode("legacy")
    provider = CopilotProvider("gpt-5-fake", workspace=tmp_path / "ws", timeout_s=30)
    assert asyncio.run(ask_once(provider)) == "Echo: Be brief.\n\nHello?"
    (sent,) = fake_cli.requests("session.send")
    assert sent["params"]["prompt"] == "Be brief.\n\nHello?\n"


def test_a_permission_request_from_the_cli_is_denied(fake_cli: FakeCli, tmp_path: Path) -> None:
    fake_cli.mode("permission")
    provider = CopilotProvider("gpt-5-fake", workspace=tmp_path / "ws", timeout_s=30)
    assert asyncio.run(ask_once(provider)).startswith("Echo: ")
    (decision,) = fake_cli.requests("session.permissions.handlePendingPermissionRequest")
    assert decision["params"]["requestId"] == "permission-1"
    assert decision["params"]["result"]["kind"] == "denied-interactively-by-user"


def test_the_cli_dying_mid_call_is_a_connection_error(fake_cli: FakeCli, tmp_path: Path) -> None:
    fake_cli.mode("die")
    provider = CopilotProvider("gpt-5-fake", workspace=tmp_path / "ws", timeout_s=30)
    with pytest.raises(ProviderError) as caught:
        asyncio.run(ask_once(provider))
    assert caught.value.error_class == "connection" and caught.value.retryable
    assert "exited" in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_an_error_from_the_cli_is_classified_and_said_in_one_line(fake_cli: FakeCli, tmp_path: Path) -> None:
    fake_cli.mode("refuse")
    provider = CopilotProvider("gpt-5-fake", workspace=tmp_path / "ws", timeout_s=30)
    with pytest.raises(ProviderError) as caught:
        asyncio.run(ask_once(provider))
    assert caught.value.error_class == "server"
    assert str(caught.value) == "the Copilot CLI refused the prompt: model gpt-5-fake is not available"


def test_a_slow_answer_is_a_timeout(fake_cli: FakeCli, tmp_path: Path) -> None:
    fake_cli.mode("slow")
    provider = CopilotProvider("gpt-5-fake", workspace=tmp_path / "ws", timeout_s=0.5)
    with pytest.raises(ProviderError) as caught:
        asyncio.run(ask_once(provider))
    assert caught.value.error_class == "timeout"


def test_a_prompt_given_up_on_is_aborted_in_the_cli(fake_cli: FakeCli, tmp_path: Path) -> None:
    """The SDK's timeout only stops waiting: without an abort the CLI's model would go on."""
    fake_cli.mode("slow")
    provider = CopilotProvider("gpt-5-fake", workspace=tmp_path / "ws", timeout_s=0.5)
    with pytest.raises(ProviderError):
        asyncio.run(ask_once(provider))
    (prompt,) = fake_cli.requests("session.sendAndWait")
    (abort,) = fake_cli.requests("session.abort")
    assert abort["params"]["sessionId"] == prompt["params"]["sessionId"]


def test_a_missing_cli_is_one_clear_line(
    fake_cli: FakeCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COPILOT_CLI_PATH")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert cli_available() == (False, cli_available()[1])
    with pytest.raises(ProviderError) as caught:
        asyncio.run(ask_once(CopilotProvider("gpt-5-fake", workspace=tmp_path / "ws")))
    assert caught.value.error_class == "unavailable" and not caught.value.retryable
    message = str(caught.value)
    assert "Copilot CLI was not found" in message and "COPILOT_CLI_PATH" in message
    assert len(message.splitlines()) == 1
