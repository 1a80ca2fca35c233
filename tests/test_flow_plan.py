"""The Plan screen's brief: screen keys work on arrival, and the features field behaves."""

from __future__ import annotations

from collections.abc import Callable

from fresh import current_focus
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from orkestra_tui.engine.engine import Engine
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.plan import PlanScreen
from orkestra_tui.tui.widgets.plan_brief import BriefForm

SIZE = (100, 32)


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"never happened: {what}")


async def open_brief(app: OrkestraApp, pilot: Pilot[None]) -> PlanScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.body_ready, "plan")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, PlanScreen)
    return screen


def features(app: OrkestraApp) -> list[str]:
    return [
        str(option.prompt).removeprefix("• ")
        for option in app.screen.query_one("#brief-features", OptionList).options
    ]


def error(app: OrkestraApp) -> str:
    return str(app.screen.query_one("#features-error", Static).render())


async def test_screen_keys_work_on_arrival_and_typing_starts_when_chosen(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_brief(app, pilot)
        assert isinstance(app.focused, BriefForm)  # the form, not a field that would eat the keys
        assert "Enter or Tab starts typing" in str(screen.query_one("#brief-how", Static).render())
        await pilot.press("3")
        assert app.current_mode == "voting"
        await pilot.press("1")
        await pilot.pause()
        assert app.current_mode == "plan" and isinstance(app.focused, BriefForm)
        assert screen.query_one("#brief-name", Input).value == ""
        await pilot.press("enter", *"Shop")
        assert isinstance(field := current_focus(app), Input) and field.value == "Shop"
        await pilot.press("escape", "4")  # out of the field, the keys switch screens again
        assert app.current_mode == "health"


async def test_delete_removes_features_and_the_repeat_error_goes_with_them(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_brief(app, pilot)
        await pilot.press("enter", "tab", "tab", "tab", "tab")
        assert isinstance(app.focused, Input) and app.focused.id == "brief-feature"
        await pilot.press(*"auth", "enter", *"search", "enter", *"auth", "enter")
        assert features(app) == ["auth", "search"]
        assert "'auth' is on the list already" in error(app)
        await pilot.press("ctrl+u", "delete")  # the empty field: the last feature goes
        assert features(app) == ["auth"]
        assert error(app) == ""
        await pilot.press(*"search", "enter", "backspace")
        assert features(app) == ["auth"]
        await pilot.press(*"x", "backspace")  # in a field with text, backspace edits the text
        assert features(app) == ["auth"] and app.focused.value == ""


async def test_pasted_lines_become_one_feature_each(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_brief(app, pilot)
        await screen.brief_form.show_page(2)
        field = screen.query_one("#brief-feature", Input)
        field.focus()
        await pilot.pause()
        field.post_message(events.Paste("auth\nsharing\ndue dates\n"))
        await pilot.pause()
        assert features(app) == ["auth", "sharing", "due dates"]
        assert field.value == ""
        field.post_message(events.Paste("one line"))
        await pilot.pause()
        assert field.value == "one line" and len(features(app)) == 3
