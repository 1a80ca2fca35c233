"""A whole headless planning of five agents, next to the waits it cannot avoid.

Every agent is a simulated provider that answers after exactly the same
latency (no persona speed, no random spread). The planning is timed from
`Planner.start` to the end of `Planner.approve`: every agent drafts a plan, the
committee votes on the drafts round by round, the winner's author refines it,
and the plan becomes tasks (involvement 2, ties broken by the first policy).

Two baselines from the same run make the figure mean something:

- `sequential_ms` is calls × latency: what the planning would take if the
  engine asked its agents one after another;
- `critical_path_ms` is waves × latency: the least any engine could take. A
  wave is a set of calls that can run at once: the drafts are one wave (one
  more if a draft needs repairing), each voting round is one wave (likewise),
  and the synthesis is one. The number of waves is worked out from the calls
  the run made, by purpose.

`ratio` is plan_ms / critical_path_ms: 1.0 would mean the engine adds nothing
to the agents' own time; what it does add is its stored steps, call records,
ballots and tallies, each in its own transaction.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from orkestra_tui.config import Settings, SimulationSettings, resolve_paths

DESCRIPTION = "five agents plan a project, vs the critical path of its calls"
AGENT_LATENCY_MS = 200
QUICK_LATENCY_MS = 50
RUNS = 5
NAME = "Bench shop"
BRIEF = "A small online shop: a catalogue, a cart, checkout with card payments, and order emails."
FEATURES = ("catalogue", "cart", "checkout", "order emails")


def run(*, quick: bool = False) -> dict[str, float | int]:
    latency_ms = QUICK_LATENCY_MS if quick else AGENT_LATENCY_MS
    runs = 1 if quick else RUNS
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as folder:
        measured = [
            asyncio.run(_timed_plan(Path(folder) / f"run-{number}", latency_ms)) for number in range(runs)
        ]
    # The same seed gives the same answers, so every run makes the same calls; the time varies.
    agents, calls, waves, _ = measured[0]
    plan_ms = statistics.median(milliseconds for *_, milliseconds in measured)
    critical_path_ms = waves * latency_ms
    return {
        "agents": agents,
        "agent_latency_ms": latency_ms,
        "plan_ms": round(plan_ms, 1),
        "calls": calls,
        "sequential_ms": calls * latency_ms,
        "critical_path_ms": critical_path_ms,
        "ratio": round(plan_ms / critical_path_ms, 3),
    }


async def _timed_plan(folder: Path, latency_ms: int) -> tuple[int, int, int, float]:
    """The agents, the calls made, the waves they needed, and the milliseconds the planning took."""
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.models import Involvement
    from orkestra_tui.engine.planning.planning import Brief, Planner
    from orkestra_tui.providers.simulated import SimulatedProvider

    # The default roster of five agents, all simulated (demo), each given a fixed-latency provider below.
    settings = replace(Settings(), simulation=SimulationSettings(seed=1, latency_ms=0, failure_rate=0.0))
    engine = Engine(resolve_paths(folder), settings, demo=True, env={})
    try:
        agents = [runtime.name for runtime in engine.enabled_agents()]
        for runtime in engine.enabled_agents():
            engine.use_provider(
                runtime.name,
                SimulatedProvider(
                    runtime.name,
                    vendor=runtime.vendor,
                    model=runtime.settings.model,
                    seed=1,
                    latency_ms=latency_ms,
                    jitter=False,
                ),
            )
        planner = Planner(engine)
        brief = Brief(
            name=NAME,
            description=BRIEF,
            features=FEATURES,
            involvement=Involvement.CHECKPOINTS,
            agents=tuple(agents),
        )
        started = time.perf_counter()
        project_id = planner.start(brief).project_id
        await planner.advance(project_id, tie_break="first")
        planner.approve(project_id)
        plan_ms = (time.perf_counter() - started) * 1000.0
        session = planner.session(project_id)
        calls = engine.store.calls()  # a fresh data dir: every call is this planning's
        by_purpose = Counter(call.purpose for call in calls)
        voters = sum(proposal.ok for proposal in session.proposals)
        waves = (
            math.ceil(by_purpose["plan"] / len(agents))
            + (math.ceil(by_purpose["ballot"] / voters) if by_purpose["ballot"] else 0)
            + by_purpose["synthesis"]
        )
        return len(agents), len(calls), waves, plan_ms
    finally:
        engine.close()
