"""The first screen is styled once per widget: what start-up must not do twice, or at all."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.app import App
from textual.containers import VerticalScroll
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from orkestra_tui.engine.engine import Engine
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.plan import PlanScreen
from orkestra_tui.tui.widgets.plan_brief import BriefForm

SIZE = (120, 40)
FORM_WIDGET_BUDGET = 32
"""The brief form's widgets on arrival, itself included (a label and an error line per field made 45)."""


async def open_brief(app: OrkestraApp, pilot: Pilot[None]) -> BriefForm:
    for _ in range(300):
        if isinstance(app.screen, PlanScreen) and app.screen.body_ready:
            await pilot.pause()
            return app.screen.query_one(BriefForm)
        await pilot.pause()
    raise AssertionError("the Plan screen's body never mounted")


@contextmanager
def restyled_nodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[DOMNode]]]:
    """The nodes of every restyle while in the block, one list per restyle."""
    seen: list[list[DOMNode]] = []
    update_nodes: Callable[..., None] = Stylesheet.update_nodes

    def recording(stylesheet: Stylesheet, nodes: Iterable[DOMNode], animate: bool = False) -> None:
        nodes = list(nodes)
        seen.append(nodes)
        update_nodes(stylesheet, nodes, animate)

    with monkeypatch.context() as patch:
        patch.setattr(Stylesheet, "update_nodes", recording)
        yield seen


@contextmanager
def restyles(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[DOMNode, int]]]:
    """Every restyle Textual asks for while in the block: the node, and how many nodes it covers."""
    seen: list[tuple[DOMNode, int]] = []
    update_styles: Callable[..., None] = App.update_styles

    def recording(app: App[object], node: DOMNode, animate: bool = True) -> None:
        covered = -1 if isinstance(node, App) else sum(1 for _ in node.walk_children(with_self=True))
        seen.append((node, covered))
        update_styles(app, node, animate)

    with monkeypatch.context() as patch:
        patch.setattr(App, "update_styles", recording)
        yield seen


async def test_the_screen_has_its_width_class_before_its_widgets_are_styled(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with restyles(monkeypatch) as seen:
        app = OrkestraApp(engine)
        async with app.run_test(size=SIZE) as pilot:
            await open_brief(app, pilot)
            assert app.screen.has_class("-wide")
    # Textual restyles a screen and all on it when it is shown (its body is not mounted yet then);
    # adding "-wide" on the first resize did it once more.
    whole_screens = [(node, covered) for node, covered in seen if isinstance(node, Screen) and covered > 1]
    assert len(whole_screens) == 1


async def test_focusing_the_brief_form_restyles_the_form_alone(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_brief(app, pilot)
        assert app.focused is form
        with restyled_nodes(monkeypatch) as seen:
            await pilot.press("tab")  # into the Name field: the form loses the focus
            await pilot.press("shift+tab")  # and gets it back
            await pilot.pause()
        assert app.focused is form
        with_the_form = [len(nodes) for nodes in seen if form in nodes]
        assert with_the_form and max(with_the_form) == 1  # it was 45: the form and all in it


async def test_the_brief_form_is_built_lean_and_adds_an_error_line_where_needed(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_brief(app, pilot)
        assert len(list(form.walk_children(with_self=True))) <= FORM_WIDGET_BUDGET
        assert not form.query(".field-error")
        await pilot.press("ctrl+s")  # no name yet
        await pilot.pause()
        errors = list(form.query(".field-error"))
        assert [error.id for error in errors] == ["name-error"]
        name_row = form.query_one("#brief-name", Input).parent
        assert name_row is not None and name_row.parent is not None
        page = name_row.parent.children
        assert page.index(errors[0]) == page.index(name_row) + 1
        assert "a project needs a name" in str(errors[0].render())
        assert app.focused is form.query_one("#brief-name", Input)
        await pilot.press("S")  # a name: the error goes, and its line stays for the next one
        await pilot.pause()
        assert str(errors[0].render()) == ""
        assert not errors[0].display


async def test_each_screens_stylesheet_is_read_once_when_its_screen_is_first_built(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    read_file: Callable[..., None] = Stylesheet.read

    def recording(stylesheet: Stylesheet, filename: object) -> None:
        read.append(Path(str(filename)).name)
        read_file(stylesheet, filename)

    monkeypatch.setattr(Stylesheet, "read", recording)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_brief(app, pilot)
        assert "plan.tcss" in read and "health.tcss" not in read  # the first frame parses no other screen's
        await pilot.press("4")
        await pilot.pause()
        table = app.screen.query_one("#agents")
        assert table.styles.border_top[0] == "round"  # health.tcss, read on the way, styles the screen
        for key in "1414":
            await pilot.press(key)
            await pilot.pause()
    assert sorted(name for name in read if name.endswith(".tcss") and name != "app.tcss") == [
        "health.tcss",
        "plan.tcss",
    ]  # the wizard's panes (plan_panes.tcss) were never built


async def test_a_stylesheet_added_for_widgets_built_later_styles_the_first_of_them_too(
    engine: Engine,
) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_brief(app, pilot)
        assert not any(str(path).endswith("plan_panes.tcss") for path in app.css_path)  # not for the brief
        app.add_stylesheet("plan_panes")  # as the Plan screen does before it builds its first pane
        pane = VerticalScroll(id="proposals")
        await app.screen.query_one("#wizard").mount(pane)
        # The pane is the first node styled after the read: its own rule applies to it as well.
        assert pane.styles.padding.left == 1
