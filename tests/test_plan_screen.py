"""The planning wizard from the keyboard: brief, proposals, vote with a tie-break, review, approval."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fakes import ScriptedProvider, committee_member, garbage, vote_until_the_tie_break
from fresh import current_focus
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, SelectionList, Static, TextArea

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Involvement, ProjectStatus, TaskStatus
from orkestra_tui.engine.planning.planning import Brief, Planner, PlanStep
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.plan import PlanScreen
from orkestra_tui.tui.screens.prompt import ConfirmScreen, TextPromptScreen
from orkestra_tui.tui.screens.round_feedback import RoundFeedbackScreen
from orkestra_tui.tui.screens.tie_break import TieBreakScreen
from orkestra_tui.tui.widgets.plan_brief import BriefForm
from orkestra_tui.tui.widgets.plan_proposals import ProposalCard
from orkestra_tui.tui.widgets.plan_review import PlanTree

SIZE = (100, 32)
AGENTS = ("claude", "chatgpt")


@pytest.fixture
def committee(engine: Engine) -> Engine:
    """Two scripted agents (the others disabled) whose plans tie in every round."""
    for agent in engine.agents():
        if agent.name not in AGENTS:
            engine.set_agent_enabled(agent.name, False)
    for name in AGENTS:
        engine.use_provider(name, ScriptedProvider(committee_member(name)))
    return engine


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    for _ in range(400):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"never happened: {what}")


def shown(app: OrkestraApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def brief(**changes: object) -> Brief:
    values: dict[str, object] = {"name": "Shop", "description": "A small shop.", "agents": AGENTS}
    values.update(changes)
    return Brief(**values)  # type: ignore[arg-type]  # Brief fields by name; the constructor checks them


async def plan_to_review(engine: Engine) -> int:
    """A plan taken to its review step (the tie broken by the first plan); its project's id."""
    planner = Planner(engine)
    project_id = planner.start(brief()).project_id
    await planner.advance(project_id, tie_break="first")
    return project_id


async def until_the_review(pilot: Pilot[None], app: OrkestraApp) -> PlanScreen:
    screen = app.screen
    assert isinstance(screen, PlanScreen)
    await wait_until(pilot, lambda: screen.pane == "review", "the review")
    return screen


async def test_the_whole_wizard_from_the_keyboard_with_a_tie_break(committee: Engine) -> None:
    app = OrkestraApp(committee)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # from the form into its first field
        assert isinstance(app.focused, Input) and app.focused.id == "brief-name"
        await pilot.press(*"Shop", "enter", *"Sell online", "tab", *"Python only", "tab")
        # The brief's second page: the description, then the features.
        await pilot.press(*"A small shop.", "tab")
        await pilot.press(*"cart", "enter", *"search", "enter", *"oops", "enter")
        await pilot.press("tab", "end", "delete")  # into the features list; the last one goes
        assert str(list(app.screen.query_one("#brief-features", OptionList).options)[-1].prompt) == "• search"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, TieBreakScreen), "the tie-break modal")
        await pilot.press("2", "enter")
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        await wait_until(pilot, lambda: screen.pane == "review", "the review")
        project_id = screen.project_id
        assert project_id is not None
        planner = Planner(committee)
        session = planner.session(project_id)
        assert session.brief.features == ("cart", "search") and session.brief.goals == "Sell online"
        assert session.brief.involvement is Involvement.CHECKPOINTS
        assert session.decision_id is not None
        decision = committee.store.decision(session.decision_id)
        assert decision is not None and decision.outcome is not None
        assert decision.outcome["how"] == "human tie-break"
        assert "+ Test the API" in shown(app, "#review-changes")

        # Edit the first task's title inline.
        await pilot.pause()
        assert app.screen.query_one(PlanTree).task_key == "t1"
        await pilot.press("e")
        assert isinstance(app.focused, Input) and app.focused.id == "edit-title"
        await pilot.press("ctrl+u", *"Set up the repo", "ctrl+s")
        await pilot.pause()
        plan = planner.session(project_id).plan
        assert plan is not None and plan["phases"][0]["tasks"][0]["title"] == "Set up the repo"
        assert isinstance(current_focus(app), PlanTree)

        # Delete the docs task, add one that depends on the API.
        await wait_until(pilot, lambda: app.screen.query_one(PlanTree).task_key == "t1", "the cursor on t1")
        await pilot.press("down", "down", "down")
        assert app.screen.query_one(PlanTree).task_key == "t3"
        await pilot.press("d", "y")  # confirmed, as the Board confirms a cancel
        await pilot.press("a")
        assert isinstance(app.focused, Input) and app.focused.id == "edit-phase"
        await pilot.press(
            "tab", *"Ship it", "tab", *"Deploy to production.", "tab", "tab", *"t2 t4", "ctrl+s"
        )
        await pilot.pause()
        plan = planner.session(project_id).plan
        assert plan is not None
        titles = [task["title"] for phase in plan["phases"] for task in phase["tasks"]]
        assert "Write the docs" not in titles and "Ship it" in titles

        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.pane == "done", "the plan generated")
        tasks = committee.tasks(project_id)
        assert sorted(task.title for task in tasks) == [
            "Set up the repo",
            "Ship it",
            "Test the API",
            "Write the API",
        ]
        by_title = {task.title: task for task in tasks}
        assert set(by_title["Ship it"].depends_on) == {
            by_title["Write the API"].id,
            by_title["Test the API"].id,
        }
        assert {task.phase for task in tasks} == {"Foundations", "Polish"}
        assert by_title["Set up the repo"].status is TaskStatus.READY
        stored_project = committee.store.project(project_id)
        assert stored_project is not None and stored_project.status is ProjectStatus.ACTIVE
        assert "4 tasks in 2 phases are on the Board" in shown(app, "#done-text")


async def test_an_empty_name_or_no_agent_blocks_next_beside_the_field(committee: Engine) -> None:
    app = OrkestraApp(committee)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.screen.query_one(BriefForm).show_page(3)
        agents = app.screen.query_one("#brief-agents", SelectionList)
        agents.deselect_all()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "a project needs a name" in shown(app, "#name-error")
        assert "choose at least one agent" in shown(app, "#agents-error")
        assert app.focused is app.screen.query_one("#brief-name")
        assert committee.projects() == []


async def test_a_name_already_taken_is_refused_in_the_engines_words(committee: Engine) -> None:
    committee.create_project("Shop")
    app = OrkestraApp(committee, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n", *"Shop", "ctrl+s")
        await pilot.pause()
        assert "already exists" in shown(app, "#name-error")
        assert len(committee.projects()) == 1


async def test_a_100_kb_description_is_accepted_and_the_prompt_says_it_was_cut(committee: Engine) -> None:
    provider = ScriptedProvider(committee_member("claude"))
    committee.use_provider("claude", provider)
    app = OrkestraApp(committee)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.screen.query_one(BriefForm).show_page(2)
        app.screen.query_one("#brief-description", TextArea).text = "word " * 20_000
        app.screen.query_one(BriefForm).focus_first()
        await pilot.press(*"Big", "ctrl+s")
        await wait_until(pilot, lambda: bool(provider.requests), "a plan request")
        session = Planner(committee).session(committee.projects()[0].id)
        assert len(session.brief.description) == 100_000
        assert "The description was cut from 100,000" in provider.requests[0].messages[0].content


async def test_reject_sends_every_agent_back_to_draft_with_the_feedback(committee: Engine) -> None:
    planner = Planner(committee)
    project_id = await plan_to_review(committee)
    providers = {name: ScriptedProvider(committee_member(name)) for name in AGENTS}
    for name, provider in providers.items():
        committee.use_provider(name, provider)
    app = OrkestraApp(committee, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await until_the_review(pilot, app)
        await pilot.press("r")
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press("ctrl+s")
        assert "say what should change" in shown(app, "#prompt-error")
        await pilot.press(*"Fewer phases, please.", "ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, TieBreakScreen), "the new vote's tie-break")
        for provider in providers.values():
            assert "Fewer phases, please." in provider.requests[0].messages[0].content
        assert planner.session(project_id).feedback == ("Fewer phases, please.",)


async def test_when_every_agent_fails_the_cards_say_why_and_enter_asks_again(committee: Engine) -> None:
    for name in AGENTS:
        committee.use_provider(name, ScriptedProvider(garbage))
    app = OrkestraApp(committee)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", *"Shop", "ctrl+s")
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        await wait_until(
            pilot, lambda: "No agent produced a valid plan" in shown(app, "#proposals-footer"), "the failure"
        )
        cards = [card.card for card in app.screen.query(ProposalCard)]
        assert [card.state for card in cards if card] == ["failed", "failed"]
        assert "invalid plan twice" in str(app.screen.query(ProposalCard).first().render())
        assert committee.tasks() == []
        for name in AGENTS:
            committee.use_provider(name, ScriptedProvider(committee_member(name)))
        await pilot.press("escape")  # out of any field, onto the wizard
        screen.query_one("#proposals").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TieBreakScreen), "the vote, this time")


async def test_hands_on_waits_for_a_go_ahead_and_asks_for_feedback_between_rounds(committee: Engine) -> None:
    planner = Planner(committee)
    project_id = planner.start(brief(involvement=Involvement.HANDS_ON)).project_id
    app = OrkestraApp(committee, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        await wait_until(pilot, lambda: planner.session(project_id).step is PlanStep.VOTE, "the proposals")
        await wait_until(pilot, lambda: "Enter puts them" in shown(app, "#proposals-footer"), "the pause")
        assert not app.planning_running(project_id)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RoundFeedbackScreen), "the feedback request")
        await pilot.press(*"Think about cost.", "ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, TieBreakScreen), "the tie-break")
        await pilot.press("1", "enter")
        await wait_until(pilot, lambda: screen.pane == "synthesis", "the pause before the synthesis")
        assert "Enter asks the chair" in shown(app, "#synthesis-text")
        session = planner.session(project_id)
        assert session.decision_id is not None
        feedback = committee.store.feedback(session.decision_id)
        assert [item.text for item in feedback] == ["Think about cost."]
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.pane == "review", "the review")


async def test_a_plan_resumes_at_its_step_when_the_app_opens_again(committee: Engine) -> None:
    project_id = await plan_to_review(committee)
    calls = len(committee.store.calls())
    app = OrkestraApp(committee, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await until_the_review(pilot, app)
        assert screen.project_id == project_id
        assert app.screen.query_one(PlanTree).task_key in {"t1", None}
    assert len(committee.store.calls()) == calls  # nothing paid for twice


async def test_a_vote_under_way_goes_on_when_the_app_opens(committee: Engine) -> None:
    planner = Planner(committee)
    project_id = planner.start(brief()).project_id
    await planner.propose(project_id)
    await vote_until_the_tie_break(committee, project_id)  # the app closed while the committee waited
    app = OrkestraApp(committee, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        await wait_until(pilot, lambda: screen.pane == "vote", "the vote")
        # Resumed once the screen's content is on show.
        await wait_until(pilot, lambda: app.planning_running(project_id), "the vote resumed")
        await pilot.press("ctrl+t")
        assert isinstance(app.screen, TieBreakScreen)
        await pilot.press("1", "enter")
        await wait_until(pilot, lambda: screen.pane == "review", "the review")


async def test_cancel_archives_the_project_after_a_confirmation(committee: Engine) -> None:
    planner = Planner(committee)
    project_id = await plan_to_review(committee)
    app = OrkestraApp(committee, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await until_the_review(pilot, app)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert planner.session(project_id).step is PlanStep.REVIEW
        await pilot.press("x", "y")
        await wait_until(pilot, lambda: screen.pane == "done", "the cancelled plan")
        assert planner.session(project_id).step is PlanStep.CANCELLED
        stored_project = committee.store.project(project_id)
        assert stored_project is not None and stored_project.status is ProjectStatus.ARCHIVED
        assert "cancelled" in shown(app, "#done-text")
