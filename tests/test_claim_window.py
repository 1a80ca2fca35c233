"""A claim finds a task that can go wherever it is in the ready queue.

The first tasks in the queue are pinned to one agent that cannot take them
now (it is busy, or disabled); tasks further back could go to the other
agents at once. Reading only the head of the queue, a claim would see nothing
it can start, and those tasks would wait, or the run would end with them left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from fakes import ScriptedProvider, answers

from orkestra_tui.config import AgentSettings, Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import CLAIM_PAGE, Scheduler
from orkestra_tui.engine.models import Priority, ProjectStatus, TaskSpec, TaskStatus

ROSTER = (("claude", "anthropic"), ("chatgpt", "openai"), ("gemini", "gemini"))
KEYS = {
    "ANTHROPIC_API_KEY": "sk-test-claims-anthropic-0000",
    "OPENAI_API_KEY": "sk-test-claims-openai-0000",
    "GEMINI_API_KEY": "test-claims-gemini-0000",
}
PINNED = CLAIM_PAGE + 10
"""Tasks pinned to claude, at the head of the queue: more than a claim reads at a time."""
OTHERS = 6


@pytest.fixture
def engine(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    """Three agents that take one task at a time, each served by a scripted provider."""
    agents = tuple(
        AgentSettings(name=name, provider=provider, model=f"{name}-model", concurrency=1)
        for name, provider in ROSTER
    )
    engine = Engine(paths, replace(settings, agents=agents), clock=clock, env=KEYS)
    for name, _ in ROSTER:
        engine.use_provider(name, ScriptedProvider(answers("# Done\n\nThe work.\n")))
    yield engine
    engine.close()


def queue(engine: Engine) -> tuple[int, list[int], list[int]]:
    """A project: PINNED urgent tasks pinned to claude first, then OTHERS anyone may take."""
    project = engine.create_project("Queue")
    pinned = engine.add_tasks(
        project.id,
        [
            TaskSpec(title=f"Pinned {n}", instructions="Do it.", key=f"p{n}", priority=Priority.HIGH)
            for n in range(PINNED)
        ],
    )
    for task in pinned:
        engine.reassign_task(task.id, "claude")
    others = engine.add_tasks(
        project.id,
        [TaskSpec(title=f"Other {n}", instructions="Do it.", key=f"o{n}") for n in range(OTHERS)],
    )
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    return project.id, [task.id for task in pinned], [task.id for task in others]


async def wait_for(condition: Callable[[], bool]) -> None:
    """Let the loop run until `condition` holds (a bounded number of turns)."""
    for _ in range(20_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def test_tasks_behind_a_busy_agents_pinned_ones_go_to_the_others(engine: Engine) -> None:
    project_id, pinned, others = queue(engine)
    claude = engine.runtimes["claude"].provider_override
    assert isinstance(claude, ScriptedProvider)
    claude.blocking = True  # claude takes its first task and keeps at it
    run = asyncio.ensure_future(Scheduler(engine, reviewers=0).run(project_id))

    def others_done() -> bool:
        return all(engine.task(task_id).status is TaskStatus.DONE for task_id in others)

    await wait_for(others_done)
    assert len(claude.requests) == 1  # meanwhile, claude was still on its first task
    claude.release.set()
    summary = await run

    assert summary.stopped == "nothing left to do"
    assert summary.done == PINNED + OTHERS
    assert {engine.task(task_id).assigned_to for task_id in pinned} == {"claude"}
    assert {engine.task(task_id).assigned_to for task_id in others} <= {"chatgpt", "gemini"}


async def test_a_run_does_not_end_with_tasks_another_agent_could_take(engine: Engine) -> None:
    project_id, pinned, others = queue(engine)
    engine.set_agent_enabled("claude", False)

    summary = await Scheduler(engine, reviewers=0).run(project_id)

    assert summary.stopped == "no agent can take the ready tasks"
    assert summary.done == OTHERS
    assert all(engine.task(task_id).status is TaskStatus.DONE for task_id in others)
    assert all(engine.task(task_id).status is TaskStatus.READY for task_id in pinned)
