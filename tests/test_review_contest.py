"""A contest set on a plan's task in review: the editor's field, its checks, and the contest it becomes."""

from __future__ import annotations

import pytest
from test_flow_review import task_of
from test_plan_screen import SIZE, committee, plan_to_review, until_the_review, wait_until
from textual.widgets import Input, Static

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.execution.contest.view import ContestState
from orkestra_tui.engine.planning.planning import Planner
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.widgets.plan_review import PlanTree

__all__ = ["committee"]  # the fixture, shared with the wizard's tests


async def test_the_editor_sets_a_contest_and_the_approved_task_is_one(committee: Engine) -> None:
    project_id = await plan_to_review(committee)
    app = OrkestraApp(committee, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await until_the_review(pilot, app)
        await wait_until(pilot, lambda: app.screen.query_one(PlanTree).task_key == "t1", "the cursor on t1")
        await pilot.press("e")
        field = app.screen.query_one("#edit-contest", Input)
        assert field.value == ""
        field.focus()
        await pilot.press("1", "ctrl+s")  # one agent is no contest: refused, and said why
        error = app.screen.query_one("#edit-error", Static)
        assert "2 or more" in str(error.render())
        assert task_of(committee, project_id, "t1").get("contest") is None
        await pilot.press("backspace", "2", "ctrl+s")
        await wait_until(pilot, lambda: task_of(committee, project_id, "t1").get("contest") == 2, "saved")
        await pilot.press("e")
        assert app.screen.query_one("#edit-contest", Input).value == "2"
    tasks = Planner(committee).approve(project_id)
    first = next(task for task in tasks if task.key == "t1")
    view = committee.contest(first.id)
    assert view is not None and view.agents == 2 and view.state is ContestState.SET
    assert all(committee.contest(task.id) is None for task in tasks if task.key != "t1")


@pytest.mark.parametrize("size", [1, 99, "3"])
async def test_the_engine_refuses_a_contest_size_that_cannot_be(committee: Engine, size: object) -> None:
    project_id = await plan_to_review(committee)
    with pytest.raises(EngineError, match="contest"):
        Planner(committee).edit_task(project_id, "t1", contest=size)
    Planner(committee).edit_task(project_id, "t1", contest=None)  # one agent again
    assert task_of(committee, project_id, "t1")["contest"] is None


async def test_a_contest_larger_than_the_agents_at_hand_gets_them_all(committee: Engine) -> None:
    project_id = await plan_to_review(committee)
    available = sum(1 for agent in committee.agents() if committee.agent_available(agent.name))
    Planner(committee).edit_task(project_id, "t1", contest=9)
    tasks = Planner(committee).approve(project_id)
    view = committee.contest(next(task.id for task in tasks if task.key == "t1"))
    assert view is not None and view.agents == available
