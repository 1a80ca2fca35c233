"""The plan's review: a task's category and acceptance checks, deleting only once confirmed."""

from __future__ import annotations

import pytest
from test_plan_screen import SIZE, brief, committee, plan_to_review, shown, until_the_review, wait_until
from textual.widgets import Select, TextArea

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import Involvement
from orkestra_tui.engine.planning.planning import Planner, PlanStep
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.prompt import ConfirmScreen
from orkestra_tui.tui.screens.proposal_plan import ProposalPlanScreen
from orkestra_tui.tui.widgets.plan_proposals import ProposalCard
from orkestra_tui.tui.widgets.plan_review import PlanTree

__all__ = ["committee"]  # the fixture, shared with the wizard's tests


def task_of(engine: Engine, project_id: int, key: str) -> dict[str, object]:
    plan = Planner(engine).session(project_id).plan
    assert plan is not None
    return next(task for phase in plan["phases"] for task in phase["tasks"] if task["key"] == key)


async def test_a_task_is_edited_with_its_category_and_acceptance_lines(committee: Engine) -> None:
    project_id = await plan_to_review(committee)
    app = OrkestraApp(committee, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await until_the_review(pilot, app)
        await wait_until(pilot, lambda: app.screen.query_one(PlanTree).task_key == "t1", "the cursor on t1")
        await pilot.press("e")
        app.screen.query_one("#edit-category", Select).value = "tests"
        acceptance = app.screen.query_one("#edit-acceptance", TextArea)
        assert acceptance.text == "set up the repository is reviewed"  # the plan's own check, shown
        acceptance.clear()
        acceptance.focus()
        await pilot.press(*"pytest passes", "enter", *"CI is green", "enter", "ctrl+s")
        await pilot.pause()
        task = task_of(committee, project_id, "t1")
        assert task["category"] == "tests"
        assert task["acceptance"] == ["pytest passes", "CI is green"]
        await pilot.press("e")  # the editor shows them again
        assert app.screen.query_one("#edit-category", Select).value == "tests"
        assert app.screen.query_one("#edit-acceptance", TextArea).text == "pytest passes\nCI is green"


async def test_deleting_a_task_asks_first_and_n_keeps_it(committee: Engine) -> None:
    project_id = await plan_to_review(committee)
    app = OrkestraApp(committee, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await until_the_review(pilot, app)
        await wait_until(pilot, lambda: app.screen.query_one(PlanTree).task_key == "t1", "the cursor on t1")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("n")
        await pilot.pause()
        assert task_of(committee, project_id, "t1")["key"] == "t1"
        await pilot.press("delete", "y")
        await pilot.pause()
        plan = Planner(committee).session(project_id).plan
        assert plan is not None
        assert "t1" not in [task["key"] for phase in plan["phases"] for task in phase["tasks"]]


async def test_the_engine_refuses_an_unknown_category(committee: Engine) -> None:
    project_id = await plan_to_review(committee)
    with pytest.raises(EngineError, match="category must be one of"):
        Planner(committee).edit_task(project_id, "t1", category="poetry")


async def test_enter_on_a_proposal_card_shows_its_phases_and_tasks(committee: Engine) -> None:
    planner = Planner(committee)
    project_id = planner.start(brief(involvement=Involvement.HANDS_ON)).project_id
    app = OrkestraApp(committee, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: planner.session(project_id).step is PlanStep.VOTE, "the proposals")
        await wait_until(pilot, lambda: "Enter puts them" in shown(app, "#proposals-footer"), "the pause")
        card = app.screen.query(ProposalCard).first()
        card.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ProposalPlanScreen), "the plan dialog")
        text = shown(app, "#proposal-plan")
        plan = planner.session(project_id).proposals[0].plan
        assert plan is not None
        for phase in plan["phases"]:
            assert phase["name"] in text
            assert all(task["title"] in text for task in phase["tasks"])
        await pilot.press("escape")
        await pilot.pause()
        assert planner.session(project_id).step is PlanStep.VOTE  # looking started nothing
        assert not app.planning_running(project_id)
