"""One stable letter per option on every surface a human sees, whatever letters the voters' prompts used.

A is the first option as the question was put; the prompts' letters are
shuffled afresh each round and stay in the prompts. A runoff's counts are told
apart from the voting rounds.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest
from fakes import ScriptedProvider, ballot_for
from test_voting_screen import screen_text, tied_decision, wait_until

from orkestra_tui.commands.vote_display import decision_document, print_summary
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Decision, DecisionStatus
from orkestra_tui.engine.voting.committee import labels_for
from orkestra_tui.engine.voting.decision_view import read_decision_view, round_heading
from orkestra_tui.engine.voting.records import decision_record
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.tie_break import TieBreakScreen
from orkestra_tui.tui.widgets.decision_detail import DecisionDetail, header_text

OPTIONS = ("Django", "FastAPI", "Flask")
STABLE = {"Django": "A", "FastAPI": "B", "Flask": "C"}


def open_runoff(engine: Engine) -> Decision:
    """FastAPI 2, Django 1, Flask 1 on count 1; Flask goes and claude's vote makes FastAPI win on count 2."""
    preferences = {
        "claude": ("Flask", "FastAPI"),
        "chatgpt": ("FastAPI",),
        "gemini": ("Django",),
        "copilot": ("FastAPI",),
    }
    for voter, ranking in preferences.items():
        engine.use_provider(voter, ScriptedProvider(ballot_for(*ranking)))
    return engine.open_decision(
        "Which framework?", OPTIONS, method="ranked_choice", voters=tuple(preferences), max_rounds=2
    )


async def decided_runoff(engine: Engine) -> Decision:
    decided = await engine.decide(open_runoff(engine).id, tie_break="first")
    assert decided.outcome is not None and decided.outcome["winner"] == "FastAPI"
    # The voters saw other letters than the stable ones: otherwise this test would prove nothing.
    assert {option: label for label, option in labels_for(decided, 1, OPTIONS).items()} != STABLE
    return decided


def runoff_on_count_two(engine: Engine) -> Decision:
    return asyncio.run(decided_runoff(engine))


def test_the_read_model_uses_the_questions_own_order(engine: Engine) -> None:
    decided = runoff_on_count_two(engine)
    view = read_decision_view(engine.store, decided.id)
    assert view is not None
    assert view.labels == STABLE
    assert [label for label, _option, _count in view.tally.rows] == ["A", "B", "C"]
    assert [option for _label, option, _count in view.tally.rows] == list(OPTIONS)
    claude = next(card for card in view.cards if card.voter == "claude")
    assert claude.ranking == ("C", "B")
    assert [step.eliminated for step in view.runoff] == ["C", None]
    assert view.result is not None
    assert "won on count 2 of the runoff" in str(view.result["reason"])
    assert "in round" not in str(view.result["reason"])


async def test_the_voting_screen_shows_the_stable_letters_and_tells_counts_from_rounds(
    engine: Engine,
) -> None:
    decided = await decided_runoff(engine)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(
            pilot,
            lambda: (
                (detail := app.screen.query_one(DecisionDetail)).view is not None
                and detail.view.decision.id == decided.id
            ),
            "the decision on screen",
        )
        await pilot.pause()
        text = screen_text(app)
    for option, label in STABLE.items():
        assert f"{label} {option}" in text
    assert "claude" in text and "C › B" in text
    assert "→ C out" in text and "→ B wins" in text
    assert "decided in voting round 1" in text
    assert "won on count 2 of the runoff" in text


def test_the_record_and_orkestra_vote_use_the_same_letters(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    decided = runoff_on_count_two(engine)
    record = decision_record(engine.store, decided.id)
    for option, label in STABLE.items():
        assert f"| {label} | {option} |" in record
        assert f"| **{label}** {option} |" in record  # the runoff's counts
    assert "Options: **A** Django · **B** FastAPI · **C** Flask." in record
    document = decision_document(engine, decided)
    assert document["labels"] == {label: option for option, label in STABLE.items()}
    assert json.loads(json.dumps(document))["labels"]["B"] == "FastAPI"
    print_summary(document)
    printed = capsys.readouterr().out
    for option, label in STABLE.items():
        assert any(line.split()[:2] == [label, option] for line in printed.splitlines())


async def test_the_tie_dialog_lists_the_options_by_their_stable_letters(engine: Engine) -> None:
    decision = tied_decision(engine)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.run_committee(decision.id)
        await wait_until(pilot, lambda: isinstance(app.screen, TieBreakScreen), "the tie-break modal")
        modal = app.screen
        assert isinstance(modal, TieBreakScreen)
        assert [option for option, _support in modal.options] == list(decision.options)
        text = screen_text(app)
        await pilot.press("escape")
    assert f"1 A {decision.options[0]}" in text
    assert f"2 B {decision.options[1]}" in text


def test_an_extra_round_reads_as_one(engine: Engine) -> None:
    assert round_heading(2, 1, "compromise by grok") == "Extra round 2 (compromise by grok)"
    assert round_heading(1, 3) == "Round 1 of 3"
    decided = runoff_on_count_two(engine)
    view = read_decision_view(engine.store, decided.id)
    assert view is not None
    open_extra = replace(
        view,
        decision=replace(view.decision, status=DecisionStatus.VOTING),
        round_number=3,
        round_note="compromise by grok",
    )
    header = header_text(open_extra).plain
    assert "extra round 3 (compromise by grok)" in header
    assert "round 3 of 2" not in header
