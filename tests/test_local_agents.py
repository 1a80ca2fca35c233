"""Local models: longer timeouts and one task at a time by default; per-agent limits; give-ups close.

A request given up on (its timeout passed, or the work was stopped) must not
go on on the server: the wire fake stalls as a model still generating, and
sees the SDK's connection close.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedProvider

from orkestra_tui.bench.fake_api import Reply, WireFake, serving
from orkestra_tui.config import AgentSettings, ConfigError, EngineSettings, Paths, Settings, parse_settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import ProjectStatus, TaskSpec, TaskStatus
from orkestra_tui.providers.base import Message, ProviderRequest, ProviderResponse
from orkestra_tui.providers.registry import build_agents, is_local

KEYS = {
    "XAI_API_KEY": "xai-test-local-0000",
    "ANTHROPIC_API_KEY": "sk-test-local-anthropic-0000",
    "OPENAI_API_KEY": "sk-test-local-openai-0000",
    "GEMINI_API_KEY": "test-local-gemini-0000",
}
REQUEST = ProviderRequest(system="s", messages=(Message("user", "Write it."),), purpose="task")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as server:
        yield server


async def until(condition: Callable[[], object], what: str) -> None:
    """Poll `condition` (the fake's server thread reports through plain lists) until it holds."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


# -------------------------------------------------------------- which agents are local


@pytest.mark.parametrize(
    ("provider", "base_url", "local"),
    [
        ("ollama", "", True),
        ("ollama", "http://gpu-box.example.com:11434/v1", True),
        ("openai", "http://127.0.0.1:8080/v1", True),
        ("openai", "http://localhost:8000/v1", True),
        ("openai", "http://[::1]:8000/v1", True),
        ("openai", "http://192.168.1.20:8000/v1", True),
        ("openai", "http://llm.lan:8000/v1", True),
        ("openai", "https://api.openai.com/v1", False),
        ("openai", "", False),
        ("openai", "http://[not an address/v1", False),
        ("xai", "https://api.x.ai/v1", False),
        ("anthropic", "http://127.0.0.1:4000", False),  # a proxy to the vendor, not a local model
    ],
)
def test_which_agents_are_local(provider: str, base_url: str, local: bool) -> None:
    assert is_local(provider, base_url) is local


def test_local_agents_default_to_a_longer_timeout_and_one_task_at_a_time() -> None:
    settings = Settings(
        engine=EngineSettings(agent_timeout_s=120.0, local_agent_timeout_s=900.0),
        agents=(
            AgentSettings(name="qwen", provider="openai", model="qwen", base_url="http://127.0.0.1:8080/v1"),
            AgentSettings(name="llama", provider="ollama", model="llama3"),
            AgentSettings(name="chatgpt", provider="openai", model="gpt-5"),
            AgentSettings(
                name="tuned",
                provider="ollama",
                model="llama3",
                timeout_s=45.0,
                concurrency=3,
            ),
        ),
    )

    runtimes = {runtime.name: runtime for runtime in build_agents(settings, KEYS)}

    assert {
        name: (runtime.local, runtime.timeout_s, runtime.concurrency) for name, runtime in runtimes.items()
    } == {
        "qwen": (True, 900.0, 1),
        "llama": (True, 900.0, 1),
        "chatgpt": (False, 120.0, 2),
        "tuned": (True, 45.0, 3),  # the agent's own settings win
    }


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("max_tokens = -1", "max_tokens in [[agents]] #1 must be from 0 to 1000000, not -1"),
        ("timeout_s = 100000", "timeout_s in [[agents]] #1 must be from 0 to 86400, not 100000"),
        ("concurrency = 1.5", "concurrency in [[agents]] #1 must be a whole number from 0 to 1000, not 1.5"),
        ("timeout = 30", "unknown key 'timeout' in [[agents]] #1; did you mean 'timeout_s'?"),
    ],
)
def test_the_per_agent_limits_are_checked(line: str, problem: str) -> None:
    text = f'[[agents]]\nname = "qwen"\nprovider = "ollama"\n{line}\n'
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, Path("config.toml"))
    assert caught.value.problem == problem and caught.value.line == 4


def test_the_per_agent_limits_read_back() -> None:
    text = '[[agents]]\nname = "qwen"\nprovider = "ollama"\n'
    text += "max_tokens = 8192\ntimeout_s = 1800\nconcurrency = 1\n"
    (agent,) = parse_settings(text, Path("config.toml")).agents
    assert (agent.max_tokens, agent.timeout_s, agent.concurrency) == (8192, 1800.0, 1)


# ------------------------------------------------------------------ one task at a time


class CountingProvider(ScriptedProvider):
    """Answers every task after a short wait, counting how many calls were under way at once."""

    def __init__(self) -> None:
        super().__init__(lambda _request, _index: "# Done\n\nThe work.\n", delay_s=0.05)
        self.under_way = 0
        self.most_under_way = 0

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        self.under_way += 1
        self.most_under_way = max(self.most_under_way, self.under_way)
        try:
            return await super().complete(request)
        finally:
            self.under_way -= 1


async def test_a_local_agent_works_on_one_task_at_a_time(paths: Paths, settings: Settings) -> None:
    local = AgentSettings(name="llama", provider="ollama", model="llama3", specialties={"code": 0.9})
    engine = Engine(paths, replace(settings, agents=(local,)), clock=FixedClock(step=0.0), env={})
    provider = CountingProvider()
    engine.use_provider("llama", provider)
    project = engine.create_project("Shop", "Build a small shop.")
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    tasks = engine.add_tasks(
        project.id, [TaskSpec(title=f"Task {n}", instructions="Do it.", category="code") for n in range(3)]
    )

    await Scheduler(engine, reviewers=0).run(project.id)

    assert [engine.task(task.id).status for task in tasks] == [TaskStatus.DONE] * 3
    assert provider.most_under_way == 1
    (info,) = engine.agents()
    assert info.concurrency == 1
    await engine.aclose()


# ------------------------------------------------- a request given up on is closed


def live_engine(paths: Paths, settings: Settings, agent: AgentSettings, *, max_attempts: int = 1) -> Engine:
    tuned = replace(settings, agents=(agent,), engine=replace(settings.engine, max_attempts=max_attempts))
    engine = Engine(paths, tuned, clock=FixedClock(step=0.0), env=KEYS)

    async def no_wait(_seconds: float) -> None:
        await asyncio.sleep(0)

    engine.sleep = no_wait  # retries take no real time
    return engine


def stalling_agent(provider: str, fake: WireFake, **fields: Any) -> AgentSettings:
    suffix = "" if provider in ("anthropic", "gemini") else "/v1"
    return AgentSettings(
        name="slow", provider=provider, model=f"{provider}-model", base_url=fake.url + suffix, **fields
    )


@pytest.mark.parametrize(("provider", "streamed"), [("ollama", True), ("openai", True), ("xai", False)])
async def test_a_local_model_answers_as_a_stream(
    paths: Paths, settings: Settings, fake: WireFake, provider: str, streamed: bool
) -> None:
    """Local servers stream, so that giving up closes a stream they are writing to; others answer whole."""
    engine = live_engine(paths, settings, stalling_agent(provider, fake))
    fake.then(Reply(text="A whole answer, in several pieces."))

    outcome = await engine.call("slow", REQUEST)

    assert outcome.response is not None
    assert outcome.response.text == "A whole answer, in several pieces."
    assert (outcome.response.stop_reason, outcome.record.tokens_in, outcome.record.tokens_out) == (
        "stop",
        12,
        5,
    )
    (received,) = fake.received
    assert received.body.get("stream", False) is streamed
    if streamed:
        assert received.body["stream_options"] == {"include_usage": True}
    await engine.aclose()


async def test_a_stream_cut_short_is_a_dropped_connection_not_an_answer(
    paths: Paths, settings: Settings, fake: WireFake
) -> None:
    engine = live_engine(paths, settings, stalling_agent("ollama", fake), max_attempts=2)
    fake.then(Reply(text="Half of it, then the line goes dead.", drop=True), Reply(text="All of it."))

    outcome = await engine.call("slow", REQUEST)

    assert outcome.response is not None and outcome.response.text == "All of it."
    assert [record.error_class for record in outcome.attempts] == ["connection", ""]
    assert outcome.attempts[0].error == "the answer's stream ended before the answer did"
    await engine.aclose()


@pytest.mark.parametrize("provider", ["anthropic", "openai", "gemini", "ollama"])
async def test_the_agent_timeout_gives_up_and_the_server_sees_the_connection_close(
    paths: Paths, settings: Settings, fake: WireFake, provider: str
) -> None:
    engine = live_engine(paths, settings, stalling_agent(provider, fake, timeout_s=0.5))
    fake.then(Reply(), Reply(stall=True))
    assert (await engine.call("slow", REQUEST)).ok  # the SDK's first-call set-up is not timed below

    outcome = await engine.call("slow", REQUEST)

    assert outcome.error is not None and str(outcome.error) == "no answer within 0.5 s"
    assert len(fake.received) == 2
    await until(lambda: len(fake.hung_up) == 1, "the server saw the connection close")
    await engine.aclose()


@pytest.mark.parametrize("provider", ["openai", "ollama"])
async def test_a_stopped_call_closes_its_connection(
    paths: Paths, settings: Settings, fake: WireFake, provider: str
) -> None:
    engine = live_engine(paths, settings, stalling_agent(provider, fake))
    fake.then(Reply(stall=True))
    call = asyncio.ensure_future(engine.call("slow", REQUEST))
    await until(lambda: len(fake.received) == 1, "the request reached the server")

    call.cancel()
    await asyncio.gather(call, return_exceptions=True)

    await until(lambda: len(fake.hung_up) == 1, "the server saw the connection close")
    assert engine.store.query("SELECT state FROM call") == [("interrupted",)]
    await engine.aclose()
