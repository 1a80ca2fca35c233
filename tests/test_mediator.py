"""Who mediates a deadlock's compromise: any neutral available agent, else the weakest-minded voter."""

from __future__ import annotations

import asyncio
import json

from fakes import ScriptedProvider, ballot_for

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Decision
from orkestra_tui.engine.voting.decision_view import read_decision_view
from orkestra_tui.providers.base import ProviderRequest

FRIDAY, MONDAY = "Ship on Friday", "Ship on Monday"
MIDWEEK = "Ship on Wednesday with a freeze on Tuesday"
VOTERS = ("claude", "chatgpt", "gemini", "copilot")


def member(option: str, confidence: float) -> ScriptedProvider:
    """Votes for `option` with `confidence`; asked to mediate, proposes MIDWEEK (and then votes for it)."""
    ballot = ballot_for(option, confidence=confidence)

    def script(request: ProviderRequest, index: int) -> str | BaseException:
        if request.purpose == "compromise":
            return json.dumps({"option": MIDWEEK, "rationale": "QA gets its day"})
        if MIDWEEK in [item["text"] for item in request.context.get("options", ())]:
            return ballot_for(MIDWEEK, option)(request, index)
        return ballot(request, index)

    return ScriptedProvider(script)


def tied_two_to_two(engine: Engine) -> Decision:
    """Two voters for each of two options, with different confidences; a compromise may follow."""
    confidences = (0.9, 0.8, 0.55, 0.7)
    for name, option, confidence in zip(VOTERS, (FRIDAY, FRIDAY, MONDAY, MONDAY), confidences, strict=True):
        engine.use_provider(name, member(option, confidence))
    decision = engine.open_decision(
        "When do we ship?", [FRIDAY, MONDAY], method="plurality", voters=VOTERS, max_rounds=1
    )
    return asyncio.run(engine.decide(decision.id, tie_break="first"))


def events(engine: Engine, kind: str) -> list[str]:
    return [event.summary for event in engine.audit_events(200, kind=kind)]


def compromise_notice(engine: Engine, decision: Decision) -> str:
    view = read_decision_view(engine.store, decision.id)
    assert view is not None
    return next(notice.text for notice in view.notices if notice.text.startswith("Compromise"))


def test_an_enabled_agent_that_does_not_vote_mediates_a_two_option_tie(engine: Engine) -> None:
    engine.use_provider("grok", member(MONDAY, 0.5))  # enabled, not among the voters
    decided = tied_two_to_two(engine)
    assert decided.outcome is not None and decided.outcome["how"] == "compromise"
    assert decided.outcome["winner"] == MIDWEEK and decided.authors[MIDWEEK] == "grok"
    assert engine.store.rounds(decided.id)[-1].note == "compromise by grok"
    assert events(engine, "decision.compromise_skipped") == []
    assert events(engine, "decision.mediator") == [
        "grok mediates a compromise: it backs none of the leading options"
    ]
    assert "by grok, voted on in round 2" in compromise_notice(engine, decided)


def test_an_agent_that_cannot_be_called_does_not_mediate(engine: Engine) -> None:
    engine.use_provider("grok", member(MONDAY, 0.5))
    engine.bad_keys.add("grok")  # its key was refused: not available
    decided = tied_two_to_two(engine)
    assert decided.authors.get(MIDWEEK) == "gemini"


def test_without_a_neutral_agent_the_weakest_preference_mediates_and_says_so(engine: Engine) -> None:
    engine.set_agent_enabled("grok", False)
    decided = tied_two_to_two(engine)
    # gemini backed Monday with confidence 0.55, the lowest of the four.
    assert decided.authors[MIDWEEK] == "gemini"
    rounds = engine.store.rounds(decided.id)
    assert rounds[-1].note == "compromise by gemini, the voter with the weakest preference"
    assert events(engine, "decision.mediator") == [
        "No neutral agent could mediate: gemini, the voter with the weakest preference"
        " (confidence 0.55), mediates a compromise"
    ]
    (mediator_event,) = engine.audit_events(200, kind="decision.mediator")
    assert mediator_event.data["neutral"] is False and mediator_event.data["mediator"] == "gemini"
    notice = compromise_notice(engine, decided)
    assert "by gemini (the voter with the weakest preference: no agent was neutral)" in notice
    assert f"({MIDWEEK})" in notice
    # Like any author, the mediator may not vote for its own compromise.
    gemini = next(
        ballot for ballot in engine.store.ballots(decided.id, rounds[-1].round) if ballot.voter == "gemini"
    )
    assert gemini.excluded == (MIDWEEK,) and MIDWEEK not in gemini.ranking
