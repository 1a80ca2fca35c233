"""The real vendor SDKs against a wire-protocol fake on 127.0.0.1, through the engine's call path."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from orkestra_tui.bench.fake_api import Reply, WireFake, serving
from orkestra_tui.config import AgentSettings, Paths, Settings
from orkestra_tui.engine.agents.calls import CallOutcome
from orkestra_tui.engine.agents.circuit import CircuitBreaker, CircuitState
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.providers.base import Message, ProviderRequest
from orkestra_tui.providers.registry import build_agents

FAKE_KEY = "sk-test-SECRET-KEY-0123456789abcdef"
REQUEST = ProviderRequest(system="You are terse.", messages=(Message("user", "Say hello."),), purpose="ping")

PROVIDERS = {
    # provider: (key variable, path suffix the SDK must call, header carrying the key)
    "anthropic": ("ANTHROPIC_API_KEY", "/v1/messages", "authorization"),
    "openai": ("OPENAI_API_KEY", "/v1/chat/completions", "authorization"),
    "gemini": ("GEMINI_API_KEY", ":generateContent", "x-goog-api-key"),
    "xai": ("XAI_API_KEY", "/v1/chat/completions", "authorization"),
    "ollama": ("", "/v1/chat/completions", "authorization"),
}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as server:
        yield server


def agent_for(provider: str, fake: WireFake) -> AgentSettings:
    suffix = "" if provider in ("anthropic", "gemini") else "/v1"
    return AgentSettings(
        name=f"{provider}-agent",
        provider=provider,
        model=f"{provider}-model",
        base_url=fake.url + suffix,
        price_input_per_mtok=3.0,
        price_output_per_mtok=15.0,
    )


class RecordingEngine(Engine):
    """An engine whose retry sleeps are recorded in `delays` (live_engine does it), not slept."""

    delays: list[float]


def live_engine(
    paths: Paths, settings: Settings, fake: WireFake, provider: str, **engine_settings: object
) -> RecordingEngine:
    variable = PROVIDERS[provider][0]
    engine_settings = {"agent_timeout_s": 2.0, **engine_settings}
    # The fake serves on 127.0.0.1, a local address: an OpenAI-compatible agent there is a local one.
    engine_settings.setdefault("local_agent_timeout_s", engine_settings["agent_timeout_s"])
    tuned = replace(
        settings,
        agents=(agent_for(provider, fake),),
        engine=replace(settings.engine, **engine_settings),  # type: ignore[arg-type]  # EngineSettings fields by name; replace() checks them
    )
    engine = RecordingEngine(
        paths, tuned, env={variable: FAKE_KEY} if variable else {}, clock=FixedClock(step=0.0)
    )
    engine.delays = []

    async def record_delay(seconds: float) -> None:
        engine.delays.append(seconds)

    engine.sleep = record_delay
    return engine


def call(engine: Engine) -> CallOutcome:
    (name,) = engine.runtimes
    return asyncio.run(engine.call(name, REQUEST))


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_a_normal_call_with_usage(paths: Paths, settings: Settings, fake: WireFake, provider: str) -> None:
    engine = live_engine(paths, settings, fake, provider)
    (info,) = engine.agents()
    assert not info.simulated
    outcome = call(engine)
    assert outcome.ok, outcome.error
    assert outcome.response is not None and outcome.response.text == "Hello from the fake."
    (record,) = engine.store.calls()
    assert (record.tokens_in, record.tokens_out) == (12, 5)
    assert record.cost == pytest.approx((12 * 3.0 + 5 * 15.0) / 1_000_000)
    (received,) = fake.received
    assert received.path.endswith(PROVIDERS[provider][1])
    header = {name.lower(): value for name, value in received.headers.items()}[PROVIDERS[provider][2]]
    assert (FAKE_KEY in header) is (provider != "ollama")


def test_429_waits_as_long_as_retry_after_says(paths: Paths, settings: Settings, fake: WireFake) -> None:
    engine = live_engine(paths, settings, fake, "anthropic")
    fake.then(Reply(status=429, headers={"retry-after": "7"}), Reply())
    outcome = call(engine)
    assert outcome.ok
    assert engine.delays == [7.0]
    assert [record.error_class for record in engine.store.calls()] == ["rate_limited", ""]


def test_retry_after_is_capped(paths: Paths, settings: Settings, fake: WireFake) -> None:
    engine = live_engine(paths, settings, fake, "openai", retry_after_cap_s=30.0)
    fake.then(Reply(status=429, headers={"retry-after": "3600"}), Reply())
    assert call(engine).ok
    assert engine.delays == [30.0]


@pytest.mark.parametrize("status", [500, 529])
@pytest.mark.parametrize("provider", ["anthropic", "openai", "gemini"])
def test_server_errors_and_overload_are_retried(
    paths: Paths, settings: Settings, fake: WireFake, provider: str, status: int
) -> None:
    engine = live_engine(paths, settings, fake, provider)
    fake.then(Reply(status=status), Reply(status=status), Reply())
    assert call(engine).ok
    expected = "overloaded" if status == 529 else "server"
    assert [record.error_class for record in engine.store.calls()] == [expected, expected, ""]
    assert len(engine.delays) == 2 and all(0 <= delay <= 8 for delay in engine.delays)


@pytest.mark.parametrize("provider", ["anthropic", "openai", "gemini"])
def test_a_slow_answer_past_the_timeout(
    paths: Paths, settings: Settings, fake: WireFake, provider: str
) -> None:
    engine = live_engine(paths, settings, fake, provider, agent_timeout_s=0.3, max_attempts=2)
    fake.then(Reply(delay_s=1.0), Reply(delay_s=1.0))
    outcome = call(engine)
    assert outcome.error is not None and outcome.error.error_class == "timeout"
    assert [record.error_class for record in engine.store.calls()] == ["timeout", "timeout"]


@pytest.mark.parametrize("provider", ["anthropic", "openai", "gemini"])
def test_a_malformed_body_is_not_retried(
    paths: Paths, settings: Settings, fake: WireFake, provider: str
) -> None:
    engine = live_engine(paths, settings, fake, provider)
    fake.then(Reply(garbled=True))
    outcome = call(engine)
    assert outcome.error is not None and outcome.error.error_class == "malformed"
    assert len(fake.received) == 1


@pytest.mark.parametrize("provider", ["anthropic", "openai", "gemini"])
def test_a_dropped_connection_is_retried(
    paths: Paths, settings: Settings, fake: WireFake, provider: str
) -> None:
    engine = live_engine(paths, settings, fake, provider)
    fake.then(Reply(drop=True), Reply())
    assert call(engine).ok
    assert [record.error_class for record in engine.store.calls()] == ["connection", ""]


@pytest.mark.parametrize("provider", ["anthropic", "openai", "gemini"])
def test_401_marks_a_bad_key_at_once(paths: Paths, settings: Settings, fake: WireFake, provider: str) -> None:
    engine = live_engine(paths, settings, fake, provider)
    fake.then(Reply(status=401))
    outcome = call(engine)
    assert outcome.error is not None and outcome.error.error_class == "auth"
    assert len(fake.received) == 1 and engine.delays == []
    (name,) = engine.runtimes
    assert name in engine.bad_keys and not engine.agent_available(name)
    assert engine.audit_events(1, kind="agent.bad_key")
    again = call(engine)  # refused without a request
    assert again.error is not None and again.error.error_class == "auth"
    assert len(fake.received) == 1


def state_of(breaker: CircuitBreaker) -> CircuitState:
    """The breaker's state now (a fresh read: see fresh.py)."""
    return breaker.state


def test_the_circuit_opens_and_closes(paths: Paths, settings: Settings, fake: WireFake) -> None:
    engine = live_engine(
        paths, settings, fake, "openai", max_attempts=1, circuit_failures=3, circuit_cooldown_s=60
    )
    (name,) = engine.runtimes
    fake.then(Reply(status=500), Reply(status=500), Reply(status=500))
    for _ in range(3):
        call(engine)
    breaker = engine.breakers[name]
    assert breaker.state is CircuitState.OPEN and not engine.agent_available(name)
    refused = call(engine)
    assert refused.error is not None and refused.error.error_class == "circuit_open"
    assert len(fake.received) == 3  # nothing was sent while open
    engine.clock.advance(61)  # type: ignore[attr-defined]  # live_engine gives the engine a FixedClock
    assert state_of(breaker) is CircuitState.HALF_OPEN and engine.agent_available(name)
    assert call(engine).ok  # the probe succeeds
    assert state_of(breaker) is CircuitState.CLOSED
    kinds = [event.kind for event in reversed(engine.audit_events(100))]
    assert "agent.circuit_open" in kinds and "agent.circuit_closed" in kinds


def test_an_open_circuit_leaves_the_agent_out_of_the_vote(paths: Paths, settings: Settings) -> None:
    engine = Engine(paths, settings, env={})
    engine.breakers["grok"].record(False)
    engine.breakers["grok"].record(False)
    engine.breakers["grok"].record(False)
    decision = engine.open_decision("Q?", ["a", "b"], method="plurality", max_rounds=1)
    decided = asyncio.run(engine.decide(decision.id, tie_break="first"))
    voters = {ballot.voter for ballot in engine.store.ballots(decided.id, 1)}
    assert "grok" not in voters and len(voters) == 4


def test_base_urls_and_model_variables(fake: WireFake) -> None:
    settings = replace(
        Settings(),
        agents=(
            AgentSettings(name="c", provider="anthropic", model="m1"),
            AgentSettings(name="g", provider="gemini", model="m2", base_url="https://configured.example/"),
            AgentSettings(name="x", provider="xai", model="grok-4"),
            AgentSettings(name="o", provider="ollama", model="llama3"),
        ),
    )
    env = {
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_BASE_URL": "https://from-env.example",
        "GEMINI_API_KEY": FAKE_KEY,
        "GOOGLE_GEMINI_BASE_URL": "https://ignored.example",
        "XAI_API_KEY": FAKE_KEY,
        "CLAUDE_MODEL": "claude-from-env",
        "OLLAMA_HOST": "127.0.0.1:11500",
    }
    runtimes = {runtime.name: runtime for runtime in build_agents(settings, env)}
    assert runtimes["c"].base_url == "https://from-env.example"
    assert runtimes["c"].model == "claude-from-env"
    assert runtimes["g"].base_url == "https://configured.example/"  # the config wins over the variable
    assert runtimes["x"].base_url == "https://api.x.ai/v1"
    assert runtimes["o"].base_url == "http://127.0.0.1:11500/v1"
    assert not any(runtime.simulated for runtime in runtimes.values())
    assert all(FAKE_KEY not in repr(runtime) for runtime in runtimes.values())


def test_the_key_appears_nowhere(
    paths: Paths, settings: Settings, fake: WireFake, capsys: pytest.CaptureFixture[str]
) -> None:
    from orkestra_tui.cli import main

    engine = live_engine(paths, settings, fake, "openai", max_attempts=1)
    fake.then(
        Reply(status=401, body={"error": {"message": f"Incorrect API key provided: {FAKE_KEY}"}}),
    )
    failed = call(engine)
    assert FAKE_KEY not in str(failed.error)
    engine.close()
    stored = b"".join(path.read_bytes() for path in paths.data_dir.iterdir() if path.is_file())
    assert FAKE_KEY.encode() not in stored
    assert FAKE_KEY[:20].encode() not in stored
    for command in (["audit", "--json", "--limit", "100"], ["status", "--json"]):
        assert main(["--data-dir", str(paths.config_dir), *command]) == 0
        captured = capsys.readouterr()
        assert FAKE_KEY not in captured.out + captured.err
