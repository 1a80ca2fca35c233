"""Abstentions count: the consensus level and every reason say how many abstained, and a quorum
(by default a majority of the voters asked) keeps one voter of five from deciding for the committee.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from fakes import ScriptedProvider, ballot_for, garbage

from orkestra_tui.config import QUORUM_MAJORITY as CONFIG_MAJORITY
from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.engine import Engine, EngineError
from orkestra_tui.engine.models import DecisionStatus
from orkestra_tui.engine.voting.committee import TieBreakPolicy
from orkestra_tui.engine.voting.consensus import (
    QUORUM_MAJORITY,
    BallotError,
    RankedBallot,
    quorum_ballots,
    tally,
)
from orkestra_tui.engine.voting.methods import METHODS
from orkestra_tui.engine.voting.records import decision_record

OPTIONS = ("SQLite", "PostgreSQL")
AGENTS = ("claude", "chatgpt", "gemini", "copilot", "grok")


def ballots(cast: int, abstained: int) -> list[RankedBallot]:
    """`cast` ballots for SQLite, then `abstained` empty ones."""
    return [RankedBallot(f"v{number}", ("SQLite",)) for number in range(cast)] + [
        RankedBallot(f"a{number}", ()) for number in range(abstained)
    ]


# ------------------------------------------------------------------ the tally


def test_one_ballot_of_three_is_no_unanimity_and_the_reason_says_two_abstained() -> None:
    result = tally("ranked_choice", OPTIONS, ballots(1, 2))
    assert result.winner == "SQLite"
    assert result.consensus == "split"
    assert (result.support, round(result.participation, 2)) == (1.0, 0.33)
    assert result.reason == (
        "SQLite won on count 1 of the runoff with 1 of 1 cast ballot; 2 of the 3 ballots abstained"
    )
    as_dict = result.to_dict()
    assert (as_dict["ballots"], as_dict["cast"], as_dict["abstained"]) == (3, 1, 2)
    assert (as_dict["quorum"], as_dict["quorum_met"]) == (0, True)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_reads_its_consensus_level_over_every_ballot(method: str) -> None:
    everyone = tally(method, OPTIONS, ballots(4, 0))
    assert everyone.consensus == "unanimous"
    four_of_five = tally(method, OPTIONS, ballots(4, 1))
    assert (four_of_five.winner, four_of_five.consensus) == ("SQLite", "strong")
    assert four_of_five.reason.endswith("; 1 of the 5 ballots abstained")


@pytest.mark.parametrize(
    ("cast", "abstained", "decided"),
    [
        (1, 4, False),  # one voter of five does not decide for the committee
        (2, 3, False),
        (3, 2, True),  # exactly the quorum
        (1, 2, False),
        (2, 1, True),
        (2, 2, False),  # half is not a majority
        (3, 1, True),
        (1, 0, True),
    ],
)
def test_a_majority_quorum_needs_more_than_half_of_the_ballots(
    cast: int, abstained: int, decided: bool
) -> None:
    result = tally("plurality", OPTIONS, ballots(cast, abstained), quorum=QUORUM_MAJORITY)
    total = cast + abstained
    assert result.quorum == total // 2 + 1
    assert result.quorum_met is decided
    assert (result.winner == "SQLite") is decided
    if not decided:
        assert result.rounds == ()
        assert result.reason.endswith(
            f"({cast} of {total} ballots, {abstained} abstained) is below the quorum of a majority"
            f" ({total // 2 + 1} of {total}); no decision"
        )


def test_the_failed_quorum_line_of_the_issue() -> None:
    result = tally("ranked_choice", OPTIONS, ballots(1, 2), quorum=QUORUM_MAJORITY)
    assert result.reason == (
        "Participation 33.3% (1 of 3 ballots, 2 abstained) is below the quorum of a majority (2 of 3);"
        " no decision"
    )


def test_no_valid_ballot_and_no_ballot_at_all_meet_no_majority() -> None:
    all_abstain = tally("majority", OPTIONS, ballots(0, 3), quorum=QUORUM_MAJORITY)
    assert (all_abstain.winner, all_abstain.cast, all_abstain.quorum) == (None, 0, 2)
    assert all_abstain.reason == (
        "Participation 0% (0 of 3 ballots, 3 abstained) is below the quorum of a majority (2 of 3);"
        " no decision"
    )
    nothing = tally("majority", OPTIONS, [], quorum=QUORUM_MAJORITY)
    assert (nothing.winner, nothing.quorum_met) == (None, False)
    assert nothing.reason == "There are no ballots, so the quorum of a majority is not met; no decision"
    # Without a quorum, only abstentions still decide nothing, and say so.
    assert tally("majority", OPTIONS, ballots(0, 3)).reason == "All 3 ballots abstained; no decision"


def test_a_share_quorum_is_inclusive_and_counts_ballots_exactly() -> None:
    assert [quorum_ballots(QUORUM_MAJORITY, total) for total in (0, 1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3, 3]
    assert tally("plurality", OPTIONS, ballots(2, 2), quorum=0.5).winner == "SQLite"  # exactly 50%
    assert tally("plurality", OPTIONS, ballots(2, 2), quorum=0.51).winner is None


@pytest.mark.parametrize("bad", ["most", "", "Majority ", True])
def test_a_quorum_is_a_share_or_the_word_majority(bad: object) -> None:
    with pytest.raises(BallotError) as raised:
        tally("plurality", OPTIONS, ballots(1, 0), quorum=bad)  # type: ignore[arg-type]  # a wrong value, on purpose
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith("quorum must be")
    assert CONFIG_MAJORITY == QUORUM_MAJORITY  # the setting's word is the tally's


# ------------------------------------------------------------- the committee


def committee(paths: Paths, settings: Settings, voting: int, **config: object) -> Engine:
    """Five agents: the first `voting` rank SQLite first, the others answer garbage (they abstain)."""
    engine = Engine(paths, replace(settings, engine=replace(settings.engine, **config)), env={})  # type: ignore[arg-type]  # EngineSettings fields by name; replace() checks them
    for index, name in enumerate(AGENTS):
        engine.use_provider(name, ScriptedProvider(ballot_for(OPTIONS[0]) if index < voting else garbage))
    return engine


def decide(engine: Engine, *, tie_break: TieBreakPolicy, **resolution: object) -> tuple[int, object]:
    decision = engine.open_decision("Which database?", OPTIONS, method="plurality", max_rounds=2)
    return decision.id, asyncio.run(engine.decide(decision.id, tie_break=tie_break, **resolution))  # type: ignore[arg-type]  # decide()'s keywords, by name


def test_new_decisions_take_the_configured_quorum(paths: Paths, settings: Settings) -> None:
    engine = committee(paths, settings, 5)
    assert engine.settings.engine.quorum == QUORUM_MAJORITY
    assert engine.open_decision("Q?", OPTIONS).rules == {"quorum": QUORUM_MAJORITY}
    assert engine.open_decision("Q?", OPTIONS, rules={"quorum": 0.25}).rules == {"quorum": 0.25}
    with pytest.raises(EngineError, match='quorum must be "majority" or a number from 0 to 1'):
        engine.open_decision("Q?", OPTIONS, rules={"quorum": "most"})
    engine.close()
    lax = committee(paths, settings, 5, quorum=0.0)
    assert lax.open_decision("Q?", OPTIONS).rules == {"quorum": 0.0}
    lax.close()


def test_exactly_the_quorum_decides_and_the_outcome_counts_the_abstentions(
    paths: Paths, settings: Settings
) -> None:
    engine = committee(paths, settings, 3)
    decision_id, _ = decide(engine, tie_break=TieBreakPolicy.FAIL)
    decision = engine.store.decision(decision_id)
    assert decision is not None and decision.status is DecisionStatus.DECIDED
    outcome = decision.outcome or {}
    assert (outcome["winner"], outcome["how"], outcome["consensus"]) == ("SQLite", "vote", "split")
    assert (outcome["ballots"], outcome["cast"], outcome["abstained"]) == (5, 3, 2)
    assert (outcome["quorum"], outcome["quorum_met"]) == (3, True)
    assert outcome["reason"].endswith("; 2 of the 5 ballots abstained")
    engine.close()


def test_a_round_short_of_the_quorum_goes_on_and_then_to_the_human(paths: Paths, settings: Settings) -> None:
    engine = committee(paths, settings, 1)
    decision_id, _ = decide(engine, tie_break=TieBreakPolicy.FIRST)
    rounds = engine.store.rounds(decision_id)
    # Two rounds, neither decided: the same first preferences twice are a deadlock.
    assert [item.tally["winner"] for item in rounds[:2] if item.tally] == [None, None]
    assert all(item.tally and not item.tally["quorum_met"] for item in rounds)
    assert "below the quorum of a majority (3 of 5)" in str(rounds[0].tally and rounds[0].tally["reason"])
    kinds = [event.kind for event in engine.audit_events(500)]
    assert "decision.deadlocked" in kinds and "decision.awaiting_human" in kinds
    decision = engine.store.decision(decision_id)
    assert decision is not None and decision.outcome is not None
    assert decision.outcome["how"] == "policy tie-break"
    assert (decision.outcome["cast"], decision.outcome["abstained"], decision.outcome["quorum"]) == (1, 4, 3)
    assert decision.outcome["quorum_met"] is False
    engine.close()


def test_the_plurality_fallback_keeps_the_quorum(paths: Paths, settings: Settings) -> None:
    engine = committee(paths, settings, 1)
    decision_id, _ = decide(engine, tie_break=TieBreakPolicy.FIRST, resolution=("fallback",))
    decision = engine.store.decision(decision_id)
    assert decision is not None and decision.status is DecisionStatus.NO_DECISION
    reason = (decision.outcome or {})["reason"]
    assert reason.startswith("No decision: the plurality fallback has no quorum either: Participation 20%")
    # The decision's record states the quorum and, for each round and the outcome, how it went.
    record = decision_record(engine.store, decision_id)
    assert "- **Quorum:** a majority (more than half of the ballots must count)" in record
    turnout = "1 of 5 ballots counted, 4 abstained · quorum a majority (3 of 5) not met"
    assert f"\n**Ballots:** {turnout}\n" in record and f"\n- **Ballots:** {turnout}\n" in record
    engine.close()


def test_without_a_quorum_one_voter_of_five_still_decides(paths: Paths, settings: Settings) -> None:
    engine = committee(paths, settings, 1, quorum=0)
    decision_id, _ = decide(engine, tie_break=TieBreakPolicy.FAIL)
    decision = engine.store.decision(decision_id)
    assert decision is not None and decision.outcome is not None
    assert (decision.outcome["winner"], decision.outcome["consensus"]) == ("SQLite", "split")
    assert decision.outcome["reason"].endswith("; 4 of the 5 ballots abstained")
    engine.close()


def test_a_decision_stored_without_a_quorum_keeps_none(paths: Paths, settings: Settings) -> None:
    """Decisions opened before the quorum was recorded with them resume as they were opened."""
    engine = committee(paths, settings, 1)
    decision = engine.open_decision("Which database?", OPTIONS, method="plurality", max_rounds=1)
    with engine.store.transaction() as tx:
        tx.execute("UPDATE decision SET rules = '{}' WHERE id = ?", (decision.id,))
        tx.audit("test", "test.rules_cleared", "As stored by an older version", subject="decision:1")
    final = asyncio.run(engine.decide(decision.id, tie_break=TieBreakPolicy.FAIL))
    assert final.outcome is not None and final.outcome["winner"] == "SQLite"
    engine.close()
