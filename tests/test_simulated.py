"""Simulated agents: deterministic, valid, and different enough to disagree and converge."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from orkestra_tui.engine.agents.answers import (
    BALLOT_SCHEMA,
    COMPROMISE_SCHEMA,
    PLAN_SCHEMA,
    REVIEW_SCHEMA,
    parse_answer,
)
from orkestra_tui.providers.base import Message, ProviderError, ProviderRequest
from orkestra_tui.providers.simulated import SimulatedProvider

VENDORS = {
    "claude": "anthropic",
    "chatgpt": "openai",
    "gemini": "google",
    "copilot": "github",
    "grok": "xai",
}
OPTIONS = [
    {"label": "A", "text": "SQLite: simple, safe and tested"},
    {"label": "B", "text": "PostgreSQL: scale and data tooling"},
    {"label": "C", "text": "A bold new event store"},
    {"label": "D", "text": "Plain files with a typed code layer"},
]


def agent(name: str, seed: int = 7, **options: Any) -> SimulatedProvider:
    return SimulatedProvider(name, vendor=VENDORS.get(name, "simulated"), seed=seed, **options)


def ask(provider: SimulatedProvider, purpose: str, **context: Any) -> str:
    request = ProviderRequest(system="s", messages=(Message("user", "u"),), purpose=purpose, context=context)
    return asyncio.run(provider.complete(request)).text


def ballot(provider: SimulatedProvider, **context: Any) -> dict[str, Any]:
    answer: dict[str, Any] = parse_answer(ask(provider, "ballot", options=OPTIONS, **context), BALLOT_SCHEMA)
    return answer


def test_the_same_seed_gives_the_same_answers() -> None:
    assert ask(agent("claude"), "plan", name="X") == ask(agent("claude"), "plan", name="X")
    assert ballot(agent("gemini", seed=3)) == ballot(agent("gemini", seed=3))


def test_every_kind_of_answer_is_valid_json_for_its_schema() -> None:
    for name in VENDORS:
        provider = agent(name)
        ballot(provider)
        plan = parse_answer(
            ask(provider, "plan", name="Shop", features=["cart", "search", "checkout"]), PLAN_SCHEMA
        )
        keys = [task["key"] for phase in plan["phases"] for task in phase["tasks"]]
        seen: set[str] = set()
        for phase in plan["phases"]:
            for task in phase["tasks"]:
                assert set(task["depends_on"]) <= seen, "dependencies point at earlier tasks"
                seen.add(task["key"])
        assert len(keys) == len(set(keys))
        parse_answer(ask(provider, "review", title="T", result="r"), REVIEW_SCHEMA)
        parse_answer(ask(provider, "compromise", leading=["x", "y"]), COMPROMISE_SCHEMA)
        assert ask(provider, "task", title="Write docs").startswith("# Write docs")


def test_personas_disagree_in_the_first_round() -> None:
    firsts = Counter(ballot(agent(name))["ranking"][0] for name in VENDORS)
    assert len(firsts) >= 2


def first_choices_by_round(seed: int, rounds: int = 5) -> list[Counter[str]]:
    """Each round's first preferences when every agent sees the previous round's shares."""
    names = list(VENDORS)
    shares: dict[str, float] = {}
    history: list[Counter[str]] = []
    for round_number in range(1, rounds + 1):
        firsts = Counter(
            ballot(agent(name, seed=seed), previous_shares=shares, round=round_number)["ranking"][0]
            for name in names
        )
        history.append(firsts)
        shares = {label: count / len(names) for label, count in firsts.items()}
    return history


def test_committees_converge_over_rounds_for_most_seeds() -> None:
    histories = [first_choices_by_round(seed) for seed in range(12)]
    converged = [h for h in histories if h[-1].most_common(1)[0][1] > h[0].most_common(1)[0][1]]
    assert len(converged) >= len(histories) // 2
    assert any(h[-1].most_common(1)[0][1] == len(VENDORS) for h in converged), "some reach unanimity"


def test_some_committees_stay_deadlocked() -> None:
    def deadlocked(history: list[Counter[str]]) -> bool:
        return history[-1] == history[-2] and history[-1].most_common(1)[0][1] <= len(VENDORS) // 2

    assert any(deadlocked(first_choices_by_round(seed)) for seed in range(12))


def test_some_seed_gives_a_tie_for_first() -> None:
    def tied(seed: int) -> bool:
        names = ["claude", "chatgpt", "gemini", "copilot"]
        counts = Counter(ballot(agent(name, seed=seed))["ranking"][0] for name in names).most_common()
        return len(counts) > 1 and counts[0][1] == counts[1][1]

    assert any(tied(seed) for seed in range(40))


def test_an_agents_own_option_is_left_off_its_ballot() -> None:
    answer = ballot(agent("claude"), excluded=["A"])
    assert "A" not in answer["ranking"]


def test_failure_rate_fails_calls_and_a_retry_can_succeed() -> None:
    provider = agent("grok", seed=2, failure_rate=0.5)
    outcomes = []
    for _ in range(12):
        try:
            ask(provider, "task", title="same request")
            outcomes.append("ok")
        except ProviderError as error:
            assert error.retryable
            outcomes.append("failed")
    assert {"ok", "failed"} == set(outcomes)


def test_latency_is_configurable_and_scaled_by_persona(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    monkeypatch.setattr("orkestra_tui.providers.simulated.asyncio.sleep", record)
    ask(agent("claude", latency_ms=1000), "ping")
    ask(agent("claude", latency_ms=0), "ping")
    assert 0.6 <= delays[0] <= 1.4
    assert delays[1] == 0
