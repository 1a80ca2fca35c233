"""Every option of a committee question gets a label, and a question takes at most 26 options.

A question past the limit is refused in one line by the engine, `orkestra vote` and the New
question dialog; a decision stored with more options (before the limit, or grown by a
compromise) still has every option labelled, shown and ranked.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Input, Static, TextArea

from orkestra_tui.cli import main
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import DecisionStatus
from orkestra_tui.engine.voting.committee import labels_for, option_labels, presentation_for
from orkestra_tui.engine.voting.decisions import MAX_OPTIONS, insert_decision
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.new_question import NewQuestionScreen

QUESTION = "Which name should the project take?"


def names(count: int) -> list[str]:
    return [f"Name {number}" for number in range(1, count + 1)]


def test_labels_run_from_a_to_z_then_aa_to_zz_then_aaa() -> None:
    labels = option_labels(703)
    assert labels[:3] == ["A", "B", "C"]
    assert labels[25:28] == ["Z", "AA", "AB"]
    assert labels[51:53] == ["AZ", "BA"]
    assert labels[-2:] == ["ZZ", "AAA"]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("count", [53, 60, 200])
def test_every_option_of_a_large_decision_has_a_label(engine: Engine, count: int) -> None:
    decision = engine.open_decision(QUESTION, names(2))
    options = names(count)
    labels = labels_for(decision, 1, options)
    assert sorted(labels.values()) == sorted(options)
    presentation = presentation_for(decision, 1, options, "claude")
    assert len(presentation.labels) == count
    assert {presentation.option_of(f" {label.lower()} ") for label in labels} == set(options)


@pytest.mark.parametrize("count", [27, 53, 60, 200])
def test_the_engine_refuses_a_question_past_the_limit_in_one_line(engine: Engine, count: int) -> None:
    with pytest.raises(EngineError) as raised:
        engine.open_decision(QUESTION, names(count))
    assert str(raised.value) == f"a decision takes at most 26 options, not {count}"
    assert engine.decisions() == []


def test_the_most_options_a_question_takes_are_all_put_to_the_committee(engine: Engine) -> None:
    decision = engine.open_decision(QUESTION, names(MAX_OPTIONS), method="plurality", max_rounds=1)
    assert list(decision.options) == names(26)


def test_a_stored_decision_with_60_options_is_ranked_in_full(engine: Engine) -> None:
    options = names(60)
    voters = [agent.name for agent in engine.enabled_agents()]
    with engine.store.transaction() as tx:
        decision_id = insert_decision(
            tx,
            question=QUESTION,
            options=options,
            method="plurality",
            rules={},
            voters=voters,
            max_rounds=1,
            category="",
            project_id=None,
            actor="human",
        )
    decided = asyncio.run(engine.decide(decision_id, tie_break="first", resolution=["fallback"]))
    assert decided.status is not DecisionStatus.OPEN
    # Every agent but the one that ranks only its top two ranks every option.
    full_ballots = [ballot for ballot in engine.store.ballots(decision_id, 1) if len(ballot.ranking) > 2]
    assert len(full_ballots) >= 3
    for ballot in full_ballots:
        assert sorted(ballot.ranking) == sorted(options), ballot.voter


@pytest.mark.parametrize("count", [27, 53, 60, 200])
def test_orkestra_vote_refuses_a_question_past_the_limit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, count: int
) -> None:
    arguments = [argument for name in names(count) for argument in ("--option", name)]
    status = main(["vote", "--data-dir", str(tmp_path), QUESTION, *arguments, "--tie-break", "first"])
    captured = capsys.readouterr()
    assert (status, captured.out) == (2, "")
    assert captured.err == f"orkestra: a decision takes at most 26 options, not {count}\n"


async def test_the_new_question_dialog_refuses_a_question_past_the_limit(engine: Engine) -> None:
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NewQuestionScreen)
        app.screen.query_one("#question-text", Input).value = QUESTION
        app.screen.query_one("#question-options", TextArea).load_text("\n".join(names(53)))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NewQuestionScreen)
        error = app.screen.query_one("#options-error", Static)
        assert "a decision takes at most 26 options, not 53" in str(error.render())
        assert error.display
        assert engine.decisions() == []
