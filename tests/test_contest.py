"""Contests in a project without a repository: entries, the committee's vote, the winner reviewed.

Three scripted agents (three vendors) each make an entry; each votes by what the entries hold,
read from its ballot's prompt, never for its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from fakes import Script, ScriptedProvider
from test_scheduler import active_project, cast, scripted_engine, spec

from orkestra_tui.config import Paths, Settings
from orkestra_tui.contest_rules import ContestRule
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine, EngineError
from orkestra_tui.engine.execution.contest.view import ContestState, EntryState
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import InboxKind, Priority, ProjectStatus, TaskStatus
from orkestra_tui.providers.base import ProviderRequest

AGENTS = ("claude", "chatgpt", "gemini")


def entry_text(agent: str) -> str:
    return f"# The intro\n\nWritten by {agent}, with care.\n"


def held(request: ProviderRequest) -> dict[str, str]:
    """Label to what the ballot's prompt says that option holds."""
    prompt = request.messages[-1].content
    return {
        label: match.group(1)
        for label in (item["label"] for item in request.context["options"])
        if (
            match := re.search(
                rf"What option {label} holds:\n(.*?)(?:\n\nWhat option|\n\n[A-Z][a-z]+ |$)", prompt, re.S
            )
        )
    }


def contestant(agent: str, prefers: Callable[[str], int], *, result: str | None = None) -> Script:
    """An agent that answers the task with its own text, ranks entries by PREFERS, approves reviews."""

    def script(request: ProviderRequest, _index: int) -> str:
        if request.purpose == "review":
            return json.dumps({"verdict": "approve", "comments": "fine"})
        if request.purpose == "ballot":
            shown = held(request)
            ranking = sorted(shown, key=lambda label: prefers(shown[label]))
            return json.dumps({"ranking": ranking, "confidence": 0.8, "reasoning": f"{agent} likes it"})
        return entry_text(agent) if result is None else result

    return script


def by_author(*order: str) -> Callable[[str], int]:
    """Prefer entries by these authors, in order (read from the entry's text)."""
    return lambda text: next((rank for rank, name in enumerate(order) if f"by {name}," in text), 99)


@pytest.fixture
def scripted(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = scripted_engine(paths, settings, clock)
    yield engine
    engine.close()


def entries(engine: Engine, task_id: int) -> dict[str, tuple[str, EntryState]]:
    view = engine.contest(task_id)
    assert view is not None
    return {entry.agent: (entry.letter, entry.state) for entry in view.entries}


async def test_three_entries_the_vote_picks_one_and_it_is_reviewed_and_done(scripted: Engine) -> None:
    providers = cast(
        scripted, {name: contestant(name, by_author("gemini", "claude", "chatgpt")) for name in AGENTS}
    )
    _project, (task_id,) = active_project(scripted, spec("Write the intro", category="writing"))
    scripted.set_task_contest(task_id, 3)

    summary = await Scheduler(scripted).run()

    task = scripted.task(task_id)
    view = scripted.contest(task_id)
    assert task.status is TaskStatus.DONE and summary.done == 1, task.note
    assert view is not None and view.state is ContestState.WON
    assert {entry.agent for entry in view.entries} == set(AGENTS)
    assert all(entry.state is EntryState.PASSED for entry in view.entries)
    winner = view.entry(view.winner or "")
    assert winner is not None and winner.agent == "gemini"  # chosen by claude and chatgpt; gemini may not
    assert task.result == entry_text("gemini") and task.assigned_to == "gemini"
    for entry in view.entries:  # each entry's Markdown kept in its own file beside the task's
        assert entry.artifact is not None and entry.artifact.endswith(f"-entry-{entry.letter.lower()}.md")
        assert (scripted.paths.data_dir / entry.artifact).read_text() == entry_text(entry.agent)
    decision = next(d for d in scripted.decisions() if d.id == view.decision_id)
    assert decision.category == "contest" and decision.outcome is not None
    assert decision.outcome["winner"] == f"Entry {view.winner}"
    assert decision.authors == {entry.option: entry.agent for entry in view.entries}
    details = scripted.decision_option_details(decision.id)
    assert {option: text.strip() for option, text in details.items()} == {
        entry.option: entry_text(entry.agent).strip() for entry in view.entries
    }
    # One task call per agent, the winner reviewed by another vendor, a ballot each.
    purposes = {name: [r.purpose for r in provider.requests] for name, provider in providers.items()}
    assert all(p.count("task") == 1 for p in purposes.values())
    assert sum(p.count("review") for p in purposes.values()) == 1 and purposes["gemini"].count("review") == 0
    assert all(p.count("ballot") >= 1 for p in purposes.values())
    kinds = [
        event.kind for event in reversed(scripted.audit_events(200)) if event.kind.startswith("contest.")
    ]
    assert kinds[:2] == ["contest.set", "contest.started"]
    assert kinds.count("contest.entry_finished") == 3
    assert kinds[-2:] == ["contest.vote_opened", "contest.won"]


async def test_no_agent_votes_for_its_own_entry_and_each_sees_the_others_content(scripted: Engine) -> None:
    providers = cast(scripted, {name: contestant(name, by_author(name, *AGENTS)) for name in AGENTS})
    _project, (task_id,) = active_project(scripted, spec("Write the intro"))
    scripted.set_task_contest(task_id, 3)

    await Scheduler(scripted).run()

    view = scripted.contest(task_id)
    assert view is not None and view.decision_id is not None
    own = {entry.agent: entry.option for entry in view.entries}
    for name, provider in providers.items():
        ballots = [request for request in provider.requests if request.purpose == "ballot"]
        assert ballots
        for request in ballots:
            shown = held(request)
            assert len(shown) == 2 and all(f"by {name}," not in text for text in shown.values())
            assert own[name] not in [item["text"] for item in request.context["options"]]
    for ballot in scripted.store.ballots(view.decision_id, 1):
        assert own[ballot.voter] not in ballot.ranking and ballot.excluded == (own[ballot.voter],)


async def test_a_single_survivor_wins_without_a_vote(scripted: Engine) -> None:
    scripts = {name: contestant(name, by_author(*AGENTS), result="   ") for name in ("claude", "chatgpt")}
    scripts["gemini"] = contestant("gemini", by_author(*AGENTS))
    cast(scripted, scripts)
    _project, (task_id,) = active_project(scripted, spec("Write the intro"))
    scripted.set_task_contest(task_id, 3)

    await Scheduler(scripted).run()

    view = scripted.contest(task_id)
    assert view is not None and view.decision_id is None and view.state is ContestState.WON
    assert entries(scripted, task_id)["claude"][1] is EntryState.FAILED
    assert view.entry(view.winner or "") is not None and view.entry(view.winner or "").agent == "gemini"  # type: ignore[union-attr]
    assert scripted.task(task_id).status is TaskStatus.DONE
    won = scripted.audit_events(10, kind="contest.won")[0]
    assert won.data["vote"] is False and "only entry left" in won.summary
    assert not [d for d in scripted.decisions() if d.category == "contest"]


async def test_no_survivor_fails_the_task_like_a_single_task(scripted: Engine) -> None:
    cast(scripted, {name: contestant(name, by_author(*AGENTS), result="") for name in AGENTS})
    _project, (task_id,) = active_project(scripted, spec("Write the intro"))
    scripted.set_task_contest(task_id, 2)

    await Scheduler(scripted).run()

    task = scripted.task(task_id)
    assert task.status is TaskStatus.FAILED and task.note.startswith("no entry of the contest passed")
    assert scripted.contest(task_id).state is ContestState.FAILED  # type: ignore[union-attr]


async def test_a_tie_goes_to_the_human_and_the_answer_picks_the_winner(scripted: Engine) -> None:
    gemini = contestant("gemini", by_author(*AGENTS))

    def abstainer(request: ProviderRequest, index: int) -> str | BaseException:
        return "no opinion" if request.purpose == "ballot" else gemini(request, index)

    cast(
        scripted,
        {
            "claude": contestant("claude", by_author("chatgpt")),
            "chatgpt": contestant("chatgpt", by_author("claude")),
            "gemini": abstainer,
        },
    )
    project_id, (task_id,) = active_project(scripted, spec("Write the intro"))
    scripted.set_task_contest(task_id, 2)
    scripted.reassign_task(task_id, "claude")  # the claim's agent comes first: claude and chatgpt compete

    first = await Scheduler(scripted).run()

    task = scripted.task(task_id)
    view = scripted.contest(task_id)
    assert view is not None and view.state is ContestState.AWAITING_HUMAN, view
    assert task.status is TaskStatus.AWAITING_HUMAN and first.awaiting_human == 1
    assert {entry.agent for entry in view.entries} == {"claude", "chatgpt"}
    item = next(i for i in scripted.inbox.open_items() if i.kind is InboxKind.TIE_BREAK)
    assert not [i for i in scripted.inbox.open_items() if i.kind is InboxKind.TASK_REVIEW]
    chatgpt_entry = next(entry for entry in view.entries if entry.agent == "chatgpt")
    with pytest.raises(EngineError, match="contest waits for your tie-break: break the tie first"):
        scripted.approve_task(task_id)
    from orkestra_tui.commands.run import _unfinished

    counts = {status.value: count for status, count in scripted.task_counts(project_id).items()}
    assert _unfinished(scripted, counts, []) == [
        (
            "awaiting_human",
            "1 contest waits for your tie-break: break it in the app,"
            " or run with --tie-break first or random",
        )
    ]

    scripted.answer_tie_break(item.id, chatgpt_entry.option)
    await Scheduler(scripted).run(project_id)

    view = scripted.contest(task_id)
    assert view is not None and view.state is ContestState.WON and view.winner == chatgpt_entry.letter
    assert scripted.task(task_id).status is TaskStatus.DONE
    assert scripted.task(task_id).result == entry_text("chatgpt")


async def test_a_rule_in_config_makes_critical_tasks_contests(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    ruled = replace(settings, contest=(ContestRule(agents=2, priority="critical"),))
    engine = scripted_engine(paths, ruled, clock)
    try:
        cast(engine, {name: contestant(name, by_author(*AGENTS)) for name in AGENTS})
        _project, (critical, normal) = active_project(
            engine, spec("Fix the outage", priority=Priority.CRITICAL), spec("Tidy the docs")
        )

        await Scheduler(engine).run()

        view = engine.contest(critical)
        assert view is not None and view.source == "rule" and len(view.entries) == 2
        assert engine.contest(normal) is None
        assert (
            engine.task(critical).status is TaskStatus.DONE and engine.task(normal).status is TaskStatus.DONE
        )
    finally:
        engine.close()


async def test_a_run_contest_makes_every_task_it_starts_a_contest(scripted: Engine) -> None:
    cast(scripted, {name: contestant(name, by_author(*AGENTS)) for name in AGENTS})
    _project, task_ids = active_project(scripted, spec("One"), spec("Two"))
    scheduler = Scheduler(scripted)
    scheduler.contest_agents = 2

    await scheduler.run()

    views = [scripted.contest(task_id) for task_id in task_ids]
    assert all(view is not None and view.source == "run" and len(view.entries) == 2 for view in views)


async def test_a_contest_that_would_pass_the_budget_pauses_before_any_call(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = scripted_engine(paths, settings, clock, price=2.0)
    try:
        providers = cast(engine, {name: contestant(name, by_author(*AGENTS)) for name in AGENTS})
        project_id, (task_id,) = active_project(engine, spec("Write the intro"))
        engine.set_task_contest(task_id, 3)
        single = engine.contest_estimate(task_id, 3)
        engine.set_budget(
            project_id, 0.1
        )  # one task and its review would fit; three entries and a round do not

        summary = await Scheduler(engine).run()

        assert summary.stopped == "budget" and single.total > 0
        assert engine.project_named("Shop").status is ProjectStatus.PAUSED
        assert any(item.kind is InboxKind.BUDGET for item in engine.inbox.open_items())
        assert not [r for p in providers.values() for r in p.requests]
        assert engine.task(task_id).status is TaskStatus.READY
    finally:
        engine.close()


def test_scripted_provider_is_used(scripted: Engine) -> None:
    assert isinstance(cast(scripted)["claude"], ScriptedProvider)


async def test_the_vote_uses_the_projects_method_and_committee(scripted: Engine) -> None:
    import sqlite3

    cast(scripted, {name: contestant(name, by_author("gemini", "claude", "chatgpt")) for name in AGENTS})
    project_id, (task_id,) = active_project(scripted, spec("Write the intro"))
    brief = {"name": "Shop", "method": "borda", "agents": ["claude", "chatgpt"]}
    with sqlite3.connect(scripted.paths.database) as connection:  # as the plan's brief left them
        connection.execute(
            "INSERT INTO plan_session (project_id, step, brief, updated_at) VALUES (?, 'done', ?, 0)",
            (project_id, json.dumps(brief)),
        )
    connection.close()
    scripted.set_task_contest(task_id, 3)

    await Scheduler(scripted).run()

    view = scripted.contest(task_id)
    assert view is not None and view.state is ContestState.WON
    decision = next(d for d in scripted.decisions() if d.id == view.decision_id)
    assert decision.method == "borda" and decision.voters == ("claude", "chatgpt")


async def test_an_entry_whose_agent_is_rate_limited_goes_to_a_spare_agent(scripted: Engine) -> None:
    from fakes import failing

    scripts = {name: contestant(name, by_author("gemini", "claude", "chatgpt")) for name in AGENTS}
    scripts["claude"] = failing("rate_limited")
    providers = cast(scripted, scripts)
    _project, (task_id,) = active_project(scripted, spec("Write the intro"))
    scripted.set_task_contest(task_id, 2)
    scripted.reassign_task(task_id, "claude")  # claude is asked first, and cannot answer
    scheduler = Scheduler(scripted)
    scheduler.contest_tie_break = "first"  # the two entrants vote for each other, claude cannot vote

    await scheduler.run()

    view = scripted.contest(task_id)
    assert view is not None and {entry.agent for entry in view.entries} == {"chatgpt", "gemini"}
    assert all(entry.state is EntryState.PASSED for entry in view.entries)
    moved = scripted.audit_events(10, kind="contest.entry_reassigned")
    assert len(moved) == 1 and moved[0].data["from"] == "claude" and "rate_limited" in moved[0].summary
    assert [r.purpose for r in providers["claude"].requests if r.purpose == "task"]  # it was asked
    assert scripted.task(task_id).status is TaskStatus.DONE
