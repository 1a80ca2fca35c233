"""Where the app opens, and what it says when a key has nothing to act on: badges, notices, names."""

from __future__ import annotations

from collections.abc import Callable

from fakes import ScriptedProvider
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import DataTable

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import DecisionStatus, InboxKind, ProjectStatus, TaskSpec, TaskStatus
from orkestra_tui.engine.planning.planning import Brief, Planner
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.board import BoardScreen
from orkestra_tui.tui.screens.health import HealthScreen
from orkestra_tui.tui.screens.new_question import NewQuestionScreen
from orkestra_tui.tui.screens.plan import PlanScreen
from orkestra_tui.tui.screens.voting import VotingScreen
from orkestra_tui.tui.widgets.decision_list import OPTION_PREFIX, DecisionList
from orkestra_tui.tui.widgets.key_bar import KeyBar
from orkestra_tui.tui.widgets.mode_bar import ModeBar

SIZE = (120, 30)


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"never happened: {what}")


def notices(app: OrkestraApp) -> list[str]:
    return [notification.message for notification in app._notifications]


def escalated(engine: Engine) -> int:
    """A project with two tasks; the second one's review escalated to the human. Its task id."""
    project = engine.create_project("Shop")
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    tasks = engine.add_tasks(
        project.id, [TaskSpec("Write the cart", "Add items."), TaskSpec("Search", "Find.")]
    )
    task = tasks[1]
    for status in (TaskStatus.RUNNING, TaskStatus.AWAITING_HUMAN):
        engine.set_task_status(task.id, status, actor="claude", assigned_to="claude")
    engine.inbox.ask(
        InboxKind.TASK_REVIEW, "Approve, redo or cancel 'Search'", {"task_id": task.id}, project_id=project.id
    )
    return task.id


async def test_relaunching_mid_plan_opens_the_plan_at_its_step(engine: Engine) -> None:
    finished = engine.create_project("Old shop")
    engine.set_project_status(finished.id, ProjectStatus.ACTIVE)
    project_id = (
        Planner(engine).start(Brief(name="Blog", description="A blog.", agents=("claude",))).project_id
    )
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.body_ready, "plan")
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        await wait_until(pilot, lambda: screen.project_id == project_id, "the plan under way")
        # The plan goes on at once (its agents answer in no time): any step of it, not the brief.
        assert screen.pane in ("proposals", "vote", "synthesis", "review")


async def test_with_no_plan_under_way_the_app_opens_on_the_board(engine: Engine) -> None:
    project = engine.create_project("Shop")
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.current_mode == "board"


async def test_an_escalated_review_has_a_badge_and_ctrl_r_opens_it(engine: Engine) -> None:
    task_id = escalated(engine)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.reviews_waiting == 1, "the count")
        await pilot.pause()
        assert "1 review waiting" in str(app.screen.query_one(ModeBar).render())
        await pilot.press("ctrl+r")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, BoardScreen) and app.screen.detail_task_id == task_id,
            "detail",
        )
        board = app.screen
        assert isinstance(board, BoardScreen)
        assert board.highlighted is not None and board.highlighted.id == task_id
        await pilot.press("y")  # approving it answers the question: the badge goes
        await wait_until(pilot, lambda: app.reviews_waiting == 0, "the badge gone")
        assert "review" not in str(board.query_one(ModeBar).render())


async def test_ctrl_t_and_ctrl_r_with_nothing_waiting_say_so(engine: Engine) -> None:
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert notices(app) == ["No tie-break is waiting for you.", "No review is waiting for you."]


def test_the_board_names_n_send_back_as_its_dialog_does() -> None:
    names = {binding.description for binding in BoardScreen.BINDINGS if isinstance(binding, Binding)}
    assert "Send back" in names and "Reject" not in names


async def test_h_and_f_on_a_decided_vote_say_why_they_do_nothing(sample_engine: Engine) -> None:
    decided = next(d for d in sample_engine.decisions() if d.status is DecisionStatus.DECIDED)
    app = OrkestraApp(sample_engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, VotingScreen) and app.screen.body_ready, "voting"
        )
        decision_list = app.screen.query_one(DecisionList)
        decision_list.focus()
        decision_list.highlighted = [o.id for o in decision_list.options].index(
            f"{OPTION_PREFIX}{decided.id}"
        )
        await wait_until(
            pilot, lambda: decision_list.highlighted_decision_id == decided.id, "the decided vote"
        )
        await pilot.press("h", "f")
        await pilot.pause()
        assert notices(app) == [
            "This vote is over (decided): it takes no more ballot.",
            "This vote is over (decided): it takes no more feedback.",
        ]


async def test_the_new_question_dialog_shows_its_own_keys(engine: Engine) -> None:
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, VotingScreen) and app.screen.body_ready, "voting"
        )
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewQuestionScreen), "the dialog")
        await pilot.pause()
        key_bar = str(app.screen.query_one(KeyBar).render())
        assert "Put to the committee" in key_bar and "New question" not in key_bar


async def test_t_on_health_marks_the_row_testing_at_once(engine: Engine) -> None:
    provider = ScriptedProvider(lambda _request, _index: "pong")
    provider.blocking = True
    engine.use_provider("claude", provider)
    app = OrkestraApp(engine, first_mode="health")
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, HealthScreen) and app.screen.body_ready, "health"
        )
        table = app.screen.query_one("#agents", DataTable)
        await pilot.press("t")
        assert str(table.get_row("claude")[1]) == "testing…"  # before the call has answered
        await wait_until(pilot, lambda: bool(provider.requests), "the call")
        provider.release.set()
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: str(table.get_row("claude")[1]) != "testing…", "the status back")
