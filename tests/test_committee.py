"""The committee: rounds, ballots as they arrive, deadlocks, compromise, the human, and resuming."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import ScriptedProvider, answers, ballot_for, failing, garbage

from orkestra_tui.config import Paths, Settings, SimulationSettings, resolve_paths
from orkestra_tui.engine.engine import Engine, EngineError
from orkestra_tui.engine.events import EngineEvent
from orkestra_tui.engine.models import (
    HUMAN_VOTER,
    Decision,
    DecisionStatus,
    InboxItem,
    InboxKind,
    InboxStatus,
    RoundStatus,
)
from orkestra_tui.engine.voting.committee import (
    RESOLUTION_STEPS,
    TieBreakPolicy,
    labels_for,
    presentation_for,
)

OPTIONS = [
    "SQLite: simple, safe and tested",
    "PostgreSQL: scale and data tooling",
    "A bold new event store",
    "Plain files with a typed code layer",
]
AGENTS = ("claude", "chatgpt", "gemini", "copilot", "grok")


def simulated_engine(home: Path, seed: int, **engine_settings: object) -> Engine:
    settings = Settings()
    settings = replace(
        settings,
        simulation=SimulationSettings(seed=seed, latency_ms=0),
        engine=replace(settings.engine, **engine_settings),  # type: ignore[arg-type]  # EngineSettings fields by name; replace() checks them
    )
    return Engine(resolve_paths(home), settings, env={})


def run_seed(tmp_path: Path, seed: int, **kwargs: object) -> tuple[Engine, Decision]:
    kwargs.setdefault("tie_break", TieBreakPolicy.FIRST)  # nobody is there to ask
    engine = simulated_engine(tmp_path / f"seed-{seed}", seed)
    decision = engine.open_decision("Which database should back the ledger?", OPTIONS)
    decided = asyncio.run(engine.decide(decision.id, **kwargs))  # type: ignore[arg-type]  # decide()'s keywords, by name
    return engine, decided


def find_seed(
    tmp_path: Path, wanted: Callable[[Engine, Decision], bool], **kwargs: object
) -> tuple[Engine, Decision]:
    """The first seed whose simulated committee behaves as `wanted` (personas make each case occur)."""
    for seed in range(40):
        engine, decided = run_seed(tmp_path, seed, **kwargs)
        if wanted(engine, decided):
            return engine, decided
        engine.close()
    raise AssertionError("no seed in 0..39 shows that behaviour")


def rounds_held(engine: Engine, decision: Decision) -> int:
    return len(engine.store.rounds(decision.id))


# ------------------------------------------------------------------ the vote


def test_agreement_in_one_round(tmp_path: Path) -> None:
    engine, decided = find_seed(
        tmp_path, lambda e, d: d.status is DecisionStatus.DECIDED and rounds_held(e, d) == 1
    )
    assert decided.outcome is not None
    assert decided.outcome["how"] == "vote"
    assert decided.outcome["winner"] in OPTIONS
    assert decided.outcome["support"] > 0.5
    (only,) = engine.store.rounds(decided.id)
    assert only.status is RoundStatus.CLOSED and only.tally is not None
    assert only.tally["winner"] == decided.outcome["winner"]
    assert len(engine.store.ballots(decided.id, 1)) == len(AGENTS)


def test_convergence_over_rounds(tmp_path: Path) -> None:
    engine, decided = find_seed(
        tmp_path,
        lambda e, d: d.outcome is not None and d.outcome["how"] == "vote" and rounds_held(e, d) >= 2,
    )
    first, last = engine.store.rounds(decided.id)[0], engine.store.rounds(decided.id)[-1]
    assert first.tally is not None and first.tally["winner"] is None
    assert decided.outcome is not None
    assert last.tally is not None and last.tally["winner"] == decided.outcome["winner"]
    # From round 2 on, each agent saw the previous round's anonymous tally.
    round_two = engine.store.ballots(decided.id, 2)
    assert any("lead" in ballot.reasoning for ballot in round_two)


def test_a_deadlock_resolved_by_compromise(tmp_path: Path) -> None:
    engine, decided = find_seed(
        tmp_path, lambda e, d: d.outcome is not None and d.outcome["how"] == "compromise"
    )
    kinds = [event.kind for event in reversed(engine.audit_events(500))]
    assert (
        kinds.index("decision.deadlocked")
        < kinds.index("decision.compromise")
        < kinds.index("decision.decided")
    )
    compromise = next(option for option, author in decided.authors.items() if option not in OPTIONS)
    mediator = decided.authors[compromise]
    rounds = engine.store.rounds(decided.id)
    assert rounds[-1].note == f"compromise by {mediator}"
    assert compromise in rounds[-1].options and compromise not in rounds[0].options
    # The mediator may not vote for its own compromise, and its ballot says so.
    mediator_ballot = next(
        b for b in engine.store.ballots(decided.id, rounds[-1].round) if b.voter == mediator
    )
    assert mediator_ballot.excluded == (compromise,)
    assert compromise not in mediator_ballot.ranking
    assert decided.resolution == ("compromise",)


def test_a_deadlock_resolved_by_the_human(tmp_path: Path) -> None:
    async def decide_and_break_the_tie(engine: Engine, decision_id: int) -> Decision:
        voting = asyncio.create_task(engine.decide(decision_id, resolution=("human", "fallback")))
        while not engine.inbox.open_items():
            await asyncio.sleep(0.01)
        (request,) = engine.inbox.open_items()
        assert request.kind is InboxKind.TIE_BREAK
        stored = engine.store.decision(decision_id)
        assert stored is not None and stored.status is DecisionStatus.AWAITING_HUMAN
        tied = [entry["option"] for entry in request.payload["tied"]]
        assert len(tied) >= 2 and all(0 <= entry["support"] <= 1 for entry in request.payload["tied"])
        engine.answer_tie_break(request.id, tied[-1])
        return await voting

    for seed in range(40):
        engine = simulated_engine(tmp_path / f"seed-{seed}", seed)
        probe = engine.open_decision("Which database should back the ledger?", OPTIONS)
        first = asyncio.run(engine.decide(probe.id, tie_break=TieBreakPolicy.FIRST, resolution=("human",)))
        if first.outcome and first.outcome["how"] == "policy tie-break":
            break
        engine.close()
    else:
        raise AssertionError("no seed deadlocks")
    decision = engine.open_decision("Which database should back the ledger?", OPTIONS)
    decided = asyncio.run(decide_and_break_the_tie(engine, decision.id))
    assert decided.status is DecisionStatus.DECIDED
    assert decided.outcome is not None and decided.outcome["how"] == "human tie-break"
    answered = [item for item in engine.store.inbox(None) if item.kind is InboxKind.TIE_BREAK]
    assert answered[-1].status is InboxStatus.ANSWERED
    assert decided.outcome["winner"] == answered[-1].answer["choice"]
    assert engine.audit_events(1, kind="decision.decided")[0].actor == "human"


@pytest.mark.parametrize(
    ("policy", "expected"), [("first", DecisionStatus.DECIDED), ("fail", DecisionStatus.NO_DECISION)]
)
def test_headless_tie_break_policies(tmp_path: Path, policy: str, expected: DecisionStatus) -> None:
    engine, decided = find_seed(
        tmp_path,
        lambda e, d: any(item.kind is InboxKind.TIE_BREAK for item in e.store.inbox(None)),
        tie_break=TieBreakPolicy(policy),
        resolution=("human", "fallback"),
    )
    assert decided.status is expected
    item = next(item for item in engine.store.inbox(None) if item.kind is InboxKind.TIE_BREAK)
    assert item.status is InboxStatus.ANSWERED  # the policy answered through the inbox, on record
    assert decided.outcome is not None
    if policy == "first":
        assert decided.outcome["winner"] == item.payload["tied"][0]["option"]
    else:
        assert "not broken" in decided.outcome["reason"]


def test_the_fallback_takes_plurality(tmp_path: Path) -> None:
    _engine, decided = find_seed(
        tmp_path,
        lambda e, d: d.outcome is not None and d.outcome["how"] == "fallback",
        resolution=("fallback",),
    )
    assert decided.outcome is not None and decided.outcome["method"] == "plurality"
    assert decided.resolution == ("fallback",)


# ---------------------------------------------------------- difficult agents


def scripted_engine(engine: Engine, **providers: ScriptedProvider) -> dict[str, ScriptedProvider]:
    for name, provider in providers.items():
        engine.use_provider(name, provider)
    return providers


def test_an_agent_that_times_out_abstains(paths: Paths, settings: Settings) -> None:
    slow_settings = replace(settings, engine=replace(settings.engine, agent_timeout_s=0.05))
    engine = Engine(paths, slow_settings, env={})
    scripted_engine(engine, grok=ScriptedProvider(ballot_for(OPTIONS[0]), delay_s=5))
    decision = engine.open_decision("Q?", OPTIONS[:2], method="plurality", max_rounds=1)
    asyncio.run(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST))
    grok = next(ballot for ballot in engine.store.ballots(decision.id, 1) if ballot.voter == "grok")
    assert grok.is_abstention
    assert grok.abstain_reason == "abstained: timeout: no answer within 0.05 s"
    assert engine.store.calls("grok")[-1].error_class == "timeout"


def test_garbage_gets_one_repair_then_counts_as_an_abstention(engine: Engine) -> None:
    fakes = scripted_engine(
        engine,
        grok=ScriptedProvider(garbage),
        gemini=ScriptedProvider(
            answers("not json", json.dumps({"ranking": ["Z"], "confidence": 1, "reasoning": "x"}))
        ),
    )
    decision = engine.open_decision("Q?", OPTIONS[:2], method="plurality", max_rounds=1)
    asyncio.run(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST))
    ballots = {ballot.voter: ballot for ballot in engine.store.ballots(decision.id, 1)}
    assert len(fakes["grok"].requests) == 2  # the answer, then one repair request
    assert "could not be used" in fakes["grok"].requests[1].messages[-1].content
    assert ballots["grok"].is_abstention
    assert ballots["grok"].abstain_reason.startswith("abstained: invalid answer twice")
    assert (
        ballots["gemini"].abstain_reason
        == "abstained: invalid answer twice (ranked 'Z', which is not one of the labels shown)"
    )
    assert "[bold]" not in ballots["grok"].reasoning  # nothing of the garbage is kept as reasoning


def test_a_repaired_answer_counts(engine: Engine) -> None:
    good = ballot_for(OPTIONS[1])
    scripted_engine(
        engine,
        grok=ScriptedProvider(lambda request, index: "garbage" if index == 0 else good(request, index)),
    )
    decision = engine.open_decision("Q?", OPTIONS[:2], method="plurality", max_rounds=1)
    asyncio.run(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST))
    grok = next(ballot for ballot in engine.store.ballots(decision.id, 1) if ballot.voter == "grok")
    assert grok.ranking == (OPTIONS[1],)
    assert not grok.is_abstention


def test_a_failing_agent_abstains_without_a_repair(engine: Engine) -> None:
    fakes = scripted_engine(engine, grok=ScriptedProvider(failing("auth")))
    decision = engine.open_decision("Q?", OPTIONS[:2], method="plurality", max_rounds=1)
    asyncio.run(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST))
    grok = next(ballot for ballot in engine.store.ballots(decision.id, 1) if ballot.voter == "grok")
    assert grok.abstain_reason == "abstained: auth: simulated auth"
    assert len(fakes["grok"].requests) == 1


def test_an_agents_own_option_is_excluded_from_its_ballot(engine: Engine) -> None:
    fakes = scripted_engine(engine, claude=ScriptedProvider(ballot_for(*OPTIONS)))
    decision = engine.open_decision("Q?", OPTIONS, authors={OPTIONS[0]: "claude"}, max_rounds=1)
    asyncio.run(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST))
    shown = [item["text"] for item in fakes["claude"].requests[0].context["options"]]
    assert OPTIONS[0] not in shown
    assert "Your own proposal is not listed" in fakes["claude"].requests[0].messages[0].content
    claude = next(ballot for ballot in engine.store.ballots(decision.id, 1) if ballot.voter == "claude")
    assert claude.excluded == (OPTIONS[0],)
    assert OPTIONS[0] not in claude.ranking


def test_options_are_anonymised_and_shuffled_per_voter(engine: Engine) -> None:
    decision = engine.open_decision("Q?", OPTIONS)
    labels = labels_for(decision, 1, OPTIONS)
    assert sorted(labels) == ["A", "B", "C", "D"] and sorted(labels.values()) == sorted(OPTIONS)
    orders = {tuple(presentation_for(decision, 1, OPTIONS, voter).labels) for voter in AGENTS}
    assert len(orders) > 1  # a fresh order for each voter
    assert labels_for(decision, 2, OPTIONS) != labels or labels_for(decision, 3, OPTIONS) != labels


def test_every_ballot_is_stored_as_it_arrives(engine: Engine) -> None:
    fakes = scripted_engine(engine, grok=ScriptedProvider(ballot_for(OPTIONS[0])))
    fakes["grok"].blocking = True
    decision = engine.open_decision("Q?", OPTIONS[:2], method="plurality", max_rounds=1)

    async def watch() -> int:
        voting = asyncio.create_task(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST))
        while len(engine.store.ballots(decision.id, 1)) < len(AGENTS) - 1:
            await asyncio.sleep(0.01)
        stored_before_grok = len(engine.store.ballots(decision.id, 1))
        fakes["grok"].release.set()
        await voting
        return stored_before_grok

    assert asyncio.run(watch()) == len(AGENTS) - 1


# ----------------------------------------------------------- the human and cost


def test_the_human_votes_and_gives_feedback(engine: Engine) -> None:
    decision = engine.open_decision("Q?", OPTIONS[:2], voters=["claude", "grok", HUMAN_VOTER], max_rounds=2)
    with pytest.raises(EngineError, match="no round is under way"):
        engine.cast_human_ballot(decision.id, [OPTIONS[0]])
    assert engine.add_feedback(decision.id, "Think about backups.") == 1

    async def vote_as_human() -> Decision:
        voting = asyncio.create_task(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST))
        while not engine.inbox.open_items():
            await asyncio.sleep(0.01)
        (request,) = engine.inbox.open_items()
        assert request.kind is InboxKind.BALLOT
        with pytest.raises(EngineError, match="at most once"):
            engine.cast_human_ballot(decision.id, [OPTIONS[0], OPTIONS[0]])
        engine.cast_human_ballot(decision.id, [OPTIONS[1], OPTIONS[0]], reasoning="mine")
        return await voting

    decided = asyncio.run(vote_as_human())
    human = next(ballot for ballot in engine.store.ballots(decided.id, 1) if ballot.voter == HUMAN_VOTER)
    assert human.ranking == (OPTIONS[1], OPTIONS[0])
    asked = [request for request in engine.store.calls() if request.purpose == "ballot"]
    assert asked  # the agents voted too
    feedback = engine.store.feedback(decided.id)
    assert [(item.round, item.text) for item in feedback] == [(1, "Think about backups.")]


def test_feedback_reaches_the_agents(engine: Engine) -> None:
    fakes = scripted_engine(engine, claude=ScriptedProvider(ballot_for(OPTIONS[0])))
    decision = engine.open_decision("Q?", OPTIONS[:2], max_rounds=1)
    engine.add_feedback(decision.id, "Prefer what the team knows.")
    asyncio.run(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST))
    assert "Prefer what the team knows." in fakes["claude"].requests[0].messages[0].content
    assert fakes["claude"].requests[0].context["feedback"] == ["Prefer what the team knows."]


def test_each_decision_records_its_calls_and_cost(engine: Engine) -> None:
    decision = engine.open_decision("Q?", OPTIONS[:2], max_rounds=1)
    decided = asyncio.run(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST))
    calls, tokens, cost = engine.store.decision_cost(decision.id)
    assert calls >= len(AGENTS) and tokens > 0 and cost == 0.0  # simulated calls cost nothing
    assert decided.outcome is not None and decided.outcome["calls"] == calls
    started = engine.audit_events(1, kind="round.started")[0]
    assert "estimate" in started.data


def test_round_estimates_use_agent_prices(engine: Engine) -> None:
    from orkestra_tui.engine.voting.committee import Committee

    priced = {name: replace(runtime, simulated=False) for name, runtime in engine.runtimes.items()}
    engine.runtimes.update(priced)
    decision = engine.open_decision("Q?", OPTIONS[:2])
    estimate = Committee(engine).estimate_round(decision, 1)
    assert 0 < estimate < 0.05


# ------------------------------------------------------------------- resuming


def test_a_round_interrupted_by_a_crash_resumes_with_the_missing_voters(
    paths: Paths, settings: Settings
) -> None:
    engine = Engine(paths, settings, env={})
    fakes = scripted_engine(engine, grok=ScriptedProvider(ballot_for(OPTIONS[0])))
    fakes["grok"].blocking = True
    decision = engine.open_decision("Q?", OPTIONS[:2], method="plurality", max_rounds=1)

    async def crash_mid_round() -> None:
        voting = asyncio.create_task(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST))
        while len(engine.store.ballots(decision.id, 1)) < len(AGENTS) - 1:
            await asyncio.sleep(0.01)
        voting.cancel()  # the process dies with grok's ballot outstanding
        with pytest.raises(asyncio.CancelledError):
            await voting

    asyncio.run(crash_mid_round())
    engine.close()
    before = {
        ballot.voter: ballot for ballot in Engine(paths, settings, env={}).store.ballots(decision.id, 1)
    }
    assert set(before) == set(AGENTS) - {"grok"}

    restarted = Engine(paths, settings, env={})
    assert [item.id for item in restarted.decisions_under_way()] == [decision.id]
    again = scripted_engine(restarted, **{name: ScriptedProvider(ballot_for(OPTIONS[1])) for name in AGENTS})
    decided = asyncio.run(restarted.decide(decision.id, tie_break=TieBreakPolicy.FIRST))
    assert decided.status is DecisionStatus.DECIDED
    assert {name: len(fake.requests) for name, fake in again.items()} == {
        "claude": 0,
        "chatgpt": 0,
        "gemini": 0,
        "copilot": 0,
        "grok": 1,
    }
    after = {ballot.voter: ballot for ballot in restarted.store.ballots(decision.id, 1)}
    assert {name: after[name] for name in before} == before  # the stored ballots were reused
    assert len(restarted.store.rounds(decision.id)) == 1


def test_a_tie_break_waiting_for_the_human_survives_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for seed in range(40):
        engine = simulated_engine(home / str(seed), seed)
        decision = engine.open_decision("Which database should back the ledger?", OPTIONS)

        async def until_asked(engine: Engine = engine, decision_id: int = decision.id) -> bool:
            voting = asyncio.create_task(engine.decide(decision_id, resolution=("human",)))
            while not voting.done() and not engine.inbox.open_items():
                await asyncio.sleep(0.01)
            if voting.done():
                return False
            voting.cancel()
            return True

        if asyncio.run(until_asked()):
            break
        engine.close()
    else:
        raise AssertionError("no seed deadlocks")
    engine.close()

    restarted = simulated_engine(home / str(seed), seed)
    (request,) = restarted.inbox.open_items()
    assert request.kind is InboxKind.TIE_BREAK

    async def answer_after_restart() -> Decision:
        voting = asyncio.create_task(restarted.decide(decision.id, resolution=("human",)))
        await asyncio.sleep(0.05)
        assert not voting.done()
        restarted.answer_tie_break(request.id, request.payload["tied"][0]["option"])
        return await voting

    decided = asyncio.run(answer_after_restart())
    assert decided.outcome is not None and decided.outcome["how"] == "human tie-break"

    # Resumed under a policy instead, a request left open is answered by that policy.
    other = restarted.open_decision("Which database should back the ledger?", OPTIONS)

    async def leave_open() -> None:
        voting = asyncio.create_task(restarted.decide(other.id, resolution=("human",)))
        while not voting.done() and not restarted.inbox.open_items():
            await asyncio.sleep(0.01)
        assert not voting.done(), "the same committee deadlocks on the same question"
        voting.cancel()

    asyncio.run(leave_open())
    resumed = asyncio.run(restarted.decide(other.id, tie_break=TieBreakPolicy.FIRST, resolution=("human",)))
    assert resumed.outcome is not None and resumed.outcome["how"] == "policy tie-break"
    assert resumed.outcome["tie_break_by"] == "policy:first"


def test_bad_decisions_are_refused(engine: Engine) -> None:
    with pytest.raises(EngineError, match="no agent named 'hal'"):
        engine.open_decision("Q?", OPTIONS, voters=["hal"])
    with pytest.raises(EngineError, match="at least one round"):
        engine.open_decision("Q?", OPTIONS, max_rounds=0)
    with pytest.raises(EngineError, match="unknown resolution step 'pray'"):
        asyncio.run(engine.decide(engine.open_decision("Q?", OPTIONS).id, resolution=("pray",)))
    assert RESOLUTION_STEPS == ("compromise", "human", "fallback")


def test_rules_are_checked_when_a_decision_is_opened(engine: Engine) -> None:
    with pytest.raises(EngineError, match="threshold must be a number from 0 to 1"):
        engine.open_decision("Q?", OPTIONS[:2], rules={"threshold": 1.5})
    with pytest.raises(EngineError, match="unknown rule 'majority'"):
        engine.open_decision("Q?", OPTIONS[:2], rules={"majority": 0.5})
    with pytest.raises(EngineError, match="unknown tie-break policy 'coin'"):
        asyncio.run(engine.decide(engine.open_decision("Q?", OPTIONS[:2]).id, tie_break="coin"))


# ------------------------------------------------------- feedback between rounds


def split_committee(engine: Engine, **rules: object) -> tuple[Decision, dict[str, ScriptedProvider]]:
    """Three agents for one option, two for the other, unanimity required: no round has a winner."""
    fakes = scripted_engine(
        engine,
        **{
            name: ScriptedProvider(ballot_for(OPTIONS[0] if index < 3 else OPTIONS[1]))
            for index, name in enumerate(AGENTS)
        },
    )
    decision = engine.open_decision("Q?", OPTIONS[:2], method="unanimous", rules=rules, max_rounds=2)
    return decision, fakes


def feedback_requests(engine: Engine, decision_id: int) -> list[InboxItem]:
    return [
        item
        for item in engine.store.inbox(None)
        if item.kind is InboxKind.ROUND_FEEDBACK and item.payload["decision_id"] == decision_id
    ]


def fed_back(provider: ScriptedProvider) -> list[tuple[int, list[str]]]:
    """Each ballot request an agent had: its round, and the feedback it carried."""
    return [(request.context["round"], request.context["feedback"]) for request in provider.requests]


async def vote_until_feedback_asked(
    engine: Engine, decision_id: int, **kwargs: object
) -> tuple[asyncio.Task[Decision], InboxItem | None]:
    """Start the vote and return once the committee asks for feedback, or the vote ends without asking."""
    asked = asyncio.Event()

    def note(event: EngineEvent) -> None:
        if event.kind == "inbox.opened" and event.data.get("kind") == InboxKind.ROUND_FEEDBACK.value:
            asked.set()

    subscription = engine.bus.subscribe(note)
    voting = asyncio.create_task(engine.decide(decision_id, resolution=("fallback",), **kwargs))  # type: ignore[arg-type]  # decide()'s keywords, by name
    waiting = asyncio.ensure_future(asked.wait())
    await asyncio.wait({voting, waiting}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    subscription.close()
    open_requests = [
        item for item in feedback_requests(engine, decision_id) if item.status is InboxStatus.OPEN
    ]
    return voting, (open_requests[0] if open_requests else None)


async def settle() -> None:
    """Let every task run until it waits on something outside the loop."""
    for _ in range(20):
        await asyncio.sleep(0)


def test_feedback_asked_after_a_round_without_a_winner_reaches_the_next_round(engine: Engine) -> None:
    decision, fakes = split_committee(engine, round_feedback=True)

    async def vote_and_answer() -> Decision:
        voting, request = await vote_until_feedback_asked(engine, decision.id)
        assert request is not None and not voting.done()
        assert request.payload == {"decision_id": decision.id, "round": 2, "question": "Q?"}
        assert [item.round for item in engine.store.rounds(decision.id)] == [1]  # round 2 waits
        engine.answer_round_feedback(request.id, "  Think about backups.  ")
        return await voting

    decided = asyncio.run(vote_and_answer())
    assert decided.outcome is not None
    assert decided.status is DecisionStatus.DECIDED and decided.outcome["how"] == "fallback"
    assert [(item.round, item.text) for item in engine.store.feedback(decision.id)] == [
        (2, "Think about backups.")
    ]
    assert fed_back(fakes["claude"]) == [(1, []), (2, ["Think about backups."])]
    assert "Think about backups." in fakes["grok"].requests[1].messages[0].content
    (request,) = feedback_requests(engine, decision.id)  # asked once: round 2 was the last
    assert request.status is InboxStatus.ANSWERED and request.answer == {"text": "Think about backups."}
    assert engine.audit_events(1, kind="decision.feedback")[0].data == {
        "round": 2,
        "text": "Think about backups.",
    }


def test_empty_feedback_skips_to_the_next_round(engine: Engine) -> None:
    decision, fakes = split_committee(engine, round_feedback=True)

    async def vote_and_skip() -> Decision:
        voting, request = await vote_until_feedback_asked(engine, decision.id)
        assert request is not None
        engine.answer_round_feedback(request.id, "   ")
        return await voting

    decided = asyncio.run(vote_and_skip())
    assert decided.current_round == 2
    assert engine.store.feedback(decision.id) == []
    assert fed_back(fakes["claude"]) == [(1, []), (2, [])]
    (request,) = feedback_requests(engine, decision.id)
    assert request.answer == {"text": ""}


@pytest.mark.parametrize(
    ("rules", "policy", "winner_in_round_one"),
    [
        ({}, TieBreakPolicy.ASK, False),
        ({"round_feedback": False}, TieBreakPolicy.ASK, False),
        ({"round_feedback": True}, TieBreakPolicy.FIRST, False),
        ({"round_feedback": True}, TieBreakPolicy.ASK, True),
    ],
    ids=["no-rule", "rule-off", "nobody-to-ask", "round-one-decides"],
)
def test_feedback_is_not_asked(
    engine: Engine, rules: dict[str, object], policy: TieBreakPolicy, winner_in_round_one: bool
) -> None:
    decision, fakes = split_committee(engine, **rules)
    if winner_in_round_one:
        for fake in fakes.values():
            fake.script = ballot_for(OPTIONS[0])

    async def vote() -> Decision:
        voting, request = await vote_until_feedback_asked(engine, decision.id, tie_break=policy)
        assert request is None
        return await voting

    decided = asyncio.run(vote())
    assert decided.status is DecisionStatus.DECIDED
    assert decided.current_round == (1 if winner_in_round_one else 2)
    assert feedback_requests(engine, decision.id) == []


def test_feedback_waited_for_survives_a_restart(paths: Paths, settings: Settings) -> None:
    engine = Engine(paths, settings, env={})
    decision, _fakes = split_committee(engine, round_feedback=True)

    async def crash_while_waiting() -> None:
        voting, request = await vote_until_feedback_asked(engine, decision.id)
        assert request is not None
        voting.cancel()  # the process dies while the human thinks
        with pytest.raises(asyncio.CancelledError):
            await voting

    asyncio.run(crash_while_waiting())
    engine.close()

    restarted = Engine(paths, settings, env={})
    fakes = scripted_engine(
        restarted,
        **{name: ScriptedProvider(ballot_for(OPTIONS[index % 2])) for index, name in enumerate(AGENTS)},
    )
    assert [item.id for item in restarted.decisions_under_way()] == [decision.id]
    (request,) = restarted.inbox.open_items()

    async def answer_after_restart() -> Decision:
        voting = asyncio.create_task(restarted.decide(decision.id, resolution=("fallback",)))
        await settle()
        assert not voting.done()  # waiting on the same request: no second one, no round 2 yet
        assert feedback_requests(restarted, decision.id) == [request]
        assert len(restarted.store.rounds(decision.id)) == 1
        restarted.answer_round_feedback(request.id, "Consider the team.")
        return await voting

    decided = asyncio.run(answer_after_restart())
    assert decided.status is DecisionStatus.DECIDED and decided.current_round == 2
    assert fed_back(fakes["claude"]) == [(2, ["Consider the team."])]
    restarted.close()


def test_a_feedback_request_left_open_is_skipped_by_a_policy(paths: Paths, settings: Settings) -> None:
    engine = Engine(paths, settings, env={})
    decision, _fakes = split_committee(engine, round_feedback=True)

    async def leave_open() -> None:
        voting, request = await vote_until_feedback_asked(engine, decision.id)
        assert request is not None
        voting.cancel()

    asyncio.run(leave_open())
    decided = asyncio.run(
        engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST, resolution=("fallback",))
    )
    assert decided.status is DecisionStatus.DECIDED and decided.current_round == 2
    (request,) = feedback_requests(engine, decision.id)
    assert request.status is InboxStatus.ANSWERED
    assert request.answer == {"text": "", "by": "policy:first"}
    engine.close()


def test_a_withdrawn_feedback_request_lets_the_vote_go_on(engine: Engine) -> None:
    decision, _fakes = split_committee(engine, round_feedback=True)

    async def vote_and_withdraw() -> Decision:
        voting, request = await vote_until_feedback_asked(engine, decision.id)
        assert request is not None
        engine.inbox.cancel(request.id, "withdrawn in a test")
        return await voting

    decided = asyncio.run(vote_and_withdraw())
    assert decided.status is DecisionStatus.DECIDED and decided.current_round == 2
    assert engine.store.feedback(decision.id) == []
    with pytest.raises(EngineError, match="already cancelled"):
        engine.answer_round_feedback(feedback_requests(engine, decision.id)[0].id, "Too late.")


def test_round_feedback_answers_are_checked(engine: Engine) -> None:
    decision = engine.open_decision("Q?", OPTIONS[:2], rules={"round_feedback": True})
    with pytest.raises(EngineError, match="there is no request for round feedback 99"):
        engine.answer_round_feedback(99, "Hello")
    tie_break = engine.inbox.ask(InboxKind.TIE_BREAK, "Break the tie", {"decision_id": decision.id})
    with pytest.raises(EngineError, match=f"there is no request for round feedback {tie_break.id}"):
        engine.answer_round_feedback(tie_break.id, "Hello")
    request = engine.inbox.ask(
        InboxKind.ROUND_FEEDBACK, "Feedback", {"decision_id": decision.id, "round": 2, "question": "Q?"}
    )
    engine.answer_round_feedback(request.id, "Mind the cost.")
    with pytest.raises(EngineError, match="already answered"):
        engine.answer_round_feedback(request.id, "Again")
    assert [(item.round, item.text) for item in engine.store.feedback(decision.id)] == [(2, "Mind the cost.")]
