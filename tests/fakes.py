"""A scripted provider for tests: answers from a function, records every request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from orkestra_tui.providers.base import ProviderError, ProviderRequest, ProviderResponse

Script = Callable[[ProviderRequest, int], str | BaseException]
"""Given the request and how many calls came before it, the text to answer, or an error to raise."""


class ScriptedProvider:
    vendor = "test"

    def __init__(self, script: Script, *, model: str = "scripted", delay_s: float = 0.0) -> None:
        self.script = script
        self.model = model
        self.delay_s = delay_s
        self.requests: list[ProviderRequest] = []
        self.release = asyncio.Event()
        self.blocking = False

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        self.requests.append(request)
        if self.blocking:
            await self.release.wait()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        answer = self.script(request, len(self.requests) - 1)
        if isinstance(answer, BaseException):
            raise answer
        return ProviderResponse(text=answer, tokens_in=100, tokens_out=20, model=self.model)


def ballot_for(*options: str, confidence: float = 0.8, reasoning: str = "because") -> Script:
    """A voter that ranks the given options (by their text) first, in that order."""

    def script(request: ProviderRequest, _index: int) -> str:
        label_of = {item["text"]: item["label"] for item in request.context["options"]}
        ranking = [label_of[option] for option in options if option in label_of]
        return json.dumps({"ranking": ranking, "confidence": confidence, "reasoning": reasoning})

    return script


def garbage(_request: ProviderRequest, _index: int) -> str:
    return "I refuse to answer in JSON. [bold]Here is some markup[/]"


def failing(error_class: str) -> Script:
    def script(_request: ProviderRequest, _index: int) -> BaseException:
        return ProviderError(error_class, f"simulated {error_class}")

    return script


def answers(*texts: str) -> Script:
    """Answers in turn, the last one repeated."""

    def script(_request: ProviderRequest, index: int) -> str:
        return texts[min(index, len(texts) - 1)]

    return script


def as_json(value: Any) -> str:
    return json.dumps(value)
