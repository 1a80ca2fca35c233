"""Which agent gets a task: candidates from the agent pool, a score per strategy, a reason.

Pure logic apart from `candidates`, which reads the pool once. The scheduler
asks `choose` for the best agent that can take a ready task now, and
`why_none` for a plain explanation when none can.

A score is a weighted sum of four parts, each from 0 to 1:

- specialty: the agent's weight for the task's category (else its `general`
  or `default` weight, else 0.5);
- success: its success rate over recent calls (a neutral prior before any);
- capacity: 1 - running / concurrency;
- cheapness: 1 - price / the dearest candidate's price.

Equal scores go to the least loaded agent, then to the one given fewest tasks
so far, then by name: the same inputs always give the same choice.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orkestra_tui.engine.agents.circuit import CircuitState
from orkestra_tui.engine.errors import EngineError

if TYPE_CHECKING:
    from orkestra_tui.engine.agents.pool import Roster
    from orkestra_tui.engine.store.store import Store

NEUTRAL_SUCCESS_RATE = 0.9
"""The success rate assumed for an agent that has made no calls yet."""

DEFAULT_SPECIALTY = 0.5
"""The specialty weight of an agent for a category it names nothing for."""

FALLBACK_SPECIALTIES = ("general", "default")
"""Specialty keys consulted, in order, when the task's category is missing."""


@dataclass(frozen=True)
class Weights:
    """How much each part of the score counts; the four add up to 1."""

    specialty: float
    success: float
    capacity: float
    cheapness: float


STRATEGY_WEIGHTS: dict[str, Weights] = {
    "balanced": Weights(specialty=0.4, success=0.2, capacity=0.2, cheapness=0.2),
    "cheapest": Weights(specialty=0.25, success=0.1, capacity=0.05, cheapness=0.6),
    "best": Weights(specialty=0.6, success=0.3, capacity=0.1, cheapness=0.0),
}
"""The routing strategies (EngineSettings.routing) and their weights."""

UNAVAILABLE_PHRASES: dict[str, str] = {
    "disabled": "{name} is disabled",
    "key refused": "{name}'s key was refused",
    "circuit open": "{name}'s circuit is open",
    "circuit probing": "{name}'s circuit is half-open with a probe call under way",
}
"""How `why_none` words each `Candidate.unavailable_reason`."""


@dataclass(frozen=True)
class Candidate:
    """An agent as selection sees it at one moment."""

    name: str
    provider: str
    """The company behind the agent (its provider class's `vendor`), e.g. google for gemini."""
    specialties: Mapping[str, float]
    """Task category to a weight from 0 to 1."""
    success_rate: float
    """From 0 to 1; NEUTRAL_SUCCESS_RATE while the agent has made no calls."""
    available: bool
    """Enabled, its key not refused and its circuit not open."""
    running: int
    """Tasks it runs now."""
    concurrency: int
    """Most tasks it may run at once."""
    price: float
    """Mean of its input and output price per million tokens."""
    measured: bool = True
    """False when success_rate is the neutral prior rather than a measurement."""
    unavailable_reason: str = ""
    """Why it is unavailable: disabled, key refused, circuit open or circuit probing."""

    @property
    def has_room(self) -> bool:
        return self.running < self.concurrency


@dataclass(frozen=True)
class Choice:
    """The agent chosen for a task, with its score and why."""

    agent: str
    score: float
    rationale: str
    """One line for the board's detail pane, e.g. "gemini: code 0.9, load 1/2, success 98%, $1.25/Mtok"."""
    runners_up: tuple[tuple[str, float], ...] = ()
    """The other agents that could have taken it, with their scores, best first."""


def candidates(pool: Roster, running: Mapping[str, int]) -> list[Candidate]:
    """Every agent of the pool as a candidate; `running` counts come from the scheduler."""
    enabled_names = {info.name for info in pool.agents() if info.enabled}
    built: list[Candidate] = []
    for name, runtime in pool.runtimes.items():
        agent_settings = runtime.settings
        health = pool.agent_health(name)
        measured_rate = health.success_rate
        reason = unavailable_reason(pool, name, enabled=name in enabled_names)
        built.append(
            Candidate(
                name=name,
                provider=runtime.vendor,
                specialties=dict(agent_settings.specialties),
                success_rate=NEUTRAL_SUCCESS_RATE if measured_rate is None else measured_rate,
                available=not reason,
                running=running.get(name, 0),
                concurrency=runtime.concurrency,
                price=(agent_settings.price_input_per_mtok + agent_settings.price_output_per_mtok) / 2,
                measured=measured_rate is not None,
                unavailable_reason=reason,
            )
        )
    return built


@dataclass(frozen=True)
class Standing:
    """An agent as the scheduler would weigh it for one task now, for the human choosing by hand."""

    candidate: Candidate
    score: float
    """From 0 to 1, by the configured routing strategy (0 when it cannot take the task now)."""
    rationale: str
    circuit: str
    """closed, open or half_open."""
    key: str
    """Where its key comes from (an environment variable), or "simulated"."""


def standings(pool: Roster, store: Store, category: str) -> list[Standing]:
    """Every agent with its score, load and availability for a task of `category`, best first.

    The load counts the tasks running now, whichever process runs them (from the store).
    """
    running = {
        str(agent): int(count)
        for agent, count in store.query(
            "SELECT assigned_to, COUNT(*) FROM task WHERE status = 'running' AND assigned_to IS NOT NULL"
            " GROUP BY assigned_to"
        )
    }
    everyone = candidates(pool, running)
    if not everyone:
        return []
    weights = _weights(pool.settings.engine.routing)
    dearest_price = max(candidate.price for candidate in everyone)
    simulated = {info.name for info in pool.agents() if info.simulated}
    result = [
        Standing(
            candidate=candidate,
            score=round(score(candidate, category, weights, dearest_price), 4)
            if _can_take(candidate, ())
            else 0.0,
            rationale=rationale(candidate, category),
            circuit=pool.breakers[candidate.name].state.value,
            key="simulated"
            if candidate.name in simulated
            else pool.runtimes[candidate.name].key_variable or "",
        )
        for candidate in everyone
    ]
    return sorted(
        result, key=lambda standing: (-standing.score, standing.candidate.running, standing.candidate.name)
    )


def unavailable_reason(pool: Roster, name: str, *, enabled: bool) -> str:
    """The same tests as `AgentPool.agent_available`, each with its reason ("" when available)."""
    if not enabled:
        return "disabled"
    if name in pool.bad_keys:
        return "key refused"
    breaker = pool.breakers[name]
    if breaker.available:
        return ""
    return "circuit open" if breaker.state is CircuitState.OPEN else "circuit probing"


def specialty_for(candidate: Candidate, category: str) -> tuple[float, str]:
    """The candidate's weight for `category` and the key it came from ("" for the default)."""
    for key in (category, *FALLBACK_SPECIALTIES):
        if key in candidate.specialties:
            return min(1.0, max(0.0, candidate.specialties[key])), key
    return DEFAULT_SPECIALTY, ""


def score(candidate: Candidate, category: str, weights: Weights, dearest_price: float) -> float:
    """The candidate's score for a task of `category`, from 0 to 1."""
    specialty, _ = specialty_for(candidate, category)
    capacity = 1 - candidate.running / candidate.concurrency if candidate.concurrency > 0 else 0.0
    cheapness = 1 - candidate.price / dearest_price if dearest_price > 0 else 1.0
    return (
        weights.specialty * specialty
        + weights.success * min(1.0, max(0.0, candidate.success_rate))
        + weights.capacity * max(0.0, capacity)
        + weights.cheapness * max(0.0, cheapness)
    )


def choose(
    category: str,
    candidates: Sequence[Candidate],
    *,
    strategy: str = "balanced",
    pinned: str | None = None,
    exclude: Collection[str] = (),
    assigned_so_far: Mapping[str, int] | None = None,
) -> Choice | None:
    """The best agent to take a task of `category` now, or None when none can (see `why_none`).

    Only available agents below their concurrency limit and not in `exclude`
    count; with `pinned`, only that agent. Cheapness is measured against the
    dearest of all `candidates`, so a score does not move when that agent is
    busy. `assigned_so_far` (tasks given to each agent until now) breaks ties
    after load, so equal agents take turns.
    """
    weights = _weights(strategy)
    eligible = [
        candidate
        for candidate in candidates
        if _can_take(candidate, exclude) and (pinned is None or candidate.name == pinned)
    ]
    if not eligible:
        return None
    dearest_price = max(candidate.price for candidate in candidates)
    assigned = assigned_so_far or {}
    scored = sorted(
        ((score(candidate, category, weights, dearest_price), candidate) for candidate in eligible),
        key=lambda pair: (
            -round(pair[0], 9),
            pair[1].running,
            assigned.get(pair[1].name, 0),
            pair[1].name,
        ),
    )
    best_score, best = scored[0]
    return Choice(
        agent=best.name,
        score=round(best_score, 4),
        rationale=rationale(best, category, pinned=pinned is not None),
        runners_up=tuple((candidate.name, round(value, 4)) for value, candidate in scored[1:]),
    )


def _weights(strategy: str) -> Weights:
    weights = STRATEGY_WEIGHTS.get(strategy)
    if weights is None:
        *others, last = STRATEGY_WEIGHTS
        raise EngineError(f"unknown routing strategy {strategy!r}; use {', '.join(others)} or {last}")
    return weights


def _can_take(candidate: Candidate, exclude: Collection[str]) -> bool:
    return candidate.available and candidate.has_room and candidate.name not in exclude


def rationale(candidate: Candidate, category: str, *, pinned: bool = False) -> str:
    """One line on why the candidate suits the task, e.g. "gemini: code 0.9, load 1/2, ..."."""
    specialty, source = specialty_for(candidate, category)
    specialty_text = f"{category} {round(specialty, 2):g}"
    if source != category:
        specialty_text += f" ({source or 'default'})"
    success_text = f"success {candidate.success_rate:.0%}" if candidate.measured else "no calls yet"
    parts = [
        specialty_text,
        f"load {candidate.running}/{candidate.concurrency}",
        success_text,
        f"${candidate.price:.2f}/Mtok",
    ]
    head = f"{candidate.name}, pinned by you" if pinned else candidate.name
    return f"{head}: {', '.join(parts)}"


def why_none(
    candidates: Sequence[Candidate], *, pinned: str | None = None, exclude: Collection[str] = ()
) -> str:
    """In plain words, why `choose` found no agent for these arguments."""
    if pinned is not None:
        target = next((candidate for candidate in candidates if candidate.name == pinned), None)
        if target is None:
            return f"{pinned}, pinned by you, is not on the committee"
        if _can_take(target, exclude):
            return f"{pinned}, pinned by you, can take the task"
        return f"the agent pinned by you cannot take it now: {_obstacle(target, exclude)}"
    if not candidates:
        return "there are no agents on the committee"
    if any(_can_take(candidate, exclude) for candidate in candidates):
        return "an agent can take the task"
    if all(candidate.name in exclude for candidate in candidates):
        return "every agent is excluded from this task"
    considered = [candidate for candidate in candidates if candidate.name not in exclude]
    obstacles = ", ".join(_obstacle(candidate, exclude) for candidate in considered)
    if all(candidate.available for candidate in considered):
        loads = ", ".join(
            f"{candidate.name} {candidate.running}/{candidate.concurrency}" for candidate in considered
        )
        excluded = len(candidates) - len(considered)
        others = f"; {excluded} excluded" if excluded else ""
        return f"every agent is busy ({loads}{others})"
    if not any(candidate.available for candidate in considered):
        return f"no agent is available: {obstacles}"
    return f"no agent can take the task: {obstacles}"


def _obstacle(candidate: Candidate, exclude: Collection[str]) -> str:
    """What keeps one candidate from the task, as a clause naming it."""
    name = candidate.name
    if name in exclude:
        return f"{name} is excluded from this task"
    if not candidate.available:
        phrase = UNAVAILABLE_PHRASES.get(candidate.unavailable_reason, "{name} is unavailable")
        return phrase.format(name=name)
    return f"{name} is busy ({candidate.running}/{candidate.concurrency} tasks)"
