"""Keys on the Voting screen while ballots stream in, vs the same keys when no vote runs.

The app runs headless (`App.run_test`) on a fresh data dir with the five
default agents, simulated, on the Voting screen. A few decided votes give the
decision list something to move through. The cursor then moves through the
list (each move switches the detail pane to another decision), first with
nothing running (the baseline), then while the committee votes: several
decisions at once, each over several rounds, a new one opened whenever one
ends, the agents answering after `AGENT_LATENCY_MS` (their personas' spread
around it).

A key's time runs from posting its key event to the first frame the app hands
to its driver that shows it (the list's highlight and the detail pane both on
the new decision). In headless mode that frame is composed but not written to
a terminal. Pilot's `press()` and `pause()` are not used for the timing: they
wait for the process to look idle in 20 ms sleeps, which would measure that
wait rather than the screen, and never end while votes keep the CPU busy.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from orkestra_tui.bench.frames import FrameProbe, percentile
from orkestra_tui.config import Settings, SimulationSettings, resolve_paths
from orkestra_tui.engine.events import EngineEvent
from orkestra_tui.engine.voting.methods import METHODS

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.tui.app import OrkestraApp

DESCRIPTION = "Voting screen key to paint while ballots stream in vs the same keys idle"
AGENT_LATENCY_MS = 150
QUICK_LATENCY_MS = 40
KEYS = 60
QUICK_KEYS = 8
CONCURRENT_VOTES = 3
DECIDED_VOTES = 6
MAX_ROUNDS = 4
KEY_GAP_S = 0.04
"""Time between a key's paint and the next key, so that keys spread over the stream of ballots."""
PAINT_TIMEOUT_S = 5.0
SIZE = (100, 30)
SEED = 3
QUESTIONS = (
    "Which database should back the ledger?",
    "How should the service be deployed?",
    "Which queue should carry stock movements?",
    "What should the API return on a conflict?",
)
OPTIONS = (
    "SQLite: simple, safe and tested",
    "PostgreSQL: scale and data tooling",
    "A bold new event store",
    "Plain files with a typed code layer",
)


def run(*, quick: bool = False) -> dict[str, float | int]:
    latency_ms = QUICK_LATENCY_MS if quick else AGENT_LATENCY_MS
    keys = QUICK_KEYS if quick else KEYS
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as folder:
        return asyncio.run(_measure(Path(folder), latency_ms, keys))


async def _measure(folder: Path, latency_ms: int, keys: int) -> dict[str, float | int]:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.voting.committee import TieBreakPolicy
    from orkestra_tui.tui.app import OrkestraApp

    settings = replace(Settings(), simulation=SimulationSettings(seed=SEED, latency_ms=0, failure_rate=0.0))
    engine = Engine(resolve_paths(folder), settings, demo=True, env={})
    try:
        for number in range(DECIDED_VOTES):
            decision = engine.open_decision(
                QUESTIONS[number % len(QUESTIONS)], OPTIONS, method=METHODS[number % len(METHODS)]
            )
            await engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST, resolution=("fallback",))
        app = OrkestraApp(engine, first_mode="voting")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            probe = FrameProbe(app)
            idle = await _press_keys(app, probe, keys)
            _use_latency(engine, latency_ms)
            ballots = _BallotCounter()
            subscription = engine.bus.subscribe(ballots.note)
            stop = asyncio.Event()
            votes = [
                asyncio.create_task(_keep_voting(engine, stop, lane)) for lane in range(CONCURRENT_VOTES)
            ]
            try:
                while not ballots.count:
                    await asyncio.sleep(0.01)
                before = ballots.count
                loaded = await _press_keys(app, probe, keys)
                during = ballots.count - before
            finally:
                stop.set()
                subscription.close()
                for vote in votes:
                    vote.cancel()
                for vote in votes:
                    with suppress(asyncio.CancelledError):
                        await vote
    finally:
        engine.close()
    return {
        "agents": len(engine.runtimes),
        "agent_latency_ms": latency_ms,
        "keys": keys,
        "key_to_paint_ms": round(statistics.median(loaded), 1),
        "key_to_paint_p95_ms": round(percentile(loaded, 0.95), 1),
        "key_to_paint_max_ms": round(max(loaded), 1),
        "idle_key_to_paint_ms": round(statistics.median(idle), 1),
        "idle_key_to_paint_p95_ms": round(percentile(idle, 0.95), 1),
        "ballots_during_measure": during,
    }


class _BallotCounter:
    def __init__(self) -> None:
        self.count = 0

    def note(self, event: EngineEvent) -> None:
        if event.kind == "ballot.cast":
            self.count += 1


def _use_latency(engine: Engine, latency_ms: int) -> None:
    from orkestra_tui.providers.simulated import SimulatedProvider

    for runtime in engine.enabled_agents():
        engine.use_provider(
            runtime.name,
            SimulatedProvider(
                runtime.name,
                vendor=runtime.vendor,
                model=runtime.settings.model,
                seed=SEED,
                latency_ms=latency_ms,
            ),
        )


async def _keep_voting(engine: Engine, stop: asyncio.Event, lane: int) -> None:
    """Vote on one question after another until told to stop."""
    from orkestra_tui.engine.voting.committee import TieBreakPolicy

    number = lane
    while not stop.is_set():
        decision = engine.open_decision(
            QUESTIONS[number % len(QUESTIONS)],
            OPTIONS,
            method=METHODS[number % len(METHODS)],
            max_rounds=MAX_ROUNDS,
        )
        await engine.decide(
            decision.id, tie_break=TieBreakPolicy.FIRST, resolution=("compromise", "fallback")
        )
        number += CONCURRENT_VOTES


async def _press_keys(app: OrkestraApp, probe: FrameProbe, count: int) -> list[float]:
    """Milliseconds from each key to the frame that shows its effect."""
    from orkestra_tui.tui.widgets.decision_detail import DecisionDetail
    from orkestra_tui.tui.widgets.decision_list import DecisionList

    screen = app.screen
    decision_list = screen.query_one(DecisionList)
    detail = screen.query_one(DecisionDetail)
    decision_list.focus()
    timings: list[float] = []
    for _ in range(count):
        before = decision_list.highlighted_decision_id
        index = decision_list.highlighted or 0
        key = "down" if index + 1 < decision_list.option_count else "up"

        def shown(before: int | None = before) -> bool:
            now = decision_list.highlighted_decision_id
            return now != before and detail.decision_id == now

        timings.append(await probe.press(key, shown, PAINT_TIMEOUT_S))
        await asyncio.sleep(KEY_GAP_S)
    return timings
