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
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

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
    workdir: Path | None = None
    """The folder a coding agent works in (a task's worktree); None: the agent's own workspace."""


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

    async def aclose(self) -> None:
        """Let go of what the provider holds open (an SDK client, a CLI session); a no-op otherwise."""
        ...


@dataclass(frozen=True)
class ProviderSettings:
    """What a provider is built from: one agent's settings, resolved against the environment."""

    model: str
    api_key: str = field(default="", repr=False)
    base_url: str = ""
    """The endpoint; empty for the SDK's own."""
    timeout_s: float = 120.0
    local: bool = False
    """The model is served on this machine or network (see `VendorFacts.serves_locally`)."""
    workspace: Path = Path()
    """The folder a command or Copilot agent runs in."""
    command: tuple[str, ...] = ()
    """A command agent's program and arguments."""
    command_env: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The stripped environment a command agent runs with."""
    key_variable: str = ""
    """The agent's own key variable (`api_key_env`), which a command agent's program is given."""


class VendorFacts:
    """What Orkestra knows about one vendor, as class attributes of its provider class.

    The registry maps each `provider` name of config.toml to one such class and
    reads these facts from it, so that adding a vendor is adding one class.
    """

    vendor: str = ""
    """The company behind the model; cross-review pairs agents of different vendors."""
    key_variables: ClassVar[tuple[str, ...]] = ()
    """The vendor's usual key variables, then the older names, in lookup order; empty: no key needed."""
    model_variable: ClassVar[str] = ""
    """An older variable that overrides the configured model."""
    base_url_variable: ClassVar[str] = ""
    """The vendor's variable for its endpoint."""
    default_base_url: ClassVar[str] = ""
    """The endpoint when neither config.toml nor the variable names one ("" for the SDK's own)."""
    sdk_endpoint: ClassVar[str] = ""
    """Where the SDK goes when given no base URL: shown to the user, never used to call."""
    edits_files_itself: ClassVar[bool] = False
    """The agent changes the files of its working folder itself (a coding-agent CLI): its change is
    what `git status` shows there afterwards, not blocks in its answer."""
    sdk_module: str = ""
    """The SDK's module, imported on first use (e.g. `anthropic`, `google.genai`)."""
    sdk_extra: ClassVar[str] = ""
    """The optional extra of orkestra-tui that installs the SDK ("" when it comes with Orkestra)."""
    sdk_package: ClassVar[str] = ""
    """The package that extra installs."""
    placeholder_key: ClassVar[str] = ""
    """Sent as the key by a keyless provider whose SDK insists on one."""
    real: ClassVar[bool] = True
    """Has a real adapter in this build; the others run simulated."""

    @classmethod
    def keyless(cls) -> bool:
        """Runs without a key (a local server, a command, a simulation)."""
        return not cls.key_variables

    @classmethod
    def base_url_from(cls, env: Mapping[str, str]) -> str:
        """The endpoint from the environment: the vendor's variable, else its default."""
        if cls.base_url_variable and env.get(cls.base_url_variable, "").strip():
            return env[cls.base_url_variable].strip()
        return cls.default_base_url

    @classmethod
    def serves_locally(cls, base_url: str) -> bool:
        """Whether the model at this endpoint runs on this machine or network."""
        return False

    @classmethod
    def missing_extra(cls) -> str:
        """Why the optional SDK cannot be used ("" when installed or not optional); nothing is imported."""
        if not cls.sdk_extra:
            return ""
        from importlib.util import find_spec

        try:
            found = find_spec(cls.sdk_module) is not None
        except (ImportError, ValueError):
            found = False
        if found:
            return ""
        return f"the {cls.sdk_package} package is missing; pip install 'orkestra-tui[{cls.sdk_extra}]'"

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> Provider:
        """The provider for one agent."""
        raise NotImplementedError(f"{cls.__name__} is not built from settings")


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


class SdkProvider(VendorFacts):
    """What the vendor-SDK adapters share: settings, and one SDK client per event loop.

    An SDK client belongs to the event loop it was made in, so a new loop gets a
    new client. Subclasses make the client (`_make_client`) and the call.
    """

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> Provider:
        return cls(
            settings.model, settings.api_key, base_url=settings.base_url or None, timeout_s=settings.timeout_s
        )

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

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
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
