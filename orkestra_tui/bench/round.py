"""One voting round of five agents, next to what a sequential committee would take.

Every agent is a simulated provider that answers after exactly the same
latency (no persona speed, no random spread), so a round that asks all agents
at once should take that latency plus the engine's own work: the call records,
the ballots and the tally, each stored in its own transaction, and the events
fanned out after each commit. The round is timed from its `round.started`
event to its `round.closed` event. The baseline is the sum a committee that
asked its agents one after another would take.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from orkestra_tui.config import Settings, SimulationSettings, resolve_paths
from orkestra_tui.engine.events import EngineEvent

DESCRIPTION = "five agents vote in one round, vs asking them one by one"
AGENT_LATENCY_MS = 200
QUICK_LATENCY_MS = 50
RUNS = 5
QUESTION = "Which database should back the ledger?"
OPTIONS = (
    "SQLite: simple, safe and tested",
    "PostgreSQL: scale and data tooling",
    "A bold new event store",
    "Plain files with a typed code layer",
)


def run(*, quick: bool = False) -> dict[str, float | int]:
    latency_ms = QUICK_LATENCY_MS if quick else AGENT_LATENCY_MS
    runs = 1 if quick else RUNS
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as folder:
        measured = [
            asyncio.run(_timed_round(Path(folder) / f"run-{number}", latency_ms)) for number in range(runs)
        ]
    agents = measured[0][0]
    round_ms = statistics.median(milliseconds for _, milliseconds in measured)
    return {
        "agents": agents,
        "agent_latency_ms": latency_ms,
        "round_ms": round(round_ms, 1),
        "sequential_ms": agents * latency_ms,
        "ratio": round(round_ms / latency_ms, 3),
    }


async def _timed_round(folder: Path, latency_ms: int) -> tuple[int, float]:
    """The agents that voted, and the milliseconds from the round's start to its close."""
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.voting.committee import TieBreakPolicy
    from orkestra_tui.providers.simulated import SimulatedProvider

    # The default roster of five agents, all simulated (demo), each given a fixed-latency provider below.
    settings = replace(Settings(), simulation=SimulationSettings(seed=1, latency_ms=0, failure_rate=0.0))
    engine = Engine(resolve_paths(folder), settings, demo=True, env={})
    try:
        voters = engine.enabled_agents()
        for runtime in voters:
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
        moments: dict[str, float] = {}

        def note_round(event: EngineEvent) -> None:
            if event.kind in ("round.started", "round.closed") and event.data.get("round") == 1:
                moments[event.kind] = time.perf_counter()

        engine.bus.subscribe(note_round)
        decision = engine.open_decision(QUESTION, OPTIONS, method="plurality", max_rounds=1)
        # A tie after the round is broken by rule at once: no compromise round, nobody to ask.
        await engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST, resolution=("fallback", "human"))
        return len(voters), (moments["round.closed"] - moments["round.started"]) * 1000.0
    finally:
        engine.close()
