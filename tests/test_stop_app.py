"""Quitting the app mid-run keeps the results already produced.

The Board's run is started with `r`; one task's agent answers and the task
goes to review, whose call never answers; another task's agent never answers.
Quitting (ctrl+q) cancels the scheduler: the task in review keeps its result
and stays in review, the other goes back to ready, and each unanswered call is
recorded as interrupted. The next run reviews the kept task without calling
its agent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fakes import ScriptedProvider
from textual.pilot import Pilot

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import Priority, ProjectStatus, TaskSpec, TaskStatus
from orkestra_tui.providers.base import ProviderRequest, ProviderResponse
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.board import BoardScreen

RESULT = "# Done\n\nThe cart, written.\n"
REVIEW = '{"verdict": "approve", "comments": "Good."}'


class Stalling(ScriptedProvider):
    """Answers at once, except the requests `stalls` picks: those never get an answer while `stalling`."""

    def __init__(self, stalls: Callable[[ProviderRequest], bool]) -> None:
        super().__init__(lambda request, _index: REVIEW if request.purpose == "review" else RESULT)
        self.stalls = stalls
        self.stalling = True

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        if self.stalling and self.stalls(request):
            self.requests.append(request)
            await asyncio.Event().wait()  # cancelled when the app quits
        return await super().complete(request)


def stalls(request: ProviderRequest) -> bool:
    return request.purpose == "review" or request.context.get("title") == "Search items"


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"never happened: {what}")


def task_calls(engine: Engine, task_id: int) -> list[str]:
    """The states of the task calls (the worker's, not the reviews') made for a task."""
    return [
        state
        for (state,) in engine.store.query(
            "SELECT state FROM call WHERE task_id = ? AND purpose = 'task' ORDER BY id", (task_id,)
        )
    ]


async def test_quitting_keeps_a_task_in_review_and_puts_the_running_one_back(engine: Engine) -> None:
    providers = {name: Stalling(stalls) for name in engine.runtimes}
    for name, provider in providers.items():
        engine.use_provider(name, provider)
    project = engine.create_project("Shop")
    cart, search = engine.add_tasks(
        project.id,
        [
            TaskSpec("Write the cart", "Add, remove, total.", "code", Priority.HIGH, "Core", "cart"),
            TaskSpec("Search items", "Full-text search.", "code", Priority.NORMAL, "Core", "search"),
        ],
    )
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)

    app = OrkestraApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.body_ready, "board"
        )
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: (
                engine.task(cart.id).status is TaskStatus.REVIEW
                and any(request.purpose == "review" for p in providers.values() for request in p.requests)
                and engine.task(search.id).status is TaskStatus.RUNNING
            ),
            "the cart in review, the search with its agent",
        )
        await pilot.press("ctrl+q")
    assert not app.is_running

    kept = engine.task(cart.id)
    assert (kept.status, kept.result, kept.lease_owner) == (TaskStatus.REVIEW, RESULT, None)
    assert kept.artifact
    back = engine.task(search.id)
    assert (back.status, back.lease_owner) == (TaskStatus.READY, None)
    outcomes = dict(engine.store.query("SELECT task_id, outcome FROM task_attempt"))
    assert outcomes == {cart.id: "review", search.id: "interrupted"}
    assert task_calls(engine, cart.id) == ["complete"]
    assert task_calls(engine, search.id) == ["interrupted"]
    reviews = engine.store.query("SELECT state FROM call WHERE purpose = 'review'")
    assert reviews and {state for (state,) in reviews} == {"interrupted"}

    for provider in providers.values():
        provider.stalling = False
    summary = await Scheduler(engine).run(project.id)

    assert summary.stopped == "nothing left to do"
    assert engine.task(cart.id).status is TaskStatus.DONE and engine.task(search.id).status is TaskStatus.DONE
    assert task_calls(engine, cart.id) == ["complete"]  # reviewed again, not redone
    assert task_calls(engine, search.id) == ["interrupted", "complete"]
