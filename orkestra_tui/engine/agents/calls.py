"""One request to one agent: timing, timeout, cost and the call record.

Every provider is called through `invoke`, so timing, error classification,
cost and redaction happen once: no key a provider echoes gets past it. The
caller stores the returned `CallRecord` in the same transaction as whatever the
answer changes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from orkestra_tui.engine import telemetry
from orkestra_tui.engine.agents.prompts import estimate_tokens
from orkestra_tui.engine.clock import Clock
from orkestra_tui.engine.models import CallRecord, CallStart
from orkestra_tui.providers.base import ProviderError, ProviderRequest, ProviderResponse
from orkestra_tui.providers.registry import AgentRuntime
from orkestra_tui.secrets import redact


@dataclass(frozen=True)
class CallOutcome:
    record: CallRecord
    """The last attempt's record."""
    response: ProviderResponse | None
    error: ProviderError | None
    attempts: tuple[CallRecord, ...] = ()
    """Every attempt made (the retry policy may make several); empty when none was allowed."""
    unusable: ProviderResponse | None = None
    """An answer the call path itself refused (cut off at its token limit), kept for a human to read."""

    @property
    def ok(self) -> bool:
        return self.response is not None


def refused(
    agent: AgentRuntime,
    request: ProviderRequest,
    error: ProviderError,
    now: float,
    *,
    call_id: int | None = None,
) -> CallOutcome:
    """An outcome for a call that was not made (an open circuit, a refused key).

    With `call_id` (a row the caller recorded as started beforehand), the
    refusal is an attempt that completes that row; otherwise nothing is recorded.
    """
    record = CallRecord(
        agent.name,
        agent.model,
        request.purpose,
        now,
        0.0,
        0,
        0,
        0.0,
        error.error_class,
        str(error),
        call_id=call_id,
    )
    return CallOutcome(record=record, response=None, error=error, attempts=(record,) if call_id else ())


def call_start(
    agent: AgentRuntime,
    request: ProviderRequest,
    *,
    now: float,
    owner: str,
    project_id: int | None = None,
    decision_id: int | None = None,
    task_id: int | None = None,
) -> CallStart:
    """A call about to be made, its cost estimated as a round's is: the prompt's tokens at the prices."""
    tokens_in, tokens_out = estimate_tokens(request)
    return CallStart(
        agent=agent.name,
        model=agent.model or agent.settings.model,
        purpose=request.purpose,
        started_at=now,
        estimated_cost=cost_of(agent, tokens_in, tokens_out),
        owner=owner,
        project_id=project_id,
        decision_id=decision_id,
        task_id=task_id,
    )


def redacted(response: ProviderResponse) -> ProviderResponse:
    """`response` cleaned of every configured key, before anything else sees it.

    A model or an endpoint may echo the key it was sent (in an answer, in the
    model name); cleaned here, at the one place answers enter the engine, no
    ballot, plan, review, result, file or line printed can hold one. Errors are
    cleaned where they are made (`ProviderError`).
    """
    text, model = redact(response.text), redact(response.model)
    if (text, model) == (response.text, response.model):
        return response
    return replace(response, text=text, model=model)


def within_limit(agent: AgentRuntime, request: ProviderRequest) -> ProviderRequest:
    """`request` with its token limit kept within the agent's own `max_tokens`, if it sets one."""
    ceiling = agent.settings.max_tokens
    if ceiling and request.max_tokens > ceiling:
        return replace(request, max_tokens=ceiling)
    return request


def was_cut_off(outcome: CallOutcome) -> bool:
    """The endpoint answered, but the answer was cut off: the agent works, its answer does not."""
    return outcome.error is not None and outcome.error.error_class == "cut_off"


def more_room(agent: AgentRuntime, request: ProviderRequest, outcome: CallOutcome) -> int | None:
    """The token limit to ask again with after a cut-off answer: twice the room, within the agent's
    `max_tokens`; None when the answer was not cut off, or that allows no more than was asked for."""
    if not was_cut_off(outcome):
        return None
    doubled = request.max_tokens * 2
    ceiling = agent.settings.max_tokens
    room = min(doubled, ceiling) if ceiling else doubled
    return room if room > request.max_tokens else None


def cost_of(agent: AgentRuntime, tokens_in: int, tokens_out: int) -> float:
    """What a call costs at the agent's configured prices (simulated calls cost nothing)."""
    if agent.simulated:
        return 0.0
    settings = agent.settings
    return (
        tokens_in * settings.price_input_per_mtok + tokens_out * settings.price_output_per_mtok
    ) / 1_000_000


async def invoke(
    agent: AgentRuntime,
    request: ProviderRequest,
    *,
    clock: Clock,
    timeout_s: float,
    started_at: float | None = None,
) -> CallOutcome:
    """Call the agent once; never raises for a provider failure.

    `started_at` is the time the call's start was recorded (else now).
    """
    prepare = getattr(agent.provider, "prepare", None)
    if callable(prepare):
        prepare()  # the SDK's first import is ours to wait for, not part of the agent's time
    started_at = clock.now() if started_at is None else started_at
    started = clock.monotonic()
    response: ProviderResponse | None = None
    error: ProviderError | None = None
    try:
        async with asyncio.timeout(timeout_s):
            response = redacted(await agent.provider.complete(request))
    except ProviderError as failure:
        error = failure
    except TimeoutError:
        error = ProviderError("timeout", f"no answer within {timeout_s:g} s")
    except Exception as failure:  # a provider bug must not take the engine down
        error = ProviderError("unavailable", f"{type(failure).__name__}: {failure}")
    latency_ms = (clock.monotonic() - started) * 1000.0
    unusable: ProviderResponse | None = None
    tokens_in = response.tokens_in if response else 0
    tokens_out = response.tokens_out if response else 0
    if response is not None and response.cut_off:
        # Stopped by its token limit, not finished: a truncated plan or result must never be used.
        error = ProviderError("cut_off", f"the answer was cut off at {request.max_tokens} tokens")
        unusable, response = response, None
    elif response is not None and not response.text.strip():
        # Paid for, but nothing to read: never a success, so never "healthy".
        response, error = None, ProviderError("malformed", "the answer was empty")
    record = CallRecord(
        agent=agent.name,
        model=response.model if response else agent.model or agent.settings.model,
        purpose=request.purpose,
        started_at=started_at,
        latency_ms=latency_ms,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost=cost_of(agent, tokens_in, tokens_out),
        error_class=error.error_class if error else "",
        error=redact(str(error))[:500] if error else "",
        output_mode=output_mode(agent, request),
    )
    telemetry.call_made(agent, request, record, response)
    return CallOutcome(record=record, response=response, error=error, attempts=(record,), unusable=unusable)


def output_mode(agent: AgentRuntime, request: ProviderRequest) -> str:
    """How the call asked for its structured answer: schema, json or prompt; "" for free text.

    Asked of the provider after the call, so a call that fell back (its endpoint
    refused the structured-output parameter) records the path its answer came
    by. A provider that does not say (Copilot, command agents) takes the schema
    in the prompt; a simulated agent answers from the request's context, by none.
    """
    if request.json_schema is None or agent.simulated:
        return ""
    provider_path = getattr(agent.provider, "output_path", None)
    return str(provider_path(request)) if callable(provider_path) else "prompt"
