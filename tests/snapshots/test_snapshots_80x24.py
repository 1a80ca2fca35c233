"""Every screen and dialog at 80x24, the smallest size Orkestra supports, and a few at 120x40.

Each scenario builds its app on fixed data (the sample, the wizard's scripted plan or the
Board's mid-run project) and takes it to the screen or dialog it shows; the snapshot then
records that every field, key and important column fits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from test_snapshots import audit_ready, board_mid_run, wizard_at
from textual.pilot import Pilot
from textual.screen import Screen

from orkestra_tui.demo.sample import populate
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import InboxKind, Involvement, ProjectStatus
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.widgets.plan_brief import BriefForm

SIZE = (80, 24)
LARGE = (120, 40)
RunBefore = Callable[[Pilot[None]], Awaitable[None]]
Scenario = Callable[[Engine, FixedClock], tuple[OrkestraApp, RunBefore]]


async def until(pilot: Pilot[None], ready: Callable[[], bool]) -> None:
    """Let the app run until `ready()` holds (or a second of frames has passed), then settle."""
    for _ in range(100):
        if ready():
            break
        await pilot.pause(0.01)
    await pilot.pause()


def screen_named(pilot: Pilot[None], name: str) -> bool:
    return type(pilot.app.screen).__name__ == name


def body_ready(pilot: Pilot[None]) -> bool:
    return bool(getattr(pilot.app.screen, "body_ready", False))


def sample(engine: Engine) -> None:
    import asyncio

    asyncio.run(populate(engine))


# ------------------------------------------------------------------ screens


def plan_first_run(engine: Engine, _clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    async def settle(pilot: Pilot[None]) -> None:
        # The body, then the first focus it sets (the form), which changes what is drawn.
        await until(pilot, lambda: body_ready(pilot) and pilot.app.focused is not None)

    return OrkestraApp(engine), settle


def plan_first_run_details(engine: Engine, clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    """The brief's second page, reached with Tab from the first: description and features."""
    app, settle = plan_first_run(engine, clock)

    async def to_the_details(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("enter", *"Shop", "tab", "tab", "tab")
        await until(pilot, lambda: pilot.app.focused is pilot.app.screen.query_one("#brief-description"))

    return app, to_the_details


def plan_first_run_end(engine: Engine, clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    """The brief's last page: involvement, agents, method and the button that starts planning."""
    app, settle = plan_first_run(engine, clock)

    async def to_the_end(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.app.screen.query_one(BriefForm).show_page(3)
        await pilot.press("tab", "tab", "tab")  # involvement, agents, method, then the button
        await until(pilot, lambda: pilot.app.focused is pilot.app.screen.query_one("#brief-next"))
        await pilot.pause()

    return app, to_the_end


def plan_brief_beside_projects(engine: Engine, _clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    """A new brief while another project is listed: the projects' column and the form share the width."""
    app = wizard_at(engine, "review")

    async def new_brief(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))
        await pilot.press("ctrl+n")
        await pilot.pause()

    return app, new_brief


def wizard_step(step: str, involvement: Involvement) -> Scenario:
    def scenario(engine: Engine, _clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
        app = wizard_at(engine, step, involvement)

        async def settle(pilot: Pilot[None]) -> None:
            await until(pilot, lambda: getattr(app.screen, "pane", None) == step)
            await pilot.pause(0.1)

        return app, settle

    return scenario


def proposal_plan(engine: Engine, _clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    """Enter on a proposal card, during the hands-on pause after the proposals: its phases and tasks."""
    from orkestra_tui.tui.widgets.plan_proposals import ProposalCard

    app = wizard_at(engine, "proposals", Involvement.HANDS_ON)

    async def open_card(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: getattr(app.screen, "pane", None) == "proposals")
        await until(pilot, lambda: bool(app.screen.query(ProposalCard)))
        app.screen.query(ProposalCard).first().focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen_named(pilot, "ProposalPlanScreen"))
        await pilot.pause(0.1)

    return app, open_card


def refused_answers(engine: Engine, _clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    """Enter on the Health screen's first agent, whose two ballot answers held no JSON: both in full."""
    import asyncio

    from fakes import ScriptedProvider, answers, ballot_for

    engine.use_provider(
        "claude",
        ScriptedProvider(
            answers(
                "Sure! I would pick SQLite first, then PostgreSQL.",
                "As I said: SQLite first.\n[bold]Really.[/bold] It is simple, safe and tested.",
            )
        ),
    )
    engine.use_provider("chatgpt", ScriptedProvider(ballot_for("SQLite")))
    decision = engine.open_decision(
        "Which database?", ["SQLite", "PostgreSQL"], method="plurality", voters=["claude", "chatgpt"]
    )
    asyncio.run(engine.decide(decision.id, tie_break="first"))
    app = OrkestraApp(engine, first_mode="health")

    async def open_answers(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))
        await pilot.press("enter")
        await until(pilot, lambda: screen_named(pilot, "RefusedAnswersScreen"))

    return app, open_answers


def board(engine: Engine, clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    board_mid_run(engine, clock)

    async def settle(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))

    return OrkestraApp(engine), settle


def board_of_two_projects(engine: Engine, clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    """A second project: [ and ] move between them, and the key bar has the most keys to fit."""
    engine.create_project("Blog", "A small blog.")
    return board(engine, clock)


def on_board(keys: tuple[str, ...], wanted: str | None = None) -> Scenario:
    """The mid-run Board, after `keys` (a column's arrows, then a task's key), waiting for `wanted`."""

    def scenario(engine: Engine, clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
        board_mid_run(engine, clock)

        async def act(pilot: Pilot[None]) -> None:
            await until(pilot, lambda: body_ready(pilot))
            await pilot.press(*keys)
            await until(pilot, lambda: wanted is None or screen_named(pilot, wanted))

        return OrkestraApp(engine), act

    return scenario


def board_task_detail(engine: Engine, clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    board_mid_run(engine, clock)

    async def open_detail(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))
        await pilot.press("right", "right", "right", "right", "enter")

        def result_shown() -> bool:  # its widget is built with the first result shown
            result = pilot.app.screen.query("#task-detail-result")
            return bool(result) and result.first().display

        await until(pilot, result_shown)
        await pilot.pause(0.1)

    return OrkestraApp(engine), open_detail


def board_budget(engine: Engine, clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    """The project stopped at its budget: b asks for a new one."""
    board_mid_run(engine, clock)
    project = engine.projects()[-1]
    engine.set_project_status(project.id, ProjectStatus.PAUSED)
    with engine.store.transaction() as tx:
        engine.inbox.ask_in(
            tx,
            InboxKind.BUDGET,
            "Project 'Web shop' reached its budget",
            {"project_id": project.id, "budget": 5.0, "reason": "the next calls would pass the budget"},
            project_id=project.id,
        )

    async def ask(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))
        await pilot.press("b")
        await until(pilot, lambda: screen_named(pilot, "BudgetScreen"))

    return OrkestraApp(engine), ask


def on_sample(mode_key: str, keys: tuple[str, ...] = (), wanted: str | None = None) -> Scenario:
    """The sample's screen of `mode_key`, after `keys`, waiting for the screen `wanted`."""

    def scenario(engine: Engine, _clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
        sample(engine)

        async def act(pilot: Pilot[None]) -> None:
            await pilot.press(mode_key)
            await until(pilot, lambda: body_ready(pilot))
            await pilot.press(*keys)
            await until(pilot, lambda: wanted is None or screen_named(pilot, wanted))

        return OrkestraApp(engine), act

    return scenario


def audit_detail(engine: Engine, _clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    sample(engine)

    async def open_detail(pilot: Pilot[None]) -> None:
        await audit_ready(pilot)
        await pilot.press("down", "down", "enter")
        pane = pilot.app.screen.query_one("#audit-detail")
        await until(pilot, lambda: pane.display)

    return OrkestraApp(engine), open_detail


# ------------------------------------------------------------------ dialogs


def help_dialog(engine: Engine, _clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    sample(engine)

    async def ask(pilot: Pilot[None]) -> None:
        await pilot.press("2")
        await until(pilot, lambda: body_ready(pilot))
        await pilot.press("question_mark")
        await until(pilot, lambda: screen_named(pilot, "HelpScreen"))

    return OrkestraApp(engine), ask


def plan_tie_break(engine: Engine, clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    """The plans' vote deadlocked: ctrl+t shows the two plans by their whole names."""
    app, settle = wizard_step("vote", Involvement.CHECKPOINTS)(engine, clock)

    async def ask(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen_named(pilot, "TieBreakScreen"))

    return app, ask


def review_then(keys: tuple[str, ...], wanted: str | None = None) -> Scenario:
    """The wizard's review step, after `keys` (e edits, r rejects, x cancels the plan).

    Without a `wanted` screen, `keys` open the task editor: the shot waits for its field to
    take the focus, so the cursor is drawn in every shot or in none.
    """

    def scenario(engine: Engine, _clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
        app = wizard_at(engine, "review")

        def editing() -> bool:
            focused = app.focused
            return focused is not None and any(node.id == "task-editor" for node in focused.ancestors)

        async def act(pilot: Pilot[None]) -> None:
            await until(pilot, lambda: getattr(app.screen, "pane", None) == "review")
            await pilot.pause(0.1)
            await pilot.press(*keys)
            await until(pilot, lambda: screen_named(pilot, wanted) if wanted else editing())

        return app, act

    return scenario


def damaged(engine: Engine, _clock: FixedClock) -> tuple[OrkestraApp, RunBefore]:
    sample(engine)
    app = OrkestraApp(engine)

    async def damage(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))
        app.show_damage(
            "The database /data/orkestra.db is damaged (database disk image is malformed);"
            " restore the newest good snapshot: orkestra snapshot restore 20270115-093000"
        )
        await until(pilot, lambda: screen_named(pilot, "DamagedDatabaseScreen"))

    return app, damage


SCREENS: dict[str, Scenario] = {
    "plan-first-run-details": plan_first_run_details,
    "plan-first-run-end": plan_first_run_end,
    "plan-brief": plan_brief_beside_projects,
    "plan-proposals": wizard_step("proposals", Involvement.HANDS_ON),
    "plan-vote": wizard_step("vote", Involvement.CHECKPOINTS),
    "plan-synthesis": wizard_step("synthesis", Involvement.HANDS_ON),
    "plan-review": wizard_step("review", Involvement.CHECKPOINTS),
    "plan-done": wizard_step("done", Involvement.CHECKPOINTS),
    "board-two-projects": board_of_two_projects,
    "board-task-detail": board_task_detail,
    "board-filter": on_board(("slash", *"cart")),
    "voting-decided": on_sample("3", ("down",)),
    "audit-detail": audit_detail,
}
"""Each screen, by a name the snapshot keeps. At 80x24 already in test_snapshots.py: the first run's
Plan screen, the mid-run Board, and the sample's Voting, Health and Audit screens."""

DIALOGS: dict[str, Scenario] = {
    "help": help_dialog,
    "plan-tie-break": plan_tie_break,
    "new-question": on_sample("3", ("n",), "NewQuestionScreen"),
    "your-ballot": on_sample("3", ("h",), "HumanBallotScreen"),
    "voting-feedback": on_sample("3", ("f",), "FeedbackScreen"),
    "export-record": on_sample("3", ("down", "x"), "ExportRecordScreen"),
    "review-edit-task": review_then(("down", "e")),
    "review-add-task": review_then(("a",)),
    "review-reject": review_then(("r",), "TextPromptScreen"),
    "plan-cancel": review_then(("x",), "ConfirmScreen"),
    "board-send-back": on_board(("right", "right", "right", "n"), "TextPromptScreen"),
    "board-reassign": on_board(("a",), "AssignAgentScreen"),
    "board-cancel-task": on_board(("x",), "ConfirmScreen"),
    "board-budget": board_budget,
    "audit-filters": on_sample("5", ("f",), "AuditFiltersScreen"),
    "audit-export": on_sample("5", ("x",), "AuditExportScreen"),
    "damaged-database": damaged,
    "proposal-plan": proposal_plan,
    "health-refused-answers": refused_answers,
}
"""Each dialog (and the damaged-database screen), by a name the snapshot keeps. At 80x24 already in
test_snapshots.py: the tie-break and the round feedback a vote asks for."""

LARGE_SCREENS: dict[str, Scenario] = {
    "plan": on_sample("1"),
    "health": on_sample("4"),
    "board": board,
    "review-edit-task": review_then(("down", "e")),
}
"""Screens whose layout at 120x40 once went wrong (a clipped column, a wrapped line)."""


@pytest.fixture(autouse=True)
def _fixed_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    """The export dialogs offer a file in the current directory: the same one on every machine."""
    monkeypatch.chdir(Path("/"))


def shot(snap_compare: Callable[..., bool], scenario: Scenario, engine: Engine, clock: FixedClock) -> bool:
    app, run_before = scenario(engine, clock)
    return snap_compare(app, run_before=run_before, terminal_size=SIZE)


@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_at_80x24(
    snap_compare: Callable[..., bool], engine: Engine, clock: FixedClock, name: str
) -> None:
    assert shot(snap_compare, SCREENS[name], engine, clock)


@pytest.mark.parametrize("name", list(DIALOGS))
def test_dialog_at_80x24(
    snap_compare: Callable[..., bool], engine: Engine, clock: FixedClock, name: str
) -> None:
    assert shot(snap_compare, DIALOGS[name], engine, clock)


@pytest.mark.parametrize("name", list(LARGE_SCREENS))
def test_screen_at_120x40(
    snap_compare: Callable[..., bool], engine: Engine, clock: FixedClock, name: str
) -> None:
    app, run_before = LARGE_SCREENS[name](engine, clock)
    assert snap_compare(app, run_before=run_before, terminal_size=LARGE)


def test_every_dialog_has_a_scenario() -> None:
    """A new dialog under tui/screens gets its 80x24 snapshot here too."""
    import inspect
    import pkgutil
    from importlib import import_module

    import orkestra_tui.tui.screens as screens_package

    shown = {
        "TieBreakScreen", "RoundFeedbackScreen", "NewQuestionScreen", "HumanBallotScreen",
        "FeedbackScreen", "ExportRecordScreen", "TextPromptScreen", "ConfirmScreen",
        "AssignAgentScreen", "BudgetScreen", "AuditFiltersScreen", "AuditExportScreen",
        "HelpScreen", "DamagedDatabaseScreen", "ProposalPlanScreen", "RefusedAnswersScreen",
        "DiffScreen", "LinkRepositoryScreen",  # in test_snapshots_repository.py
        "ContestScreen", "ContestDiffScreen",  # in test_snapshots_contest.py
    }  # fmt: skip
    found: set[str] = set()
    for module_info in pkgutil.iter_modules(screens_package.__path__):
        module = import_module(f"{screens_package.__name__}.{module_info.name}")
        for name, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ != module.__name__ or not issubclass(value, Screen):
                continue
            if name.endswith("Screen"):
                found.add(name)
    mode_screens = {"PlanScreen", "BoardScreen", "VotingScreen", "HealthScreen", "AuditScreen"}
    bases = {"EngineScreen", "DialogScreen", "BoardRepositoryScreen", "BoardContestScreen"}
    assert found - mode_screens - bases - shown == set()
