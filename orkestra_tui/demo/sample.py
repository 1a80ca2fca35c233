"""Sample data: one factory for snapshot tests, screenshots and trying the app.

It drives the engine through its public methods, so the sample is exactly what
real use would have stored. The votes are real committee runs
(`Engine.decide`) by simulated agents with a fixed seed and no latency, so
they come out the same every time whatever the user's settings: a Condorcet
vote and a ranked-choice vote with eliminations, both decided, and a vote in
its second round that waits for the human's ballot. In that last vote one
agent is a scripted stand-in whose reasoning carries Rich markup, as a model's
might, so that every screen that shows it proves it is shown literally.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import (
    HUMAN_VOTER,
    InboxKind,
    Involvement,
    Priority,
    TaskSpec,
    TaskStatus,
)
from orkestra_tui.engine.voting.committee import TieBreakPolicy
from orkestra_tui.providers.base import Message, ProviderRequest, ProviderResponse
from orkestra_tui.providers.simulated import SimulatedProvider

SAMPLE_SEED = 1
"""The simulated agents' seed for the sample votes."""
ALERTS_OPTIONS = ("Email digest", "Chat message", "Both: chat for urgent, email for the rest")
MARKUP_REASONING = (
    "[bold]Chat[/] wakes the on-call person at 3 a.m.; a [link=https://example.com/digest]digest[/link]"
    " waits for the morning. Urgent stock-outs are rare."
)
"""A ballot's reasoning with Rich markup in it, as a model might write: it must show literally."""
STEPS_LIMIT = 10_000
"""Event-loop turns allowed for a sample vote to reach the state wanted."""

SAMPLE_TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        "Choose the storage engine",
        "Compare SQLite and PostgreSQL for the stock ledger.",
        "architecture",
        Priority.CRITICAL,
        "Foundations",
        "store",
    ),
    TaskSpec(
        "Define the item schema",
        "Items, locations and stock movements.",
        "architecture",
        Priority.HIGH,
        "Foundations",
        "schema",
        ("store",),
    ),
    TaskSpec(
        "Set up CI",
        "Lint, type-check and test on every push.",
        "ops",
        Priority.NORMAL,
        "Foundations",
        "ci",
    ),
    TaskSpec(
        "Stock movement API",
        "POST /movements with validation.",
        "code",
        Priority.HIGH,
        "Core",
        "api",
        ("schema",),
    ),
    TaskSpec(
        "Low-stock alerts",
        "Notify when an item falls below its threshold.",
        "code",
        Priority.NORMAL,
        "Core",
        "alerts",
        ("api",),
    ),
    TaskSpec(
        "Import legacy CSV",
        "One-off import of the spreadsheet export.",
        "data",
        Priority.NORMAL,
        "Core",
        "import",
        ("schema",),
    ),
    TaskSpec(
        "Property tests for the ledger",
        "Balances never go negative.",
        "tests",
        Priority.HIGH,
        "Quality",
        "ledger-tests",
        ("api",),
    ),
    TaskSpec(
        "Operator guide",
        "How to run and back up the service.",
        "docs",
        Priority.LOW,
        "Release",
        "guide",
        ("api",),
    ),
)


async def populate(engine: Engine) -> None:
    """Fill an empty engine with a project mid-way, decisions and call history."""
    project = engine.create_project(
        "Inventory service",
        "A small service that tracks stock across three warehouses.",
        involvement=Involvement.CHECKPOINTS,
    )
    tasks = {task.key: task for task in engine.add_tasks(project.id, SAMPLE_TASKS, actor="engine")}
    agents = [agent.name for agent in engine.agents()]
    scheduler = Scheduler(engine, reviewers=0)
    await scheduler.run_task(tasks["store"].id, agents[0])
    await scheduler.run_task(tasks["ci"].id, agents[3])
    await scheduler.run_task(tasks["schema"].id, agents[2])
    engine.set_task_status(tasks["import"].id, TaskStatus.RUNNING, actor=agents[1], assigned_to=agents[1])
    engine.set_task_status(tasks["api"].id, TaskStatus.RUNNING, actor=agents[3], assigned_to=agents[3])
    engine.set_task_status(tasks["api"].id, TaskStatus.REVIEW, actor=agents[3])
    await engine.call(
        agents[4], ProviderRequest(system="", messages=(Message("user", "ping"),), purpose="ping")
    )

    originals = dict(engine.runtimes)
    try:
        for name, runtime in originals.items():
            engine.use_provider(
                name,
                SimulatedProvider(
                    name, vendor=runtime.vendor, model=runtime.settings.model, seed=SAMPLE_SEED, latency_ms=0
                ),
            )
        await _decided_votes(engine, project.id)
        await _vote_under_way(engine, project.id, agents)
    finally:
        engine.runtimes.update(originals)


async def _decided_votes(engine: Engine, project_id: int) -> None:
    """A Condorcet vote, then a ranked-choice vote whose runoff eliminates options."""
    ci = engine.open_decision(
        "Which CI service should run the checks?",
        [
            "GitHub Actions: popular and fast to ship",
            "A self-hosted runner we can measure",
            "Plain make targets, typed and tested",
            "A bold new build tool",
        ],
        method="condorcet",
        project_id=project_id,
    )
    await engine.decide(ci.id, tie_break=TieBreakPolicy.FIRST)
    database = engine.open_decision(
        "Which database should back the stock ledger?",
        [
            "SQLite with WAL, simple and safe",
            "PostgreSQL for scale and data tools",
            "A bold new event store",
            "Plain files with a typed code layer",
        ],
        method="ranked_choice",
        category="architecture",
        project_id=project_id,
    )
    await engine.decide(database.id, tie_break=TieBreakPolicy.FIRST)


async def _vote_under_way(engine: Engine, project_id: int, agents: list[str]) -> None:
    """A vote the human takes part in: round 1 held, round 2's agent ballots in, the human's awaited.

    The vote runs until round 2 waits for the human only, and is then stopped,
    as closing the app would stop it; opening the app resumes it.
    """
    engine.use_provider(agents[0], _MarkupVoter(prefer=ALERTS_OPTIONS[0]))
    alerts = engine.open_decision(
        "Should low-stock alerts go out by email or chat?",
        ALERTS_OPTIONS,
        method="majority",
        voters=[*agents, HUMAN_VOTER],
        max_rounds=3,
        project_id=project_id,
    )
    voting = asyncio.create_task(engine.decide(alerts.id, tie_break=TieBreakPolicy.FIRST))
    try:
        for _ in range(STEPS_LIMIT):
            await asyncio.sleep(0)
            if voting.done():
                raise RuntimeError("the sample vote ended before its second round")
            request = next(
                (
                    item
                    for item in engine.inbox.open_items()
                    if item.kind is InboxKind.BALLOT and item.payload.get("decision_id") == alerts.id
                ),
                None,
            )
            if request is None or len(engine.store.ballots(alerts.id, request.payload["round"])) < len(
                agents
            ):
                continue
            if request.payload["round"] > 1:
                break
            engine.add_feedback(alerts.id, "Night-time chat pings wake the on-call person; weigh that.")
            engine.cast_human_ballot(alerts.id, [ALERTS_OPTIONS[2], ALERTS_OPTIONS[0], ALERTS_OPTIONS[1]])
        else:
            raise RuntimeError("the sample vote did not reach its second round")
    finally:
        voting.cancel()
        with suppress(asyncio.CancelledError):
            await voting


class _MarkupVoter:
    """An agent whose ballots put one option first and whose reasoning carries Rich markup."""

    vendor = "sample"
    model = "sample"

    def __init__(self, *, prefer: str) -> None:
        self.prefer = prefer

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        label_of = {
            str(option["text"]): str(option["label"]) for option in request.context.get("options", ())
        }
        others = sorted(label for text, label in label_of.items() if text != self.prefer)
        ranking = [label_of[self.prefer], *others[:1]] if self.prefer in label_of else others
        text = json.dumps({"ranking": ranking, "confidence": 0.62, "reasoning": MARKUP_REASONING})
        return ProviderResponse(text=text, tokens_in=420, tokens_out=60, model=f"simulated:{self.model}")

    async def aclose(self) -> None:
        """Nothing to close."""
