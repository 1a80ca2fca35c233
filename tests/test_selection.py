"""Agent selection: scores per strategy, eligibility, load balance, reasons, and the engine's candidates."""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from orkestra_tui.config import ROUTING_STRATEGIES
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.execution.selection import (
    NEUTRAL_SUCCESS_RATE,
    STRATEGY_WEIGHTS,
    Candidate,
    candidates,
    choose,
    rationale,
    why_none,
)


def candidate(name: str, **overrides: Any) -> Candidate:
    """An available, idle agent with middling everything unless told otherwise."""
    values: dict[str, Any] = {
        "name": name,
        "provider": "simulated",
        "specialties": {},
        "success_rate": 0.95,
        "available": True,
        "running": 0,
        "concurrency": 2,
        "price": 5.0,
    }
    values.update(overrides)
    return Candidate(**values)


# A specialist who is dear, a generalist who is free, and a good agent at a modest price.
SPECIALIST = candidate("specialist", specialties={"code": 0.95}, price=10.0)
BARGAIN = candidate("bargain", specialties={"code": 0.5}, price=0.0)
ALL_ROUNDER = candidate("allrounder", specialties={"code": 0.85}, price=2.0)
ROSTER = (SPECIALIST, BARGAIN, ALL_ROUNDER)


def test_strategies_match_the_config_and_weights_add_up_to_one() -> None:
    assert tuple(STRATEGY_WEIGHTS) == ROUTING_STRATEGIES
    for weights in STRATEGY_WEIGHTS.values():
        total = weights.specialty + weights.success + weights.capacity + weights.cheapness
        assert math.isclose(total, 1.0)
    assert STRATEGY_WEIGHTS["best"].cheapness == 0


def test_the_specialist_wins_its_category_under_best() -> None:
    choice = choose("code", ROSTER, strategy="best")
    assert choice is not None and choice.agent == "specialist"
    researcher = candidate("researcher", specialties={"research": 0.9, "code": 0.3}, price=20.0)
    research = choose("research", (*ROSTER, researcher), strategy="best")
    assert research is not None and research.agent == "researcher"


def test_best_ignores_price() -> None:
    dear = candidate("dear", specialties={"code": 0.9}, price=100.0)
    free = candidate("free", specialties={"code": 0.9}, price=0.0)
    choice = choose("code", (free, dear), strategy="best")
    assert choice is not None and choice.runners_up[0][1] == choice.score


def test_cheapest_picks_the_cheap_agent() -> None:
    choice = choose("code", ROSTER, strategy="cheapest")
    assert choice is not None and choice.agent == "bargain"


def test_cheapest_breaks_a_price_tie_on_specialty() -> None:
    weak = candidate("weak", specialties={"code": 0.4}, price=1.0)
    strong = candidate("strong", specialties={"code": 0.9}, price=1.0)
    choice = choose("code", (weak, strong, SPECIALIST), strategy="cheapest")
    assert choice is not None and choice.agent == "strong"


def test_balanced_trades_specialty_against_price() -> None:
    choice = choose("code", ROSTER, strategy="balanced")
    assert choice is not None and choice.agent == "allrounder"
    assert [name for name, _ in choice.runners_up] == ["bargain", "specialist"]
    scores = [choice.score, *(value for _, value in choice.runners_up)]
    assert scores == sorted(scores, reverse=True)


def test_balanced_is_the_default_strategy() -> None:
    assert choose("code", ROSTER) == choose("code", ROSTER, strategy="balanced")


def test_balanced_prefers_a_free_agent_to_a_busy_equal() -> None:
    busy = candidate("busy", specialties={"code": 0.9}, running=1)
    idle = candidate("idle", specialties={"code": 0.9})
    choice = choose("code", (busy, idle))
    assert choice is not None and choice.agent == "idle"


def test_a_poor_track_record_counts_against_an_agent() -> None:
    flaky = candidate("flaky", specialties={"code": 0.9}, success_rate=0.2)
    steady = candidate("steady", specialties={"code": 0.9}, success_rate=1.0)
    for strategy in STRATEGY_WEIGHTS:
        choice = choose("code", (flaky, steady), strategy=strategy)
        assert choice is not None and choice.agent == "steady"


@pytest.mark.parametrize(
    "blocked",
    [
        {"available": False, "unavailable_reason": "circuit open"},
        {"available": False, "unavailable_reason": "disabled"},
        {"running": 2, "concurrency": 2},
        {"running": 3, "concurrency": 2},
        {"concurrency": 0},
    ],
)
@pytest.mark.parametrize("strategy", list(STRATEGY_WEIGHTS))
def test_an_unavailable_or_full_agent_is_never_chosen(blocked: dict[str, Any], strategy: str) -> None:
    star = candidate("star", specialties={"code": 1.0}, success_rate=1.0, price=0.0, **blocked)
    plain = candidate("plain", specialties={"code": 0.1}, success_rate=0.5, price=50.0, running=1)
    choice = choose("code", (star, plain), strategy=strategy)
    assert choice is not None and choice.agent == "plain"
    assert all(name != "star" for name, _ in choice.runners_up)
    assert choose("code", (star,), strategy=strategy) is None


def test_excluded_agents_are_left_out() -> None:
    choice = choose("code", ROSTER, strategy="best", exclude={"specialist"})
    assert choice is not None and choice.agent == "allrounder"
    assert choose("code", ROSTER, exclude=[item.name for item in ROSTER]) is None


def test_pinned_takes_that_agent_only() -> None:
    choice = choose("code", ROSTER, strategy="best", pinned="bargain")
    assert choice is not None and choice.agent == "bargain"
    assert choice.runners_up == ()
    assert choice.rationale.startswith("bargain, pinned by you: code 0.5")


def test_a_pinned_agent_that_is_busy_gives_none_with_a_reason() -> None:
    busy = replace(BARGAIN, running=2)
    roster = (SPECIALIST, busy, ALL_ROUNDER)
    assert choose("code", roster, pinned="bargain") is None
    assert why_none(roster, pinned="bargain") == (
        "the agent pinned by you cannot take it now: bargain is busy (2/2 tasks)"
    )


def test_a_pinned_agent_that_is_unavailable_excluded_or_unknown_gives_none_with_a_reason() -> None:
    down = replace(BARGAIN, available=False, unavailable_reason="circuit open")
    roster = (SPECIALIST, down)
    assert choose("code", roster, pinned="bargain") is None
    assert why_none(roster, pinned="bargain").endswith("bargain's circuit is open")
    assert choose("code", ROSTER, pinned="bargain", exclude={"bargain"}) is None
    assert why_none(ROSTER, pinned="bargain", exclude={"bargain"}).endswith(
        "bargain is excluded from this task"
    )
    assert choose("code", ROSTER, pinned="nobody") is None
    assert why_none(ROSTER, pinned="nobody") == "nobody, pinned by you, is not on the committee"


def test_equal_agents_take_turns_one_task_at_a_time() -> None:
    roster = [candidate(name, specialties={"code": 0.8}) for name in ("gamma", "alpha", "beta")]
    assigned: Counter[str] = Counter()
    for _ in range(10):  # each task finishes before the next is assigned
        choice = choose("code", roster, assigned_so_far=assigned)
        assert choice is not None
        assigned[choice.agent] += 1
    assert sorted(assigned.values()) == [3, 3, 4]


@pytest.mark.parametrize("strategy", list(STRATEGY_WEIGHTS))
def test_equal_agents_share_ten_running_tasks_evenly(strategy: str) -> None:
    names = ("delta", "alpha", "charlie", "bravo")
    running = dict.fromkeys(names, 0)
    assigned: Counter[str] = Counter()
    for _ in range(10):  # the tasks run at once: the running counts grow
        roster = [candidate(name, running=running[name], concurrency=5) for name in names]
        choice = choose("code", roster, strategy=strategy, assigned_so_far=assigned)
        assert choice is not None
        running[choice.agent] += 1
        assigned[choice.agent] += 1
    assert max(running.values()) - min(running.values()) <= 1
    assert sum(running.values()) == 10


def test_with_equal_scores_the_least_loaded_wins() -> None:
    # 1/2 and 2/4 leave the same share free, so the scores are equal.
    small = candidate("aaa", running=1, concurrency=2)
    large = candidate("zzz", running=2, concurrency=4)
    choice = choose("code", (small, large))
    assert choice is not None and choice.agent == "aaa"
    assert choice.runners_up == (("zzz", choice.score),)


def test_with_equal_scores_and_load_the_agent_given_fewest_tasks_wins() -> None:
    roster = (candidate("aaa"), candidate("bbb"))
    first = choose("code", roster)
    assert first is not None and first.agent == "aaa"
    second = choose("code", roster, assigned_so_far={"aaa": 1})
    assert second is not None and second.agent == "bbb"


def test_no_candidates_gives_none_with_a_reason() -> None:
    assert choose("code", ()) is None
    assert why_none(()) == "there are no agents on the committee"


def test_why_none_when_every_agent_is_busy() -> None:
    roster = [replace(item, running=2) for item in ROSTER]
    assert choose("code", roster) is None
    assert why_none(roster) == "every agent is busy (specialist 2/2, bargain 2/2, allrounder 2/2)"
    assert why_none([*roster[:2], ALL_ROUNDER], exclude={"allrounder"}) == (
        "every agent is busy (specialist 2/2, bargain 2/2; 1 excluded)"
    )


def test_why_none_when_no_agent_is_available() -> None:
    roster = (
        candidate("claude", available=False, unavailable_reason="circuit open"),
        candidate("grok", available=False, unavailable_reason="disabled"),
        candidate("chatgpt", available=False, unavailable_reason="key refused"),
        candidate("gemini", available=False, unavailable_reason="circuit probing"),
        candidate("odd", available=False),
    )
    assert choose("code", roster) is None
    assert why_none(roster) == (
        "no agent is available: claude's circuit is open, grok is disabled, chatgpt's key was refused,"
        " gemini's circuit is half-open with a probe call under way, odd is unavailable"
    )


def test_why_none_for_a_mix_of_reasons() -> None:
    roster = (
        candidate("claude", available=False, unavailable_reason="circuit open"),
        candidate("gemini", running=2),
        candidate("grok"),
    )
    assert choose("code", roster, exclude={"grok"}) is None
    assert why_none(roster, exclude={"grok"}) == (
        "no agent can take the task: claude's circuit is open, gemini is busy (2/2 tasks)"
    )
    assert why_none(roster, exclude={"claude", "gemini", "grok"}) == "every agent is excluded from this task"


def test_the_rationale_names_specialty_load_success_and_price() -> None:
    gemini = candidate("gemini", specialties={"code": 0.9}, running=1, success_rate=0.98, price=1.25)
    assert rationale(gemini, "code") == "gemini: code 0.9, load 1/2, success 98%, $1.25/Mtok"
    chosen = choose("code", (gemini,))
    assert chosen is not None and chosen.rationale == rationale(gemini, "code")


def test_the_rationale_says_where_a_missing_category_came_from() -> None:
    general = candidate("general", specialties={"general": 0.7, "code": 0.9}, measured=False, price=0.0)
    assert rationale(general, "docs") == "general: docs 0.7 (general), load 0/2, no calls yet, $0.00/Mtok"
    blank = candidate("blank", price=9.0)
    assert rationale(blank, "docs") == "blank: docs 0.5 (default), load 0/2, success 95%, $9.00/Mtok"


def test_a_missing_category_falls_back_to_general_then_one_half() -> None:
    general = candidate("general", specialties={"general": 0.8})
    unknown = candidate("unknown", specialties={"code": 1.0})
    weak = candidate("weak", specialties={"general": 0.2})
    choice = choose("docs", (weak, unknown, general), strategy="best")
    assert choice is not None and choice.agent == "general"
    assert [name for name, _ in choice.runners_up] == ["unknown", "weak"]


def test_the_same_inputs_give_the_same_choice_in_any_order() -> None:
    roster = [
        candidate(f"agent{index}", specialties={"code": 0.8}, running=index % 2, price=float(index % 3))
        for index in range(8)
    ]
    expected = choose("code", roster, strategy="balanced")
    shuffler = random.Random(3)
    for _ in range(20):
        shuffled = list(roster)
        shuffler.shuffle(shuffled)
        assert choose("code", shuffled, strategy="balanced") == expected


def test_an_unknown_strategy_names_the_valid_ones() -> None:
    with pytest.raises(EngineError) as raised:
        choose("code", ROSTER, strategy="fastest")
    assert str(raised.value) == "unknown routing strategy 'fastest'; use balanced, cheapest or best"
    with pytest.raises(EngineError):
        choose("code", (), strategy="fastest")


# ------------------------------------------------------------ from the engine


def test_candidates_from_the_engine(engine: Engine) -> None:
    built = {item.name: item for item in candidates(engine, {"claude": 1})}
    assert set(built) == set(engine.runtimes)
    claude = built["claude"]
    assert claude.provider == "anthropic" and built["gemini"].provider == "google"
    assert claude.running == 1 and built["gemini"].running == 0
    assert claude.concurrency == 2
    assert claude.price == 6.0 and built["copilot"].price == 0.0
    assert claude.specialties["architecture"] == 0.9
    assert all(item.available and not item.unavailable_reason for item in built.values())
    assert all(item.success_rate == NEUTRAL_SUCCESS_RATE and not item.measured for item in built.values())


def test_candidates_measure_success_from_calls(engine: Engine) -> None:
    asyncio.run(engine.test_agent("claude"))
    claude = next(item for item in candidates(engine, {}) if item.name == "claude")
    assert claude.measured and claude.success_rate == 1.0


def test_candidates_know_why_an_agent_is_unavailable(engine: Engine) -> None:
    engine.set_agent_enabled("grok", False)
    engine.bad_keys.add("chatgpt")
    for _ in range(engine.settings.engine.circuit_failures):
        engine.breakers["claude"].record(False)
    built = {item.name: item for item in candidates(engine, {})}
    assert {name: item.unavailable_reason for name, item in built.items()} == {
        "claude": "circuit open",
        "chatgpt": "key refused",
        "gemini": "",
        "copilot": "",
        "grok": "disabled",
    }
    for name, item in built.items():
        assert item.available == engine.agent_available(name)
    choice = choose("research", list(built.values()), strategy="best")
    assert choice is not None and choice.agent == "gemini"
    assert why_none(list(built.values()), pinned="claude").endswith("claude's circuit is open")


def test_a_half_open_circuit_with_its_probe_out_is_unavailable(engine: Engine, clock: FixedClock) -> None:
    breaker = engine.breakers["claude"]
    for _ in range(engine.settings.engine.circuit_failures):
        breaker.record(False)
    clock.advance(engine.settings.engine.circuit_cooldown_s)  # the engine's clock
    claude = next(item for item in candidates(engine, {}) if item.name == "claude")
    assert claude.available
    assert breaker.acquire()
    claude = next(item for item in candidates(engine, {}) if item.name == "claude")
    assert not claude.available and claude.unavailable_reason == "circuit probing"


def test_the_engine_roster_routes_by_strategy(engine: Engine) -> None:
    roster = candidates(engine, {})
    cheapest = choose("code", roster, strategy="cheapest")
    assert cheapest is not None and cheapest.agent == "copilot"
    best = choose("research", roster, strategy="best")
    assert best is not None and best.agent == "gemini"
    busy = candidates(engine, dict.fromkeys(engine.runtimes, 2))
    assert choose("code", busy) is None
    assert why_none(busy).startswith("every agent is busy (claude 2/2, ")
