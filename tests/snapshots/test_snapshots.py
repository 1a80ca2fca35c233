"""One snapshot per screen, on the sample data with the clock, seed, size and theme pinned."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fakes import ScriptedProvider, ballot_for, committee_member, vote_until_the_tie_break
from textual.pilot import Pilot

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Involvement
from orkestra_tui.engine.planning import Brief, Planner
from orkestra_tui.tui.app import OrkestraApp
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
