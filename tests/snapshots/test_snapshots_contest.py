"""Contests on the Board at 80x24 (and the detail at 120x40): cards, entries, the dialog, the diffs.

The data is a real contest (`demo.contest`): three priced agents of three vendors write the
intro of the project Docs, the committee votes, the winner is reviewed and done; a second
task has a contest set and not started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from test_scheduler import scripted_engine
from test_snapshots_80x24 import LARGE, SIZE, body_ready, screen_named, until
from textual.pilot import Pilot
from textual.widgets import Static

from orkestra_tui.config import Paths, Settings
from orkestra_tui.demo.contest import contest_project
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.tui.app import OrkestraApp

RunBefore = Callable[[Pilot[None]], object]


@pytest.fixture
def contest_engine(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = scripted_engine(paths, settings, clock, price=3.0)
    yield engine
    engine.close()


def contested(engine: Engine) -> tuple[int, int]:
    """The Docs project's run: the won contest's task id, and the one set to run later."""
    _project, won, later = asyncio.run(contest_project(engine))
    return won, later


def board_with(engine: Engine, task_id: int, *keys: str, wanted: str = "") -> tuple[OrkestraApp, RunBefore]:
    """The Board, the task's detail open, then KEYS pressed (and the screen WANTED, if one)."""
    app = OrkestraApp(engine, first_mode="board")

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))
        board = app.screen
        board.show_task(task_id)  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press(*keys)
        if wanted:
            await until(pilot, lambda: screen_named(pilot, wanted) and getattr(app.screen, "loaded", True))
        await pilot.pause(0.1)

    return app, run_before


def test_board_cards_of_contests(snap_compare: Callable[..., bool], contest_engine: Engine) -> None:
    """The won contest's card says ⚔3→ its winner; the one set to run says ⚔3."""
    contested(contest_engine)
    app = OrkestraApp(contest_engine, first_mode="board")

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


@pytest.mark.parametrize("size", [SIZE, LARGE], ids=["80x24", "120x40"])
def test_board_contest_entries(
    snap_compare: Callable[..., bool], contest_engine: Engine, size: tuple[int, int]
) -> None:
    """The detail scrolled to the contest: the entries side by side, the winner, the vote."""
    won, _later = contested(contest_engine)
    app = OrkestraApp(contest_engine, first_mode="board")

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))
        board = app.screen
        board.show_task(won)  # type: ignore[attr-defined]
        change = board.query_one("#task-detail-change", Static)
        await until(pilot, lambda: change.display and "Contest" in str(change.render()))
        board.query_one("#task-detail-scroll").scroll_to_widget(change, top=True, animate=False)
        await pilot.pause(0.1)

    assert snap_compare(app, run_before=run_before, terminal_size=size)


def test_contest_dialog(snap_compare: Callable[..., bool], contest_engine: Engine) -> None:
    """c on the task set to run as a contest: the agents, the cost first, the budget, o to turn it off."""
    _won, later = contested(contest_engine)
    contest_engine.set_budget(contest_engine.task(later).project_id, 0.08)
    app = OrkestraApp(contest_engine, first_mode="board")

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))  # the Ready column has the focus, on that task
        await pilot.press("c")
        await until(pilot, lambda: screen_named(pilot, "ContestScreen"))

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


def test_contest_diff(snap_compare: Callable[..., bool], contest_engine: Engine) -> None:
    """d on the won contest: the winner's entry first (a Markdown result here), tabs for the others."""
    won, _later = contested(contest_engine)
    app, run_before = board_with(contest_engine, won, "d", wanted="ContestDiffScreen")
    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


def test_voting_contest_entries(snap_compare: Callable[..., bool], contest_engine: Engine) -> None:
    """v on the won contest: its vote on the Voting screen, scrolled to the entries each option holds."""
    won, _later = contested(contest_engine)
    app = OrkestraApp(contest_engine, first_mode="board")

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))
        app.screen.show_task(won)  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("v")
        await until(pilot, lambda: screen_named(pilot, "VotingScreen") and body_ready(pilot))
        options = app.screen.query_one("#detail-options", Static)
        await until(pilot, lambda: options.display)
        app.screen.query_one("#decision-detail").scroll_to_widget(options, top=True, animate=False)
        await pilot.pause(0.1)

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


def test_contest_tie_break(snap_compare: Callable[..., bool], contest_engine: Engine) -> None:
    """A contest's vote tied: ctrl+t, the two entries with their authors and first lines."""
    from test_voting_contest import tied_contest

    tied_contest(contest_engine)
    app = OrkestraApp(contest_engine, first_mode="board")

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot) and app.tie_breaks_waiting == 1)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen_named(pilot, "TieBreakScreen"))

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)
