"""At 80x24 every field is wide enough to type in, every key bar ends with help, and no table or
bar cuts what tells its rows apart: checked on the widgets, beside the snapshots that show it."""

from __future__ import annotations

import asyncio

from rich.text import Text
from test_snapshots import board_mid_run, wizard_at
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, TextArea

from orkestra_tui.demo.sample import populate
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.widgets.key_bar import KeyBar

SIZE = (80, 24)
FIELD_WIDTH = 30
"""The narrowest a field may be at 80 columns: room for a title or a line of instructions."""


async def until_ready(pilot: Pilot[None]) -> None:
    for _ in range(100):
        if getattr(pilot.app.screen, "body_ready", False):
            break
        await pilot.pause(0.01)
    await pilot.pause()


def rendered(widget: Widget) -> str:
    text = widget.render()
    assert isinstance(text, Text)
    return text.plain


def test_the_review_editor_fields_are_wide_enough_at_80_columns(engine: Engine) -> None:
    app = wizard_at(engine, "review")

    async def check() -> None:
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(100):
                if getattr(app.screen, "pane", None) == "review":
                    break
                await pilot.pause(0.01)
            await pilot.pause(0.1)
            await pilot.press("down", "e")
            await pilot.pause()
            screen_region = app.screen.region
            fields: dict[str, type[Widget]] = {
                "edit-title": Input,
                "edit-instructions": TextArea,
                "edit-depends": Input,
            }
            for field_id, field_type in fields.items():
                field = app.screen.query_one(f"#{field_id}", field_type)
                assert field.region.width >= FIELD_WIDTH, field_id
                assert screen_region.contains_region(field.region), field_id
            assert app.screen.query_one("#edit-title", Input).value == "Write the API"

    asyncio.run(check())


async def test_every_key_bar_ends_with_help_and_fits_80_columns(engine: Engine, clock: FixedClock) -> None:
    engine.create_project("Blog", "A small blog.")  # [ and ] move between the two
    board_mid_run(engine, clock)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        for key in ("2", "1", "3", "4", "5"):
            await pilot.press(key)
            await until_ready(pilot)
            if key == "1":
                await pilot.press("escape")  # out of the brief's field: the screen's keys work again
                await pilot.pause()
            bar = rendered(app.screen.query_one(KeyBar))
            assert len(bar) <= SIZE[0], key
            assert bar.rstrip().removesuffix("^p palette").rstrip().endswith("? Help"), (key, bar)


async def test_the_board_pairs_its_project_keys_when_short_of_room(engine: Engine, clock: FixedClock) -> None:
    engine.create_project("Blog", "A small blog.")  # the Board shows the newest: the web shop
    board_mid_run(engine, clock)
    async with OrkestraApp(engine).run_test(size=SIZE) as pilot:
        await until_ready(pilot)
        key_bar = pilot.app.screen.query_one(KeyBar)
        for _ in range(100):  # the task keys come once a column has the focus
            if "Detail" in rendered(key_bar):
                break
            await pilot.pause(0.01)
        assert "[ ] Project" in rendered(key_bar)


async def test_the_health_table_needs_no_horizontal_scrolling(engine: Engine) -> None:
    await populate(engine)
    wanted = {"agent", "status", "success", "tokens", "cost", "circuit"}
    for size in (SIZE, (120, 40)):
        async with OrkestraApp(engine, first_mode="health").run_test(size=size) as pilot:
            await until_ready(pilot)
            table = pilot.app.screen.query_one("#agents", DataTable)
            assert table.virtual_size.width <= table.scrollable_content_region.width, size
            assert wanted <= set(column_labels(table)), size
    async with OrkestraApp(engine, first_mode="health").run_test(size=SIZE) as pilot:
        await until_ready(pilot)
        await pilot.resize_terminal(140, 40)  # room for every column again
        await pilot.pause()
        assert column_labels(pilot.app.screen.query_one("#agents", DataTable))[2:4] == ["provider", "model"]


def column_labels(table: DataTable[object]) -> list[str]:
    return [str(column.label) for column in table.columns.values()]


def test_the_step_bar_names_the_current_step_at_80_columns(engine: Engine) -> None:
    from orkestra_tui.tui.widgets.step_bar import StepBar

    app = wizard_at(engine, "review")

    async def check() -> None:
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(100):
                if getattr(app.screen, "pane", None) == "review":
                    break
                await pilot.pause(0.01)
            await pilot.pause()
            bar = app.screen.query_one(StepBar)
            text = rendered(bar)
            assert "5 Review" in text and len(text) <= bar.size.width

    asyncio.run(check())


def test_plans_on_the_tally_keep_their_whole_names_at_80_columns(engine: Engine) -> None:
    from orkestra_tui.tui.widgets.tally_bars import TallyBars

    app = wizard_at(engine, "vote")

    async def check() -> None:
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(100):
                if getattr(app.screen, "pane", None) == "vote":
                    break
                await pilot.pause(0.01)
            await pilot.pause()
            tally = rendered(app.screen.query_one(TallyBars))
            assert "Plan A: chatgpt's plan: small steps" in tally
            assert "Plan B: claude's plan: small steps" in tally

    asyncio.run(check())
