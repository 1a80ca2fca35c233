"""Driving the app from the keyboard: every screen, help, the palette, a new project, live data."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input, Static

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.screens.help import HelpScreen
from orkestra_tui.tui.widgets.audit_table import AuditTable
from orkestra_tui.tui.widgets.board_progress import BoardProgress
from orkestra_tui.tui.widgets.mode_bar import ModeBar
from orkestra_tui.tui.widgets.task_list import TaskList

SIZE = (100, 30)


def mode_of(app: OrkestraApp) -> str:
    screen = app.screen
    assert isinstance(screen, EngineScreen)
    assert screen.query_one(ModeBar).current == screen.MODE
    return screen.MODE


async def test_keys_1_to_5_visit_every_screen(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        assert mode_of(app) == "board"  # a project exists, so the Board comes first
        for key, mode in (
            ("1", "plan"),
            ("2", "board"),
            ("3", "voting"),
            ("4", "health"),
            ("5", "audit"),
            ("2", "board"),
        ):
            await pilot.press(key)
            await pilot.pause()
            assert mode_of(app) == mode


async def test_the_first_run_opens_the_plan_screen(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert mode_of(app) == "plan"
        await pilot.press("enter")  # the brief's first field, once the user chooses it
        assert isinstance(app.focused, Input) and app.focused.id == "brief-name"


async def test_question_mark_lists_every_binding_and_escape_closes(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        titles = [title for title, _bindings in app.screen.sections]
        assert titles == ["Everywhere", "Plan", "Board", "Voting", "Health", "Audit"]
        descriptions = {
            binding.description
            for _title, bindings in app.screen.sections
            for binding in Binding.make_bindings(bindings)
        }
        assert {
            "Plan",
            "Board",
            "Voting",
            "Health",
            "Audit",
            "Quit",
            "Help",
            "Start planning",
            "Approve",
            "Command palette",
        } <= descriptions
        await pilot.press("escape")
        await pilot.pause()
        assert mode_of(app) == "board"


async def test_the_command_palette_switches_screens(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Health screen")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert mode_of(app) == "health"


async def test_a_project_is_started_from_the_plan_screen(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "ctrl+n")
        await pilot.press(*"Q3 launch")  # digits type into the field, they do not switch screens
        await pilot.press("tab", "tab", "tab", *"Ship it.", "ctrl+s")  # the description, on page 2
        await pilot.pause()
        assert mode_of(app) == "plan"
        project = sample_engine.store.project_by_name("Q3 launch")
        assert project is not None and project.brief == "Ship it."
        kinds = [event.kind for event in sample_engine.audit_events(200, project_id=project.id)]
        assert {"project.created", "plan.started", "plan.proposed"} <= set(kinds)
        assert app.screen.query_one("#brief-name", Input).value == ""


async def test_an_empty_name_is_refused_beside_the_field(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "ctrl+n", "ctrl+s")
        await pilot.pause()
        error = app.screen.query_one("#name-error", Static)
        assert "a project needs a name" in str(error.render())
        assert len(sample_engine.projects()) == 1


async def test_the_board_shows_tasks_by_status(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        columns = {column.id: column for column in app.screen.query(TaskList)}
        assert [task.title for task in columns["column-done"].tasks] == [
            "Choose the storage engine",
            "Define the item schema",
            "Set up CI",
        ]
        assert {task.status for task in columns["column-ready"].tasks} == {TaskStatus.PENDING}
        assert columns["column-running"].border_title == "1 Running"
        assert app.focused is columns["column-ready"]
        await pilot.press("right", "right", "right", "right")
        assert app.focused is columns["column-done"]
        await pilot.press("down")
        assert columns["column-done"].highlighted_task is not None
        assert columns["column-done"].highlighted_task.title == "Define the item schema"


async def test_screens_follow_the_engine_live(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await pilot.pause()
        pages = app.screen.query_one(AuditTable).pages
        before = len(pages)
        sample_engine.create_project("Arrived while watching")
        await pilot.pause(0.2)
        assert len(pages) == before + 1
        newest = pages.row(0)
        assert newest is not None and "Arrived while watching" in newest.summary
        # A screen that was not showing catches up when it is shown again.
        await pilot.press("2", "left_square_bracket")
        await pilot.pause()
        summary = app.screen.query_one(BoardProgress).summary
        assert summary is not None and summary.name == "Arrived while watching"


async def test_agent_text_with_markup_is_shown_literally(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        screenshot = app.export_screenshot()
        assert "[bold]Chat[/] wakes" in screenshot.replace("&#160;", " ")


async def test_resizing_keeps_every_screen_whole(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        for key in "12345":
            await pilot.press(key)
            for size in ((80, 24), (200, 60), (60, 20), (80, 24)):
                await pilot.resize_terminal(*size)
                await pilot.pause()
            assert app.screen.size == (80, 24)


async def test_every_screen_focuses_its_content_once_mounted(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        for key, focused_id in (
            ("3", "decision-list"),
            ("4", "agents"),
            ("5", "events"),
            ("2", "column-ready"),
        ):
            await pilot.press(key)
            await pilot.pause()
            assert app.focused is not None and app.focused.id == focused_id, key
