"""The one small interface every provider implements, and its error classes.

A provider turns a `ProviderRequest` into a `ProviderResponse`: text and token
usage. Timing, cost, retries, parsing and recording live once, in the engine's
shared call path, not in each provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class Message:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class ProviderRequest:
    system: str
    messages: tuple[Message, ...]
    max_tokens: int = 2048
    temperature: float = 0.7
    json_schema: Mapping[str, Any] | None = None
    purpose: str = ""
    """What the engine asks for: plan, ballot, review, task, compromise or ping."""
    context: Mapping[str, Any] = field(default_factory=dict)
    """The same request in structured form; simulated agents answer from this."""


@dataclass(frozen=True)
class ProviderResponse:
    text: str
    tokens_in: int
    tokens_out: int
    model: str


class ProviderError(Exception):
    """A failed call, classified once so every caller treats it the same way.

    `error_class` is one of: rate_limited, overloaded, server, timeout,
    connection, bad_request, auth, not_found, malformed, unavailable.
    """

    RETRYABLE = frozenset({"rate_limited", "overloaded", "server", "timeout", "connection"})

    def __init__(self, error_class: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.error_class in self.RETRYABLE


class Provider(Protocol):
    vendor: str
    """The company behind the model: anthropic, openai, google, xai, github, local..."""
    model: str

    async def complete(self, request: ProviderRequest) -> ProviderResponse: ...
