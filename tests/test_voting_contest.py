"""A contest's vote on the Voting screen: its entries, clipped and literal, and the human's tie-break.

Real contests run by the scheduler with scripted agents of three vendors (see test_contest).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from test_board import wait_until
from test_contest import by_author, contestant, entry_text
from test_scheduler import active_project, cast, scripted_engine, spec
from textual.widgets import Static

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.contest.view import ContestState
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import InboxKind, TaskStatus
from orkestra_tui.providers.base import ProviderRequest
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.tie_break import TieBreakScreen
from orkestra_tui.tui.screens.voting import VotingScreen
from orkestra_tui.tui.widgets.decision_detail import DecisionDetail
from orkestra_tui.tui.widgets.option_details import LINES_SHOWN, options_text

SIZE = (100, 30)
AGENTS = ("claude", "chatgpt", "gemini")
LONG_ENTRY = "# Long\n\n" + "\n".join(f"line {number} [red]by chatgpt,[/red] \x1b[2J" for number in range(40))


@pytest.fixture
def scripted(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = scripted_engine(paths, settings, clock)
    yield engine
    engine.close()


def test_an_options_detail_is_clipped_and_diff_lines_coloured() -> None:
    diff = "diff --git a/x b/x\n@@ -1 +1 @@\n-old\n+new\n" + "".join(f"+line {n}\n" for n in range(20))
    text = options_text({"Entry A": "A"}, {"Entry A": diff}, {"Entry A": "claude"}, contest=True)
    assert text is not None
    shown = text.plain.splitlines()
    assert shown[0].startswith("Entries") and "A Entry A · by claude" in shown
    assert len([line for line in shown if line.startswith("  ")]) == LINES_SHOWN + 1
    assert shown[-1] == f"  … {len(diff.splitlines()) - LINES_SHOWN} more lines"
    styles = {str(span.style) for span in text.spans}
    assert {"green", "red", "cyan"} <= styles
    assert options_text({"X": "A"}, {}, {}, contest=False) is None


async def test_the_voting_screen_shows_each_entry_with_its_author_literally(scripted: Engine) -> None:
    scripts = {name: contestant(name, by_author("claude", "gemini")) for name in ("claude", "gemini")}
    scripts["chatgpt"] = contestant("chatgpt", by_author("claude", "gemini"), result=LONG_ENTRY)
    cast(scripted, scripts)
    _project, (task_id,) = active_project(scripted, spec("Write the intro"))
    scripted.set_task_contest(task_id, 3)
    await Scheduler(scripted).run()
    view = scripted.contest(task_id)
    assert view is not None and view.decision_id is not None
    app = OrkestraApp(scripted, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        ready = lambda: isinstance(app.screen, VotingScreen) and app.screen.body_ready  # noqa: E731
        await wait_until(pilot, ready, "the Voting screen")
        detail = app.screen.query_one(DecisionDetail)
        await wait_until(pilot, lambda: detail.decision_id == view.decision_id, "the contest's vote")
        options = detail.query_one("#detail-options", Static)
        await wait_until(pilot, lambda: options.display, "the entries")
        shown = str(options.render())
        for entry in view.entries:
            assert f"Entry {entry.letter} · by {entry.agent}" in shown
        assert "Written by claude, with care." in shown
        assert "[red]by chatgpt,[/red] \\x1b[2J" in shown and "\x1b" not in shown
        assert "line 39" not in shown and "more lines" in shown


def tied_contest(engine: Engine) -> tuple[int, int]:
    """A contest of claude and chatgpt whose vote ties (each voter for the other, gemini abstains)."""
    gemini = contestant("gemini", by_author(*AGENTS))

    def abstainer(request: ProviderRequest, index: int) -> str | BaseException:
        return "no opinion" if request.purpose == "ballot" else gemini(request, index)

    cast(
        engine,
        {
            "claude": contestant("claude", by_author("chatgpt")),
            "chatgpt": contestant("chatgpt", by_author("claude")),
            "gemini": abstainer,
        },
    )
    project_id, (task_id,) = active_project(engine, spec("Write the intro"))
    engine.set_task_contest(task_id, 2)
    engine.reassign_task(task_id, "claude")
    asyncio.run(Scheduler(engine).run())
    return project_id, task_id


def test_a_contests_tie_is_broken_from_the_keyboard(scripted: Engine) -> None:
    project_id, task_id = tied_contest(scripted)
    asyncio.run(break_the_tie(scripted, project_id, task_id))


async def break_the_tie(scripted: Engine, project_id: int, task_id: int) -> None:
    view = scripted.contest(task_id)
    assert view is not None and view.state is ContestState.AWAITING_HUMAN
    chatgpt_entry = next(entry for entry in view.entries if entry.agent == "chatgpt")

    app = OrkestraApp(scripted, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.tie_breaks_waiting == 1, "the tie-break's badge")
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TieBreakScreen), "the tie-break")
        tie_break = app.screen
        assert isinstance(tie_break, TieBreakScreen)
        options = [option for option, _support in tie_break.options]
        assert sorted(options) == ["Entry A", "Entry B"]
        await pilot.press(str(options.index(chatgpt_entry.option) + 1), "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, TieBreakScreen), "the tie-break closed")
    assert not [item for item in scripted.inbox.open_items() if item.kind is InboxKind.TIE_BREAK]

    await Scheduler(scripted).run(project_id)
    view = scripted.contest(task_id)
    assert view is not None and view.state is ContestState.WON and view.winner == chatgpt_entry.letter
    assert scripted.task(task_id).status is TaskStatus.DONE
    assert scripted.task(task_id).result == entry_text("chatgpt")
