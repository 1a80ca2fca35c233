"""The Voting screen says how many ballots counted, how many abstained, and whether the quorum was met."""

from __future__ import annotations

from fakes import ScriptedProvider, ballot_for, garbage
from test_voting_screen import screen_text, wait_until
from textual.widgets import Input

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.voting.committee import TieBreakPolicy
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.new_question import NewQuestionScreen
from orkestra_tui.tui.widgets.decision_detail import DecisionDetail

SIZE = (170, 40)
OPTIONS = ("SQLite", "PostgreSQL")
VOTERS = ("claude", "chatgpt", "gemini")


async def one_voter_of_three(engine: Engine, **rules: object) -> int:
    """A decided or failed vote where claude ranks SQLite first and the two others abstain."""
    engine.use_provider("claude", ScriptedProvider(ballot_for(OPTIONS[0])))
    for voter in VOTERS[1:]:
        engine.use_provider(voter, ScriptedProvider(garbage))
    decision = engine.open_decision(
        "Which database?",
        OPTIONS,
        method="ranked_choice",
        voters=VOTERS,
        max_rounds=1,
        rules=rules or None,
    )
    await engine.decide(decision.id, tie_break=TieBreakPolicy.FAIL, resolution=("fallback",))
    return decision.id


async def test_a_round_short_of_the_quorum_says_so(engine: Engine) -> None:
    decision_id = await one_voter_of_three(engine)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        detail = app.screen.query_one(DecisionDetail)
        await wait_until(pilot, lambda: detail.decision_id == decision_id, "the decision shown")
        text = screen_text(app)
        assert "ranked choice · quorum a majority · threshold 75%" in text
        assert "Ballots: 1 of 3 ballots counted, 2 abstained · quorum a majority (2 of 3) not met" in text


async def test_a_winner_by_one_ballot_of_three_is_no_unanimity(engine: Engine) -> None:
    decision_id = await one_voter_of_three(engine, quorum=0.0)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        detail = app.screen.query_one(DecisionDetail)
        await wait_until(pilot, lambda: detail.decision_id == decision_id, "the decision shown")
        text = screen_text(app)
        assert "Consensus split · support 100% · turnout 33.3%" in text
        assert "Ballots: 1 of 3 ballots counted, 2 abstained · no quorum" in text
        assert "2 of the 3 ballots abstained" in text


async def test_a_new_question_starts_from_the_configured_quorum(engine: Engine) -> None:
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewQuestionScreen), "the question dialog")
        assert app.screen.query_one("#question-quorum", Input).value == "majority"
