"""The agent pool: the committee's agents, and the one way to call them.

The pool holds each agent's runtime and circuit breaker, records the roster in
the store (the only writer of the agent table, with the call log), and calls an
agent under the retry policy, its breaker and its token limit. Whoever calls an
agent (the committee, the planner, the scheduler, the reviewers) is handed the
pool, never the Engine.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from orkestra_tui.config import Settings
from orkestra_tui.engine.agents.call_log import record_call
from orkestra_tui.engine.agents.circuit import CircuitBreaker
from orkestra_tui.engine.agents.retry import RetryPolicy
from orkestra_tui.engine.clock import Clock
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import AgentInfo, CallRecord, CallStart
from orkestra_tui.engine.owners import lease_owner_name
from orkestra_tui.engine.store.store import Store
from orkestra_tui.providers.registry import AgentRuntime

if TYPE_CHECKING:
    from orkestra_tui.engine.agents.calls import CallOutcome
    from orkestra_tui.engine.agents.health import AgentHealth
    from orkestra_tui.engine.agents.model_check import ModelCheck
    from orkestra_tui.engine.agents.raw_answers import RefusedAnswer
    from orkestra_tui.providers.base import Provider, ProviderError, ProviderRequest

PING_TOKENS = 64
"""The token limit of an agent test: room for "pong", or for a reasoning model's first thoughts."""


class Caller(Protocol):
    """What asks agents and keeps their unusable answers: the pool (the Engine passes its own on)."""

    @property
    def store(self) -> Store: ...

    async def call(
        self,
        agent_name: str,
        request: ProviderRequest,
        *,
        project_id: int | None = None,
        decision_id: int | None = None,
        task_id: int | None = None,
        record: bool = True,
        started_call: int | None = None,
    ) -> CallOutcome: ...


class Roster(Protocol):
    """The agents as choosing one reads them: the pool (the Engine passes its own on)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def runtimes(self) -> dict[str, AgentRuntime]: ...
    @property
    def breakers(self) -> dict[str, CircuitBreaker]: ...
    @property
    def bad_keys(self) -> set[str]: ...

    def agents(self) -> list[AgentInfo]: ...

    def agent_health(self, agent_name: str) -> AgentHealth: ...


class AgentPool:
    """The agents of one engine: their runtimes, circuit breakers, availability and calls."""

    def __init__(
        self, store: Store, settings: Settings, clock: Clock, runtimes: Iterable[AgentRuntime]
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.runtimes: dict[str, AgentRuntime] = {runtime.name: runtime for runtime in runtimes}
        self.breakers = {
            name: CircuitBreaker(
                clock,
                failures_to_open=settings.engine.circuit_failures,
                cooldown_s=settings.engine.circuit_cooldown_s,
            )
            for name in self.runtimes
        }
        self.call_owner = lease_owner_name()
        """This process, as named on the calls it starts (so recovery can tell when it is gone)."""
        self.bad_keys: set[str] = set()
        """Agents whose key a provider refused (401) in this run."""
        self.retry = RetryPolicy(
            max_attempts=settings.engine.max_attempts, retry_after_cap_s=settings.engine.retry_after_cap_s
        )
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        """How the retry policy waits (tests record the delays instead)."""
        self._retry_rng = random.Random()
        self._register_agents()

    async def aclose(self) -> None:
        """Close the providers' network clients."""
        for runtime in self.runtimes.values():
            await runtime.aclose()  # only providers already made: never builds one to close it

    def _register_agents(self) -> None:
        """Record the roster in the store, auditing agents that are new or changed."""
        if self.store.read_only:
            return
        known = {
            name: (provider, model)
            for name, provider, model in self.store.query("SELECT name, provider, model FROM agent")
        }
        changes = [
            runtime.settings
            for runtime in self.runtimes.values()
            if known.get(runtime.name) != (runtime.settings.provider, runtime.settings.model)
        ]
        if not changes:
            return
        with self.store.transaction() as tx:
            for agent in changes:
                tx.execute(
                    "INSERT INTO agent (name, provider, model, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET provider = excluded.provider,"
                    " model = excluded.model, updated_at = excluded.updated_at",
                    (agent.name, agent.provider, agent.model, tx.clock.now()),
                )
                verb = "joined the committee" if agent.name not in known else "changed model"
                tx.audit(
                    "engine",
                    "agent.registered" if agent.name not in known else "agent.changed",
                    f"{agent.name} {verb} ({agent.provider} {agent.model})",
                    subject=f"agent:{agent.name}",
                    data={"provider": agent.provider, "model": agent.model},
                )

    def agents(self) -> list[AgentInfo]:
        overrides = self.store.agent_overrides()
        return [
            AgentInfo(
                name=runtime.name,
                provider=runtime.settings.provider,
                model=runtime.model or runtime.settings.model,
                enabled=runtime.settings.enabled and overrides.get(runtime.name, True),
                simulated=runtime.simulated,
                simulated_reason=runtime.simulated_reason,
                specialties=dict(runtime.settings.specialties),
                weight=runtime.settings.weight,
                concurrency=runtime.concurrency,
                key_variable=runtime.key_variable,
                base_url=runtime.base_url,
            )
            for runtime in self.runtimes.values()
        ]

    def set_agent_enabled(self, name: str, enabled: bool, *, actor: str = "human") -> None:
        if name not in self.runtimes:
            raise EngineError(f"there is no agent named {name!r}")
        with self.store.transaction() as tx:
            tx.execute(
                "UPDATE agent SET enabled = ?, updated_at = ? WHERE name = ?",
                (int(enabled), tx.clock.now(), name),
            )
            tx.audit(
                actor,
                "agent.enabled" if enabled else "agent.disabled",
                f"{name} {'enabled' if enabled else 'disabled'}",
                subject=f"agent:{name}",
            )

    def use_provider(self, agent_name: str, provider: Provider) -> None:
        """Serve an agent with the given provider from now on (tests use scripted fakes)."""
        runtime = self.runtimes.get(agent_name)
        if runtime is None:
            raise EngineError(f"there is no agent named {agent_name!r}")
        self.runtimes[agent_name] = replace(runtime, provider_override=provider)

    def enabled_agents(self) -> list[AgentRuntime]:
        enabled = {info.name for info in self.agents() if info.enabled}
        return [runtime for runtime in self.runtimes.values() if runtime.name in enabled]

    async def call(
        self,
        agent_name: str,
        request: ProviderRequest,
        *,
        project_id: int | None = None,
        decision_id: int | None = None,
        task_id: int | None = None,
        record: bool = True,
        started_call: int | None = None,
    ) -> CallOutcome:
        """Call one agent within its token limit, under the retry policy and its circuit breaker.

        The request's token limit is kept within the agent's `max_tokens`. An
        answer cut off at its limit is unusable: it is asked for again once with
        twice the room (within `max_tokens`), else the call fails with the
        reason ("the answer was cut off at 2048 tokens"). See `_call` for the rest.
        """
        from orkestra_tui.engine.agents.calls import more_room, within_limit

        runtime = self.runtime(agent_name)
        request = within_limit(runtime, request)
        work = {"project_id": project_id, "decision_id": decision_id, "task_id": task_id}
        outcome = await self._call(agent_name, request, **work, record=record, started_call=started_call)
        room = more_room(runtime, request, outcome)
        if room is None:
            self._keep_cut_off(outcome, request)
            return outcome
        try:
            again = await self._call(agent_name, replace(request, max_tokens=room), **work, record=record)
        except asyncio.CancelledError:
            self._cancelled(outcome.attempts, record, None, (project_id, decision_id, task_id))
            raise
        if again.error is not None and again.error.error_class == "bad_request":
            # The model takes no more room than it had: the cut-off is the reason to give.
            self._keep_cut_off(outcome, request)
            return replace(outcome, attempts=(*outcome.attempts, *again.attempts))
        self._keep_cut_off(again, request)
        return replace(again, attempts=(*outcome.attempts, *again.attempts))

    def _keep_cut_off(self, outcome: CallOutcome, request: ProviderRequest) -> None:
        """Keep the text of an answer that stayed cut off with its call, as a refused answer is kept."""
        from orkestra_tui.engine.agents.raw_answers import keep_refused_answer

        if outcome.unusable is not None and outcome.error is not None:
            keep_refused_answer(
                self.store, replace(outcome, response=outcome.unusable), str(outcome.error), request
            )

    async def _call(
        self,
        agent_name: str,
        request: ProviderRequest,
        *,
        project_id: int | None = None,
        decision_id: int | None = None,
        task_id: int | None = None,
        record: bool = True,
        started_call: int | None = None,
    ) -> CallOutcome:
        """Call one agent under the retry policy and its circuit breaker.

        Every attempt is recorded as started before its request goes out, then
        completed, tied to its work, with its audit event; with `record=False`
        the caller completes `outcome.attempts` in its own transaction.
        `started_call` is a row the caller already recorded as started (in a
        transaction of its own) for the first attempt. A call cancelled under
        way (a stop) is marked interrupted at once. A 401 marks the agent "bad
        key" at once, without a retry.
        """
        from orkestra_tui.engine.agents.calls import call_start, invoke, refused, was_cut_off

        runtime = self.runtime(agent_name)
        breaker = self.breakers[agent_name]
        attempts: list[CallRecord] = []
        attempt = 0
        while True:
            attempt += 1
            call_id = started_call if attempt == 1 else None
            refusal = self._refusal(agent_name, breaker)
            if refusal is not None:
                outcome = refused(runtime, request, refusal, self.clock.now(), call_id=call_id)
                if record and call_id is not None:
                    with self.store.transaction() as tx:
                        record_call(tx, outcome.record, project_id, decision_id=decision_id, task_id=task_id)
                # A refusal keeps the attempts made before it: they were paid for and must be stored.
                return replace(outcome, attempts=(*attempts, *outcome.attempts))

            now = self.clock.now()
            start = functools.partial(  # built only when written, or interrupted
                call_start,
                runtime,
                request,
                now=now,
                owner=self.call_owner,
                project_id=project_id,
                decision_id=decision_id,
                task_id=task_id,
            )

            if call_id is None and not self.store.read_only:  # a read-only store records no call
                call_id = self.store.start_call(start())
            began = self.clock.monotonic()
            try:
                outcome = await invoke(
                    runtime,
                    request,
                    clock=self.clock,
                    timeout_s=runtime.timeout_s,
                    started_at=now,
                )
            except asyncio.CancelledError:
                latency_ms = (self.clock.monotonic() - began) * 1000.0
                in_flight = (call_id, start(), latency_ms) if call_id is not None else None
                self._cancelled(attempts, record, in_flight, (project_id, decision_id, task_id))
                raise
            outcome = replace(outcome, record=replace(outcome.record, call_id=call_id))
            attempts.append(outcome.record)
            changed = breaker.record(outcome.ok or was_cut_off(outcome))  # a cut-off answer is an answer
            bad_key = outcome.error is not None and outcome.error.error_class == "auth"
            if bad_key:
                self.bad_keys.add(agent_name)
            if (record or changed or bad_key) and not self.store.read_only:
                with self.store.transaction() as tx:
                    if record:
                        record_call(tx, outcome.record, project_id, decision_id=decision_id, task_id=task_id)
                    if changed is not None:
                        tx.audit(
                            "engine",
                            f"agent.circuit_{changed.value.replace('-', '_')}",
                            f"{agent_name}'s circuit is {changed.value}",
                            subject=f"agent:{agent_name}",
                            data={"consecutive_failures": breaker.consecutive_failures},
                        )
                    if bad_key:
                        tx.audit(
                            "engine",
                            "agent.bad_key",
                            f"{agent_name}'s key was refused ({runtime.key_variable or 'no variable'})",
                            subject=f"agent:{agent_name}",
                        )
            assert outcome.error is not None or outcome.ok
            if outcome.ok or outcome.error is None or not self.retry.should_retry(outcome.error, attempt):
                return replace(outcome, attempts=tuple(attempts))
            try:
                await self.sleep(self.retry.delay_s(outcome.error, attempt, self._retry_rng))
            except asyncio.CancelledError:
                self._cancelled(attempts, record, None, (project_id, decision_id, task_id))
                raise

    def _refusal(self, agent_name: str, breaker: CircuitBreaker) -> ProviderError | None:
        """Why the agent is not called now (its key was refused, its circuit is open), or None."""
        from orkestra_tui.providers.base import ProviderError

        if agent_name in self.bad_keys:
            return ProviderError("auth", "the key was refused; fix it, then test the agent again")
        if not breaker.acquire():
            return ProviderError("circuit_open", "the agent's circuit is open after repeated failures")
        return None

    def _cancelled(
        self,
        attempts: Sequence[CallRecord],
        recorded: bool,
        in_flight: tuple[int, CallStart, float] | None,
        work: tuple[int | None, int | None, int | None],
    ) -> None:
        """A call was cancelled (a stop): record what its caller will never get, interrupt what was under way.

        Without `recorded`, the attempts made so far were the caller's to record;
        they are recorded here, tied to `work` (its project, decision and task).
        The attempt `in_flight` (its row, start and latency so far) is marked
        interrupted, at its estimated cost. If the
        store cannot take it now, the rows stay started and the next start's
        recovery marks them interrupted.
        """
        import sqlite3

        from orkestra_tui.engine.agents.call_log import interrupt_call

        project_id, decision_id, task_id = work
        unrecorded = [] if recorded else list(attempts)
        if not unrecorded and in_flight is None:
            return
        try:
            with self.store.transaction() as tx:
                for attempt_record in unrecorded:
                    record_call(tx, attempt_record, project_id, decision_id=decision_id, task_id=task_id)
                if in_flight is not None:
                    interrupt_call(tx, *in_flight)
        except sqlite3.Error:
            pass  # left started: recovery closes them at the next start

    def runtime(self, agent_name: str) -> AgentRuntime:
        runtime = self.runtimes.get(agent_name)
        if runtime is None:
            raise EngineError(f"there is no agent named {agent_name!r}")
        return runtime

    def agent_health(self, agent_name: str) -> AgentHealth:
        """Latency, success, errors, tokens and cost of an agent's recent calls."""
        from orkestra_tui.engine.agents.health import summarise

        return summarise(agent_name, self.store.calls(agent_name, limit=500))

    def refused_answers(self, agent_name: str, limit: int = 3) -> list[RefusedAnswer]:
        """An agent's latest answers that could not be used, oldest first (see `raw_answers`)."""
        from orkestra_tui.engine.agents.raw_answers import refused_answers

        return refused_answers(self.store, agent_name, limit)

    def agent_status(self, agent: AgentInfo, health: AgentHealth) -> str:
        from orkestra_tui.engine.agents.health import agent_status

        return agent_status(
            enabled=agent.enabled,
            simulated=agent.simulated,
            bad_key=agent.name in self.bad_keys,
            circuit=self.breakers[agent.name].state.value,
            health=health,
        )

    async def test_agent(self, agent_name: str) -> CallOutcome:
        """A tiny live call, recorded like any other; a success clears a refused key.

        An answer cut off at the ping's small limit (a reasoning model spends it
        thinking) still shows the agent works: it counts as an answer here.
        """
        from orkestra_tui.engine.agents.calls import was_cut_off
        from orkestra_tui.providers.base import Message, ProviderRequest

        self.bad_keys.discard(agent_name)
        request = ProviderRequest(
            system="Reply with the single word: pong.",
            messages=(Message("user", "ping"),),
            max_tokens=PING_TOKENS,
            purpose="ping",
        )
        outcome = await self.call(agent_name, request)
        if was_cut_off(outcome) and outcome.unusable is not None:
            return replace(outcome, response=outcome.unusable, error=None)
        return outcome

    async def check_model(self, agent_name: str) -> ModelCheck:
        """Whether the agent's endpoint lists its configured model (a warning when not); no call recorded."""
        from orkestra_tui.engine.agents.model_check import check_model

        return await check_model(self.runtime(agent_name))

    def agent_available(self, agent_name: str) -> bool:
        """Enabled, its key not refused, and its circuit not open."""
        return (
            agent_name in {runtime.name for runtime in self.enabled_agents()}
            and agent_name not in self.bad_keys
            and self.breakers[agent_name].available
        )
