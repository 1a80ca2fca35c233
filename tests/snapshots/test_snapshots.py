"""One snapshot per screen, on the sample data with the clock, seed, size and theme pinned."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fakes import ScriptedProvider, ballot_for, committee_member, vote_until_the_tie_break
from textual.pilot import Pilot

from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Involvement
from orkestra_tui.engine.planning.planning import Brief, Planner
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.board import BoardScreen
from orkestra_tui.tui.screens.plan import PlanScreen
from orkestra_tui.tui.screens.round_feedback import RoundFeedbackScreen
from orkestra_tui.tui.screens.tie_break import TieBreakScreen

SIZE = (80, 24)
VOTING_SIZE = (100, 30)


@pytest.mark.parametrize("key", ["1", "2", "3", "4", "5"], ids=["plan", "board", "voting", "health", "audit"])
def test_screen(snap_compare: Callable[..., bool], sample_engine: Engine, key: str) -> None:
    assert snap_compare(OrkestraApp(sample_engine), press=[key], terminal_size=SIZE)


def test_first_run_plan_screen(snap_compare: Callable[..., bool], engine: Engine) -> None:
    assert snap_compare(OrkestraApp(engine), terminal_size=SIZE)


def test_help_screen(snap_compare: Callable[..., Any], sample_engine: Engine) -> None:
    assert snap_compare(OrkestraApp(sample_engine), press=["question_mark"], terminal_size=(80, 40))


def test_voting_mid_round(snap_compare: Callable[..., bool], sample_engine: Engine) -> None:
    """Round 2 of the sample's vote: five agents' ballots in, the human's awaited."""
    assert snap_compare(OrkestraApp(sample_engine), press=["3"], terminal_size=VOTING_SIZE)


def test_voting_decided_ranked_choice(snap_compare: Callable[..., bool], sample_engine: Engine) -> None:
    """The sample's ranked-choice vote, decided after two eliminations."""
    assert snap_compare(OrkestraApp(sample_engine), press=["3", "down"], terminal_size=VOTING_SIZE)


def test_tie_break_modal(snap_compare: Callable[..., bool], sample_engine: Engine) -> None:
    """Two agents for each option: the committee asks the human, who has picked the second."""
    voters = ("claude", "chatgpt", "gemini", "copilot")
    choices = ("Ship on Friday", "Ship on Friday", "Ship on Monday", "Ship on Monday")
    for voter, option in zip(voters, choices, strict=True):
        sample_engine.use_provider(voter, ScriptedProvider(ballot_for(option)))
    decision = sample_engine.open_decision(
        "When do we ship?",
        ["Ship on Friday", "Ship on Monday"],
        method="plurality",
        voters=voters,
        max_rounds=1,
    )
    app = OrkestraApp(sample_engine)

    async def vote_until_asked(pilot: Pilot[None]) -> None:
        await pilot.press("3")
        app.run_committee(decision.id)
        for _ in range(300):
            if isinstance(app.screen, TieBreakScreen):
                break
            await pilot.pause()
        await pilot.press("2")

    assert snap_compare(app, run_before=vote_until_asked, terminal_size=SIZE)


def test_round_feedback_modal(snap_compare: Callable[..., bool], sample_engine: Engine) -> None:
    """Hands-on: round 1 without a winner, the committee asks the human, who starts typing."""
    voters = ("claude", "chatgpt", "gemini", "copilot")
    choices = ("Ship on Friday", "Ship on Friday", "Ship on Friday", "Ship on Monday")
    for voter, option in zip(voters, choices, strict=True):
        sample_engine.use_provider(voter, ScriptedProvider(ballot_for(option)))
    decision = sample_engine.open_decision(
        "When do we ship?",
        ["Ship on Friday", "Ship on Monday"],
        method="unanimous",
        voters=voters,
        max_rounds=3,
        rules={"round_feedback": True},
    )
    app = OrkestraApp(sample_engine)

    async def vote_until_asked(pilot: Pilot[None]) -> None:
        await pilot.press("3")
        app.run_committee(decision.id)
        for _ in range(300):
            if isinstance(app.screen, RoundFeedbackScreen):
                break
            await pilot.pause()
        await pilot.press(*"Friday has no on-call cover.")

    assert snap_compare(app, run_before=vote_until_asked, terminal_size=SIZE)


WIZARD_SIZE = (100, 30)
PLANNERS = ("claude", "chatgpt")


def wizard_at(engine: Engine, step: str, involvement: Involvement = Involvement.CHECKPOINTS) -> OrkestraApp:
    """A plan by two scripted agents whose plans tie, taken to `step` before the app opens."""
    for agent in engine.agents():
        if agent.name not in PLANNERS:
            engine.set_agent_enabled(agent.name, False)
    for name in PLANNERS:
        engine.use_provider(name, ScriptedProvider(committee_member(name)))
    planner = Planner(engine)
    brief = Brief(
        name="Shop",
        description="A small online shop.",
        features=("cart", "search"),
        involvement=involvement,
        agents=PLANNERS,
    )
    project_id = planner.start(brief).project_id

    asyncio.run(planner.propose(project_id))
    if step == "vote":
        asyncio.run(vote_until_the_tie_break(engine, project_id))
    elif step != "proposals":
        asyncio.run(planner.vote(project_id, tie_break="first"))
        if step in ("review", "done"):
            asyncio.run(planner.synthesize(project_id))
        if step == "done":
            planner.approve(project_id)
    return OrkestraApp(engine, first_mode="plan")


@pytest.mark.parametrize(
    ("step", "involvement"),
    [
        ("proposals", Involvement.HANDS_ON),
        ("vote", Involvement.CHECKPOINTS),
        ("synthesis", Involvement.HANDS_ON),
        ("review", Involvement.CHECKPOINTS),
        ("done", Involvement.CHECKPOINTS),
    ],
)
def test_plan_wizard_step(
    snap_compare: Callable[..., bool], engine: Engine, step: str, involvement: Involvement
) -> None:
    """Each step of the wizard as it waits: for the go-ahead (hands-on), the tie-break, the review."""
    app = wizard_at(engine, step, involvement)

    async def settle(pilot: Pilot[None]) -> None:
        for _ in range(100):
            await pilot.pause(0.01)
            screen = app.screen
            if isinstance(screen, PlanScreen) and screen.pane == step:
                break
        await pilot.pause(0.1)

    assert snap_compare(app, run_before=settle, terminal_size=WIZARD_SIZE)


BOARD_TASKS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Foundations", "schema", "Define the catalogue schema", ()),
    ("Foundations", "ci", "Set up CI", ()),
    ("Foundations", "auth", "Sign-in with e-mail links", ()),
    ("Core", "cart", "Shopping cart", ("schema",)),
    ("Core", "search", "Search the catalogue", ("schema",)),
    ("Core", "checkout", "Checkout and payment", ("cart",)),
    ("Core", "stock", "Stock levels per warehouse", ("schema",)),
    ("Core", "prices", "Prices and discounts", ("schema",)),
    ("Core", "emails", "Order e-mails", ("checkout",)),
    ("Core", "reviews", "Product reviews", ("schema",)),
    ("Core", "wishlist", "Wish lists", ("schema",)),
    ("Release", "admin", "Admin dashboard", ("stock", "prices")),
    ("Release", "guide", "Operator guide", ("checkout",)),
    ("Release", "load", "Load test the checkout", ("checkout",)),
)
"""Phase, key, title and dependencies of the Board's snapshot project."""
BOARD_RESULT = (
    "# Catalogue schema\n\nItems, variants and prices, in **SQLite** with WAL.\n\n"
    "- `item(id, title, description)`\n- `variant(item_id, size, colour, stock)`\n\n"
    "See [the migration notes](https://example.com/notes) before upgrading.\n"
)


def board_mid_run(engine: Engine, clock: FixedClock) -> None:
    """A project as a run leaves it: done, running (for fixed times), in review, for the human, failed."""
    from orkestra_tui.engine.models import Priority, ProjectStatus, TaskSpec

    clock.step = 0.0  # the time stands still: the running tasks' elapsed times are what is set below
    project = engine.create_project("Web shop", "A small online shop.")
    specs = [
        TaskSpec(title, f"Build: {title.lower()}.", "code", Priority(index % 3), phase, key, depends)
        for index, (phase, key, title, depends) in enumerate(BOARD_TASKS)
    ]
    ids = {task.key: task.id for task in engine.add_tasks(project.id, specs)}
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    engine.set_budget(project.id, 5.0)
    now = clock.current
    states = {
        "schema": ("done", "claude", now - 900, "", BOARD_RESULT),
        "ci": ("done", "copilot", now - 800, "", "CI runs lint, types and tests."),
        "auth": ("failed", "grok", now - 400, "grok failed after 3 calls: rate limited (429)", None),
        "cart": ("review", "chatgpt", now - 200, "", "The cart keeps items per session."),
        "search": ("running", "gemini", now - 65, "", None),
        "stock": ("running", "claude", now - 312, "", None),
        "prices": ("awaiting_human", "copilot", now - 100, "Reviewers disagree on rounding", "In cents."),
    }
    with engine.store.transaction() as tx:
        for key, (status, agent, since, note, result) in states.items():
            tx.execute(
                "UPDATE task SET status = ?, assigned_to = ?, updated_at = ?, note = ?, result = ?,"
                " rationale = ?, attempts = ? WHERE id = ?",
                (status, agent, since, note, result, f"{agent}: code 0.9", 1 + (key == "schema"), ids[key]),
            )
        for key in ("reviews", "wishlist"):  # their one dependency is done
            tx.execute("UPDATE task SET status = 'ready' WHERE id = ?", (ids[key],))
        tx.execute(
            "INSERT INTO task_attempt (task_id, number, agent, started_at, finished_at, outcome, error)"
            " VALUES (?, 1, 'chatgpt', ?, ?, 'failed', 'The answer was cut off (max tokens).'),"
            " (?, 2, 'claude', ?, ?, 'done', '')",
            (ids["schema"], now - 1200, now - 1100, ids["schema"], now - 1000, now - 900),
        )
        tx.execute(
            "INSERT INTO task_review (task_id, attempt, reviewer, verdict, comments, created_at)"
            " VALUES (?, 2, 'gemini', 'approve', 'Clear, and the indexes are right.', ?)",
            (ids["schema"], now - 890),
        )
        tx.executemany(
            "INSERT INTO call (agent, model, purpose, started_at, latency_ms, cost, project_id, task_id)"
            " VALUES (?, 'model', 'task', ?, 900, ?, ?, ?)",
            [(agent, now - 500, 0.0123, project.id, ids[key]) for key, (_s, agent, *_rest) in states.items()],
        )
        tx.audit("engine", "snapshot.state", "The Board's snapshot state", project_id=project.id)


@pytest.mark.parametrize("size", [SIZE, VOTING_SIZE], ids=["80x24", "100x30"])
def test_board_mid_run(
    snap_compare: Callable[..., bool], engine: Engine, clock: FixedClock, size: tuple[int, int]
) -> None:
    """Tasks done, two running for fixed times, one in review, one for the human, one failed."""
    board_mid_run(engine, clock)
    assert snap_compare(OrkestraApp(engine), terminal_size=size)


def test_board_task_detail(snap_compare: Callable[..., bool], engine: Engine, clock: FixedClock) -> None:
    """The detail of a task done on its second attempt: reviews, a Markdown result, its history."""
    board_mid_run(engine, clock)
    app = OrkestraApp(engine)

    async def open_detail(pilot: Pilot[None]) -> None:
        for _ in range(100):
            if isinstance(app.screen, BoardScreen) and app.screen.body_ready:
                break
            await pilot.pause(0.01)
        await pilot.press("right", "right", "right", "right", "enter")
        for _ in range(100):  # the result's widget is built with the first result shown
            result = app.screen.query("#task-detail-result")
            if result and result.first().display:
                break
            await pilot.pause(0.01)
        await pilot.pause(0.1)

    assert snap_compare(app, run_before=open_detail, terminal_size=VOTING_SIZE)


async def audit_ready(pilot: Pilot[None]) -> None:
    """Show the Audit screen and wait until its first page is in."""
    from orkestra_tui.tui.screens.audit import AuditScreen

    await pilot.press("5")
    for _ in range(100):
        if isinstance(pilot.app.screen, AuditScreen) and pilot.app.screen.body_ready:
            break
        await pilot.pause(0.01)
    await pilot.pause()


def test_audit_detail(snap_compare: Callable[..., bool], sample_engine: Engine) -> None:
    """The sample's audit log with the third event's detail open beside it: its data as JSON."""

    async def open_detail(pilot: Pilot[None]) -> None:
        await audit_ready(pilot)
        await pilot.press("down", "down", "enter")
        pane = pilot.app.screen.query_one("#audit-detail")
        for _ in range(100):
            if pane.display:
                break
            await pilot.pause(0.01)
        await pilot.pause()

    assert snap_compare(OrkestraApp(sample_engine), run_before=open_detail, terminal_size=VOTING_SIZE)


def test_audit_filters_active(snap_compare: Callable[..., bool], sample_engine: Engine) -> None:
    """The agents' ballots only, found through the filters dialog: the header names the filters and counts."""
    from textual.widgets import Input, Select

    async def filter_ballots(pilot: Pilot[None]) -> None:
        await audit_ready(pilot)
        await pilot.press("f")
        await pilot.pause()
        pilot.app.screen.query_one("#filter-actor", Select).value = "agent"
        pilot.app.screen.query_one("#filter-kind", Input).focus()
        await pilot.press(*"ballot", "enter")
        for _ in range(100):  # the count comes a frame after the rows
            if getattr(pilot.app.screen, "count", None) is not None:
                break
            await pilot.pause(0.01)
        await pilot.pause()

    assert snap_compare(OrkestraApp(sample_engine), run_before=filter_ballots, terminal_size=SIZE)
