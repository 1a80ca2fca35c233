"""Sample data: one factory for snapshot tests, screenshots and trying the app.

It drives the engine through its public methods, with simulated agents, so
the sample is exactly what real use would have stored.
"""

from __future__ import annotations

from orkestra_tui.engine.consensus import RankedBallot, tally
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import (
    Ballot,
    DecisionStatus,
    Involvement,
    Priority,
    TaskSpec,
    TaskStatus,
)
from orkestra_tui.providers.base import Message, ProviderRequest

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
    await engine.perform_task(tasks["store"].id, agents[0])
    await engine.perform_task(tasks["ci"].id, agents[3])
    await engine.perform_task(tasks["schema"].id, agents[2])
    engine.set_task_status(tasks["import"].id, TaskStatus.RUNNING, actor=agents[1], assigned_to=agents[1])
    engine.set_task_status(tasks["api"].id, TaskStatus.RUNNING, actor=agents[3], assigned_to=agents[3])
    engine.set_task_status(tasks["api"].id, TaskStatus.REVIEW, actor=agents[3])
    await engine.call(
        agents[4], ProviderRequest(system="", messages=(Message("user", "ping"),), purpose="ping")
    )

    decided = engine.open_decision(
        "Which database should back the stock ledger?",
        [
            "SQLite with WAL, simple and safe",
            "PostgreSQL for scale and data tools",
            "A bold new event store",
        ],
        method="ranked_choice",
        project_id=project.id,
    )
    rankings = {
        agents[0]: ("A", "B"),
        agents[1]: ("A", "C", "B"),
        agents[2]: ("B", "A"),
        agents[3]: ("A", "B", "C"),
        agents[4]: ("C", "B"),
    }
    labels = dict(zip("ABC", decided.options, strict=True))
    for voter, ranking in rankings.items():
        engine.record_ballot(
            Ballot(
                decided.id,
                1,
                voter,
                tuple(labels[label] for label in ranking),
                0.8,
                f"{voter} prefers {labels[ranking[0]]}.",
                "",
                engine.clock.now(),
            ),
            project_id=project.id,
        )
    result = tally(
        "ranked_choice",
        decided.options,
        [
            RankedBallot(voter, tuple(labels[label] for label in ranking))
            for voter, ranking in rankings.items()
        ],
    )
    engine.close_decision(decided.id, result.to_dict(), status=DecisionStatus.DECIDED)

    open_question = engine.open_decision(
        "Should low-stock alerts go out by email or chat?",
        ["Email digest", "Chat message"],
        method="majority",
        project_id=project.id,
    )
    for voter, first, second in ((agents[0], 0, 1), (agents[1], 1, 0)):
        engine.record_ballot(
            Ballot(
                open_question.id,
                1,
                voter,
                (open_question.options[first], open_question.options[second]),
                0.6,
                "[bold]Markup in agent text is shown literally.[/]",
                "",
                engine.clock.now(),
            ),
            project_id=project.id,
        )
