"""Copilot through the official github-copilot-sdk (the optional extra `orkestra-tui[copilot]`).

The SDK drives the Copilot CLI over JSON-RPC; GitHub Models, the old HTTP
route, was retired on 2026-07-30 and is not used. The adapter talks to a small
session seam (`CopilotSession.ask`) so that it can be tested at its own
boundary with a fake session; `SdkSession` is the real one. Copilot may not
edit files or run tools for Orkestra: every permission request is denied.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from orkestra_tui.providers.base import (
    Provider,
    ProviderError,
    ProviderRequest,
    ProviderResponse,
    ProviderSettings,
    VendorFacts,
)
from orkestra_tui.providers.plain_prompt import prompt_text

if TYPE_CHECKING:
    from copilot import CopilotClient, PermissionRequest, PermissionRequestResult
    from copilot import CopilotSession as SdkCopilotSession
    from copilot.session import PermissionInvocation

INSTALL_HINT = "install it with: pip install 'orkestra-tui[copilot]'"
ABORT_WAIT_S = 5.0
"""How long a prompt given up on waits for the CLI to confirm its abort."""
CLI_MISSING = (
    "the Copilot CLI was not found: install it (npm install -g @github/copilot) "
    "or set COPILOT_CLI_PATH to its path"
)


class CopilotSession(Protocol):
    async def ask(self, prompt: str, timeout_s: float) -> str:
        """The assistant's whole reply to one prompt."""
        ...

    async def close(self) -> None: ...


SessionFactory = Callable[[str, Path], Awaitable[CopilotSession]]
"""Given the model and the workspace, an open session."""


def cli_path() -> str | None:
    """The Copilot CLI to start: COPILOT_CLI_PATH, else `copilot` on the PATH; None if there is none.

    Orkestra always names the CLI to the SDK, so that the SDK never downloads one at run time.
    """
    configured = os.environ.get("COPILOT_CLI_PATH", "")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("copilot")


def cli_available() -> tuple[bool, str]:
    """Whether the SDK and its Copilot CLI can be used here, and if not, what to do about it."""
    try:
        import copilot  # noqa: F401
    except ImportError:
        return False, f"the github-copilot-sdk package is missing; {INSTALL_HINT}"
    configured = os.environ.get("COPILOT_CLI_PATH", "")
    if configured and not Path(configured).exists():
        return False, f"COPILOT_CLI_PATH points to {configured}, which does not exist"
    if cli_path() is None:
        return False, CLI_MISSING
    return True, ""


class SdkSession:
    """A Copilot CLI session through the SDK: send a prompt, wait for the reply until idle."""

    def __init__(self, client: CopilotClient, session: SdkCopilotSession) -> None:
        self._client = client
        self._session = session

    @classmethod
    async def open(cls, model: str, workspace: Path) -> SdkSession:
        from copilot import CopilotClient, RuntimeConnection

        cli = cli_path()
        if cli is None:
            raise FileNotFoundError(CLI_MISSING)
        workspace.mkdir(parents=True, exist_ok=True)
        # An explicit CLI path: the SDK never downloads a runtime when it is given one.
        client = CopilotClient(
            connection=RuntimeConnection.for_stdio(path=cli), working_directory=str(workspace)
        )
        try:
            await client.start()
            session = await client.create_session(
                on_permission_request=_deny_everything, model=model, working_directory=str(workspace)
            )
        except BaseException as error:
            await _stop_quietly(client)
            if isinstance(error, Exception):
                raise ConnectionError(f"the Copilot CLI did not start: {_first_line(error)}") from None
            raise
        return cls(client, session)

    async def ask(self, prompt: str, timeout_s: float) -> str:
        from copilot._jsonrpc import JsonRpcError, ProcessExitedError
        from copilot.session_events import AssistantMessageData

        try:
            event = await self._session.send_and_wait(prompt, timeout=timeout_s)
        except (TimeoutError, asyncio.CancelledError):
            # The SDK only stops waiting: without an abort the CLI's model goes on with the prompt.
            await self._abort()
            raise
        except (ProcessExitedError, OSError) as error:
            raise ConnectionError(_first_line(error)) from None
        except JsonRpcError as error:
            raise ProviderError("server", f"the Copilot CLI refused the prompt: {error.message}") from None
        except RuntimeError as error:  # "Session closed before response completed" and the like
            raise ConnectionError(_first_line(error)) from None
        except Exception as error:  # a session.error event: "Session error: ..."
            raise ProviderError("server", _first_line(error)) from None
        if event is None or not isinstance(event.data, AssistantMessageData):
            return ""
        return event.data.content

    async def _abort(self) -> None:
        """Stop the prompt under way in the CLI, waiting for it briefly (it may be gone already)."""
        with contextlib.suppress(Exception):
            await asyncio.shield(asyncio.wait_for(self._session.abort(), ABORT_WAIT_S))

    async def close(self) -> None:
        # The CLI may be gone already; stopping the client below cleans up either way.
        with contextlib.suppress(Exception):
            await self._session.disconnect()
        await _stop_quietly(self._client)


async def _stop_quietly(client: CopilotClient) -> None:
    try:
        await client.stop()
    except BaseException:
        await client.force_stop()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _deny_everything(request: PermissionRequest, invocation: PermissionInvocation) -> PermissionRequestResult:
    """Copilot asks before it runs tools or edits files; Orkestra wants text only."""
    from copilot.generated.rpc import PermissionDecisionDeniedInteractivelyByUser

    return PermissionDecisionDeniedInteractivelyByUser(feedback="Orkestra asks for text only.")


class CopilotProvider(VendorFacts):
    vendor = "github"
    key_variables = ("GITHUB_TOKEN", "COPILOT_API_KEY")
    model_variable = "COPILOT_MODEL"
    sdk_module = "copilot"
    sdk_extra = "copilot"
    sdk_package = "github-copilot-sdk"

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> Provider:
        return cls(settings.model, workspace=settings.workspace, timeout_s=settings.timeout_s)

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
            except FileNotFoundError:
                raise ProviderError("unavailable", CLI_MISSING) from None
            except ConnectionError as error:
                raise ProviderError("connection", str(error)) from None
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
            await _close_quietly(session)
            raise ProviderError("connection", f"the Copilot CLI stopped answering: {error}") from None
        return ProviderResponse(
            text=text, tokens_in=max(1, len(prompt) // 4), tokens_out=max(1, len(text) // 4), model=self.model
        )

    async def aclose(self) -> None:
        """End the CLI session, if one was started (the next call starts a new one)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def close(self) -> None:
        """The same as `aclose`."""
        await self.aclose()


async def _close_quietly(session: CopilotSession) -> None:
    with contextlib.suppress(Exception):  # the session is being dropped because it already failed
        await session.close()
