"""Traces and metrics through the OpenTelemetry SDK's in-memory exporters: the span trees of a vote,
a plan and a run (over real git for a repository project), their attributes, the metrics, and no
key in any attribute, with or without capture_content."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakes import ballot_for
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from repos import make_repository
from test_repo_flow import GATES, file_block
from test_scheduler import KEYS, active_project, cast, member, scripted_engine, spec

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine import telemetry
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.engine.supervisor import Supervisor
from orkestra_tui.engine.telemetry_sdk import OtelBackend
from orkestra_tui.providers.base import ProviderRequest

SECRET = KEYS["ANTHROPIC_API_KEY"]
OPTIONS = ("Postgres", "SQLite")


@dataclass
class Exported:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    backend: OtelBackend

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [item for item in self.finished() if item.name == name]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        parent_id = parent.context.span_id
        return sorted(
            (
                item
                for item in self.finished()
                if item.parent is not None and item.parent.span_id == parent_id
            ),
            key=lambda item: item.start_time or 0,
        )

    def child_names(self, parent: ReadableSpan) -> list[str]:
        return [call_or_name(item) for item in self.children(parent)]

    def metric_points(self, name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


def call_or_name(item: ReadableSpan) -> str:
    """A model call's span is named `chat <model>`: called "call" here, whatever its model."""
    return "call" if item.name.startswith("chat ") else item.name


@pytest.fixture
def exported() -> Iterator[Exported]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    backend = OtelBackend(tracer_provider, MeterProvider(metric_readers=[reader]))
    with telemetry.installed(backend):
        yield Exported(spans, reader, backend)
    backend.shutdown()


@pytest.fixture
def scripted(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = scripted_engine(paths, settings, clock, price=1.0)
    yield engine
    engine.close()


def attributes(item: ReadableSpan) -> dict[str, Any]:
    return dict(item.attributes or {})


def all_attribute_text(spans: Sequence[ReadableSpan]) -> str:
    return json.dumps([attributes(item) for item in spans]) + " ".join(item.name for item in spans)


# ------------------------------------------------------------------ a vote


async def vote(engine: Engine, question: str = "Which database?") -> int:
    cast(engine, {name: ballot_for("SQLite") for name in ("claude", "chatgpt", "gemini")})
    decision = engine.open_decision(question, list(OPTIONS), method="majority")
    await engine.decide(decision.id, tie_break="first")
    return decision.id


async def test_a_vote_is_a_tree_of_decision_round_ballots_and_their_calls(
    scripted: Engine, exported: Exported
) -> None:
    decision_id = await vote(scripted)

    (root,) = exported.named("vote")
    assert root.parent is None
    assert attributes(root) == {
        "orkestra.decision.id": decision_id,
        "orkestra.decision.method": "majority",
        "orkestra.decision.status": "decided",
        "orkestra.decision.winner": "SQLite",
    }
    (round_span,) = exported.children(root)
    assert round_span.name == "round"
    assert attributes(round_span) == {
        "orkestra.decision.id": decision_id,
        "orkestra.decision.round": 1,
        "orkestra.decision.winner": "SQLite",
    }
    # The ballots are asked at once, each in a task of its own: every one is a child of its round.
    ballots = exported.children(round_span)
    assert [item.name for item in ballots] == ["ballot"] * 3
    assert sorted(attributes(item)["orkestra.agent"] for item in ballots) == ["chatgpt", "claude", "gemini"]
    for ballot in ballots:
        (call,) = exported.children(ballot)
        agent = attributes(ballot)["orkestra.agent"]
        assert call.name == f"chat {agent}-model"
        assert exported.children(call) == []
    claude_call = next(
        exported.children(item)[0] for item in ballots if attributes(item)["orkestra.agent"] == "claude"
    )
    assert attributes(claude_call) == {
        "gen_ai.system": "anthropic",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "claude-model",
        "gen_ai.request.max_tokens": 800,
        "gen_ai.response.model": "scripted",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 20,
        "orkestra.cost_usd": pytest.approx((100 * 1.0 + 20 * 5.0) / 1_000_000),
        "orkestra.agent": "claude",
        "orkestra.purpose": "ballot",
    }
    gemini_call = next(item for item in exported.finished() if item.name == "chat gemini-model")
    assert attributes(gemini_call)["gen_ai.system"] == "gcp.gemini"
    assert len({item.context.trace_id for item in exported.finished()}) == 1


async def test_calls_are_counted_per_agent_with_their_latency_tokens_and_cost(
    scripted: Engine, exported: Exported
) -> None:
    await vote(scripted)

    calls = {
        point.attributes["orkestra.agent"]: point.value for point in exported.metric_points("orkestra.calls")
    }
    assert calls == {"claude": 1, "chatgpt": 1, "gemini": 1}
    assert exported.metric_points("orkestra.call.errors") == []
    tokens = {
        (point.attributes["orkestra.agent"], point.attributes["gen_ai.token.type"]): point.sum
        for point in exported.metric_points("gen_ai.client.token.usage")
    }
    assert tokens[("claude", "input")] == 100
    assert tokens[("claude", "output")] == 20
    durations = exported.metric_points("gen_ai.client.operation.duration")
    assert sorted(point.attributes["orkestra.agent"] for point in durations) == [
        "chatgpt",
        "claude",
        "gemini",
    ]
    assert all(point.count == 1 for point in durations)
    cost = {
        point.attributes["orkestra.agent"]: point.value for point in exported.metric_points("orkestra.cost")
    }
    assert cost["claude"] == pytest.approx(200 / 1_000_000)


async def test_a_failed_call_carries_its_error_type_and_is_counted(
    scripted: Engine, exported: Exported
) -> None:
    providers = cast(scripted, {name: ballot_for("SQLite") for name in ("claude", "chatgpt", "gemini")})
    from orkestra_tui.providers.base import ProviderError

    providers["claude"].script = lambda _request, _index: ProviderError("bad_request", "no such model")
    decision = scripted.open_decision("Which database?", list(OPTIONS), method="majority")
    await scripted.decide(decision.id, tie_break="first")

    (failed,) = exported.named("chat claude-model")
    assert attributes(failed)["error.type"] == "bad_request"
    assert not failed.status.is_ok
    errors = exported.metric_points("orkestra.call.errors")
    assert [(point.attributes["orkestra.agent"], point.attributes["error.type"]) for point in errors] == [
        ("claude", "bad_request")
    ]


# ------------------------------------------------------------------ keys and content


def echo_key(_request: ProviderRequest, _index: int) -> str:
    """A voter whose reasoning repeats the key it was sent."""
    return json.dumps({"ranking": ["B"], "confidence": 0.9, "reasoning": f"my key is {SECRET}, keep it"})


@pytest.mark.parametrize("capture_content", [False, True], ids=["without content", "with content"])
async def test_a_key_echoed_by_a_model_or_held_in_a_prompt_never_reaches_an_attribute(
    scripted: Engine, exported: Exported, capture_content: bool
) -> None:
    exported.backend.capture_content = capture_content
    providers = cast(scripted, dict.fromkeys(("claude", "chatgpt", "gemini"), echo_key))
    for provider in providers.values():
        provider.model = f"model-{SECRET}"  # an endpoint that echoes the key in the model's name
    decision = scripted.open_decision(f"Should we rotate {SECRET}?", list(OPTIONS), method="majority")
    await scripted.decide(decision.id, tie_break="first")

    spans = exported.finished()
    assert spans
    text = all_attribute_text(spans)
    assert SECRET not in text
    assert SECRET[:16] not in text
    calls = [item for item in spans if item.name.startswith("chat ")]
    if capture_content:
        captured = attributes(calls[0])
        assert "Should we rotate [redacted]?" in str(captured["gen_ai.input.messages"])
        assert "my key is [redacted], keep it" in str(captured["gen_ai.output.messages"])
        assert captured["gen_ai.system_instructions"]
    else:
        assert not any(key.startswith(("gen_ai.input", "gen_ai.output", "gen_ai.system_")) for key in text)
        assert "rotate" not in text and "my key is" not in text


def test_captured_content_is_clipped() -> None:
    clipped = telemetry.clipped("x" * (telemetry.CONTENT_CHARS * 2))
    assert len(clipped) == telemetry.CONTENT_CHARS
    assert clipped.endswith("…")


# ------------------------------------------------------------------ a plan


async def test_a_plan_is_a_tree_of_proposals_vote_rounds_and_ballots(
    engine: Engine, exported: Exported
) -> None:
    from orkestra_tui.engine.models import Involvement
    from orkestra_tui.engine.planning.planning import Brief, Planner

    planner = Planner(engine)
    agents = ("claude", "chatgpt", "gemini")
    session = planner.start(
        Brief(name="Shop", description="A small shop.", involvement=Involvement.HANDS_OFF, agents=agents)
    )
    await planner.advance(session.project_id, tie_break="first")

    (plan,) = exported.named("plan")
    assert plan.parent is None
    assert attributes(plan)["orkestra.project.id"] == session.project_id
    assert exported.child_names(plan) == ["proposals", "vote", "synthesis"]
    proposals, plan_vote, synthesis = exported.children(plan)
    assert set(exported.child_names(proposals)) == {"call"}
    assert len(exported.children(proposals)) == len(session.brief.agents)
    (round_span,) = exported.children(plan_vote)
    assert {item.name for item in exported.children(round_span)} == {"ballot"}
    for ballot in exported.children(round_span):
        assert exported.child_names(ballot) == ["call"]
    assert exported.child_names(synthesis) == ["call"]


# ------------------------------------------------------------------ a run


async def run(engine: Engine) -> None:
    supervisor = Supervisor(engine)
    await supervisor.run_scheduler()


async def test_a_run_is_a_tree_of_tasks_attempts_calls_and_reviews(
    scripted: Engine, exported: Exported
) -> None:
    cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Write the readme"))

    await run(scripted)

    assert scripted.task(task_id).status is TaskStatus.DONE
    (root,) = exported.named("run")
    assert root.parent is None
    (task,) = exported.children(root)
    assert task.name == "task"
    agent = attributes(task)["orkestra.agent"]
    assert attributes(task) == {
        "orkestra.task.id": task_id,
        "orkestra.project.id": project_id,
        "orkestra.task.attempt": 1,
        "orkestra.agent": agent,
        "orkestra.task.status": "done",
    }
    (attempt,) = exported.children(task)
    assert attempt.name == "attempt"
    assert attributes(attempt) == {"orkestra.task.attempt": 1}
    assert exported.child_names(attempt) == ["call", "review"]
    call, review = exported.children(attempt)
    assert attributes(call)["orkestra.agent"] == agent
    assert attributes(call)["orkestra.purpose"] == "task"
    reviewers = exported.children(review)
    assert len(reviewers) == scripted.settings.engine.reviewers
    assert [call_or_name(item) for item in reviewers] == ["call"] * len(reviewers)
    assert {attributes(item)["orkestra.purpose"] for item in reviewers} == {"review"}
    assert agent not in {attributes(item)["orkestra.agent"] for item in reviewers}
    assert attributes(review)["orkestra.review.verdicts"] == ", ".join(["approve"] * len(reviewers))
    tasks = [
        (point.attributes["orkestra.task.status"], point.value)
        for point in exported.metric_points("orkestra.tasks")
    ]
    assert tasks == [("done", 1)]


async def test_a_repository_task_adds_its_gate_and_merge(
    paths: Paths, settings: Settings, clock: FixedClock, tmp_path: Path, exported: Exported
) -> None:
    repo = make_repository(
        tmp_path / "project",
        {"README.md": "# Shop\n", "LICENSE": "MIT\n", GATES[0]: GATES[1], "src/__init__.py": ""},
    )
    engine = scripted_engine(paths, settings, clock, max_attempts=3)
    try:
        hello = file_block("src/hello.py", "def hello():\n    return 1\n")
        cast(engine, {name: member(hello) for name in ("claude", "chatgpt", "gemini")})
        project_id, (task_id,) = active_project(engine, spec("Say hello"))
        await engine.link_repository(project_id, repo)

        await run(engine)

        assert engine.task(task_id).status is TaskStatus.DONE
    finally:
        engine.close()
    (task,) = exported.named("task")
    (attempt,) = exported.children(task)
    assert exported.child_names(attempt) == ["call", "gate", "review", "merge"]
    _call, gate, review, merge = exported.children(attempt)
    assert attributes(gate) == {
        "orkestra.task.id": task_id,
        "orkestra.gate.try": 1,
        "orkestra.gate.passed": True,
    }
    assert set(exported.child_names(review)) == {"call"}
    assert attributes(merge) == {"orkestra.task.id": task_id, "orkestra.merge.result": "merged"}


# ------------------------------------------------------------------ off


async def test_nothing_is_traced_while_telemetry_is_off(scripted: Engine) -> None:
    assert not telemetry.enabled()
    assert telemetry.span("vote") is telemetry.NO_SPAN
    cast(scripted, {name: ballot_for("SQLite") for name in ("claude", "chatgpt", "gemini")})

    async def work() -> int:
        return 1

    coroutine = work()
    assert telemetry.traced("round", coroutine) is coroutine
    assert await coroutine == 1
    await vote(scripted)


def test_starting_without_an_endpoint_variable_installs_nothing() -> None:
    assert telemetry.start(False, {}) == ""
    assert not telemetry.enabled()


# ------------------------------------------------------------------ the setting


def test_capture_content_is_read_from_the_telemetry_table(tmp_path: Path) -> None:
    from orkestra_tui.config import parse_settings

    path = tmp_path / "config.toml"
    assert not parse_settings("", path).telemetry.capture_content
    assert parse_settings("[telemetry]\ncapture_content = true\n", path).telemetry.capture_content


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '[telemetry]\ncapture_content = "yes"\n',
            "line 2: capture_content in [telemetry] must be true or false, not 'yes'",
        ),
        (
            "[telemetry]\ncapture_contents = true\n",
            "line 2: unknown key 'capture_contents' in [telemetry]; did you mean 'capture_content'?",
        ),
        ("telemetry = 1\n", "line 1: [telemetry] must be a table"),
    ],
)
def test_a_bad_telemetry_setting_is_one_clear_line(tmp_path: Path, text: str, problem: str) -> None:
    from orkestra_tui.config import ConfigError, parse_settings

    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, path)
    assert str(raised.value) == f"{path}, {problem}"


def test_settings_the_sdk_refuses_are_one_line_and_it_stays_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from orkestra_tui.engine import telemetry_sdk

    def refuse(**_options: object) -> OtelBackend:
        raise ValueError(f"bad header Authorization=Bearer {SECRET}")

    monkeypatch.setattr(telemetry_sdk, "exporting", refuse)
    monkeypatch.setattr(telemetry._switch, "started", False)
    line = telemetry.start(False, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert line.startswith(
        "telemetry is off: the OpenTelemetry SDK refused its settings (ValueError: bad header Authorization="
    )
    assert line.endswith("[redacted])")
    assert SECRET[:16] not in line
    assert not telemetry.enabled()


async def test_a_contest_is_one_attempt_with_an_entry_span_per_agent_then_its_vote(
    scripted: Engine, exported: Exported
) -> None:
    from test_contest import AGENTS, by_author, contestant

    cast(scripted, {name: contestant(name, by_author("gemini", "claude", "chatgpt")) for name in AGENTS})
    _project_id, (task_id,) = active_project(scripted, spec("Write the intro", category="writing"))
    scripted.set_task_contest(task_id, 3)

    await run(scripted)

    assert scripted.task(task_id).status is TaskStatus.DONE
    (attempt,) = exported.named("attempt")
    entries = [item for item in exported.children(attempt) if item.name == "entry"]
    assert sorted(attributes(item)["orkestra.agent"] for item in entries) == sorted(AGENTS)
    assert sorted(attributes(item)["orkestra.contest.entry"] for item in entries) == ["A", "B", "C"]
    for entry in entries:  # each entry's own model call is its child, the calls running side by side
        (call,) = exported.children(entry)
        assert call_or_name(call) == "call"
        assert attributes(call)["orkestra.agent"] == attributes(entry)["orkestra.agent"]
    assert exported.child_names(attempt) == ["entry", "entry", "entry", "vote", "review"]
    (vote,) = exported.named("vote")
    assert attributes(vote)["orkestra.decision.id"] == scripted.contest(task_id).decision_id  # type: ignore[union-attr]
    rounds = exported.children(vote)
    assert rounds and {item.name for item in rounds} == {"round"}
