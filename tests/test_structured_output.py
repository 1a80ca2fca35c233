"""Native structured output through the real vendor SDKs, against the wire fake on 127.0.0.1.

The fake refuses a structured-output parameter of the wrong shape with the
vendor's own 400 (`bench/fake_structured.py`), so each test checks both what
was sent and that the fake took it (`fake.refusals` stays empty).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedProvider, answers

from orkestra_tui.bench.fake_api import Received, Reply, WireFake, serving
from orkestra_tui.config import AgentSettings, Paths, Settings, SimulationSettings
from orkestra_tui.engine.agents.answers import BALLOT_SCHEMA, parse_answer
from orkestra_tui.engine.agents.calls import CallOutcome
from orkestra_tui.engine.agents.health import summarise
from orkestra_tui.engine.agents.prompts import Presentation, RoundContext, ballot_request
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.providers import structured
from orkestra_tui.providers.base import Message, ProviderRequest
from orkestra_tui.providers.registry import AgentRuntime

FAKE_KEY = "sk-test-SECRET-KEY-0123456789abcdef"
KEY_VARIABLES = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai": "OPENAI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "xai": "XAI_API_KEY",
    "ollama": "",
}
BALLOT = json.dumps({"ranking": ["A", "B"], "confidence": 0.8, "reasoning": "A is simpler."})
BALLOT_REQUEST = ballot_request(
    Presentation(labels={"A": "SQLite", "B": "PostgreSQL"}, excluded=()),
    RoundContext(
        question="Which database?", round=1, max_rounds=3, previous_shares={}, excerpts=(), feedback=()
    ),
)
FREE_TEXT = ProviderRequest(
    system="Be terse.", messages=(Message("user", "Write the module."),), purpose="task"
)
REFUSALS = {
    # provider: a 400 body naming that vendor's structured-output parameter, as its API words it
    "anthropic": {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "output_config.format: not supported on this model",
        },
    },
    "openai": {
        "error": {
            "message": "Invalid parameter: 'response_format' of type 'json_schema' is not supported.",
            "type": "invalid_request_error",
            "param": "response_format",
            "code": None,
        }
    },
    "gemini": {
        "error": {
            "code": 400,
            "message": "response_json_schema is not supported for this model.",
            "status": "INVALID_ARGUMENT",
        }
    },
}
SENT_BALLOT_SCHEMA = BALLOT_REQUEST.json_schema or {}
"""The ballot's schema as this voter's request carries it: its own labels, at least one."""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as server:
        yield server


def live_engine(paths: Paths, settings: Settings, fake: WireFake, provider: str, model: str) -> Engine:
    suffix = "" if provider in ("anthropic", "gemini") else "/v1"
    agent = AgentSettings(
        name=f"{provider}-agent", provider=provider, model=model, base_url=fake.url + suffix
    )
    tuned = replace(settings, agents=(agent,), engine=replace(settings.engine, agent_timeout_s=5.0))
    variable = KEY_VARIABLES[provider]
    engine = Engine(paths, tuned, env={variable: FAKE_KEY} if variable else {}, clock=FixedClock(step=0.0))

    async def no_wait(_seconds: float) -> None:
        pass

    engine.sleep = no_wait
    return engine


def call(engine: Engine, request: ProviderRequest = BALLOT_REQUEST) -> CallOutcome:
    (name,) = engine.runtimes
    return asyncio.run(engine.call(name, request))


def answered(fake: WireFake, text: str = BALLOT) -> None:
    fake.default = Reply(text=text)


def generation_config(received: Received) -> dict[str, Any]:
    config = received.body.get("generationConfig", {})
    assert isinstance(config, dict)
    return config


@pytest.mark.parametrize(("provider", "model"), [("openai", "gpt-5.1"), ("xai", "grok-4")])
def test_openai_and_xai_get_a_strict_json_schema(
    paths: Paths, settings: Settings, fake: WireFake, provider: str, model: str
) -> None:
    engine = live_engine(paths, settings, fake, provider, model)
    answered(fake)
    outcome = call(engine)
    assert outcome.ok, outcome.error
    assert fake.refusals == []
    (received,) = fake.received
    assert received.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "ballot",
            "schema": structured.strict_schema(SENT_BALLOT_SCHEMA),
            "strict": True,
        },
    }
    assert outcome.response is not None
    assert parse_answer(outcome.response.text, BALLOT_SCHEMA)["ranking"] == ["A", "B"]
    (record,) = engine.store.calls()
    assert record.output_mode == outcome.record.output_mode == "schema"


def test_ollama_gets_its_schema_without_strict_mode(paths: Paths, settings: Settings, fake: WireFake) -> None:
    engine = live_engine(paths, settings, fake, "ollama", "qwen2.5-coder:0.5b")
    answered(fake)
    assert call(engine).ok
    assert fake.refusals == []
    (received,) = fake.received
    assert received.path == "/v1/chat/completions"
    assert received.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "ballot", "schema": structured.local_schema(SENT_BALLOT_SCHEMA)},
    }
    assert engine.store.calls()[0].output_mode == "schema"


def test_claude_gets_output_config_format(paths: Paths, settings: Settings, fake: WireFake) -> None:
    engine = live_engine(paths, settings, fake, "anthropic", "claude-sonnet-4-5")
    answered(fake)
    assert call(engine).ok
    assert fake.refusals == []
    (received,) = fake.received
    assert received.body["output_config"] == {
        "format": {"type": "json_schema", "schema": structured.anthropic_schema(SENT_BALLOT_SCHEMA)}
    }
    assert "output_format" not in received.body
    headers = {name.lower() for name in received.headers}
    assert "anthropic-beta" not in headers  # generally available: no beta header
    assert engine.store.calls()[0].output_mode == "schema"


def test_gemini_gets_a_json_schema_and_its_mime_type(
    paths: Paths, settings: Settings, fake: WireFake
) -> None:
    engine = live_engine(paths, settings, fake, "gemini", "gemini-2.5-pro")
    answered(fake)
    assert call(engine).ok
    assert fake.refusals == []
    (received,) = fake.received
    config = generation_config(received)
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == structured.gemini_schema(SENT_BALLOT_SCHEMA)
    assert "responseSchema" not in config
    assert engine.store.calls()[0].output_mode == "schema"


OLDER_MODELS = {
    # provider: (model, the path it takes)
    "openai": ("gpt-4-turbo", "json"),
    "anthropic": ("claude-3-5-haiku-20241022", "prompt"),
    "gemini": ("gemini-2.0-flash", "json"),
}


@pytest.mark.parametrize("provider", list(OLDER_MODELS))
def test_older_models_get_json_mode_or_the_prompt(
    paths: Paths, settings: Settings, fake: WireFake, provider: str
) -> None:
    model, mode = OLDER_MODELS[provider]
    engine = live_engine(paths, settings, fake, provider, model)
    answered(fake)
    assert call(engine).ok
    assert fake.refusals == []
    (received,) = fake.received
    if provider == "openai":
        assert received.body["response_format"] == {"type": "json_object"}
    elif provider == "anthropic":
        assert "output_config" not in received.body
    else:
        config = generation_config(received)
        assert config["responseMimeType"] == "application/json"
        assert "responseJsonSchema" not in config
    assert engine.store.calls()[0].output_mode == mode


@pytest.mark.parametrize(
    ("provider", "model"),
    [("openai", "gpt-5.1"), ("anthropic", "claude-sonnet-4-5"), ("gemini", "gemini-2.5-pro")],
)
def test_a_refused_parameter_is_dropped_at_once_and_for_good(
    paths: Paths, settings: Settings, fake: WireFake, provider: str, model: str
) -> None:
    engine = live_engine(paths, settings, fake, provider, model)
    fake.then(Reply(status=400, body=REFUSALS[provider]))
    answered(fake)
    outcome = call(engine)
    assert outcome.ok, outcome.error
    first, retried = fake.received
    parameter = {"openai": "response_format", "anthropic": "output_config", "gemini": "generationConfig"}[
        provider
    ]
    if provider == "gemini":
        assert "responseJsonSchema" in generation_config(first)
        assert "responseJsonSchema" not in generation_config(retried)
        assert "responseMimeType" not in generation_config(retried)
    else:
        assert parameter in first.body and parameter not in retried.body
    (record,) = engine.store.calls()  # one call, answered the second time without the parameter
    assert (record.error_class, record.output_mode) == ("", "prompt")
    assert call(engine).ok  # remembered: the next call goes without it
    assert len(fake.received) == 3
    if provider == "gemini":
        assert "responseJsonSchema" not in generation_config(fake.received[2])
    else:
        assert parameter not in fake.received[2].body
    assert [record.output_mode for record in engine.store.calls()] == ["prompt", "prompt"]


def test_another_bad_request_is_not_retried(paths: Paths, settings: Settings, fake: WireFake) -> None:
    engine = live_engine(paths, settings, fake, "openai", "gpt-5.1")
    fake.then(Reply(status=400, body={"error": {"message": "max_tokens is too large", "type": "invalid"}}))
    outcome = call(engine)
    assert outcome.error is not None and outcome.error.error_class == "bad_request"
    assert len(fake.received) == 1
    (record,) = engine.store.calls()
    assert record.output_mode == "schema"  # what the failed call asked for
    answered(fake)
    assert call(engine).ok and "response_format" in fake.received[1].body  # not taken for a refusal


def test_a_wrong_shape_is_refused_by_the_fake(
    paths: Paths, settings: Settings, fake: WireFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sending our schema unconverted in strict mode is a 400 from the fake, and the call falls back."""
    monkeypatch.setattr(structured, "strict_schema", dict)
    engine = live_engine(paths, settings, fake, "openai", "gpt-5.1")
    answered(fake)
    assert call(engine).ok
    (refusal,) = fake.refusals
    assert "response_format" in refusal and "not permitted" in refusal
    assert engine.store.calls()[0].output_mode == "prompt"


@pytest.mark.parametrize(("provider", "model"), [("openai", "gpt-5.1"), ("anthropic", "claude-sonnet-4-5")])
def test_free_text_asks_for_no_format(
    paths: Paths, settings: Settings, fake: WireFake, provider: str, model: str
) -> None:
    engine = live_engine(paths, settings, fake, provider, model)
    assert call(engine, FREE_TEXT).ok
    (received,) = fake.received
    assert "response_format" not in received.body and "output_config" not in received.body
    assert engine.store.calls()[0].output_mode == ""


def test_the_path_is_in_the_call_audit_event(paths: Paths, settings: Settings, fake: WireFake) -> None:
    engine = live_engine(paths, settings, fake, "anthropic", "claude-sonnet-4-5")
    answered(fake)
    assert call(engine).ok
    (event,) = engine.audit_events(10, kind="call.ok")
    assert event.data["output_mode"] == "schema"


def test_a_provider_that_does_not_say_takes_the_schema_in_the_prompt(settings: Settings) -> None:
    """Copilot and command agents: the schema is in the prompt, and the answer is parsed and repaired."""
    from orkestra_tui.engine.agents.calls import output_mode

    runtime = AgentRuntime(
        settings=AgentSettings(name="cli", provider="command", command=["cat"]),
        vendor="local",
        simulated=False,
        simulated_reason="",
        simulation=SimulationSettings(),
        provider_override=ScriptedProvider(answers(BALLOT)),
    )
    assert output_mode(runtime, BALLOT_REQUEST) == "prompt"
    assert output_mode(runtime, FREE_TEXT) == ""
    assert output_mode(replace(runtime, simulated=True), BALLOT_REQUEST) == ""


def test_health_counts_the_paths(paths: Paths, settings: Settings, fake: WireFake) -> None:
    engine = live_engine(paths, settings, fake, "openai", "gpt-5.1")
    answered(fake)
    assert call(engine).ok
    assert call(engine, FREE_TEXT).ok
    (name,) = engine.runtimes
    assert engine.agent_health(name).output_modes == {"schema": 1}
    assert summarise(name, []).output_modes == {}


def test_calls_recorded_before_the_column_read_as_no_path(tmp_path: Path) -> None:
    """A database from before the column: its calls read back with no path, and new ones record theirs."""
    import sqlite3

    from orkestra_tui.engine.agents.call_log import record_call
    from orkestra_tui.engine.models import CallRecord
    from orkestra_tui.engine.store.schema import MIGRATIONS
    from orkestra_tui.engine.store.store import Store

    ours = next(number for number, script in enumerate(MIGRATIONS) if "output_mode" in script)
    path = tmp_path / "older.db"
    connection = sqlite3.connect(path)
    for script in MIGRATIONS[:ours]:
        connection.executescript(script)
    connection.execute(f"PRAGMA user_version = {ours}")
    connection.execute(
        "INSERT INTO call (agent, model, purpose, started_at, latency_ms)"
        " VALUES ('claude', 'm', 'ballot', 0, 5)"
    )
    connection.commit()
    connection.close()
    store = Store(path, clock=FixedClock())
    try:
        with store.transaction() as tx:
            record_call(tx, CallRecord("claude", "m", "ballot", 1.0, 5.0, 1, 1, 0.0, output_mode="schema"))
        assert [record.output_mode for record in store.calls()] == ["", "schema"]  # oldest first
    finally:
        store.close()


def test_a_vote_through_the_schema_path_is_still_validated_and_repaired(
    paths: Paths, settings: Settings, fake: WireFake
) -> None:
    """Native output does not replace our validation: an answer out of range is repaired, with the schema."""
    engine = live_engine(paths, settings, fake, "openai", "gpt-5.1")
    fake.then(
        Reply(text=json.dumps({"ranking": ["A"], "confidence": 7, "reasoning": "sure"})),
        Reply(text=json.dumps({"ranking": ["A"], "confidence": 0.7, "reasoning": "sure"})),
    )
    decision = engine.open_decision(
        "Which database?", ["SQLite", "PostgreSQL"], method="plurality", max_rounds=1
    )
    decided = asyncio.run(engine.decide(decision.id, tie_break="first"))
    (ballot,) = engine.store.ballots(decided.id, 1)
    assert not ballot.is_abstention and ballot.confidence == 0.7
    assert fake.refusals == []
    first, repair = fake.received
    assert first.body["response_format"] == repair.body["response_format"]
    assert repair.body["response_format"]["json_schema"]["strict"] is True
    assert [record.output_mode for record in engine.store.calls()] == ["schema", "schema"]


def test_a_ballot_request_constrains_its_ranking_to_the_labels_shown() -> None:
    ranking = SENT_BALLOT_SCHEMA["properties"]["ranking"]
    labels = list(BALLOT_REQUEST.context["options"])
    assert ranking["items"] == {"type": "string", "enum": [option["label"] for option in labels]}
    assert ranking["minItems"] == 1 and ranking["maxItems"] == len(labels)
    # Every vendor's form keeps the labels: a constrained model can answer nothing else.
    for form in (structured.strict_schema, structured.anthropic_schema, structured.gemini_schema):
        converted = form(SENT_BALLOT_SCHEMA)
        assert converted is not None
        assert converted["properties"]["ranking"]["items"]["enum"] == ranking["items"]["enum"]
