"""Copilot through the official github-copilot-sdk (the optional extra `orkestra-tui[copilot]`).

The SDK drives the Copilot CLI over JSON-RPC; GitHub Models, the old HTTP
route, was retired on 2026-07-30 and is not used. The adapter talks to a small
session seam (`CopilotSession.ask`) so that it can be tested at its own
boundary with a fake session; `SdkSession` is the real one. Copilot may not
edit files or run tools for Orkestra: every permission request is denied.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from orkestra_tui.providers.base import ProviderError, ProviderRequest, ProviderResponse
from orkestra_tui.providers.command import prompt_text

INSTALL_HINT = "install it with: pip install 'orkestra-tui[copilot]'"


class CopilotSession(Protocol):
    async def ask(self, prompt: str, timeout_s: float) -> str:
        """The assistant's whole reply to one prompt."""
        ...

    async def close(self) -> None: ...


SessionFactory = Callable[[str, Path], Awaitable[CopilotSession]]
"""Given the model and the workspace, an open session."""


def cli_available() -> tuple[bool, str]:
    """Whether the SDK and its Copilot CLI can be used here, and if not, what to do about it."""
    try:
        import copilot  # noqa: F401
    except ImportError:
        return False, f"the github-copilot-sdk package is missing; {INSTALL_HINT}"
    path = os.environ.get("COPILOT_CLI_PATH", "")
    if path and not Path(path).exists():
        return False, f"COPILOT_CLI_PATH points to {path}, which does not exist"
    return True, ""


class SdkSession:
    """A Copilot CLI session through the SDK: send a prompt, gather the reply until idle."""

    def __init__(self, client: Any, session: Any) -> None:
        self._client = client
        self._session = session

    @classmethod
    async def open(cls, model: str, workspace: Path) -> SdkSession:
        from copilot import CopilotClient

        # Never download a CLI at run time: a missing CLI is reported, not fetched.
        os.environ.setdefault("COPILOT_SKIP_CLI_DOWNLOAD", "1")
        workspace.mkdir(parents=True, exist_ok=True)
        client = CopilotClient({"cwd": str(workspace)})
        await client.start()
        session = await client.create_session(on_permission_request=_deny_everything, model=model)
        return cls(client, session)

    async def ask(self, prompt: str, timeout_s: float) -> str:
        parts: list[str] = []
        done = asyncio.Event()

        def on_event(event: Any) -> None:
            kind = type(event.data).__name__
            if kind == "AssistantMessageData":
                parts.append(str(getattr(event.data, "content", "") or ""))
            elif kind == "SessionIdleData":
                done.set()

        unsubscribe = self._session.on(on_event)
        try:
            await self._session.send(prompt)
            await asyncio.wait_for(done.wait(), timeout_s)
        finally:
            if callable(unsubscribe):
                unsubscribe()
        return "".join(parts)

    async def close(self) -> None:
        await self._session.disconnect()
        await self._client.stop()


def _deny_everything(*_args: Any, **_kwargs: Any) -> Any:
    """Copilot asks before it runs tools or edits files; Orkestra wants text only."""
    try:
        from copilot.session import PermissionRequestResult

        return PermissionRequestResult(kind="denied-interactively-by-user")
    except ImportError:
        return {"kind": "denied-interactively-by-user"}


class CopilotProvider:
    vendor = "github"

    def __init__(
        self,
        model: str,
        *,
        workspace: Path,
        timeout_s: float = 120.0,
        session_factory: SessionFactory | None = None,
    ) -> None:
        self.model = model
        self.workspace = workspace
        self.timeout_s = timeout_s
        self._factory: SessionFactory = session_factory or SdkSession.open
        self._uses_sdk = session_factory is None
        self._session: CopilotSession | None = None

    async def _open(self) -> CopilotSession:
        if self._session is None:
            if self._uses_sdk:
                available, problem = cli_available()
                if not available:
                    raise ProviderError("unavailable", f"Copilot cannot run: {problem}")
            try:
                self._session = await self._factory(self.model, self.workspace)
            except FileNotFoundError as error:
                raise ProviderError(
                    "unavailable",
                    f"the Copilot CLI was not found ({error}); install it or set COPILOT_CLI_PATH",
                ) from None
        return self._session

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        session = await self._open()
        prompt = prompt_text(request)
        try:
            text = await session.ask(prompt, self.timeout_s)
        except TimeoutError:
            raise ProviderError("timeout", f"no answer within {self.timeout_s:g} s") from None
        except (ConnectionError, EOFError, BrokenPipeError) as error:
            self._session = None  # the CLI went away: start a new session next time
            raise ProviderError("connection", f"the Copilot CLI stopped answering: {error}") from None
        return ProviderResponse(
            text=text, tokens_in=max(1, len(prompt) // 4), tokens_out=max(1, len(text) // 4), model=self.model
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
