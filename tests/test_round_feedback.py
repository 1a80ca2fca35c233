"""Hands-on votes from the keyboard: between rounds the committee asks the human for feedback."""

from __future__ import annotations

from fakes import ScriptedProvider, ballot_for
from test_voting_screen import SIZE, screen_text, wait_until
from textual.widgets import Static

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Decision, DecisionStatus, InboxKind, InboxStatus
from orkestra_tui.providers.base import ProviderRequest
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.round_feedback import RoundFeedbackScreen
from orkestra_tui.tui.screens.voting import VotingScreen

OPTIONS = ("Ship on Friday", "Ship on Monday")
VOTERS = ("claude", "chatgpt", "gemini", "copilot")
QUESTION = "When do we ship [bold]the[/bold] release?"


def converging_decision(engine: Engine) -> tuple[Decision, ScriptedProvider]:
    """Unanimity needed; copilot dissents in round 1 and comes round in round 2."""
    for voter in VOTERS[:3]:
        engine.use_provider(voter, ScriptedProvider(ballot_for(OPTIONS[0])))
    first, later = ballot_for(OPTIONS[1]), ballot_for(OPTIONS[0])

    def dissenter(request: ProviderRequest, index: int) -> str | BaseException:
        return (first if request.context["round"] == 1 else later)(request, index)

    copilot = ScriptedProvider(dissenter)
    engine.use_provider("copilot", copilot)
    decision = engine.open_decision(
        QUESTION, OPTIONS, method="unanimous", voters=VOTERS, max_rounds=3, rules={"round_feedback": True}
    )
    return decision, copilot


def decided(engine: Engine, decision_id: int) -> bool:
    decision = engine.store.decision(decision_id)
    return decision is not None and decision.status is DecisionStatus.DECIDED


async def test_feedback_typed_between_rounds_reaches_the_next_round(engine: Engine) -> None:
    decision, copilot = converging_decision(engine)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.run_committee(decision.id)
        await wait_until(pilot, lambda: isinstance(app.screen, RoundFeedbackScreen), "the feedback modal")
        await wait_until(pilot, lambda: "Feedback before round 2" in screen_text(app), "the modal's text")
        assert [item.round for item in engine.store.rounds(decision.id)] == [1]  # round 2 waits
        text = screen_text(app)
        assert "Feedback before round 2" in text
        assert QUESTION in text  # shown literally, never as markup
        assert "Round 1 of 3 ended without a winner" in text
        assert "Ship on Friday" in text and "75% first choices" in text
        await pilot.press("ctrl+s")  # nothing written yet: it says so and stays
        assert isinstance(app.screen, RoundFeedbackScreen)
        assert "Write some feedback first" in str(
            app.screen.query_one("#round-feedback-error", Static).render()
        )
        await pilot.press(*"Friday has no [b]on-call[/b] cover.", "ctrl+s")
        await wait_until(pilot, lambda: decided(engine, decision.id), "the decision")
        assert isinstance(app.screen, VotingScreen)
    feedback = engine.store.feedback(decision.id)
    assert [(item.round, item.text) for item in feedback] == [(2, "Friday has no [b]on-call[/b] cover.")]
    assert [request.context["feedback"] for request in copilot.requests] == [
        [],
        ["Friday has no [b]on-call[/b] cover."],
    ]


async def test_escape_skips_and_the_vote_goes_on(engine: Engine) -> None:
    decision, copilot = converging_decision(engine)
    app = OrkestraApp(engine, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.run_committee(decision.id)
        await wait_until(pilot, lambda: isinstance(app.screen, RoundFeedbackScreen), "the feedback modal")
        assert app.current_mode == "board"  # shown wherever the user is
        await pilot.press("escape")
        await wait_until(pilot, lambda: decided(engine, decision.id), "the decision")
        assert not isinstance(app.screen, RoundFeedbackScreen)
    assert engine.store.feedback(decision.id) == []
    assert [request.context["feedback"] for request in copilot.requests] == [[], []]
    (request,) = [item for item in engine.store.inbox(None) if item.kind is InboxKind.ROUND_FEEDBACK]
    assert request.status is InboxStatus.ANSWERED and request.answer == {"text": ""}


async def test_a_request_left_open_is_shown_at_the_next_start(engine: Engine) -> None:
    decision, copilot = converging_decision(engine)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.run_committee(decision.id)
        await wait_until(pilot, lambda: isinstance(app.screen, RoundFeedbackScreen), "the feedback modal")
    (request,) = engine.inbox.open_items()  # the app closed with the question unanswered
    again = OrkestraApp(engine, first_mode="voting")
    async with again.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(again.screen, RoundFeedbackScreen), "the modal again")
        modal = again.screen
        assert isinstance(modal, RoundFeedbackScreen) and modal.item.id == request.id
        await pilot.press(*"Think of support.")
        await pilot.click("#round-feedback-send")
        await wait_until(pilot, lambda: decided(engine, decision.id), "the resumed vote")
    assert [item.id for item in engine.store.inbox(None) if item.kind is InboxKind.ROUND_FEEDBACK] == [
        request.id
    ]
    assert copilot.requests[-1].context["feedback"] == ["Think of support."]
