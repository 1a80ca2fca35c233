"""The New question dialog and the brief form put each engine problem under its field, by name."""

from __future__ import annotations

from textual.widgets import Input, SelectionList, Static, TextArea

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.voting.decision_rules import FIELDS as DECISION_FIELDS
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens import new_question
from orkestra_tui.tui.screens.new_question import NewQuestionScreen
from orkestra_tui.tui.widgets import plan_brief

SIZE = (100, 32)


def shown(app: OrkestraApp, field: str) -> str:
    """The error line under a field; "" when it is hidden or (the brief form adds them on demand) absent."""
    errors = app.screen.query(f"#{field}-error").results(Static)
    error = next(errors, None)
    return str(error.render()) if error is not None and error.display else ""


def test_every_field_the_engine_names_has_an_error_line() -> None:
    assert set(DECISION_FIELDS) <= set(new_question.FIELDS)
    assert {"name", "features", "agents", "method"} <= set(plan_brief.FIELDS)


async def test_the_dialog_shows_every_engine_problem_under_its_field(engine: Engine) -> None:
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NewQuestionScreen)
        app.screen.query_one("#question-options", TextArea).text = "Only one"
        app.screen.query_one("#question-threshold", Input).value = "2"
        app.screen.query_one("#question-rounds", Input).value = "101"
        app.screen.query_one("#question-voters", SelectionList).deselect_all()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NewQuestionScreen)
        assert shown(app, "question") == "a decision needs a question"
        assert shown(app, "options") == "a decision needs at least two non-empty options"
        assert shown(app, "rules") == "threshold must be a number from 0 to 1, not 2.0"
        assert shown(app, "rounds") == "a decision has at most 100 rounds, not 101"
        assert shown(app, "voters") == "a decision needs at least one voter"
        assert shown(app, "form") == ""
        assert app.focused is app.screen.query_one("#question-text")
        assert engine.decisions() == []


async def test_the_dialog_keeps_its_own_reading_problem_beside_the_engines(engine: Engine) -> None:
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#question-text", Input).value = "Which?"
        app.screen.query_one("#question-options", TextArea).text = "A\nB"
        app.screen.query_one("#question-rounds", Input).value = "many"
        app.screen.query_one("#question-quorum", Input).value = "1.5"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert shown(app, "rounds") == "max rounds must be a whole number, not 'many'"
        assert shown(app, "rules") == 'quorum must be "majority" or a number from 0 to 1, not 1.5'
        assert engine.decisions() == []


async def test_the_brief_form_shows_every_engine_problem_under_its_field(engine: Engine) -> None:
    engine.create_project("Shop")
    app = OrkestraApp(engine, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n", *"Shop")
        await app.screen.query_one(plan_brief.BriefForm).show_page(3)
        app.screen.query_one("#brief-agents", SelectionList).deselect_all()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert shown(app, "name") == "a project named 'Shop' already exists"
        assert shown(app, "agents") == "choose at least one agent"
        assert shown(app, "form") == ""
        assert app.focused is app.screen.query_one("#brief-name")
        assert [project.name for project in engine.projects()] == ["Shop"]


async def test_a_name_too_long_goes_under_the_name(engine: Engine) -> None:
    app = OrkestraApp(engine, first_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        app.screen.query_one("#brief-name", Input).value = "x" * 81
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert shown(app, "name") == "a project name is at most 80 characters"
        assert engine.projects() == []
