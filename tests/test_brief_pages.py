"""The brief on three pages: a light first page on a first run, Tab through the pages, defaults unseen."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, OptionList, RadioSet, Select, SelectionList, TextArea

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Involvement
from orkestra_tui.engine.planning.planning import Planner
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.plan import PlanScreen
from orkestra_tui.tui.widgets.brief_fields import FieldRow, PageBar
from orkestra_tui.tui.widgets.plan_brief import BriefForm

SIZE = (100, 32)
HEAVY_FIELDS = (TextArea, OptionList, RadioSet, SelectionList, Select)
"""The widgets the first page does without: built with the later pages."""


async def wait_until(
    pilot: Pilot[None],
    condition: Callable[[], bool],
    what: str,
    *,
    every_s: float | None = None,
    tries: int = 300,
) -> None:
    """Poll CONDITION between pauses (of EVERY_S seconds, for work outside the app such as git)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(every_s)
    raise AssertionError(f"never happened: {what}")


async def open_brief(app: OrkestraApp, pilot: Pilot[None]) -> BriefForm:
    await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.body_ready, "the brief")
    await pilot.pause()
    return app.screen.query_one(BriefForm)


def focused_id(app: OrkestraApp) -> str | None:
    return app.focused.id if app.focused is not None else None


async def test_a_first_run_shows_the_first_page_alone_with_light_fields(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_brief(app, pilot)
        assert [field.id for field in form.query(Input)] == ["brief-name", "brief-goals", "brief-constraints"]
        assert not any(app.screen.query(kind) for kind in HEAVY_FIELDS)  # no projects' list either
        assert not app.screen.query("#projects")
        assert "Page 1 of 3" in str(form.query_one("#brief-hint").render())


async def test_tab_goes_on_through_the_pages_and_shift_tab_comes_back(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_brief(app, pilot)
        await pilot.press("enter", *"Shop", "tab", *"Sell", "tab", *"Python", "tab")
        assert focused_id(app) == "brief-description" and form.page == 2
        # the feature, its list, the repository, the next page
        await pilot.press("tab", *"cart", "enter", "tab", "tab", "tab")
        assert focused_id(app) == "brief-involvement" and form.page == 3
        await pilot.press("shift+tab")
        assert form.page == 2 and focused_id(app) == "brief-repository"
        await pilot.press("shift+tab")
        assert focused_id(app) == "brief-features"  # the list, shown with a feature
        await pilot.press("shift+tab", "shift+tab", "shift+tab")
        assert form.page == 1 and focused_id(app) == "brief-constraints"
        assert not form.query_one("#brief-page-2").display
        assert form.brief().features == ("cart",) and form.brief().goals == "Sell"


async def test_planning_from_the_first_page_takes_the_defaults_of_the_others(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_brief(app, pilot)
        screen = app.screen  # a tie-break may come in front of it
        await pilot.press("enter", *"Shop", "ctrl+s")
        await wait_until(pilot, lambda: bool(engine.projects()), "the project")
        brief = Planner(engine).session(engine.projects()[0].id).brief
        assert brief.name == "Shop" and brief.description == ""
        assert brief.involvement is Involvement.CHECKPOINTS
        assert brief.agents == tuple(agent.name for agent in engine.agents() if agent.enabled)
        assert brief.method == engine.settings.engine.default_method
        await wait_until(pilot, lambda: bool(screen.query("#projects")), "the projects' column")


async def test_an_error_on_a_page_not_seen_builds_it_and_shows_it(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_brief(app, pilot)
        await pilot.press("enter", *"Shop")
        form.show_errors({"agents": "choose at least one agent"})
        await wait_until(pilot, lambda: form.page == 3, "the committee's page")
        assert focused_id(app) == "brief-agents"
        assert "choose at least one agent" in str(form.query_one("#agents-error").render())


async def test_an_error_line_turns_with_its_page_and_the_last_line_takes_the_button(engine: Engine) -> None:
    def shown(selector: str) -> bool:
        return form.query_one(selector).display

    def name_row_shown() -> bool:
        row = form.query_one("#brief-name").parent
        assert isinstance(row, FieldRow)
        return row.display

    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_brief(app, pilot)
        form.show_errors({"name": "a name is needed"})
        await pilot.pause()
        assert shown("#name-error") and "a name is needed" in str(form.query_one("#name-error").render())
        await form.show_page(2)
        await pilot.pause()
        assert not shown("#name-error") and not name_row_shown()
        await form.show_page(3)
        await pilot.pause()
        assert shown("#brief-next") and "Page 3 of 3" in str(form.query_one(PageBar).render())
        await form.show_page(1)
        await pilot.pause()
        assert shown("#name-error") and name_row_shown() and not shown("#brief-next")
        assert "Page 1 of 3" in str(form.query_one(PageBar).render())
        first_page = [field.id for field in form._page_fields(1)]
        assert first_page == ["brief-name", "brief-goals", "brief-constraints"]
        form.show_errors({"form": "the budget is too small"})  # above the last line, on every page
        await pilot.pause()
        assert [child.id for child in form.children[-2:]] == ["form-error", "brief-buttons"]
        assert shown("#form-error") and not shown("#name-error")


async def test_the_start_up_work_waits_for_the_first_screens_content(engine: Engine) -> None:
    bodies_seen: list[bool] = []
    app = OrkestraApp(engine)
    recover = app._recover

    def watched_recover() -> None:
        screen = app.screen
        bodies_seen.append(isinstance(screen, PlanScreen) and screen.body_ready)
        recover()

    app._recover = watched_recover  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await open_brief(app, pilot)
        await wait_until(pilot, lambda: bool(bodies_seen), "the recovery")
        assert bodies_seen == [True]


async def test_next_and_back_on_the_page_line_turn_the_pages(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_brief(app, pilot)
        page_line = form.query_one(PageBar)
        await pilot.click(page_line, offset=(len("Page 1 of 3: the project · ") + 1, 0))
        await wait_until(pilot, lambda: form.page == 2, "the details' page")
        assert focused_id(app) == "brief-description"
        await pilot.click(page_line, offset=(len("Page 2 of 3: the details · ") + 1, 0))
        await wait_until(pilot, lambda: form.page == 1, "the project's page")
        assert focused_id(app) == "brief-name"


async def test_letters_typed_right_after_enter_all_reach_the_first_field(engine: Engine) -> None:
    """A fast typist: the keys after Enter arrive before the field has the focus (it moves a turn later)."""
    from textual import events

    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_brief(app, pilot)
        form.focus()
        await pilot.pause()
        # Queued at once, as a terminal delivers a burst of keys: none waits for the one before.
        for key, character in [("enter", "\r"), *[(letter, letter) for letter in "Invent"]]:
            app.post_message(events.Key(key, character))
        await wait_until(pilot, lambda: focused_id(app) == "brief-name", "the name's focus")
        # The letters typed ahead are not selected as the focus arrives, so the next ones add to them.
        await pilot.press(*"ory")
        assert form.query_one("#brief-name", Input).value == "Inventory"
        await pilot.press("tab", "shift+tab", "x")  # a field taken again selects its text, as usual
        assert form.query_one("#brief-name", Input).value == "x"
