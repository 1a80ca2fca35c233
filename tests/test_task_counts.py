"""Counts agree: the Board's heading and columns, the Plan sidebar, `status` and the task detail.

A project's progress is tasks done out of those not cancelled, the cancelled
counted beside; the heading says `done` on a finished project and `running`
only while tasks run or can be claimed; a cancelled card sits under a header
that names it; `status` names each status as `--json` does; a task's
attempts are its runs, and a failure note counts provider calls.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest
from fakes import ScriptedProvider
from textual.pilot import Pilot
from textual.widgets import OptionList

from orkestra_tui.config import AgentSettings, Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.board_view import read_task_detail
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import Priority, ProjectStatus, Task, TaskSpec, TaskStatus
from orkestra_tui.engine.progress import ProjectProgress, scheduler_state
from orkestra_tui.providers.base import ProviderError, ProviderRequest
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.board import BoardScreen
from orkestra_tui.tui.widgets.board_progress import BoardProgress, project_line
from orkestra_tui.tui.widgets.task_detail import heading_text
from orkestra_tui.tui.widgets.task_list import TaskList

SIZE = (100, 30)
SPECS = (
    TaskSpec("Write the cart", "Add, remove, total.", "code", Priority.HIGH, "Core", "cart"),
    TaskSpec("Search items", "Full-text search.", "code", Priority.NORMAL, "Core", "search"),
    TaskSpec("Checkout", "Pay for the cart.", "code", Priority.NORMAL, "Core", "checkout", ("cart",)),
    TaskSpec("User guide", "How to shop.", "docs", Priority.LOW, "Release", "guide", ("checkout",)),
)


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"never happened: {what}")


async def open_board(app: OrkestraApp, pilot: Pilot[None]) -> BoardScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.body_ready, "board")
    board = app.screen
    assert isinstance(board, BoardScreen)
    return board


def project_with(engine: Engine, specs: Sequence[TaskSpec]) -> tuple[int, list[Task]]:
    project = engine.create_project("Shop")
    tasks = engine.add_tasks(project.id, specs)
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    return project.id, tasks


def finish(engine: Engine, task: Task) -> None:
    for status in (TaskStatus.RUNNING, TaskStatus.DONE):
        engine.set_task_status(task.id, status, actor="claude", assigned_to="claude")


def finished_but_one_cancelled(engine: Engine) -> tuple[int, list[Task]]:
    """Three tasks done, the user guide cancelled: the project is finished."""
    project_id, tasks = project_with(engine, SPECS)
    engine.set_task_status(tasks[3].id, TaskStatus.CANCELLED, actor="human")
    for task in tasks[:3]:
        finish(engine, task)
    return project_id, tasks


# ------------------------------------------------------------------ the engine's read model


def test_progress_leaves_the_cancelled_out_of_the_total_and_counts_them_beside() -> None:
    progress = ProjectProgress.of([TaskStatus.DONE] * 6 + [TaskStatus.CANCELLED])
    assert (progress.done, progress.total, progress.cancelled, progress.finished) == (6, 6, 1, True)
    assert progress.summary() == "6/6 done · 1 cancelled"


@pytest.mark.parametrize(
    ("statuses", "started", "paused", "expected"),
    [
        ((TaskStatus.DONE, TaskStatus.CANCELLED), True, False, "done"),
        ((TaskStatus.DONE,), True, True, "done"),
        ((TaskStatus.READY,), True, False, "running"),
        ((TaskStatus.RUNNING,), True, True, "paused"),
        ((TaskStatus.AWAITING_HUMAN, TaskStatus.FAILED), True, False, "idle"),
        ((TaskStatus.READY,), False, False, "idle"),
    ],
)
def test_the_scheduler_state_is_running_only_while_tasks_run_or_can_be_claimed(
    statuses: tuple[TaskStatus, ...], started: bool, paused: bool, expected: str
) -> None:
    assert scheduler_state(ProjectProgress.of(statuses), started=started, paused=paused) == expected


# ------------------------------------------------------------------ the Board and the sidebar


async def test_the_heading_of_a_finished_project_says_done_while_the_scheduler_works(engine: Engine) -> None:
    finished_but_one_cancelled(engine)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: app.scheduler_state == "running", "the scheduler works")
        await pilot.pause()
        summary = board.query_one(BoardProgress).summary
        assert summary is not None
        assert (summary.scheduler, summary.done, summary.total, summary.cancelled) == ("done", 3, 3, 1)
        line = project_line(summary, 100).plain
        assert "3/3 done · 1 cancelled" in line and "✔ done" in line and "running" not in line


async def test_the_heading_says_idle_when_only_a_human_can_move_the_tasks_on(engine: Engine) -> None:
    _project_id, tasks = project_with(engine, SPECS[:1])
    engine.set_task_status(tasks[0].id, TaskStatus.RUNNING, actor="claude", assigned_to="claude")
    engine.set_task_status(tasks[0].id, TaskStatus.AWAITING_HUMAN, actor="claude")
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: app.scheduler_state == "running", "the scheduler works")
        await pilot.pause()
        summary = board.query_one(BoardProgress).summary
        assert summary is not None and summary.scheduler == "idle"


async def test_the_sidebar_and_the_board_count_the_same_with_a_cancelled_task(engine: Engine) -> None:
    project_id, _tasks = finished_but_one_cancelled(engine)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        summary = board.query_one(BoardProgress).summary
        assert summary is not None and (summary.done, summary.total) == (3, 3)
        await pilot.press("1")
        await wait_until(pilot, lambda: bool(app.screen.query("#project-list")), "the Plan screen")
        options = app.screen.query_one("#project-list", OptionList)
        await wait_until(pilot, lambda: options.option_count > 1, "the project listed")
        prompt = str(options.get_option(f"project-{project_id}").prompt)
        assert "3/3 done · 1 cancelled" in prompt


async def test_a_cancelled_card_sits_under_a_header_that_names_it(engine: Engine) -> None:
    _project_id, tasks = project_with(engine, SPECS)
    engine.set_task_status(tasks[3].id, TaskStatus.CANCELLED, actor="human")
    app = OrkestraApp(engine)
    async with app.run_test(size=(200, 30)) as pilot:
        board = await open_board(app, pilot)
        failed = board.query_one("#column-failed", TaskList)
        assert [card.title for card in failed.tasks] == ["User guide"]
        assert failed.border_title == "1 Failed/Blocked/Cancelled"
        assert failed.border_subtitle == "1 cancelled"
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert failed.border_title == "1 Stopped"


# ------------------------------------------------------------------ `status`


def test_status_names_each_status_as_its_json_does(engine: Engine, paths: Paths) -> None:
    _project_id, tasks = project_with(engine, SPECS)  # two ready, two pending
    engine.set_task_status(tasks[3].id, TaskStatus.CANCELLED, actor="human")
    finish(engine, tasks[1])
    engine.close()

    def status(*extra: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "orkestra_tui", "--data-dir", str(paths.config_dir), "status", *extra],
            capture_output=True,
            text=True,
            check=False,
            env={"COLUMNS": "200", "PATH": ""},
        )
        assert (result.returncode, result.stderr) == (0, "")
        return result.stdout

    (project,) = json.loads(status("--json"))["projects"]
    assert {name: count for name, count in project["tasks"].items() if count} == {
        "ready": 1,
        "pending": 1,
        "done": 1,
        "cancelled": 1,
    }
    assert project["progress"] == {"done": 1, "total": 3, "cancelled": 1}
    lines = status().splitlines()
    header = next(line for line in lines if line.startswith("project"))
    row = next(line for line in lines if line.startswith("Shop"))
    assert header.split() == ["project", "status", "pending", "ready", "done", "cancelled", "progress"]
    assert row.split() == ["Shop", "active", "1", "1", "1", "1", "1/3"]


# ------------------------------------------------------------------ the task detail


def test_the_detail_counts_attempts_as_runs_and_the_note_counts_calls(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    def failing(_request: ProviderRequest, _index: int) -> ProviderError:
        return ProviderError("server", "simulated server", retry_after=0.1)

    agent = AgentSettings(name="claude", provider="anthropic", model="claude-1", specialties={"code": 0.9})
    tuned = replace(settings, agents=(agent,), engine=replace(settings.engine, circuit_failures=100))
    engine = Engine(paths, tuned, clock=clock, env={})

    async def advance(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    engine.sleep = advance
    engine.use_provider("claude", ScriptedProvider(failing))
    try:
        project_id, (task,) = project_with(engine, SPECS[:1])
        asyncio.run(Scheduler(engine, reviewers=0).run(project_id))
        detail = read_task_detail(engine.store, task.id)
        assert detail is not None and detail.task.status is TaskStatus.FAILED
        runs = len(detail.attempts)
        assert runs > 1 and detail.task.attempts == runs  # each run of the task, however many calls
        heading = heading_text(detail).plain
        assert f"{runs} attempt{'s' * (runs != 1)}" in heading
        assert "claude failed after 3 calls" in detail.task.note
        assert "attempt" not in detail.task.note
    finally:
        engine.close()


# ------------------------------------------------------------------ `run`'s summary


def test_the_run_summary_counts_progress_as_the_board_does(capsys: pytest.CaptureFixture[str]) -> None:
    from orkestra_tui.commands.run_display import print_summary

    statuses = ["done", "done", "cancelled"]
    document = {
        "projects": [{"id": 1, "name": "Shop", "status": "active", "tasks": len(statuses)}],
        "tasks": [
            {"id": n, "project_id": 1, "status": status, "key": f"t{n}", "title": f"Task {n}", "note": ""}
            for n, status in enumerate(statuses)
        ],
        "counts": {status.value: statuses.count(status.value) for status in TaskStatus},
        "run": {},
        "cost_usd": 0.0,
        "calls": 0,
        "tokens": 0,
        "seconds": 0.0,
    }
    print_summary(document)
    assert capsys.readouterr().out.startswith('Project 1 "Shop" (active): 2 of 2 tasks done · 1 cancelled\n')
