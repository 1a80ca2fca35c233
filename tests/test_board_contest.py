"""Contests on the Board from the keyboard: c sets one with its cost first, the entries, d, v.

A real engine on a temporary data dir; the contests are run by a real scheduler with scripted
agents of three vendors (`demo.contest`, or `test_contest`'s contestants for hostile text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from repos import make_repository
from test_board import column, open_board, wait_until
from test_contest import by_author, contestant
from test_scheduler import active_project, cast, scripted_engine, spec
from textual.widgets import Static

from orkestra_tui.config import Paths, Settings
from orkestra_tui.demo.contest import contest_project, entry_text
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.contest.view import ContestState
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.providers.base import ProviderRequest
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.board import BoardScreen
from orkestra_tui.tui.screens.contest_dialog import ContestScreen
from orkestra_tui.tui.screens.contest_diff import ContestDiffScreen
from orkestra_tui.tui.screens.voting import VotingScreen
from orkestra_tui.tui.widgets.decision_detail import DecisionDetail
from orkestra_tui.tui.widgets.task_list import card_lines

SIZE = (100, 30)
AGENTS = ("claude", "chatgpt", "gemini")
HOSTILE_ENTRY = "# Mine\n\n[bold]not bold[/] \x1b[31mred\x1b[0m by chatgpt, really\n"


@pytest.fixture
def scripted(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    """Three real agents of three vendors, priced, so that estimates and entries cost something."""
    engine = scripted_engine(paths, settings, clock, price=3.0)
    yield engine
    engine.close()


def rendered(widget: Static) -> str:
    return str(widget.render())


async def highlight(board: BoardScreen, pilot: object, column_id: str, title: str) -> None:
    task_list = column(board, column_id)
    task_list.focus()
    task_list.cursor = next(at for at, card in enumerate(task_list.tasks) if card.title == title)
    await pilot.pause()  # type: ignore[attr-defined]


# ------------------------------------------------------------------ c


async def test_c_shows_the_agents_and_the_cost_then_sets_the_contest(scripted: Engine) -> None:
    cast(scripted)
    _project, (task_id,) = active_project(scripted, spec("Write the intro", category="writing"))
    scripted.set_budget(_project, 2.0)
    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        await highlight(board, pilot, "ready", "Write the intro")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ContestScreen), "the contest dialog")
        dialog = app.screen
        assert isinstance(dialog, ContestScreen) and dialog.agents == 3
        shown = rendered(dialog.query_one("#contest-estimate", Static))
        estimate = scripted.contest_estimate(task_id, 3)
        assert "Entries by " + ", ".join(estimate.agents) in shown
        assert "3 entries × ~$" in shown and f"= ~${estimate.total:,.3f}" in shown
        assert "one round ~$" in shown and "Budget left $2.00 of $2.00" in shown
        await pilot.press("minus")
        assert dialog.agents == 2
        assert "2 entries × ~$" in rendered(dialog.query_one("#contest-estimate", Static))
        await pilot.press("minus")  # no fewer than two
        assert dialog.agents == 2
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is board, "the Board again")
        view = scripted.contest(task_id)
        assert view is not None and view.agents == 2 and view.state is ContestState.SET
        await wait_until(pilot, lambda: column(board, "ready").contests.get(task_id) == "⚔2", "the mark")


async def test_c_again_turns_the_contest_off_and_esc_changes_nothing(scripted: Engine) -> None:
    cast(scripted)
    _project, (task_id,) = active_project(scripted, spec("Write the intro"))
    scripted.set_task_contest(task_id, 3)
    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        await highlight(board, pilot, "ready", "Write the intro")
        assert column(board, "ready").contests == {task_id: "⚔3"}
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ContestScreen), "the contest dialog")
        assert "Set now: a contest of 3" in rendered(app.screen.query_one("#contest-count", Static))
        await pilot.press("minus", "escape")
        await wait_until(pilot, lambda: app.screen is board, "the Board again")
        view = scripted.contest(task_id)
        assert view is not None and view.agents == 3
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ContestScreen), "the contest dialog")
        await pilot.press("o")
        await wait_until(pilot, lambda: app.screen is board, "the Board again")
        assert scripted.contest(task_id) is None
        await wait_until(pilot, lambda: not column(board, "ready").contests, "the mark gone")


async def test_c_is_not_offered_once_the_task_has_run(scripted: Engine) -> None:
    await contest_project(scripted)
    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        await highlight(board, pilot, "done", "Write the README intro")
        assert board.check_action("contest", ()) is False
        await highlight(board, pilot, "ready", "Write the user guide")
        assert board.check_action("contest", ()) is True


def test_the_card_marks_a_contest_within_its_width() -> None:
    from orkestra_tui.engine.models import Priority, TaskStatus
    from orkestra_tui.engine.store.store import TaskCard

    card = TaskCard(1, TaskStatus.DONE, Priority.NORMAL, "", "Intro", "gemini", None, "", 0.0)
    _title, detail = card_lines(card, contest="⚔3→B")
    assert detail.plain == "▍⚔3→B gemini"


# ------------------------------------------------------------------ the entries


async def test_the_detail_shows_the_entries_side_by_side_and_the_winner(scripted: Engine) -> None:
    _project, won, _later = await contest_project(scripted)
    view = scripted.contest(won)
    assert view is not None and view.winner is not None and view.decision_id is not None
    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        assert column(board, "done").contests.get(won) == f"⚔3→{view.winner}"
        board.show_task(won)
        change = board.query_one("#task-detail-change", Static)
        await wait_until(pilot, lambda: change.display and "Contest" in rendered(change), "the contest")
        shown = rendered(change)
        for entry in view.entries:
            assert f"Entry {entry.letter}" in shown and entry.agent in shown
            assert f"${entry.cost:.3f}" in shown
        winner = view.entry(view.winner)
        assert winner is not None and f"★ Entry {view.winner} ({winner.agent})" in shown
        assert f"decision {view.decision_id}" in shown and "won" in shown


async def test_d_opens_every_entry_in_turn(scripted: Engine) -> None:
    _project, won, _later = await contest_project(scripted)
    view = scripted.contest(won)
    assert view is not None
    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        board.show_task(won)
        await pilot.pause()
        await pilot.press("d")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ContestDiffScreen) and app.screen.loaded, "the entry"
        )
        screen = app.screen
        assert isinstance(screen, ContestDiffScreen)
        seen = {}
        for _ in view.entries:
            await wait_until(pilot, lambda: screen.loaded, "the entry read")
            seen[screen.letter] = rendered(screen.query_one("#diff-summary", Static))
            await pilot.press("e")
        assert set(seen) == {entry.letter for entry in view.entries}
        for entry in view.entries:
            assert f"Written by {entry.agent}." in seen[entry.letter]
        assert screen.letter == view.winner  # round again, to the winner it opened on


async def test_an_entry_is_shown_literally(scripted: Engine) -> None:
    prefers = by_author("claude", "gemini", "chatgpt")
    scripts = {name: contestant(name, prefers) for name in ("claude", "gemini")}
    scripts["chatgpt"] = contestant("chatgpt", by_author("claude", "gemini"), result=HOSTILE_ENTRY)
    cast(scripted, scripts)
    _project, (task_id,) = active_project(scripted, spec("Write the intro"))
    scripted.set_task_contest(task_id, 3)
    await Scheduler(scripted).run()
    view = scripted.contest(task_id)
    assert view is not None
    hostile = next(entry for entry in view.entries if entry.agent == "chatgpt")
    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        board.show_task(task_id)
        await pilot.pause()
        await pilot.press("d")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ContestDiffScreen) and app.screen.loaded, "the entry"
        )
        screen = app.screen
        assert isinstance(screen, ContestDiffScreen)
        while screen.letter != hostile.letter:
            await pilot.press("e")
            await wait_until(pilot, lambda: screen.loaded, "the next entry")
        await wait_until(pilot, lambda: screen.loaded, "the hostile entry")
        text = screen.query_one("#diff-summary", Static).render()
        assert "[bold]not bold[/]" in str(text) and "\\x1b[31m" in str(text)
        assert "\x1b" not in str(text)


async def test_v_opens_the_contests_vote_on_the_voting_screen(scripted: Engine) -> None:
    _project, won, _later = await contest_project(scripted)
    view = scripted.contest(won)
    assert view is not None and view.decision_id is not None
    decision = next(d for d in scripted.decisions() if d.id == view.decision_id)
    assert decision.category == "contest"
    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        await highlight(board, pilot, "done", "Write the README intro")
        await pilot.press("v")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, VotingScreen)
                and app.screen.body_ready
                and app.screen.query_one(DecisionDetail).decision_id == view.decision_id
            ),
            "the contest's vote",
        )


def test_the_sample_entries_differ_by_author() -> None:
    assert entry_text("gemini") != entry_text("claude")
    assert "by gemini." in entry_text("gemini")


async def test_d_in_a_repository_shows_each_entrys_diff(scripted: Engine, tmp_path: Path) -> None:
    def writer(agent: str) -> Callable[[ProviderRequest, int], str]:
        vote = contestant(agent, by_author("claude", "gemini", "chatgpt"))

        def script(request: ProviderRequest, index: int) -> str:
            if request.purpose in ("review", "ballot"):
                return str(vote(request, index))
            body = f"by {agent}, with care.\n"
            return f"Wrote it.\n\n```markdown file=docs/{agent}.md\n{body}```\n"

        return script

    cast(scripted, {name: writer(name) for name in ("claude", "chatgpt", "gemini")})
    repo = make_repository(tmp_path / "docs", {"README.md": "# Docs\n"})
    project_id, (task_id,) = active_project(scripted, spec("Write the intro"))
    await scripted.link_repository(project_id, repo)
    scripted.set_task_contest(task_id, 3)
    await Scheduler(scripted).run()
    view = scripted.contest(task_id)
    assert view is not None and view.entries, view
    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        board.show_task(task_id)
        change = board.query_one("#task-detail-change", Static)
        await wait_until(pilot, lambda: "Contest" in rendered(change), "the contest")
        assert "1 file +1 −0" in rendered(change)
        await pilot.press("d")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ContestDiffScreen) and app.screen.loaded, "the entry"
        )
        screen = app.screen
        assert isinstance(screen, ContestDiffScreen) and not screen.markdown
        for _ in view.entries:
            await wait_until(pilot, lambda: screen.loaded, "the entry read")
            entry = view.entry(screen.letter)
            assert entry is not None
            assert [diff_file.path for diff_file in screen.files] == [f"docs/{entry.agent}.md"]
            await pilot.press("e")
        await wait_until(pilot, lambda: screen.loaded, "the last entry read")


async def test_the_detail_follows_a_contest_run_by_the_app(scripted: Engine) -> None:
    cast(scripted, {name: contestant(name, by_author("gemini", "claude", "chatgpt")) for name in AGENTS})
    _project, (task_id,) = active_project(scripted, spec("Write the intro"))
    scripted.set_task_contest(task_id, 3)
    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        board.show_task(task_id)
        change = board.query_one("#task-detail-change", Static)
        await wait_until(
            pilot, lambda: "The entries start with the task" in rendered(change), "the set contest"
        )
        await pilot.press("r")
        await wait_until(pilot, lambda: "★ Entry" in rendered(change), "the winner, live")
        view = scripted.contest(task_id)
        assert view is not None and view.state is ContestState.WON
        assert all(f"Entry {entry.letter}" in rendered(change) for entry in view.entries)
        await wait_until(
            pilot, lambda: column(board, "done").contests.get(task_id) == f"⚔3→{view.winner}", "card"
        )


def notes(app: OrkestraApp) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


async def test_a_task_that_moved_on_meanwhile_gets_one_line_not_a_contest(scripted: Engine) -> None:
    cast(scripted)
    _project, (task_id,) = active_project(scripted, spec("Write the intro"))
    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        await highlight(board, pilot, "ready", "Write the intro")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ContestScreen), "the contest dialog")
        scripted.cancel_task(task_id)  # from elsewhere, while the dialog is open
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is board, "the Board again")
        await wait_until(
            pilot, lambda: any("only before the task starts" in note for note in notes(app)), "why"
        )
        assert scripted.contest(task_id) is None and app.is_running


async def test_c_with_fewer_than_two_agents_at_hand_says_so(scripted: Engine) -> None:
    cast(scripted)
    active_project(scripted, spec("Write the intro"))
    for name in ("chatgpt", "gemini"):
        scripted.set_agent_enabled(name, False)
    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        await highlight(board, pilot, "ready", "Write the intro")
        await pilot.press("c")
        await wait_until(pilot, lambda: any("at least 2 agents" in note for note in notes(app)), "why not")
        assert app.screen is board


async def test_the_palette_and_the_help_name_the_contest_keys(scripted: Engine) -> None:
    from textual.binding import Binding

    from orkestra_tui.tui.palette import screen_actions
    from orkestra_tui.tui.screens.help import HelpScreen

    app = OrkestraApp(scripted, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        await open_board(app, pilot)
        commands = {(action.text, action.help) for action in screen_actions(app)}
        assert ("Board: Contest", "key c on the Board screen") in commands
        assert ("Board: Contest vote", "key v on the Board screen") in commands
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        board_keys = dict(help_screen.sections)["Board"]
        listed = {
            (binding.key, binding.description) for binding in board_keys if isinstance(binding, Binding)
        }
        assert {("c", "Contest"), ("v", "Contest vote")} <= listed
