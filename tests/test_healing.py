"""Failures heal: passing failures never fail a task, retries avoid broken agents, odd answers are unreadable.

The real SDKs run against the wire fake where the vendors' shapes matter; the
scheduler's own choices are shown with scripted agents and a clock that moves
only when the engine sleeps, so nothing waits for real.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes import Script, ScriptedProvider

from orkestra_tui.bench.fake_api import Reply, WireFake, serving
from orkestra_tui.config import AgentSettings, Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import TEMPORARY_FAILURES_LIMIT, Scheduler
from orkestra_tui.engine.models import ProjectStatus, TaskSpec, TaskStatus
from orkestra_tui.providers.base import Message, ProviderError, ProviderRequest

ROSTER = (("claude", "anthropic"), ("chatgpt", "openai"), ("gemini", "gemini"))
KEYS = {
    "ANTHROPIC_API_KEY": "sk-test-healing-anthropic-0000",
    "OPENAI_API_KEY": "sk-test-healing-openai-0000",
    "GEMINI_API_KEY": "test-healing-gemini-0000",
}
RESULT = "# Done\n\nThe work, complete.\n"


# ------------------------------------------------------------------ helpers


def engine_over(
    paths: Paths, settings: Settings, clock: FixedClock, agents: tuple[AgentSettings, ...], **engine: Any
) -> Engine:
    """An engine whose sleeps move `clock` at once, so retries and circuit cooldowns take no real time."""
    tuned = replace(settings, agents=agents, engine=replace(settings.engine, **engine))
    built = Engine(paths, tuned, clock=clock, env=KEYS)

    async def advance(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    built.sleep = advance
    return built


def roster(**specialties: float) -> tuple[AgentSettings, ...]:
    """The three agents, each with its `code` specialty as given (default 0.5)."""
    return tuple(
        AgentSettings(
            name=name,
            provider=provider,
            model=f"{name}-model",
            specialties={"code": specialties.get(name, 0.5)},
        )
        for name, provider in ROSTER
    )


def flaky(failures: int, error_class: str = "rate_limited") -> Script:
    """Fails the first `failures` calls with a passing error, then answers every task."""

    def script(_request: ProviderRequest, index: int) -> str | BaseException:
        if index < failures:
            return ProviderError(error_class, f"simulated {error_class}", retry_after=0.3)
        return RESULT

    return script


def always(error_class: str) -> Script:
    return flaky(10**9, error_class)


def cast(engine: Engine, **scripts: Script) -> dict[str, ScriptedProvider]:
    providers = {name: ScriptedProvider(scripts.get(name, flaky(0))) for name, _ in ROSTER}
    for name, provider in providers.items():
        engine.use_provider(name, provider)
    return providers


def project_with(engine: Engine, count: int) -> tuple[int, list[int]]:
    project = engine.create_project("Shop", "Build a small shop.")
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    specs = [TaskSpec(title=f"Task {n}", instructions=f"Do task {n}.", category="code") for n in range(count)]
    return project.id, [task.id for task in engine.add_tasks(project.id, specs)]


def attempt_outcomes(engine: Engine, task_id: int) -> list[tuple[str, str]]:
    rows = engine.store.query(
        "SELECT agent, outcome FROM task_attempt WHERE task_id = ? ORDER BY number", (task_id,)
    )
    return [(str(agent), str(outcome)) for agent, outcome in rows]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(start=1_800_000_000.0, step=0.0)


# ------------------------------------------------------ the scheduler heals


async def test_a_rate_limited_agent_hands_the_task_to_another(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = engine_over(paths, settings, clock, roster(claude=0.9), circuit_failures=3)
    providers = cast(engine, claude=always("rate_limited"))
    project_id, (task_id,) = project_with(engine, 1)

    summary = await Scheduler(engine, reviewers=0).run(project_id)

    task = engine.task(task_id)
    assert task.status is TaskStatus.DONE and summary.failed == 0 and summary.deferred == 1
    assert attempt_outcomes(engine, task_id) == [("claude", "deferred"), (str(task.assigned_to), "done")]
    assert task.assigned_to != "claude" and len(providers["claude"].requests) == 3
    (deferred,) = engine.store.audit_events(kind="task.deferred")
    assert "claude failed after 3 calls: simulated rate_limited" in deferred.summary


async def test_a_task_whose_only_agent_is_down_waits_for_the_probe(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = engine_over(paths, settings, clock, roster(), circuit_failures=2, circuit_cooldown_s=30.0)
    for name in ("chatgpt", "gemini"):
        engine.set_agent_enabled(name, False)
    providers = cast(engine, claude=flaky(4))  # a burst: two calls open the circuit, twice over
    project_id, task_ids = project_with(engine, 3)

    summary = await Scheduler(engine, reviewers=0).run(project_id)

    assert summary.stopped == "nothing left to do" and summary.failed == 0
    assert [engine.task(task_id).status for task_id in task_ids] == [TaskStatus.DONE] * 3
    assert clock.elapsed >= 30.0  # it waited out a cooldown rather than giving up
    assert len(providers["claude"].requests) == 4 + 3


async def test_a_circuit_that_opened_after_the_last_look_gets_no_task(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = engine_over(paths, settings, clock, roster(claude=0.9))
    cast(engine)
    project_id, (task_id,) = project_with(engine, 1)
    scheduler = Scheduler(engine, reviewers=0)
    scheduler._agents()  # the agents are read, and kept for a second, while claude is still healthy
    for _ in range(engine.settings.engine.circuit_failures):
        engine.breakers["claude"].record(ok=False)

    claim = scheduler.claim([project_id])

    assert claim is not None and claim.agent != "claude"
    assert attempt_outcomes(engine, task_id) == [(claim.agent, "running")]


async def test_the_agent_check_before_a_task_sees_an_open_circuit(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = engine_over(paths, settings, clock, roster())
    cast(engine)
    project_id, (task_id,) = project_with(engine, 1)
    engine.reassign_task(task_id, "claude")
    scheduler = Scheduler(engine, reviewers=0)
    scheduler._agents()
    for _ in range(engine.settings.engine.circuit_failures):
        engine.breakers["claude"].record(ok=False)

    assert scheduler.claim([project_id]) is None  # pinned to a broken agent: it waits, blocked by nothing
    assert engine.task(task_id).status is TaskStatus.READY


async def test_a_passing_failure_fails_the_task_only_after_many_rounds(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = engine_over(paths, settings, clock, roster(), max_attempts=1)
    cast(engine, **{name: always("overloaded") for name, _ in ROSTER})
    project_id, (task_id,) = project_with(engine, 1)

    summary = await Scheduler(engine, reviewers=0).run(project_id)

    task = engine.task(task_id)
    assert task.status is TaskStatus.FAILED and summary.failed == 1
    assert summary.deferred == TEMPORARY_FAILURES_LIMIT - 1
    assert [outcome for _agent, outcome in attempt_outcomes(engine, task_id)] == [
        *["deferred"] * (TEMPORARY_FAILURES_LIMIT - 1),
        "failed",
    ]


@pytest.mark.parametrize("error_class", ["auth", "bad_request", "malformed"])
async def test_a_final_error_still_fails_the_task_at_once(
    paths: Paths, settings: Settings, clock: FixedClock, error_class: str
) -> None:
    engine = engine_over(paths, settings, clock, roster())
    cast(engine, **{name: always(error_class) for name, _ in ROSTER})
    project_id, (task_id,) = project_with(engine, 1)

    summary = await Scheduler(engine, reviewers=0).run(project_id)

    assert engine.task(task_id).status is TaskStatus.FAILED and summary.deferred == 0
    assert len(attempt_outcomes(engine, task_id)) == 1


# -------------------------------------------------------------------- retry


async def test_retry_leaves_a_broken_agent_for_another(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = engine_over(paths, settings, clock, roster(claude=0.9))
    providers = cast(engine, claude=always("bad_request"))
    project_id, (task_id,) = project_with(engine, 1)
    engine.reassign_task(task_id, "claude")
    await Scheduler(engine, reviewers=0).run(project_id)
    assert engine.task(task_id).status is TaskStatus.FAILED
    for _ in range(engine.settings.engine.circuit_failures):
        engine.breakers["claude"].record(ok=False)

    advice = engine.retry_advice(task_id)
    task = engine.retry_task(task_id)

    assert advice == "claude's circuit is open, so another agent takes it (chatgpt, gemini can)"
    assert task.status is TaskStatus.READY and task.pinned_agent is None
    (retried,) = engine.store.audit_events(kind="task.retried")
    assert retried.data["unpinned"] == "claude" and retried.data["advice"] == advice
    await Scheduler(engine, reviewers=0).run(project_id)
    assert engine.task(task_id).status is TaskStatus.DONE
    assert attempt_outcomes(engine, task_id)[-1] in (("chatgpt", "done"), ("gemini", "done"))
    assert len(providers["claude"].requests) == 1


async def test_retry_with_no_other_agent_says_it_waits(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = engine_over(paths, settings, clock, roster())
    cast(engine)
    _project_id, (task_id,) = project_with(engine, 1)
    engine.reassign_task(task_id, "claude")
    with engine.store.transaction() as tx:
        tx.execute("UPDATE task SET status = 'failed' WHERE id = ?", (task_id,))
        tx.audit("engine", "task.failed", "failed for the test", subject=f"task:{task_id}")
    for name in ("chatgpt", "gemini"):
        engine.set_agent_enabled(name, False)
    engine.bad_keys.add("claude")

    assert engine.retry_advice(task_id) == "claude's key was refused, so it waits until an agent can take it"
    assert engine.retry_task(task_id).pinned_agent == "claude"  # nobody else: the pin stays


# ------------------------------------------- the real SDKs over the wire


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as server:
        yield server


def live_roster(fake: WireFake) -> tuple[AgentSettings, ...]:
    return tuple(
        AgentSettings(
            name=name,
            provider=provider,
            model=f"{name}-model",
            base_url=fake.url + ("" if provider in ("anthropic", "gemini") else "/v1"),
            concurrency=2,
        )
        for name, provider in ROSTER
    )


async def test_a_burst_of_rate_limits_ends_with_every_task_done(
    paths: Paths, settings: Settings, clock: FixedClock, fake: WireFake
) -> None:
    engine = engine_over(paths, settings, clock, live_roster(fake), agent_timeout_s=5.0)
    fake.then(*[Reply(status=429, headers={"retry-after": "0.3"}) for _ in range(4)])
    project_id, task_ids = project_with(engine, 12)

    summary = await Scheduler(engine, reviewers=0).run(project_id)

    assert [engine.task(task_id).status for task_id in task_ids] == [TaskStatus.DONE] * 12
    assert summary.failed == 0 and summary.stopped == "nothing left to do"
    assert engine.store.scalar("SELECT count(*) FROM call WHERE error_class = 'rate_limited'") == 4
    await engine.aclose()


WRONG_SHAPES = {
    "anthropic": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": None},
    "openai": {"id": "c", "object": "chat.completion", "created": 0, "model": "m", "choices": None},
    "gemini": {"candidates": [], "usageMetadata": {"promptTokenCount": 3}},
}


@pytest.mark.parametrize("provider", list(WRONG_SHAPES))
async def test_an_answer_of_the_wrong_shape_is_unreadable_and_never_healthy(
    paths: Paths, settings: Settings, clock: FixedClock, fake: WireFake, provider: str
) -> None:
    (agent,) = [item for item in live_roster(fake) if item.provider == provider]
    engine = engine_over(paths, settings, clock, (agent,))
    fake.then(Reply(body=WRONG_SHAPES[provider]))
    request = ProviderRequest(system="s", messages=(Message("user", "hello"),), purpose="ping")

    outcome = await engine.call(agent.name, request)

    assert outcome.error is not None and outcome.error.error_class == "malformed"
    assert len(fake.received) == 1  # not retried
    (info,) = engine.agents()
    assert engine.agent_status(info, engine.agent_health(agent.name)) != "healthy"
    (record,) = engine.store.calls()
    assert record.error_class == "malformed" and json.dumps(record.error).isascii()
    await engine.aclose()
