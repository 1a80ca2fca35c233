"""The scheduler end to end: leases, order, agents, reviews, retries, checks, budget, files, controls."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes import Script, ScriptedProvider, failing

from orkestra_tui.config import AgentSettings, Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine, EngineError
from orkestra_tui.engine.execution.review import NOT_REVIEWED
from orkestra_tui.engine.execution.scheduler import RunSummary, Scheduler
from orkestra_tui.engine.models import (
    AuditEvent,
    InboxKind,
    InboxStatus,
    Priority,
    ProjectStatus,
    TaskSpec,
    TaskStatus,
)
from orkestra_tui.providers.base import ProviderRequest

ROSTER = (("claude", "anthropic"), ("chatgpt", "openai"), ("gemini", "gemini"))
"""Three agents of three vendors, so that each can be reviewed by the other two."""
KEYS = {
    "ANTHROPIC_API_KEY": "sk-test-scheduler-anthropic-0000",
    "OPENAI_API_KEY": "sk-test-scheduler-openai-0000",
    "GEMINI_API_KEY": "test-scheduler-gemini-0000",
}
"""Keys make the agents real (so their prices count); scripted providers answer in their place."""
RESULT = "# Done\n\nThe work, complete.\n"


# ------------------------------------------------------------------ helpers


def scripted_engine(
    paths: Paths,
    settings: Settings,
    clock: FixedClock,
    *,
    price: float = 0.0,
    concurrency: int = 2,
    **engine_options: Any,
) -> Engine:
    """An engine over `paths` whose three agents are real, priced at `price`, and not yet scripted."""
    agents = tuple(
        AgentSettings(
            name=name,
            provider=provider,
            model=f"{name}-model",
            concurrency=concurrency,
            price_input_per_mtok=price,
            price_output_per_mtok=price * 5,
            specialties={"code": 0.8},
        )
        for name, provider in ROSTER
    )
    tuned = replace(settings, agents=agents, engine=replace(settings.engine, **engine_options))
    engine = Engine(paths, tuned, clock=clock, env=KEYS)
    engine.delays = []  # type: ignore[attr-defined]  # the sleeps the helper records on the engine

    async def record_delay(seconds: float) -> None:
        engine.delays.append(seconds)  # type: ignore[attr-defined]  # the sleeps the helper records on the engine

    engine.sleep = record_delay
    return engine


def member(result: str | Callable[[ProviderRequest], str] = RESULT, *verdicts: str) -> Script:
    """An agent that answers tasks with `result` and reviews with `verdicts` in turn (default approve)."""
    reviews_given = 0

    def script(request: ProviderRequest, _index: int) -> str:
        nonlocal reviews_given
        if request.purpose == "review":
            verdict = verdicts[min(reviews_given, len(verdicts) - 1)] if verdicts else "approve"
            reviews_given += 1
            return json.dumps({"verdict": verdict, "comments": f"{verdict} number {reviews_given}"})
        return result(request) if callable(result) else result

    return script


def cast(
    engine: Engine, scripts: Mapping[str, Script] | None = None, *, delay_s: float = 0.0
) -> dict[str, ScriptedProvider]:
    """Serve every agent with a scripted provider (`member()` unless given); the providers by name."""
    providers = {}
    for name, _provider in ROSTER:
        providers[name] = ScriptedProvider((scripts or {}).get(name, member()), delay_s=delay_s)
        engine.use_provider(name, providers[name])
    return providers


def active_project(
    engine: Engine, *specs: TaskSpec, name: str = "Shop", brief: str = "Build a small shop."
) -> tuple[int, list[int]]:
    project = engine.create_project(name, brief)
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    return project.id, [task.id for task in engine.add_tasks(project.id, list(specs))]


def spec(title: str, key: str = "", *depends_on: str, **fields: Any) -> TaskSpec:
    return TaskSpec(
        title=title,
        key=key or title.lower().replace(" ", "-"),
        instructions=fields.pop("instructions", f"Do {title.lower()}."),
        depends_on=tuple(depends_on),
        **fields,
    )


def events(engine: Engine, kind: str, task_id: int | None = None) -> list[AuditEvent]:
    """Audit events of a kind (and of one task), oldest first."""
    found = reversed(engine.audit_events(10_000, kind=kind))
    return [event for event in found if task_id is None or event.subject == f"task:{task_id}"]


def attempts(engine: Engine, task_id: int) -> list[tuple[int, str, str, float, float | None, str]]:
    """(number, agent, outcome, started_at, finished_at, error) of a task's attempts."""
    return [
        tuple(row)
        for row in engine.store.query(
            "SELECT number, agent, outcome, started_at, finished_at, error FROM task_attempt"
            " WHERE task_id = ? ORDER BY number",
            (task_id,),
        )
    ]


def task_prompts(provider: ScriptedProvider) -> list[str]:
    return [request.messages[-1].content for request in provider.requests if request.purpose == "task"]


def task_calls(providers: Mapping[str, ScriptedProvider]) -> int:
    return sum(len(task_prompts(provider)) for provider in providers.values())


def lease(engine: Engine, task_id: int, owner: str, expires_at: float) -> None:
    """Lease a task to another process, as its claim would have (written from outside, like it)."""
    with sqlite3.connect(engine.paths.database) as connection:
        connection.execute(
            "UPDATE task SET status = 'running', lease_owner = ?, lease_expires_at = ?, attempts = 1"
            " WHERE id = ?",
            (owner, expires_at, task_id),
        )
        connection.execute(
            "INSERT INTO task_attempt (task_id, number, agent, started_at) VALUES (?, 1, 'claude', ?)",
            (task_id, expires_at - 30),
        )
    connection.close()


def dead_pid() -> int:
    """The pid of a process that has ended and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def scripted(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = scripted_engine(paths, settings, clock)
    yield engine
    engine.close()


# ------------------------------------------------------------------- order


async def test_a_task_never_starts_before_its_dependencies_are_done(engine: Engine) -> None:
    project_id, ids = active_project(
        engine,
        spec("Design", "design"),
        spec("API", "api", "design"),
        spec("UI", "ui", "design"),
        spec("Docs", "docs", "api", "ui"),
    )
    summary = await Scheduler(engine, reviewers=0, max_concurrent=3).run(project_id)

    assert summary.done == 4 and summary.stopped == "nothing left to do"
    assert summary.counts == {"done": 4}
    task_of = dict(zip(("design", "api", "ui", "docs"), ids, strict=True))
    for dependent, dependencies in {"api": ["design"], "ui": ["design"], "docs": ["api", "ui"]}.items():
        (started,) = [row[3] for row in attempts(engine, task_of[dependent])]
        for dependency in dependencies:
            (finished,) = [row[4] for row in attempts(engine, task_of[dependency])]
            assert finished is not None and finished < started
    order = [event.subject for event in events(engine, "task") if event.kind in ("task.running", "task.done")]
    for dependency, dependent in [("design", "api"), ("design", "ui"), ("api", "docs"), ("ui", "docs")]:
        done_at = order.index(f"task:{task_of[dependency]}", order.index(f"task:{task_of[dependency]}") + 1)
        assert done_at < order.index(f"task:{task_of[dependent]}")


async def test_ready_tasks_run_by_priority_then_age(scripted: Engine) -> None:
    cast(scripted)
    project_id, (old_normal,) = active_project(scripted, spec("Old normal", priority=Priority.NORMAL))
    later = scripted.add_tasks(
        project_id,
        [
            spec("Low", priority=Priority.LOW),
            spec("New normal", priority=Priority.NORMAL),
            spec("Critical", priority=Priority.CRITICAL),
            spec("High", priority=Priority.HIGH),
        ],
    )
    await Scheduler(scripted, reviewers=0, max_concurrent=1).run(project_id)

    started = [int(event.subject.split(":")[1]) for event in events(scripted, "task.running")]
    titles = {task.id: task.title for task in later} | {old_normal: "Old normal"}
    assert [titles[task_id] for task_id in started] == ["Critical", "High", "Old normal", "New normal", "Low"]


# ------------------------------------------------------------------ leases


async def test_an_expired_lease_is_released_and_the_task_completed(
    scripted: Engine, clock: FixedClock
) -> None:
    cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))
    lease(scripted, task_id, "elsewhere:4242:cafe", clock.now() + 30)
    scheduler = Scheduler(scripted, reviewers=0)

    assert scheduler.release_stale() == 0  # not expired yet: another machine's process may still work
    clock.advance(60)
    assert scheduler.release_stale() == 1

    task = scripted.task(task_id)
    assert (task.status, task.lease_owner, task.lease_expires_at) == (TaskStatus.READY, None, None)
    assert attempts(scripted, task_id)[0][2] == "abandoned"
    (expired,) = events(scripted, "task.lease_expired", task_id)
    assert "its lease expired" in expired.summary and expired.data["owner"] == "elsewhere:4242:cafe"

    summary = await scheduler.run(project_id)
    assert summary.done == 1 and scripted.task(task_id).status is TaskStatus.DONE
    assert [row[2] for row in attempts(scripted, task_id)] == ["abandoned", "done"]


async def test_a_dead_process_on_this_host_loses_its_lease_at_once(
    scripted: Engine, clock: FixedClock
) -> None:
    cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))
    lease(scripted, task_id, f"{socket.gethostname()}:{dead_pid()}:deadbeef", clock.now() + 3600)

    summary = await Scheduler(scripted, reviewers=0).run(project_id)

    assert summary.released == 1 and summary.done == 1
    (released,) = events(scripted, "task.lease_expired", task_id)
    assert "its process is gone" in released.summary
    assert scripted.task(task_id).status is TaskStatus.DONE


@pytest.mark.parametrize(
    "owner",
    [f"{socket.gethostname()}:{os.getppid()}:alive", "elsewhere:4242:cafe"],
    ids=["live-local-process", "other-host"],
)
async def test_a_live_unexpired_lease_is_left_alone(scripted: Engine, clock: FixedClock, owner: str) -> None:
    providers = cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))
    lease(scripted, task_id, owner, clock.now() + 3600)

    summary = await Scheduler(scripted, reviewers=0).run(project_id)

    assert summary.released == 0 and summary.done == 0
    task = scripted.task(task_id)
    assert (task.status, task.lease_owner) == (TaskStatus.RUNNING, owner)
    assert attempts(scripted, task_id)[0][2] == "running"
    assert task_calls(providers) == 0 and not events(scripted, "task.lease_expired")


async def test_two_schedulers_on_one_data_dir_never_run_a_task_twice(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    first = scripted_engine(paths, settings, clock, concurrency=10)
    second = scripted_engine(paths, settings, clock, concurrency=10)  # its own connection, as another process
    try:
        cast(first, delay_s=0.001)
        cast(second, delay_s=0.001)
        project_id, ids = active_project(first, *(spec(f"Task {number}") for number in range(100)))

        summaries = await asyncio.gather(
            Scheduler(first, max_concurrent=3, reviewers=1).run(project_id),
            Scheduler(second, max_concurrent=3, reviewers=1).run(project_id),
        )

        assert sum(summary.done for summary in summaries) == 100
        assert all(summary.done > 0 for summary in summaries), "both schedulers took a share"
        done_attempts = Counter(
            task_id
            for (task_id,) in first.store.query("SELECT task_id FROM task_attempt WHERE outcome = 'done'")
        )
        assert done_attempts == Counter(ids)
        assert not first.store.scalar("SELECT count(*) FROM task_attempt WHERE outcome != 'done'")
        done_events = Counter(event.subject for event in events(first, "task.done"))
        assert done_events == Counter(f"task:{task_id}" for task_id in ids)
        assert first.task_counts(project_id)[TaskStatus.DONE] == 100
    finally:
        first.close()
        second.close()


async def test_a_scheduler_that_lost_its_lease_leaves_the_task_to_the_new_holder(
    paths: Paths, settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    slow = scripted_engine(paths, settings, clock)
    other = scripted_engine(paths, settings, clock)
    try:
        stale = "# Stale\n\n```python file=main.py\nstale = True\n```\n"
        slow_providers = cast(slow, {name: member(stale) for name, _ in ROSTER})
        for provider in slow_providers.values():
            provider.blocking = True
        cast(
            other,
            {name: member("# Fresh\n\n```python file=main.py\nfresh = True\n```\n") for name, _ in ROSTER},
        )
        project_id, (task_id,) = active_project(slow, spec("Write main"))
        folder = tmp_path / "workspace"
        folder.mkdir()
        slow.set_workspace(project_id, str(folder))
        slow_run = asyncio.ensure_future(Scheduler(slow, reviewers=0).run(project_id))
        await wait_for(lambda: task_calls(slow_providers) == 1)

        clock.advance(3600)  # the slow process stopped renewing long ago
        summary = await Scheduler(other, reviewers=0).run(project_id)
        assert summary.released == 1 and summary.done == 1
        for provider in slow_providers.values():
            provider.release.set()
        slow_summary = await slow_run

        assert slow_summary.done == 0 and slow_summary.stopped == "nothing left to do"
        task = slow.task(task_id)
        assert task.status is TaskStatus.DONE and task.result is not None and "Fresh" in task.result
        assert (folder / "main.py").read_text() == "fresh = True\n"
        assert (slow.paths.data_dir / str(task.artifact)).read_text() == task.result
        assert [row[2] for row in attempts(slow, task_id)] == ["abandoned", "done"]
        assert len(events(slow, "task.done", task_id)) == 1 and not events(slow, "task.released", task_id)
    finally:
        slow.close()
        other.close()


# ------------------------------------------------------------------ agents


async def test_the_choice_of_agent_and_its_rationale_are_stored(scripted: Engine) -> None:
    cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))
    await Scheduler(scripted, reviewers=0).run(project_id)

    task = scripted.task(task_id)
    assert task.assigned_to in {name for name, _ in ROSTER}
    assert task.rationale.startswith(f"{task.assigned_to}: code 0.8, load 0/2")
    (running,) = events(scripted, "task.running", task_id)
    assert running.data["rationale"] == task.rationale and len(running.data["runners_up"]) == 2


async def test_a_pinned_task_goes_to_its_agent(scripted: Engine) -> None:
    providers = cast(scripted)
    project_id, ids = active_project(scripted, spec("First"), spec("Second"), spec("Third"))
    for task_id in ids:
        scripted.reassign_task(task_id, "gemini")

    await Scheduler(scripted, reviewers=0).run(project_id)

    for task_id in ids:
        task = scripted.task(task_id)
        assert task.assigned_to == "gemini" and task.rationale.startswith("gemini, pinned by you:")
    assert len(task_prompts(providers["gemini"])) == 3
    assert task_calls(providers) == 3


async def test_load_is_spread_over_equal_agents(scripted: Engine) -> None:
    cast(scripted)
    for name, _ in ROSTER:  # a call each, so that every agent has the same measured success
        await scripted.test_agent(name)
    project_id, ids = active_project(scripted, *(spec(f"Task {number}") for number in range(6)))

    await Scheduler(scripted, reviewers=0, max_concurrent=1).run(project_id)

    assert Counter(scripted.task(task_id).assigned_to for task_id in ids) == {
        "claude": 2,
        "chatgpt": 2,
        "gemini": 2,
    }


async def test_tasks_claimed_together_go_to_different_agents(scripted: Engine) -> None:
    cast(scripted)
    project_id, _ids = active_project(scripted, *(spec(f"Task {number}") for number in range(3)))
    scheduler = Scheduler(scripted, reviewers=0)

    claims = [scheduler.claim([project_id]) for _ in range(3)]

    assert sorted(claim.agent for claim in claims if claim) == ["chatgpt", "claude", "gemini"]
    assert scheduler.claim([project_id]) is None  # nothing ready is left


# ------------------------------------------------------------------ review


async def reviewed(
    engine: Engine, reviews: Mapping[str, Sequence[str]], *, reviewers: int = 2, **spec_fields: Any
) -> tuple[int, RunSummary, dict[str, ScriptedProvider]]:
    """Run one task written by claude and reviewed by chatgpt and gemini with the given verdicts."""
    providers = cast(engine, {name: member(RESULT, *verdicts) for name, verdicts in reviews.items()})
    project_id, (task_id,) = active_project(engine, spec("Write the API", **spec_fields))
    engine.reassign_task(task_id, "claude")
    summary = await Scheduler(engine, reviewers=reviewers).run(project_id)
    return task_id, summary, providers


def reviews_of(engine: Engine, task_id: int) -> list[tuple[int, str, str]]:
    return [
        tuple(row)
        for row in engine.store.query(
            "SELECT attempt, reviewer, verdict FROM task_review WHERE task_id = ? ORDER BY attempt, reviewer",
            (task_id,),
        )
    ]


async def test_approved_by_every_reviewer_is_done(scripted: Engine) -> None:
    task_id, summary, providers = await reviewed(scripted, {"chatgpt": ["approve"], "gemini": ["approve"]})

    task = scripted.task(task_id)
    assert (task.status, task.note) == (TaskStatus.DONE, "approved by chatgpt and gemini")
    assert summary.done == 1
    assert reviews_of(scripted, task_id) == [(1, "chatgpt", "approve"), (1, "gemini", "approve")]
    assert not [request for request in providers["claude"].requests if request.purpose == "review"]


async def test_one_reviewer_with_concerns_is_done_with_a_warning(scripted: Engine) -> None:
    task_id, summary, _ = await reviewed(scripted, {"chatgpt": ["concerns"], "gemini": ["approve"]})

    task = scripted.task(task_id)
    assert task.status is TaskStatus.DONE and summary.done == 1
    assert task.note.startswith("chatgpt has concerns:") and "concerns number 1" in task.note
    (done,) = events(scripted, "task.done", task_id)
    assert done.data["note"] == task.note


async def test_two_reviewers_with_concerns_send_it_back_once_then_to_the_human(scripted: Engine) -> None:
    task_id, summary, providers = await reviewed(
        scripted, {"chatgpt": ["concerns", "concerns"], "gemini": ["concerns", "concerns"]}
    )

    task = scripted.task(task_id)
    assert task.status is TaskStatus.AWAITING_HUMAN
    assert "still have concerns after a redo" in task.note
    assert (summary.retried, summary.awaiting_human, task.review_rounds) == (1, 1, 1)
    first_prompt, redo_prompt = task_prompts(providers["claude"])
    assert "Last time" not in first_prompt
    assert "address them in the redo" in redo_prompt and "concerns number 1" in redo_prompt
    (retried,) = events(scripted, "task.retried", task_id)
    assert retried.data["to"] == "ready" and "concerns number 1" in retried.data["note"]
    assert [row[2] for row in attempts(scripted, task_id)] == ["retry", "awaiting_human"]
    assert len(reviews_of(scripted, task_id)) == 4
    (item,) = scripted.inbox.open_items()
    assert item.kind is InboxKind.TASK_REVIEW and item.payload == {"task_id": task_id, "note": task.note}


async def test_a_blocker_goes_to_the_human(scripted: Engine) -> None:
    task_id, summary, providers = await reviewed(scripted, {"chatgpt": ["blocker"], "gemini": ["approve"]})

    task = scripted.task(task_id)
    assert task.status is TaskStatus.AWAITING_HUMAN and summary.awaiting_human == 1
    assert task.note.startswith("chatgpt found a blocker:")
    assert len(task_prompts(providers["claude"])) == 1  # no redo without the human
    (item,) = scripted.inbox.open_items()
    assert item.kind is InboxKind.TASK_REVIEW and item.payload["task_id"] == task_id


async def test_without_a_reviewer_of_another_vendor_the_task_is_done_unreviewed(scripted: Engine) -> None:
    scripted.set_agent_enabled("chatgpt", False)
    scripted.set_agent_enabled("gemini", False)
    task_id, _summary, providers = await reviewed(scripted, {}, reviewers=1)

    task = scripted.task(task_id)
    assert (task.status, task.note) == (TaskStatus.DONE, NOT_REVIEWED)
    assert not providers["chatgpt"].requests and not providers["gemini"].requests


async def test_a_run_ends_when_no_agent_can_take_what_is_ready(scripted: Engine) -> None:
    providers = cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))
    scripted.reassign_task(task_id, "chatgpt")
    scripted.set_agent_enabled("chatgpt", False)

    summary = await asyncio.wait_for(Scheduler(scripted).run(project_id), timeout=5)

    assert summary.stopped == "no agent can take the ready tasks" and summary.counts == {"ready": 1}
    assert task_calls(providers) == 0


async def test_the_agent_sees_the_brief_and_its_dependencies_results_trimmed(scripted: Engine) -> None:
    long_result = "x" * 10_000
    providers = cast(scripted, {"claude": member(long_result), "chatgpt": member("Short result.")})
    project_id, (long_id, short_id, last_id) = active_project(
        scripted,
        spec("Long", "long"),
        spec("Short", "short"),
        spec("Last", "last", "long", "short", acceptance=("it is tested",)),
        brief="Build a small shop.",
    )
    scripted.reassign_task(long_id, "claude")
    scripted.reassign_task(short_id, "chatgpt")
    scripted.reassign_task(last_id, "gemini")

    await Scheduler(scripted, reviewers=0).run(project_id)

    (prompt,) = task_prompts(providers["gemini"])
    assert "Instructions:\nDo last." in prompt and "Done when:\n- it is tested" in prompt
    assert "Project brief:\nBuild a small shop." in prompt
    assert f"Result of 'Long' (trimmed):\n{'x' * 6_000}\n" in prompt and "x" * 6_001 not in prompt
    assert "Result of 'Short':\nShort result." in prompt


# ---------------------------------------------------------------- failures


@pytest.mark.parametrize("error_class", ["bad_request", "auth"])
async def test_a_failure_that_cannot_be_retried_fails_the_task_at_once(
    scripted: Engine, error_class: str
) -> None:
    providers = cast(scripted, {name: failing(error_class) for name, _ in ROSTER})
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))

    summary = await Scheduler(scripted).run(project_id)

    task = scripted.task(task_id)
    assert task.status is TaskStatus.FAILED and summary.failed == 1
    assert task.note == f"{task.assigned_to} failed and it cannot be retried: simulated {error_class}"
    assert task_calls(providers) == 1 and not scripted.delays  # type: ignore[attr-defined]  # the sleeps the helper records on the engine


# -------------------------------------------------------------- pre-checks


def checks_before(engine: Engine, task_id: int) -> list[dict[str, str]]:
    return [
        event.data["checks"]
        for event in events(engine, "task.checked", task_id)
        if event.data["stage"] == "before"
    ]


async def test_a_task_without_instructions_is_blocked_before_any_call(scripted: Engine) -> None:
    providers = cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Write the API", instructions="  \n"))

    summary = await Scheduler(scripted).run(project_id)

    task = scripted.task(task_id)
    assert (task.status, task.note) == (TaskStatus.BLOCKED, "the task has no instructions")
    assert summary.counts == {"blocked": 1} and summary.blocked == 1 and task_calls(providers) == 0
    (checks,) = checks_before(scripted, task_id)
    assert checks["instructions"] == "the task has no instructions"
    assert {name for name, outcome in checks.items() if outcome == "ok"} == {
        "dependencies",
        "agent",
        "lease",
        "budget",
        "workspace",
        "disk",
        "cycle",
    }
    (blocked,) = events(scripted, "task.blocked", task_id)
    assert blocked.data == {"from": "ready", "to": "blocked", "note": "the task has no instructions"}


async def test_a_task_in_a_dependency_cycle_is_blocked(scripted: Engine) -> None:
    providers = cast(scripted)
    project_id, (first, second, free) = active_project(scripted, spec("First"), spec("Second"), spec("Free"))
    with sqlite3.connect(scripted.paths.database) as connection:  # add_tasks refuses cycles
        connection.executemany(
            "INSERT INTO task_dependency (task_id, depends_on) VALUES (?, ?)",
            [(first, second), (second, first)],
        )
    connection.close()

    await Scheduler(scripted, reviewers=0).run(project_id)

    for task_id in (first, second):
        task = scripted.task(task_id)
        assert task.status is TaskStatus.BLOCKED and "it is in a dependency cycle" in task.note
        (checks,) = checks_before(scripted, task_id)
        assert checks["cycle"] == "it is in a dependency cycle" and checks["dependencies"] == "1 not done"
    assert scripted.task(free).status is TaskStatus.DONE and task_calls(providers) == 1


async def test_a_missing_workspace_blocks_the_task(scripted: Engine, tmp_path: Path) -> None:
    providers = cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))
    folder = tmp_path / "workspace"
    folder.mkdir()
    scripted.set_workspace(project_id, str(folder))
    folder.rmdir()

    await Scheduler(scripted).run(project_id)

    task = scripted.task(task_id)
    assert task.status is TaskStatus.BLOCKED and task.note == f"the workspace {folder} does not exist"
    assert checks_before(scripted, task_id)[0]["workspace"] == task.note and task_calls(providers) == 0


async def test_every_check_is_recorded_before_and_after(scripted: Engine) -> None:
    cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))

    await Scheduler(scripted).run(project_id)

    before, after = events(scripted, "task.checked", task_id)
    assert before.data["stage"] == "before" and set(before.data["checks"].values()) == {"ok"}
    assert after.data["stage"] == "after" and set(after.data["checks"].values()) == {"ok"}
    assert set(after.data["checks"]) == {"result", "artifact", "lease", "status", "cost"}


# ------------------------------------------------------------------ budget


async def test_a_budget_too_small_for_the_next_call_pauses_the_project(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = scripted_engine(paths, settings, clock, price=3.0)
    try:
        providers = cast(engine)
        project_id, ids = active_project(engine, spec("First"), spec("Second"))
        engine.set_budget(project_id, 0.05)  # a task and its review are estimated at about $0.07

        summary = await Scheduler(engine).run(project_id)

        assert summary.stopped == "budget" and summary.counts == {"ready": 2}
        project = engine.store.project(project_id)
        assert project is not None and project.status is ProjectStatus.PAUSED
        assert task_calls(providers) == 0
        (item,) = engine.inbox.open_items()
        assert item.kind is InboxKind.BUDGET and item.payload["project_id"] == project_id
        (checks,) = checks_before(engine, ids[0])
        assert checks["budget"].startswith("the next calls (about $0.0690) would pass the budget")

        engine.set_project_status(project_id, ProjectStatus.ACTIVE)  # resumed without a higher budget
        await Scheduler(engine).run(project_id)
        assert len(engine.inbox.open_items()) == 1, "the human is asked once"
        assert task_calls(providers) == 0

        engine.answer_budget(item.id, 10.0)
        answered = engine.store.inbox_item(item.id)
        assert answered is not None and answered.status is InboxStatus.ANSWERED
        with pytest.raises(EngineError, match=f"the budget request {item.id} is already answered"):
            engine.answer_budget(item.id, 20.0)
        project = engine.store.project(project_id)
        assert project is not None and (project.status, project.budget) == (ProjectStatus.ACTIVE, 10.0)
        summary = await Scheduler(engine).run(project_id)
        assert summary.done == 2 and task_calls(providers) == 2
        assert 0 < Scheduler(engine).spent(project_id) < 10.0
    finally:
        engine.close()


# --------------------------------------------------------------- workspace


async def test_file_blocks_are_written_only_inside_the_workspace(scripted: Engine, tmp_path: Path) -> None:
    result = (
        "I wrote the module.\n\n"
        '```python file=src/ok.py\nprint("ok")\n```\n\n'
        '```python file=../escape.py\nprint("escaped")\n```\n\n'
        "```text file=/etc/x\nowned\n```\n"
    )
    cast(scripted, {"claude": member(result), "chatgpt": member(result), "gemini": member(result)})
    folder = tmp_path / "workspace"
    folder.mkdir()
    etc_x_existed = Path("/etc/x").exists()
    project_id, (task_id,) = active_project(scripted, spec("Write the module"))
    scripted.set_workspace(project_id, str(folder))

    await Scheduler(scripted).run(project_id)

    assert scripted.task(task_id).status is TaskStatus.DONE
    assert (folder / "src" / "ok.py").read_text() == 'print("ok")\n'
    assert sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")) == ["src", "src/ok.py"]
    assert not (tmp_path / "escape.py").exists() and Path("/etc/x").exists() == etc_x_existed
    refused = events(scripted, "task.file_refused", task_id)
    assert [event.data["path"] for event in refused] == ["../escape.py", "/etc/x"]
    assert "'..'" in refused[0].data["reason"] and "absolute" in refused[1].data["reason"]
    (review,) = events(scripted, "task.review", task_id)
    assert review.data["files"] == ["src/ok.py"]


async def test_the_artifact_holds_the_result(scripted: Engine) -> None:
    cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))

    await Scheduler(scripted).run(project_id)

    task = scripted.task(task_id)
    assert task.artifact == f"projects/{project_id}/artifacts/{task_id:05d}-write-the-api.md"
    artifact = scripted.paths.data_dir / task.artifact
    assert artifact.read_text() == task.result == RESULT


async def test_a_result_that_cannot_be_stored_fails_the_task(scripted: Engine) -> None:
    cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))
    scripted.paths.projects_dir.write_text("not a folder")  # no artifact can be written under it

    summary = await Scheduler(scripted).run(project_id)

    task = scripted.task(task_id)
    assert task.status is TaskStatus.FAILED and summary.failed == 1
    assert task.note.startswith(f"{task.assigned_to}'s result could not be stored:")


# --------------------------------------------------------- human controls


async def test_approving_a_task_finishes_it_and_answers_its_request(scripted: Engine) -> None:
    providers = cast(scripted, {"chatgpt": member(RESULT, "blocker")})
    project_id, (task_id, dependent_id) = active_project(
        scripted, spec("API", "api"), spec("Docs", "docs", "api")
    )
    scripted.reassign_task(task_id, "claude")
    await Scheduler(scripted, reviewers=2).run(project_id)
    assert scripted.task(task_id).status is TaskStatus.AWAITING_HUMAN
    (item,) = scripted.inbox.open_items()

    task = scripted.approve_task(task_id)

    assert task.status is TaskStatus.DONE
    assert task.note.startswith("Approved over the review's concern: chatgpt found a blocker:")
    answered = scripted.store.inbox_item(item.id)
    assert answered is not None and answered.status is InboxStatus.ANSWERED
    assert scripted.task(dependent_id).status is TaskStatus.READY
    (approved,) = events(scripted, "task.approved", task_id)
    assert approved.actor == "human" and approved.data["from"] == "awaiting_human"
    with pytest.raises(EngineError, match=f"task {task_id} is done: it cannot be approved"):
        scripted.approve_task(task_id)
    await Scheduler(scripted, reviewers=0).run(project_id)
    assert scripted.task(dependent_id).status is TaskStatus.DONE and task_calls(providers) == 2


async def test_rejecting_a_task_sends_the_note_to_the_next_attempt(scripted: Engine) -> None:
    providers = cast(scripted, {"chatgpt": member(RESULT, "blocker", "approve")})
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))
    scripted.reassign_task(task_id, "claude")
    await Scheduler(scripted, reviewers=2).run(project_id)
    (item,) = scripted.inbox.open_items()

    with pytest.raises(EngineError, match="say what should change"):
        scripted.reject_task(task_id, "  ")
    task = scripted.reject_task(task_id, "Use SQLite, not files.")
    assert (task.status, task.note) == (TaskStatus.READY, "You asked: Use SQLite, not files.")
    assert not scripted.inbox.open_items()
    answered = scripted.store.inbox_item(item.id)
    assert answered is not None and answered.answer == {"status": "ready", "note": task.note}

    await Scheduler(scripted, reviewers=2).run(project_id)
    assert scripted.task(task_id).status is TaskStatus.DONE
    assert (
        "Last time, this came back: You asked: Use SQLite, not files."
        in task_prompts(providers["claude"])[-1]
    )
    with pytest.raises(EngineError, match="is done: it cannot be sent back"):
        scripted.reject_task(task_id, "Again.")


async def test_a_waiting_run_takes_up_a_rejected_task_at_once(scripted: Engine) -> None:
    cast(scripted, {"chatgpt": member(RESULT, "blocker", "approve")})
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))
    scripted.reassign_task(task_id, "claude")
    scheduler = Scheduler(scripted, reviewers=2)
    run = asyncio.ensure_future(scheduler.run(project_id, until_done=False))
    await wait_for(lambda: scripted.task(task_id).status is TaskStatus.AWAITING_HUMAN)

    scripted.reject_task(task_id, "Add tests.")
    await wait_for(lambda: scripted.task(task_id).status is TaskStatus.DONE)
    scheduler.stop()

    assert (await run).stopped == "stopped"


def test_cancelling_a_task(scripted: Engine) -> None:
    _project_id, (task_id, done_id) = active_project(scripted, spec("Write the API"), spec("Done already"))
    scripted.set_task_status(done_id, TaskStatus.RUNNING)
    scripted.set_task_status(done_id, TaskStatus.DONE)

    assert scripted.cancel_task(task_id).status is TaskStatus.CANCELLED
    with pytest.raises(EngineError, match=f"task {task_id} is cancelled: it cannot be cancelled"):
        scripted.cancel_task(task_id)
    with pytest.raises(EngineError, match=f"task {done_id} is done: it cannot be cancelled"):
        scripted.cancel_task(done_id)
    (cancelled,) = events(scripted, "task.cancelled", task_id)
    assert cancelled.data == {"from": "ready", "to": "cancelled", "note": ""}


async def test_cancelling_a_running_task_closes_its_attempt(scripted: Engine) -> None:
    providers = cast(scripted)
    providers["claude"].blocking = True
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))
    scripted.reassign_task(task_id, "claude")
    scheduler = Scheduler(scripted, reviewers=0)
    run = asyncio.ensure_future(scheduler.run(project_id))
    await wait_for(lambda: bool(providers["claude"].requests))

    scripted.cancel_task(task_id)
    providers["claude"].release.set()
    summary = await run

    task = scripted.task(task_id)
    assert (task.status, task.lease_owner) == (TaskStatus.CANCELLED, None)
    assert summary.done == 0 and summary.counts == {"cancelled": 1}
    assert [row[2] for row in attempts(scripted, task_id)] == ["cancelled"]
    assert not events(scripted, "task.done", task_id)


async def test_retrying_a_failed_task(scripted: Engine) -> None:
    providers = cast(scripted, {name: failing("bad_request") for name, _ in ROSTER})
    project_id, (task_id, dependent_id) = active_project(
        scripted, spec("API", "api"), spec("Docs", "docs", "api")
    )
    await Scheduler(scripted).run(project_id)
    assert scripted.task(task_id).status is TaskStatus.FAILED

    with pytest.raises(EngineError, match=f"task {dependent_id} is pending: it cannot be retried"):
        scripted.retry_task(dependent_id)
    for provider in providers.values():
        provider.script = member()
    task = scripted.retry_task(task_id)
    assert (task.status, task.note) == (TaskStatus.READY, "")
    (retried,) = events(scripted, "task.retried", task_id)
    assert retried.actor == "human" and retried.data["from"] == "failed"

    summary = await Scheduler(scripted, reviewers=0).run(project_id)
    assert summary.done == 2 and scripted.task(dependent_id).status is TaskStatus.DONE
    assert [row[2] for row in attempts(scripted, task_id)] == ["failed", "done"]


async def test_reassigning_a_task(scripted: Engine) -> None:
    cast(scripted)
    project_id, (task_id, other_id) = active_project(scripted, spec("Write the API"), spec("Write docs"))

    with pytest.raises(EngineError, match=r"no agent named 'hal' \(agents: claude, chatgpt, gemini\)"):
        scripted.reassign_task(task_id, "hal")
    claim = Scheduler(scripted).claim([project_id])
    assert claim is not None and claim.task.id == task_id
    with pytest.raises(EngineError, match=f"task {task_id} is running: it cannot be reassigned now"):
        scripted.reassign_task(task_id, "gemini")

    pinned = scripted.reassign_task(other_id, "chatgpt")
    assert pinned.pinned_agent == "chatgpt"
    assert scripted.reassign_task(other_id, None).pinned_agent is None
    (first, second) = events(scripted, "task.reassigned", other_id)
    assert first.data == {"agent": "chatgpt"} and second.data == {"agent": None}


# -------------------------------------------------------------------- stop


async def wait_for(condition: Callable[[], bool]) -> None:
    """Let the loop run until `condition` holds (a bounded number of turns)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def test_stopping_puts_the_running_task_back_to_ready(scripted: Engine) -> None:
    providers = cast(scripted)
    for provider in providers.values():
        provider.blocking = True
    project_id, (task_id,) = active_project(scripted, spec("Write the API"))
    scheduler = Scheduler(scripted)
    run = asyncio.ensure_future(scheduler.run(project_id))
    await wait_for(lambda: task_calls(providers) == 1)

    scheduler.stop()
    summary = await run

    assert summary.stopped == "stopped" and summary.counts == {"ready": 1}
    task = scripted.task(task_id)
    assert (task.status, task.lease_owner, task.lease_expires_at) == (TaskStatus.READY, None, None)
    ((_number, _agent, outcome, _started, finished, error),) = attempts(scripted, task_id)
    assert (outcome, error) == ("interrupted", "the run was stopped") and finished is not None
    (released,) = events(scripted, "task.released", task_id)
    assert released.data["to"] == "ready"


def test_cancelling_a_task_blocks_the_tasks_that_wait_for_it(engine: Engine) -> None:
    project = engine.create_project("Blocked", "")
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    first, second = engine.add_tasks(
        project.id,
        [
            TaskSpec(title="Lay the ground", instructions="x", key="a"),
            TaskSpec(title="Build on it", instructions="y", key="b", depends_on=("a",)),
        ],
    )
    engine.cancel_task(first.id)
    blocked = engine.task(second.id)
    assert blocked.status is TaskStatus.BLOCKED
    assert blocked.note == "it depends on 'Lay the ground', which was cancelled"
