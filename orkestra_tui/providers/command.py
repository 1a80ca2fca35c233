"""Coding-agent CLIs as providers: `claude -p`, `codex exec`, `gemini -p`, or any program
that reads a prompt on standard input and answers on standard output.

The program runs with a timeout, in the project's workspace folder, with an
environment stripped of everything but the basics (and the one key variable
the agent was configured with): no other vendor's key reaches it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from orkestra_tui.providers.base import (
    Provider,
    ProviderError,
    ProviderRequest,
    ProviderResponse,
    ProviderSettings,
    VendorFacts,
)
from orkestra_tui.providers.plain_prompt import prompt_text

PASSED_VARIABLES = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
    "TMPDIR",
    "USER",
    "LOGNAME",
    "SHELL",
    "TZ",
)
"""The only variables of Orkestra's environment a command sees (plus its own key variable)."""

STDERR_CHARS = 300


def command_environment(env: Mapping[str, str], key_variable: str = "") -> dict[str, str]:
    """The environment for a command: the basics, and the agent's own key variable if it has one."""
    allowed = {*PASSED_VARIABLES, *([key_variable] if key_variable else [])}
    return {name: value for name, value in env.items() if name in allowed}


class CommandProvider(VendorFacts):
    vendor = "local"
    edits_files_itself = True

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> Provider:
        return cls(
            settings.command,
            workspace=settings.workspace,
            model=settings.model,
            env=settings.command_env,
            key_variable=settings.key_variable,
            timeout_s=settings.timeout_s,
        )

    def __init__(
        self,
        command: Sequence[str],
        *,
        workspace: Path,
        model: str = "",
        env: Mapping[str, str] | None = None,
        key_variable: str = "",
        timeout_s: float = 600.0,
    ) -> None:
        if not command:
            raise ValueError("a command provider needs a command")
        self.command = list(command)
        self.model = model or Path(self.command[0]).name
        self.workspace = workspace
        self.environment = command_environment(os.environ if env is None else env, key_variable)
        self.timeout_s = timeout_s

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        folder = request.workdir or self.workspace  # a task's worktree, in a repository project
        folder.mkdir(parents=True, exist_ok=True)
        prompt = prompt_text(request)
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=folder,
                env=self.environment,
            )
        except FileNotFoundError:
            raise ProviderError("not_found", f"the command {self.command[0]!r} was not found") from None
        except PermissionError:
            raise ProviderError("forbidden", f"the command {self.command[0]!r} cannot be run") from None
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(prompt.encode()), self.timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise ProviderError(
                "timeout", f"{self.command[0]} gave no answer within {self.timeout_s:g} s"
            ) from None
        except asyncio.CancelledError:
            process.kill()
            raise
        if process.returncode != 0:
            last_line = next(
                (line for line in reversed(stderr.decode(errors="replace").splitlines()) if line.strip()), ""
            )
            raise ProviderError(
                "server",
                f"{self.command[0]} exited with status {process.returncode}: {last_line[:STDERR_CHARS]}",
            )
        text = stdout.decode(errors="replace")
        return ProviderResponse(
            text=text, tokens_in=max(1, len(prompt) // 4), tokens_out=max(1, len(text) // 4), model=self.model
        )

    async def aclose(self) -> None:
        """Nothing to close: each call's process has ended by the time the call returns."""
