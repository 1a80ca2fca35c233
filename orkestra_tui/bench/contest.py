"""A contest of three agents and the committee's round on their entries, beside its critical path.

Every agent is a simulated provider that answers after exactly the same latency (no persona
speed, no random spread). A contest runs its three entries at once, then one round of five
voters, so its wall time should be about one entry plus one round: the critical path, measured
in the same run as a single-agent task and a five-voter round. A sequential contest (the entries
one after another, then the round) is the baseline it should beat. Each is timed from the task's
claim (`task.running`) to its end (`task.done`), with no review (reviewers = 0), and the round
from `round.started` to `round.closed`.
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

DESCRIPTION = "a contest of 3 agents and a 5-voter round, vs one entry + one round, and sequential"
AGENT_LATENCY_MS = 200
QUICK_LATENCY_MS = 50
ENTRIES = 3
RUNS = 3


def run(*, quick: bool = False) -> dict[str, float | int]:
    latency_ms = QUICK_LATENCY_MS if quick else AGENT_LATENCY_MS
    runs = 1 if quick else RUNS
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as folder:
        measured = [
            asyncio.run(_measure(Path(folder) / f"run-{number}", latency_ms)) for number in range(runs)
        ]
    contest_ms = statistics.median(item[0] for item in measured)
    task_ms = statistics.median(item[1] for item in measured)
    round_ms = statistics.median(item[2] for item in measured)
    voters = measured[0][3]
    critical_ms = task_ms + round_ms
    return {
        "entries": ENTRIES,
        "voters": voters,
        "agent_latency_ms": latency_ms,
        "contest_ms": round(contest_ms, 1),
        "critical_path_ms": round(critical_ms, 1),
        "sequential_ms": round(ENTRIES * task_ms + round_ms, 1),
        "ratio_to_critical_path": round(contest_ms / critical_ms, 3),
    }


async def _measure(folder: Path, latency_ms: int) -> tuple[float, float, float, int]:
    """Milliseconds of the contest, of a single-agent task and of a round; how many voted."""
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.execution.scheduler import Scheduler
    from orkestra_tui.engine.models import ProjectStatus, TaskSpec
    from orkestra_tui.engine.voting.committee import TieBreakPolicy
    from orkestra_tui.providers.simulated import SimulatedProvider

    # One round decides: plurality, and a tie broken by rule at once.
    base = Settings()
    settings = replace(
        base,
        simulation=SimulationSettings(seed=1, latency_ms=0, failure_rate=0.0),
        engine=replace(base.engine, default_method="plurality", max_rounds=1, reviewers=0),
    )
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
        moments: dict[tuple[str, str], float] = {}

        def note(event: EngineEvent) -> None:
            if event.kind in ("task.running", "task.done", "round.started", "round.closed"):
                moments.setdefault((event.kind, event.subject), time.perf_counter())

        engine.bus.subscribe(note)
        project = engine.create_project("Bench", "Write short essays.")
        contest, single = engine.add_tasks(
            project.id,
            [
                TaskSpec(title="An essay on rivers", instructions="Write it.", category="writing", key="c"),
                TaskSpec(title="An essay on bridges", instructions="Write it.", category="writing", key="s"),
            ],
        )
        engine.set_task_contest(contest.id, ENTRIES)
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
        scheduler = Scheduler(engine, max_concurrent=1, reviewers=0)
        scheduler.contest_tie_break = "first"
        await scheduler.run(project.id)

        decision = engine.open_decision("Which essay is best?", ["Rivers", "Bridges", "Roads"], max_rounds=1)
        await engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST, resolution=("fallback",))

        def span(start: str, end: str, subject: str) -> float:
            return (moments[(end, subject)] - moments[(start, subject)]) * 1000.0

        contest_ms = span("task.running", "task.done", f"task:{contest.id}")
        task_ms = span("task.running", "task.done", f"task:{single.id}")
        round_ms = span("round.started", "round.closed", f"decision:{decision.id}")
        return contest_ms, task_ms, round_ms, len(voters)
    finally:
        engine.close()
