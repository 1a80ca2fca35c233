"""The one small interface every provider implements, and its error classes.

A provider turns a `ProviderRequest` into a `ProviderResponse`: text and token
usage. Timing, cost, retries, parsing and recording live once, in the engine's
shared call path, not in each provider.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from orkestra_tui.secrets import redact


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


CUT_OFF_STOP_REASONS = frozenset({"length", "max_tokens", "MAX_TOKENS", "model_context_window_exceeded"})
"""The vendors' words for an answer stopped by its token limit (OpenAI and Ollama `length`,
Anthropic `max_tokens`, Gemini `MAX_TOKENS`), not because the model was done."""


@dataclass(frozen=True)
class ProviderResponse:
    text: str
    tokens_in: int
    tokens_out: int
    model: str
    stop_reason: str = ""
    """Why the model stopped, in the vendor's own word (`stop`, `end_turn`, `length`, `MAX_TOKENS`);
    empty where the provider cannot know (a command, Copilot)."""

    @property
    def cut_off(self) -> bool:
        """The answer stopped at its token limit: whatever it holds is unfinished."""
        return self.stop_reason in CUT_OFF_STOP_REASONS


class ProviderError(Exception):
    """A failed call, classified once so every caller treats it the same way.

    `error_class` is one of: rate_limited, overloaded, server, timeout,
    connection, conflict (all retryable), and bad_request, auth, forbidden,
    not_found, malformed, cut_off, unavailable, circuit_open (not retryable;
    a cut-off answer is asked again once with more room, by the engine).
    """

    RETRYABLE = frozenset({"rate_limited", "overloaded", "server", "timeout", "connection", "conflict"})

    def __init__(self, error_class: str, message: str, *, retry_after: float | None = None) -> None:
        # Vendors echo keys back in error bodies ("Incorrect API key provided: sk-..."): never keep one.
        super().__init__(redact(message))
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


@contextmanager
def reading_answer() -> Iterator[None]:
    """Around the code that reads an SDK's parsed answer: a wrong shape is an unreadable answer.

    The SDKs build their response objects without validating them, so an answer
    of the wrong shape (`"content": null`, no candidates) surfaces as a
    TypeError or AttributeError in our reading of it. It is not retried and
    never counts as a success.
    """
    try:
        yield
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as error:
        raise ProviderError(
            "malformed", f"the answer has an unexpected shape ({type(error).__name__}: {error})"
        ) from None


def error_for_status(status: int, message: str, *, retry_after: float | None = None) -> ProviderError:
    """The classified error for an HTTP status from any vendor's API."""
    if status == 408:
        error_class = "timeout"
    elif status == 409:
        error_class = "conflict"
    elif status == 429:
        error_class = "rate_limited"
    elif status == 529:
        error_class = "overloaded"
    elif status >= 500:
        error_class = "server"
    elif status == 401:
        error_class = "auth"
    elif status == 403:
        error_class = "forbidden"
    elif status == 404:
        error_class = "not_found"
    else:
        error_class = "bad_request"
    return ProviderError(error_class, f"HTTP {status}: {message}", retry_after=retry_after)


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """A `retry-after` (or `retry-after-ms`) header as seconds, if it parses."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        if "retry-after-ms" in lowered:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000.0)
        if "retry-after" in lowered:
            return max(0.0, float(lowered["retry-after"]))
    except ValueError:
        return None  # an HTTP date: the policy's own backoff applies
    return None


def short_message(body: object, limit: int = 300) -> str:
    """A one-line message from an error body (its `error.message` when it has one)."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            body = error["message"]
    text = " ".join(str(body).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SdkProvider:
    """What the vendor-SDK adapters share: settings, and one SDK client per event loop.

    An SDK client belongs to the event loop it was made in, so a new loop gets a
    new client. Subclasses make the client (`_make_client`) and the call.
    """

    vendor = ""
    sdk_module = ""
    """The SDK's module, imported by `prepare` (e.g. `anthropic`, `google.genai`)."""

    def __init__(
        self, model: str, api_key: str, *, base_url: str | None = None, timeout_s: float = 120.0
    ) -> None:
        self.model = model
        self._api_key = api_key
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def prepare(self) -> None:
        """Import the SDK (a second or two the first time), so that no call's timeout counts it."""
        if self.sdk_module:
            importlib.import_module(self.sdk_module)

    def _make_client(self) -> Any:
        raise NotImplementedError

    async def _close_client(self, client: Any) -> None:
        await client.close()

    def _sdk_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = self._make_client()
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the SDK client's connections (in the loop that made it)."""
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._close_client(self._client)
        self._client = None


def stainless_error(sdk: Any, error: Exception, timeout_s: float) -> ProviderError | None:
    """The classified error for an exception of the anthropic or openai SDK (same generator, same classes)."""
    if isinstance(error, sdk.APIStatusError):
        body = short_message(error.body) if error.body is not None else error.message
        return error_for_status(
            error.status_code, body, retry_after=retry_after_seconds(error.response.headers)
        )
    if isinstance(error, sdk.APITimeoutError):
        return ProviderError("timeout", f"no answer within {timeout_s:g} s")
    if isinstance(error, sdk.APIConnectionError):
        return ProviderError("connection", f"connection failed: {error.__cause__ or error}")
    if isinstance(error, json.JSONDecodeError | sdk.APIResponseValidationError):
        return ProviderError("malformed", f"the response could not be read: {error}")
    return None
