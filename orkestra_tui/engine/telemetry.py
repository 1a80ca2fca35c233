"""Traces and metrics of the engine's work: off by default, and free while off.

The engine marks its steps here: `span` around a block, `traced` around an
awaitable (a task created inside inherits the span through contextvars, so
ballots asked in parallel are children of their round), `call_made` once per
model call and `task_ended` once per piece of task work. Until a backend is
installed every one of them returns at once, and the OpenTelemetry SDK is never
imported: `start` installs the SDK's backend (`telemetry_sdk`) only when an
OTLP endpoint variable is set. Spans follow the GenAI semantic conventions for
model calls; keys never reach an attribute, and prompts and answers only with
`[telemetry] capture_content = true`, then redacted and clipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from orkestra_tui.secrets import redact

if TYPE_CHECKING:
    from orkestra_tui.engine.models import CallRecord, Decision
    from orkestra_tui.providers.base import ProviderRequest, ProviderResponse
    from orkestra_tui.providers.registry import AgentRuntime

T = TypeVar("T")
AttributeValue = str | bool | int | float
Attributes = Mapping[str, AttributeValue]

ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)
"""Any of these set (not empty) turns export on; the exporters read them themselves."""
CONTENT_CHARS = 4000
"""The most characters of a prompt or an answer kept in an attribute (with capture_content)."""
GEN_AI_SYSTEMS = {"gemini": "gcp.gemini", "copilot": "github_copilot"}
"""`gen_ai.system` for the providers whose well-known name is not their config name."""


class SpanHandle(Protocol):
    """What a block does with its span: add attributes (the SDK's Span has this method)."""

    def set_attribute(self, key: str, value: AttributeValue) -> None: ...


class Backend(Protocol):
    """Where spans and measurements go once telemetry is on (see `telemetry_sdk.OtelBackend`)."""

    capture_content: bool

    def span(self, name: str, attributes: Attributes) -> AbstractContextManager[SpanHandle]: ...

    def finished_span(
        self, name: str, attributes: Attributes, *, start_ns: int, end_ns: int, error_type: str
    ) -> None: ...

    def count_call(
        self,
        attributes: Attributes,
        *,
        latency_s: float,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float,
        error_type: str,
    ) -> None: ...

    def count_task(self, attributes: Attributes) -> None: ...

    def shutdown(self) -> None: ...


class _NoSpan:
    """The span of a block while telemetry is off: one shared object that does nothing."""

    def __enter__(self) -> _NoSpan:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        return None


class _Switch:
    """Whether telemetry is on in this process, and where it goes."""

    backend: Backend | None = None
    started = False
    """`start` ran (once per process, whatever it found)."""


NO_SPAN = _NoSpan()
_switch = _Switch()


def install(backend: Backend | None) -> Backend | None:
    """Send spans and measurements to `backend` from now on (None: off); returns the one before."""
    previous, _switch.backend = _switch.backend, backend
    return previous


def enabled() -> bool:
    return _switch.backend is not None


def start(capture_content: bool, env: Mapping[str, str], *, log_file: Path | None = None) -> str:
    """Turn export on, once per process, when an OTLP endpoint variable is set.

    Returns '' or the one line to show when a variable is set but the `otel`
    extra is not installed (the work goes on without telemetry). The SDK's own
    complaints go to `log_file` if given (the app's terminal is its screen).
    """
    if _switch.started or _switch.backend is not None:
        return ""
    if not any(env.get(name) for name in ENDPOINT_VARIABLES):
        return ""
    _switch.started = True
    try:
        from orkestra_tui.engine import telemetry_sdk
    except ImportError:
        variable = next(name for name in ENDPOINT_VARIABLES if env.get(name))
        return (
            f"{variable} is set, but the OpenTelemetry SDK is not installed: nothing is exported"
            " (pip install 'orkestra-tui[otel]')"
        )
    try:
        backend = telemetry_sdk.exporting(capture_content=capture_content, log_file=log_file)
    except Exception as problem:  # a variable the SDK cannot use: the work goes on without telemetry
        text = " ".join(redact(str(problem)).split())[:200]
        why = f"{type(problem).__name__}: {text}"
        return f"telemetry is off: the OpenTelemetry SDK refused its settings ({why})"
    install(backend)
    return ""


def span(name: str, attributes: Attributes | None = None) -> AbstractContextManager[SpanHandle]:
    """A span around a block, child of the current one; a shared no-op while telemetry is off."""
    backend = _switch.backend
    if backend is None:
        return NO_SPAN
    return backend.span(name, attributes or {})


def traced(
    name: str,
    work: Awaitable[T],
    attributes: Attributes | Callable[[], Attributes] | None = None,
    describe: Callable[[T], Attributes] | None = None,
) -> Awaitable[T]:
    """`work` awaited inside a span; `work` itself when off.

    `attributes` may be a function, called only when telemetry is on (when they
    take a read to find); `describe` gives attributes of the result.
    """
    backend = _switch.backend
    if backend is None:
        return work
    if callable(attributes):
        attributes = attributes()
    return _traced(backend, name, work, attributes or {}, describe)


async def _traced(
    backend: Backend,
    name: str,
    work: Awaitable[T],
    attributes: Attributes,
    describe: Callable[[T], Attributes] | None,
) -> T:
    with backend.span(name, attributes) as handle:
        result = await work
        if describe is not None:
            for key, value in describe(result).items():
                handle.set_attribute(key, value)
        return result


def task_work(
    work: Awaitable[str], *, task_id: int, project_id: int, attempt: int, agent: str
) -> Awaitable[str]:
    """One claimed task's work (to the status it ended in) in a `task` span, counted by that status.

    Tasks per status are counted as they end a piece of work here, not read from
    the database: several processes share one data dir, and each counting its
    own transitions adds up, where each reporting the database's totals would not.
    """
    backend = _switch.backend
    if backend is None:
        return work
    attributes: Attributes = {
        "orkestra.task.id": task_id,
        "orkestra.project.id": project_id,
        "orkestra.task.attempt": attempt,
        "orkestra.agent": agent,
    }
    return _task_work(backend, work, attributes, project_id)


async def _task_work(backend: Backend, work: Awaitable[str], attributes: Attributes, project_id: int) -> str:
    status = "interrupted"
    try:
        with backend.span("task", attributes) as handle:
            status = await work
            handle.set_attribute("orkestra.task.status", status)
            return status
    finally:
        backend.count_task({"orkestra.project.id": project_id, "orkestra.task.status": status})


def call_made(
    agent: AgentRuntime,
    request: ProviderRequest,
    record: CallRecord,
    response: ProviderResponse | None,
) -> None:
    """One model call just ended (`record` says how): its span, ended now, and its measurements."""
    backend = _switch.backend
    if backend is None:
        return
    end_ns = time.time_ns()
    model = agent.model or agent.settings.model
    measured: dict[str, AttributeValue] = {
        "gen_ai.system": GEN_AI_SYSTEMS.get(agent.settings.provider, agent.settings.provider),
        "gen_ai.request.model": redact(model),
        "orkestra.agent": agent.name,
    }
    attributes: dict[str, AttributeValue] = {
        **measured,
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": measured["gen_ai.system"],
        "gen_ai.request.max_tokens": request.max_tokens,
        "gen_ai.usage.input_tokens": record.tokens_in,
        "gen_ai.usage.output_tokens": record.tokens_out,
        "orkestra.cost_usd": record.cost,
        "orkestra.purpose": request.purpose,
    }
    if agent.simulated:
        attributes["orkestra.simulated"] = True
    if response is not None:
        attributes["gen_ai.response.model"] = redact(response.model)
    if record.error_class:
        attributes["error.type"] = record.error_class
    if backend.capture_content:
        attributes.update(_content(request, response))
    backend.finished_span(
        f"chat {measured['gen_ai.request.model']}",
        attributes,
        start_ns=end_ns - int(record.latency_ms * 1_000_000),
        end_ns=end_ns,
        error_type=record.error_class,
    )
    backend.count_call(
        measured,
        latency_s=record.latency_ms / 1000.0,
        tokens_in=record.tokens_in,
        tokens_out=record.tokens_out,
        cost_usd=record.cost,
        error_type=record.error_class,
    )


def _content(request: ProviderRequest, response: ProviderResponse | None) -> dict[str, AttributeValue]:
    """The prompt and the answer as GenAI attributes: redacted of every key, clipped."""
    messages = [{"role": message.role, "content": message.content} for message in request.messages]
    content: dict[str, AttributeValue] = {
        "gen_ai.system_instructions": clipped(request.system),
        "gen_ai.input.messages": clipped(json.dumps(messages, ensure_ascii=False)),
    }
    if response is not None:
        content["gen_ai.output.messages"] = clipped(response.text)
    return content


def clipped(text: str) -> str:
    """`text` redacted, then cut to CONTENT_CHARS (redacted first, so no cut can split a key)."""
    cleaned = redact(text)
    return cleaned if len(cleaned) <= CONTENT_CHARS else cleaned[: CONTENT_CHARS - 1] + "…"


@contextmanager
def installed(backend: Backend) -> Iterator[Backend]:
    """`backend` installed for the block, the previous one back afterwards (for tests and benches)."""
    previous = install(backend)
    try:
        yield backend
    finally:
        install(previous)


def decision_attributes(decision_id: int, decision: Decision | None) -> Attributes:
    """A decision's id, method and status, as its spans carry them."""
    if decision is None:
        return {"orkestra.decision.id": decision_id}
    return {
        "orkestra.decision.id": decision.id,
        "orkestra.decision.method": decision.method,
        "orkestra.decision.status": decision.status.value,
    }


def decided(decision: Decision) -> Attributes:
    """What a vote ended with: its status and winner ('' when none)."""
    outcome = decision.outcome or {}
    return {
        "orkestra.decision.status": decision.status.value,
        "orkestra.decision.winner": str(outcome.get("winner") or ""),
    }
