"""The command palette runs every screen's actions, not only the screen switches (Pilot)."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from orkestra_tui.engine.engine import Engine
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.palette import screen_actions
from orkestra_tui.tui.screens.new_question import NewQuestionScreen

SIZE = (100, 30)


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app work until `condition` holds (each pause waits for the app, never a fixed time)."""
    for _ in range(400):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"never happened: {what}")


def first_option(app: OrkestraApp) -> str:
    if not isinstance(app.screen, CommandPalette):
        return ""
    options = app.screen.query_one(CommandList)
    return str(options.get_option_at_index(0).prompt) if options.option_count else ""


async def run_from_palette(pilot: Pilot[None], app: OrkestraApp, typed: str, wanted: str) -> None:
    """ctrl+p, type, wait until `wanted` heads the list, then choose it."""
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette opens")
    await pilot.press(*typed)
    await wait_until(pilot, lambda: wanted in first_option(app), f"{wanted!r} heads the list")
    await pilot.press("down", "enter")
    await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette), "the palette closes")


def notices(app: OrkestraApp) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


async def test_every_screen_key_is_a_command_with_its_key(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE):
        commands = {command.text: command.help for command in screen_actions(app)}
    assert commands["Board: Run"] == "key r on the Board screen"
    assert commands["Board: Retry"] == "key R on the Board screen"
    assert commands["Audit: Search"] == "key / on the Audit screen"
    expected = {
        "Board: Pause",
        "Board: Approve",
        "Voting: New question",
        "Voting: Your ballot",
        "Voting: Feedback",
        "Voting: Export",
        "Health: Test agent",
        "Health: Test all",
        "Health: Enable/disable",
        "Audit: Filters",
        "Audit: Export",
        "Plan: New plan",
    }
    assert expected <= set(commands)
    assert not [text for text in commands if text.endswith(("Close", "Leave field", "Clear filter"))]


async def test_new_question_from_the_board_opens_on_the_voting_screen(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        assert app.current_mode == "board"
        await run_from_palette(pilot, app, "new question", "Voting: New question")
        await wait_until(pilot, lambda: isinstance(app.screen, NewQuestionScreen), "the question form")
        assert app.current_mode == "voting"


async def test_run_from_the_voting_screen_starts_the_board(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await wait_until(pilot, lambda: app.current_mode == "voting", "the Voting screen")
        await run_from_palette(pilot, app, "board run", "Board: Run")
        await wait_until(pilot, lambda: app.scheduler is not None, "the scheduler starts")
        assert app.current_mode == "board"
        app.pause_scheduler()


async def test_toggle_acts_on_the_selected_agent(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        first = sample_engine.agents()[0]
        assert first.enabled
        await run_from_palette(pilot, app, "enable/disable", "Health: Enable/disable")
        await wait_until(pilot, lambda: not sample_engine.agents()[0].enabled, "the agent is disabled")
        assert app.current_mode == "health"


async def test_search_on_the_audit_screen_focuses_its_field(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await run_from_palette(pilot, app, "audit search", "Audit: Search")
        await wait_until(
            pilot,
            lambda: isinstance(app.focused, Input) and app.focused.id == "audit-search",
            "the search field has the focus",
        )


async def test_an_action_that_does_not_apply_says_so(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await run_from_palette(pilot, app, "board pause", "Board: Pause")
        await wait_until(
            pilot,
            lambda: any("Board: Pause is not available now" in text for text in notices(app)),
            "a notice",
        )
        assert app.scheduler_state == "idle"


async def test_snapshot_now_and_quit_are_commands_too(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await run_from_palette(pilot, app, "snapshot now", "Snapshot now")
        await wait_until(pilot, lambda: any("Snapshot" in text for text in notices(app)), "the snapshot")
        await run_from_palette(pilot, app, "quit", "Quit")
        await wait_until(pilot, lambda: app._exit, "the app quits")
