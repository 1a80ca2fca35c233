"""Several processes on one data dir: the app's screens follow what another process commits.

The app looks at `PRAGMA data_version` on its own connection; when another
connection committed, the audit events written since tell what changed, and
the screens re-read it. Here the other process is real: `orkestra run` in a
subprocess, or a small script using the engine on the same data dir.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fresh import current_screen
from textual.pilot import Pilot
from textual.widgets import DataTable

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import InboxKind, ProjectStatus, TaskSpec
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.board import BoardScreen
from orkestra_tui.tui.screens.health import HealthScreen
from orkestra_tui.tui.widgets.board_progress import BoardProgress
from orkestra_tui.tui.widgets.task_list import TaskList

if TYPE_CHECKING:
    from orkestra_tui.engine.voting.decision_view import DecisionView
    from orkestra_tui.tui.screens.voting import VotingScreen

TASKS = 12
SIZE = (100, 30)
OTHER_PROCESS_TIMEOUT_S = 60.0
CONFIG = "[engine]\nreviewers = 1\n\n[simulation]\nseed = 3\nlatency_ms = 5\n"


def open_engine(home: Path) -> Engine:
    return Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})


def child_environment() -> dict[str, str]:
    """No key reaches the other process, so every agent is simulated."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.endswith(("_API_KEY", "_TOKEN")) and name != "ORKESTRA_HOME"
    }


def make_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    engine = open_engine(home)
    try:
        project = engine.create_project("Shop")
        engine.add_tasks(
            project.id,
            [TaskSpec(title=f"Part {n}", instructions=f"Write part {n}.", key=f"t{n}") for n in range(TASKS)],
        )
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()
    return home


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app work (and the other process) until `condition` holds, or fail after a long while."""
    deadline = time.monotonic() + OTHER_PROCESS_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await pilot.pause(0.05)


def run_other(home: Path, *arguments: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), *arguments],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=child_environment(),
    )


def calls_shown(health: HealthScreen) -> int:
    """The calls the Health screen counts, over every agent."""
    table = health.query_one("#agents", DataTable)
    calls = [str(column.label) for column in table.columns.values()].index("calls")  # columns fit the width
    return sum(int(str(table.get_row_at(row)[calls])) for row in range(table.row_count))


def shown_view(voting: VotingScreen) -> DecisionView | None:
    """The decision the Voting screen shows now (a fresh read: see fresh.py)."""
    return voting.shown


def done_shown(board: BoardScreen) -> int:
    summary = board.query_one(BoardProgress).summary
    return summary.done if summary is not None else -1


async def test_board_follows_a_headless_run_on_the_same_data_dir(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    engine = open_engine(home)
    app = OrkestraApp(engine, first_mode="board")
    try:
        async with app.run_test(size=SIZE) as pilot:
            # The Health screen is shown once, then left: it is behind the Board while the run goes.
            await pilot.press("4")
            await wait_for(
                pilot, lambda: isinstance(app.screen, HealthScreen) and app.screen.body_ready, "health"
            )
            assert isinstance(app.screen, HealthScreen)
            health = app.screen
            assert calls_shown(health) == 0
            await pilot.press("2")
            await wait_for(
                pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.body_ready, "board"
            )
            board = current_screen(app)
            assert isinstance(board, BoardScreen)
            assert done_shown(board) == 0
            assert len(board.query_one("#column-ready", TaskList).tasks) == TASKS

            other = run_other(home, "run", "--until-done", "--on-review", "approve")
            try:
                # Carried out elsewhere: the Board follows without a key pressed.
                await wait_for(pilot, lambda: done_shown(board) == TASKS, f"the Board shows {TASKS} done")
                await wait_for(pilot, lambda: other.poll() is not None, "the other run ends")
                assert other.returncode == 0, other.stderr.read() if other.stderr else ""
            finally:
                if other.poll() is None:
                    other.kill()
                other.wait()
            assert len(board.query_one("#column-done", TaskList).tasks) == TASKS
            assert not board.query_one("#column-ready", TaskList).tasks
            # The calls the other run made reach the Health screen when it is shown again.
            await pilot.press("4")
            await wait_for(
                pilot, lambda: app.screen is health and calls_shown(health) > 0, "health counts calls"
            )
    finally:
        engine.close()


OTHER_ENGINE = """
import sys
from pathlib import Path
from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import InboxKind, TaskStatus

home = Path(sys.argv[1])
engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
try:
    project = engine.project_named("Shop")
    engine.inbox.ask(
        InboxKind.TIE_BREAK,
        "A tie asked by another process",
        {"decision_id": 0, "tied": [{"option": "A", "support": 0.5}, {"option": "B", "support": 0.5}]},
        project_id=project.id,
    )
    engine.set_task_status(engine.tasks(project.id)[0].id, TaskStatus.CANCELLED)
finally:
    engine.close()
"""


async def test_a_question_asked_by_another_process_shows_in_the_badge(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    engine = open_engine(home)
    app = OrkestraApp(engine, first_mode="board")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(
                pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.body_ready, "board"
            )
            board = app.screen
            assert isinstance(board, BoardScreen)
            assert app.tie_breaks_waiting == 0
            result = subprocess.run(
                [sys.executable, "-c", OTHER_ENGINE, str(home)],
                capture_output=True,
                text=True,
                env=child_environment(),
                timeout=OTHER_PROCESS_TIMEOUT_S,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            await wait_for(pilot, lambda: app.tie_breaks_waiting == 1, "the badge counts the tie-break")
            await wait_for(
                pilot,
                lambda: len(board.query_one("#column-ready", TaskList).tasks) == TASKS - 1,
                "the cancelled task leaves Ready",
            )
            # Asked elsewhere: the badge reminds, but no modal jumps up over the Board.
            assert app.screen is board
            assert [item.kind for item in engine.inbox.open_items()] == [InboxKind.TIE_BREAK]
    finally:
        engine.close()


def test_external_changes_name_what_other_connections_committed(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    here, there = open_engine(home), open_engine(home)
    try:
        assert here.external_changes() is None  # the first look starts the watch
        assert here.external_changes() is None
        here.create_project("Mine")  # this engine's own change is no news to it
        assert here.external_changes() is None
        there.create_project("Theirs")
        here.create_project("Mine too")
        changes = here.external_changes()
        assert changes is not None and not changes.everything
        assert [(event.kind, event.external) for event in changes.events] == [("project.created", True)]
        assert "Theirs" in changes.events[0].summary and changes.concern("project")
        assert here.external_changes() is None
        project = there.project_named("Theirs")
        there.add_tasks(project.id, [TaskSpec(title=f"T{n}", instructions="x") for n in range(300)])
        many = here.external_changes()
        assert many is not None and many.everything and many.concern("ballot")
        assert here.external_changes() is None
    finally:
        here.close()
        there.close()


async def test_voting_follows_a_vote_run_from_the_shell(tmp_path: Path) -> None:
    from orkestra_tui.engine.models import DecisionStatus
    from orkestra_tui.tui.screens.voting import VotingScreen

    home = make_home(tmp_path)
    engine = open_engine(home)
    app = OrkestraApp(engine, first_mode="voting")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(
                pilot, lambda: isinstance(app.screen, VotingScreen) and app.screen.body_ready, "voting"
            )
            voting = app.screen
            assert isinstance(voting, VotingScreen)
            assert shown_view(voting) is None
            other = run_other(
                home,
                "vote",
                "Which database?",
                "--option",
                "SQLite",
                "--option",
                "PostgreSQL",
                "--tie-break",
                "first",
            )
            try:

                def decided() -> bool:
                    view = voting.shown
                    return view is not None and view.decision.status is DecisionStatus.DECIDED

                await wait_for(pilot, decided, "the vote taken elsewhere shows, decided, with its ballots")
            finally:
                if other.poll() is None:
                    other.kill()
                other.wait()
            view = voting.shown
            assert view is not None and view.decision.question == "Which database?"
            assert len(view.cards) == 5 and view.calls >= 5
    finally:
        engine.close()
