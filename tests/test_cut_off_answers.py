"""Cut-off answers: every SDK's stop reason is read, and an answer stopped by its token limit is never used.

The real SDKs run against the wire fake, which can answer with each vendor's
own word for a cut-off answer (`length`, `max_tokens`, `MAX_TOKENS`). Such an
answer is asked for again once with twice the room, within the agent's
`max_tokens`, and otherwise fails with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orkestra_tui.bench.fake_api import Received, Reply, WireFake, serving
from orkestra_tui.config import AgentSettings, Paths, Settings
from orkestra_tui.engine.agents.circuit import CircuitState
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import ProjectStatus, TaskSpec, TaskStatus
from orkestra_tui.engine.voting.committee import TieBreakPolicy
from orkestra_tui.providers.base import Message, ProviderRequest

KEYS = {
    "ANTHROPIC_API_KEY": "sk-test-cutoff-anthropic-0000",
    "OPENAI_API_KEY": "sk-test-cutoff-openai-0000",
    "GEMINI_API_KEY": "test-cutoff-gemini-0000",
}
PROVIDERS = ("anthropic", "openai", "gemini", "ollama")
FINISHED = {"anthropic": "end_turn", "openai": "stop", "gemini": "STOP", "ollama": "stop"}
"""The stop reason of the fake's usual, finished answer, in each vendor's words."""
REQUEST = ProviderRequest(
    system="You write the result.", messages=(Message("user", "Write it."),), max_tokens=1000, purpose="task"
)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as server:
        yield server


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(start=1_800_000_000.0, step=0.0)


def live_agent(provider: str, fake: WireFake, **fields: Any) -> AgentSettings:
    suffix = "" if provider in ("anthropic", "gemini") else "/v1"
    return AgentSettings(
        name=f"{provider}-agent",
        provider=provider,
        model=f"{provider}-model",
        base_url=fake.url + suffix,
        **fields,
    )


def live_engine(
    paths: Paths, settings: Settings, clock: FixedClock, agent: AgentSettings, **engine: Any
) -> Engine:
    """An engine over one agent; its sleeps move `clock`, so retries take no real time."""
    tuned = replace(settings, agents=(agent,), engine=replace(settings.engine, **engine))
    built = Engine(paths, tuned, clock=clock, env=KEYS)

    async def advance(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    built.sleep = advance
    return built


def token_limit(received: Received) -> int:
    """The token limit a request asked for, wherever its vendor puts it."""
    body = received.body
    if "generationConfig" in body:
        return int(body["generationConfig"]["maxOutputTokens"])
    return int(body.get("max_tokens") or body["max_completion_tokens"])


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_every_sdk_reads_the_stop_reason(
    paths: Paths, settings: Settings, clock: FixedClock, fake: WireFake, provider: str
) -> None:
    engine = live_engine(paths, settings, clock, live_agent(provider, fake))

    outcome = await engine.call(f"{provider}-agent", REQUEST)

    assert outcome.response is not None
    assert outcome.response.stop_reason == FINISHED[provider] and not outcome.response.cut_off
    await engine.aclose()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_cut_off_answer_is_asked_again_with_twice_the_room(
    paths: Paths, settings: Settings, clock: FixedClock, fake: WireFake, provider: str
) -> None:
    engine = live_engine(paths, settings, clock, live_agent(provider, fake))
    fake.then(Reply(text="The result stops mid-wo", cut_off=True), Reply(text="The whole result."))

    outcome = await engine.call(f"{provider}-agent", REQUEST)

    assert outcome.response is not None and outcome.response.text == "The whole result."
    assert [token_limit(received) for received in fake.received] == [1000, 2000]
    assert [record.error_class for record in engine.store.calls()] == ["cut_off", ""]
    assert len(outcome.attempts) == 2
    await engine.aclose()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_answer_cut_off_again_fails_with_the_reason(
    paths: Paths, settings: Settings, clock: FixedClock, fake: WireFake, provider: str
) -> None:
    engine = live_engine(paths, settings, clock, live_agent(provider, fake))
    fake.default = Reply(text="Cut off mid-wo", cut_off=True)

    outcome = await engine.call(f"{provider}-agent", REQUEST)

    assert outcome.response is None and outcome.error is not None
    assert (outcome.error.error_class, str(outcome.error)) == (
        "cut_off",
        "the answer was cut off at 2000 tokens",
    )
    assert len(fake.received) == 2  # one more try, not the retry policy's three
    calls = engine.store.calls()
    assert [record.error for record in calls] == [
        "the answer was cut off at 1000 tokens",
        "the answer was cut off at 2000 tokens",
    ]
    assert all(record.tokens_out == 5 for record in calls)  # paid for, so counted
    # The text that stayed cut off is kept with its call, for the Health screen to show.
    (kept,) = engine.refused_answers(f"{provider}-agent")
    assert (kept.text, kept.problem, kept.call_id) == (
        "Cut off mid-wo",
        "the answer was cut off at 2000 tokens",
        len(calls),  # the second call's row
    )
    await engine.aclose()


async def test_the_agent_max_tokens_bounds_the_request_and_the_room_it_gets_again(
    paths: Paths, settings: Settings, clock: FixedClock, fake: WireFake
) -> None:
    engine = live_engine(paths, settings, clock, live_agent("openai", fake, max_tokens=1500))
    fake.default = Reply(text="Cut off mid-wo", cut_off=True)

    outcome = await engine.call("openai-agent", REQUEST)

    assert [token_limit(received) for received in fake.received] == [1000, 1500]
    assert outcome.error is not None and str(outcome.error) == "the answer was cut off at 1500 tokens"
    await engine.aclose()


async def test_no_room_beyond_the_agent_max_tokens_means_no_second_try(
    paths: Paths, settings: Settings, clock: FixedClock, fake: WireFake
) -> None:
    engine = live_engine(paths, settings, clock, live_agent("anthropic", fake, max_tokens=600))
    fake.default = Reply(text="Cut off mid-wo", cut_off=True)

    outcome = await engine.call("anthropic-agent", REQUEST)

    assert [token_limit(received) for received in fake.received] == [600]
    assert outcome.error is not None and str(outcome.error) == "the answer was cut off at 600 tokens"
    await engine.aclose()


async def test_a_model_that_refuses_more_room_fails_with_the_cut_off(
    paths: Paths, settings: Settings, clock: FixedClock, fake: WireFake
) -> None:
    engine = live_engine(paths, settings, clock, live_agent("anthropic", fake))
    fake.then(Reply(text="Cut off mid-wo", cut_off=True), Reply(status=400))

    outcome = await engine.call("anthropic-agent", REQUEST)

    assert outcome.error is not None and str(outcome.error) == "the answer was cut off at 1000 tokens"
    assert [record.error_class for record in outcome.attempts] == ["cut_off", "bad_request"]
    await engine.aclose()


async def test_cut_off_answers_do_not_open_the_circuit(
    paths: Paths, settings: Settings, clock: FixedClock, fake: WireFake
) -> None:
    engine = live_engine(paths, settings, clock, live_agent("openai", fake), circuit_failures=2)
    fake.default = Reply(text="Cut off mid-wo", cut_off=True)

    for _ in range(2):
        outcome = await engine.call("openai-agent", REQUEST)
        assert outcome.error is not None and outcome.error.error_class == "cut_off"

    assert len(fake.received) == 4
    assert engine.breakers["openai-agent"].state is CircuitState.CLOSED  # the endpoint works
    await engine.aclose()


async def test_a_task_result_cut_off_is_never_done(
    paths: Paths, settings: Settings, clock: FixedClock, fake: WireFake
) -> None:
    engine = live_engine(paths, settings, clock, live_agent("openai", fake))
    fake.default = Reply(text="# Result\n\nThe first half of the wo", cut_off=True)
    project = engine.create_project("Shop", "Build a small shop.")
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    (task,) = engine.add_tasks(project.id, [TaskSpec(title="Write it", instructions="Write it.")])

    await Scheduler(engine, reviewers=0).run(project.id)

    failed = engine.task(task.id)
    assert failed.status is TaskStatus.FAILED
    assert "first half" not in (failed.result or "")
    ((error,),) = engine.store.query("SELECT error FROM task_attempt WHERE task_id = ?", (task.id,))
    assert "the answer was cut off at 4096 tokens" in str(error)
    assert [token_limit(received) for received in fake.received] == [2048, 4096]
    await engine.aclose()


def test_a_simulated_agent_is_cut_off_at_its_limit_too(paths: Paths, settings: Settings) -> None:
    """A simulated agent given a tiny `max_tokens` shows what a cut-off answer does: its ballot abstains."""
    agents = tuple(
        replace(agent, max_tokens=10) if agent.name == "grok" else agent for agent in settings.agents
    )
    engine = Engine(paths, replace(settings, agents=agents), env={})
    decision = engine.open_decision("Which store?", ["SQLite", "Postgres"], method="plurality", max_rounds=1)

    asyncio.run(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST))  # nobody is there to ask

    grok = next(ballot for ballot in engine.store.ballots(decision.id, 1) if ballot.voter == "grok")
    assert grok.is_abstention
    assert "the answer was cut off at 10 tokens" in grok.abstain_reason
    engine.close()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_agent_test_cut_off_at_its_small_limit_still_shows_the_agent_works(
    paths: Paths, settings: Settings, clock: FixedClock, fake: WireFake, provider: str
) -> None:
    engine = live_engine(paths, settings, clock, live_agent(provider, fake))
    fake.default = Reply(text="Let me think", cut_off=True)  # a reasoning model spends the room thinking

    outcome = await engine.test_agent(f"{provider}-agent")

    assert outcome.ok and outcome.error is None
    assert outcome.response is not None and outcome.response.text == "Let me think"
    await engine.aclose()
