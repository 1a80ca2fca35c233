"""The Copilot adapter at its own boundary: a fake session stands in for the SDK and its CLI."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from orkestra_tui.providers.base import Message, ProviderError, ProviderRequest
from orkestra_tui.providers.copilot import CopilotProvider, cli_available

REQUEST = ProviderRequest(system="Be brief.", messages=(Message("user", "Hello?"),))


class FakeSession:
    def __init__(self, reply: str | BaseException) -> None:
        self.reply = reply
        self.prompts: list[str] = []
        self.closed = False

    async def ask(self, prompt: str, timeout_s: float) -> str:
        self.prompts.append(prompt)
        if isinstance(self.reply, BaseException):
            raise self.reply
        return self.reply

    async def close(self) -> None:
        self.closed = True


def provider_with(session: FakeSession, tmp_path: Path, opened: list[tuple[str, Path]]) -> CopilotProvider:
    async def factory(model: str, workspace: Path) -> FakeSession:
        opened.append((model, workspace))
        return session

    return CopilotProvider("gpt-5", workspace=tmp_path / "ws", session_factory=factory)


def test_a_reply_through_the_session(tmp_path: Path) -> None:
    opened: list[tuple[str, Path]] = []
    session = FakeSession("Hi.")
    provider = provider_with(session, tmp_path, opened)

    async def twice() -> list[str]:
        return [(await provider.complete(REQUEST)).text for _ in range(2)]

    assert asyncio.run(twice()) == ["Hi.", "Hi."]
    assert opened == [("gpt-5", tmp_path / "ws")]  # one session for the provider's lifetime
    assert session.prompts[0] == "Be brief.\n\nHello?\n"


@pytest.mark.parametrize(
    ("failure", "error_class"), [(TimeoutError(), "timeout"), (ConnectionResetError("gone"), "connection")]
)
def test_session_failures_are_classified(tmp_path: Path, failure: BaseException, error_class: str) -> None:
    provider = provider_with(FakeSession(failure), tmp_path, [])
    with pytest.raises(ProviderError) as caught:
        asyncio.run(provider.complete(REQUEST))
    assert caught.value.error_class == error_class and caught.value.retryable


def test_a_missing_cli_is_said_plainly(tmp_path: Path) -> None:
    async def no_cli(model: str, workspace: Path) -> FakeSession:
        raise FileNotFoundError("copilot")

    provider = CopilotProvider("gpt-5", workspace=tmp_path, session_factory=no_cli)
    with pytest.raises(ProviderError, match="the Copilot CLI was not found") as caught:
        asyncio.run(provider.complete(REQUEST))
    assert not caught.value.retryable


def test_without_the_sdk_the_real_path_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "copilot", None)  # `import copilot` now fails
    available, problem = cli_available()
    assert not available and "github-copilot-sdk" in problem
    with pytest.raises(ProviderError, match=r"pip install 'orkestra-tui\[copilot\]'"):
        asyncio.run(CopilotProvider("gpt-5", workspace=tmp_path).complete(REQUEST))
