"""Refused answers are kept with their calls: redacted, capped with a marker, and only those."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from fakes import ScriptedProvider, answers, ballot_for, garbage

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.agents.raw_answers import (
    RAW_ANSWER_CHARS,
    kept_text,
    refused_answers,
    refused_ballot_answers,
)
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.review import review
from orkestra_tui.engine.models import Involvement, TaskSpec
from orkestra_tui.engine.planning.planning import Brief, Planner
from orkestra_tui.secrets import REDACTED, register_secret

KEY = "anthropic-key-3f9c1e7b5d2a4c6e8f0a1b3c5d7e9f2a4b"
"""A key of no vendor's shape: only its registration (the engine read it) can redact it."""
OPTIONS = ["SQLite", "PostgreSQL"]
LONG_ECHO = "I cannot do JSON. Here is my key: " + KEY + " " + "blah " * 8_000
"""An answer that echoes the key and runs far past the cap (40,000 characters and more)."""


def keyed_engine(paths: Paths, settings: Settings, clock: FixedClock) -> Engine:
    return Engine(paths, settings, clock=clock, env={"ANTHROPIC_API_KEY": KEY})


def database_bytes(paths: Paths) -> bytes:
    return b"".join(path.read_bytes() for path in Path(paths.data_dir).glob("*.db*"))


def test_a_refused_ballot_keeps_its_answer_redacted_and_capped(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = keyed_engine(paths, settings, clock)
    engine.use_provider("claude", ScriptedProvider(answers(LONG_ECHO)))  # refused twice
    repaired = json.dumps({"ranking": ["A"], "confidence": 0.6, "reasoning": "fixed"})
    engine.use_provider("chatgpt", ScriptedProvider(answers(f"No JSON, key {KEY}", repaired)))
    engine.use_provider("gemini", ScriptedProvider(ballot_for("SQLite")))
    decision = engine.open_decision(
        "Which database?", OPTIONS, method="plurality", voters=["claude", "chatgpt", "gemini"], max_rounds=1
    )
    asyncio.run(engine.decide(decision.id, tie_break="first"))

    kept = refused_ballot_answers(engine.store, decision.id, 1)
    assert sorted(kept) == ["chatgpt", "claude"]  # gemini's answer was used: only its ballot is kept
    first, second = kept["claude"]
    for answer in (first, second):
        assert KEY not in answer.text and KEY[:20] not in answer.text
        assert answer.text.startswith(f"I cannot do JSON. Here is my key: {REDACTED} blah")
        whole = len(LONG_ECHO) - len(KEY) + len(REDACTED)
        assert answer.length == whole and answer.cut == whole - RAW_ANSWER_CHARS
        assert answer.text.endswith(f"\n[… {whole - RAW_ANSWER_CHARS:,} more characters cut]")
        assert len(answer.text) < RAW_ANSWER_CHARS + 50
        assert answer.purpose == "ballot" and answer.round == 1 and answer.problem
    (refused,) = kept["chatgpt"]
    assert refused.text == f"No JSON, key {REDACTED}" and refused.cut == 0
    assert "no JSON object" in refused.problem

    ballots = {ballot.voter: ballot for ballot in engine.store.ballots(decision.id, 1)}
    assert ballots["claude"].is_abstention and not ballots["chatgpt"].is_abstention
    assert [answer.call_id for answer in refused_answers(engine.store, "claude")] == [
        first.call_id,
        second.call_id,
    ]
    assert refused_answers(engine.store, "gemini") == []
    events = engine.audit_events(50, kind="call.answer_refused")
    assert len(events) == 3 and all(KEY not in event.summary for event in events)
    engine.close()
    assert KEY.encode() not in database_bytes(paths)


def test_a_refused_plan_draft_keeps_its_answer(paths: Paths, settings: Settings, clock: FixedClock) -> None:
    engine = keyed_engine(paths, settings, clock)
    engine.use_provider("grok", ScriptedProvider(garbage))
    planner = Planner(engine)
    brief = Brief(
        name="Shop",
        description="A small online shop.",
        features=("cart",),
        involvement=Involvement.HANDS_OFF,
        agents=("claude", "chatgpt", "grok"),
    )
    project_id = planner.start(brief).project_id
    asyncio.run(planner.propose(project_id))
    kept = refused_answers(engine.store, "grok")
    assert [answer.purpose for answer in kept] == ["plan", "plan"]
    assert kept[0].text == garbage(None, 0)  # type: ignore[arg-type]  # garbage ignores its request
    assert kept[0].round is None and "no JSON object" in kept[0].problem
    assert refused_answers(engine.store, "claude") == []
    engine.close()


def test_kept_text_redacts_before_the_cut_and_escapes_lone_surrogates() -> None:
    register_secret(KEY)
    # The key straddles the cut: redacted whole first, so no piece of it is kept.
    straddling = "x" * (RAW_ANSWER_CHARS - 10) + KEY + "y" * 100
    text, length = kept_text(straddling)
    assert KEY[:10] not in text and length == RAW_ANSWER_CHARS - 10 + len(REDACTED) + 100
    assert kept_text("bad \ud800 byte") == ("bad \\ud800 byte", len("bad \\ud800 byte"))


def test_a_refused_review_keeps_its_answer_and_a_usable_one_keeps_none(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = keyed_engine(paths, settings, clock)
    approve = json.dumps({"verdict": "approve", "comments": "fine"})
    engine.use_provider("gemini", ScriptedProvider(answers("LGTM, ship it", approve)))  # repaired
    engine.use_provider("grok", ScriptedProvider(answers(approve)))
    project = engine.create_project("Ledger")
    (task,) = engine.add_tasks(project.id, [TaskSpec(title="Parse", instructions="Parse lines.")])
    reviews = asyncio.run(review(engine, task, "the result", "a brief", ["gemini", "grok"]))
    assert [item.verdict for item in reviews] == ["approve", "approve"]
    (kept,) = refused_answers(engine.store, "gemini")
    assert (kept.purpose, kept.text, kept.round) == ("review", "LGTM, ship it", None)
    assert refused_answers(engine.store, "grok") == []
    engine.close()
