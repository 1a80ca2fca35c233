"""The engine facade: projects, tasks, decisions, the inbox and the bus."""

from __future__ import annotations

import asyncio

import pytest

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine, EngineError
from orkestra_tui.engine.events import EngineEvent
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.inbox import InboxError
from orkestra_tui.engine.models import (
    Ballot,
    DecisionStatus,
    InboxKind,
    InboxStatus,
    Priority,
    TaskSpec,
    TaskStatus,
)


def kinds(engine: Engine) -> list[str]:
    return [event.kind for event in reversed(engine.audit_events(1000))]


def test_first_open_registers_the_roster_once(paths: Paths, settings: Settings) -> None:
    first = Engine(paths, settings, env={})
    assert kinds(first).count("agent.registered") == 5
    first.close()
    second = Engine(paths, settings, env={})
    assert kinds(second).count("agent.registered") == 5
    second.close()


def test_creating_a_project_is_stored_audited_and_announced(engine: Engine) -> None:
    seen: list[EngineEvent] = []
    engine.bus.subscribe(seen.append)
    project = engine.create_project("  Inventory   service ", "Track stock.")
    assert project.name == "Inventory service"
    assert engine.projects() == [project]
    assert [event.kind for event in seen] == ["project.created"]
    assert seen[0].audit_id == engine.audit_events(1)[0].id
    assert seen[0].subject == f"project:{project.id}"


@pytest.mark.parametrize(("name", "message"), [("", "needs a name"), ("x" * 81, "at most 80")])
def test_bad_project_names_are_refused(engine: Engine, name: str, message: str) -> None:
    with pytest.raises(EngineError, match=message):
        engine.create_project(name)
    assert engine.projects() == []


def test_project_names_are_unique(engine: Engine) -> None:
    engine.create_project("A")
    with pytest.raises(EngineError, match="already exists"):
        engine.create_project("A")


def test_tasks_wait_for_their_dependencies(engine: Engine) -> None:
    project = engine.create_project("P")
    tasks = engine.add_tasks(
        project.id,
        [
            TaskSpec("Design", key="design", priority=Priority.HIGH),
            TaskSpec("Build", key="build", depends_on=("design",)),
            TaskSpec("Ship", key="ship", depends_on=("build", "design")),
        ],
    )
    by_key = {task.key: task for task in tasks}
    assert [task.key for task in tasks] == ["design", "build", "ship"]
    assert by_key["design"].status is TaskStatus.READY
    assert by_key["build"].status is TaskStatus.PENDING
    assert by_key["ship"].depends_on == (by_key["design"].id, by_key["build"].id)
    assert engine.task_counts(project.id)[TaskStatus.PENDING] == 2


def test_a_dependency_cycle_is_refused_whole(engine: Engine) -> None:
    project = engine.create_project("P")
    with pytest.raises(EngineError, match=r"cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)$"):
        engine.add_tasks(
            project.id,
            [
                TaskSpec("A", key="a", depends_on=("b",)),
                TaskSpec("B", key="b", depends_on=("c",)),
                TaskSpec("C", key="c", depends_on=("a",)),
            ],
        )
    assert engine.tasks(project.id) == []


def test_an_unknown_dependency_is_dropped_and_recorded(engine: Engine) -> None:
    project = engine.create_project("P")
    (task,) = engine.add_tasks(project.id, [TaskSpec("A", key="a", depends_on=("ghost",))])
    assert task.status is TaskStatus.READY
    created = engine.audit_events(1, kind="task.created")[0]
    assert created.data["dropped_dependencies"] == ["ghost"]


def test_running_a_task_stores_the_result_the_call_and_frees_dependents(engine: Engine) -> None:
    project = engine.create_project("P")
    first, second = engine.add_tasks(
        project.id, [TaskSpec("First", "Do it.", key="a"), TaskSpec("Second", key="b", depends_on=("a",))]
    )
    assert asyncio.run(Scheduler(engine, reviewers=0).run_task(first.id, "claude")) == "done"
    done = engine.task(first.id)
    assert done.status is TaskStatus.DONE
    assert done.assigned_to == "claude"
    assert done.attempts == 1
    assert done.result and done.result.startswith("# First")
    assert engine.task(second.id).status is TaskStatus.READY
    calls = engine.store.calls("claude")
    assert [(call.purpose, call.ok) for call in calls] == [("task", True)]
    assert kinds(engine)[-6:] == [
        "task.running",
        "call.ok",
        "task.review",
        "task.done",
        "task.ready",
        "task.checked",
    ]


def test_a_failing_agent_gives_the_task_back_with_the_reason(paths: Paths, settings: Settings) -> None:
    from dataclasses import replace

    from orkestra_tui.config import SimulationSettings

    failing = replace(settings, simulation=SimulationSettings(seed=1, latency_ms=0, failure_rate=1.0))
    engine = Engine(paths, failing, env={})
    project = engine.create_project("P")
    (task,) = engine.add_tasks(project.id, [TaskSpec("A", "Do it.")])
    assert asyncio.run(Scheduler(engine, reviewers=0).run_task(task.id, "grok")) == "deferred"
    assert engine.task(task.id).status is TaskStatus.READY
    assert engine.audit_events(1)[0].summary.endswith("simulated server error (HTTP 503)")
    assert engine.store.calls("grok")[0].error_class == "server"
    engine.close()


def test_illegal_status_moves_are_refused(engine: Engine) -> None:
    project = engine.create_project("P")
    (task,) = engine.add_tasks(project.id, [TaskSpec("A")])
    with pytest.raises(EngineError, match="cannot go from ready to done"):
        engine.set_task_status(task.id, TaskStatus.DONE)
    engine.set_task_status(task.id, TaskStatus.CANCELLED)
    with pytest.raises(EngineError, match="cannot go from cancelled to ready"):
        engine.set_task_status(task.id, TaskStatus.READY)


def test_decisions_validate_and_record_ballots(engine: Engine, clock: FixedClock) -> None:
    with pytest.raises(EngineError, match="unknown method 'bogus'"):
        engine.open_decision("Q?", ["a", "b"], method="bogus")
    with pytest.raises(EngineError, match="at least two"):
        engine.open_decision("Q?", ["a"])
    with pytest.raises(EngineError, match="the same"):
        engine.open_decision("Q?", ["a", " a "])
    decision = engine.open_decision("Q?", ["a", "b"])
    assert decision.method == "majority"
    assert decision.voters == ("claude", "chatgpt", "gemini", "copilot", "grok")
    engine.record_ballot(Ballot(decision.id, 1, "claude", ("b", "a"), 0.7, "b is better", "", clock.now()))
    engine.record_ballot(Ballot(decision.id, 1, "grok", (), 0.0, "", "invalid answer twice", clock.now()))
    ballots = engine.store.ballots(decision.id)
    assert [(ballot.voter, ballot.ranking, ballot.is_abstention) for ballot in ballots] == [
        ("claude", ("b", "a"), False),
        ("grok", (), True),
    ]
    voting = engine.store.decision(decision.id)
    assert voting is not None and voting.status is DecisionStatus.VOTING and voting.current_round == 1
    closed = engine.close_decision(
        decision.id, {"winner": "b", "reason": "b won"}, status=DecisionStatus.DECIDED
    )
    assert closed.outcome == {"winner": "b", "reason": "b won"}
    assert engine.decisions()[0].id == decision.id


def test_open_decisions_are_listed_first(engine: Engine) -> None:
    first = engine.open_decision("First?", ["a", "b"])
    engine.close_decision(first.id, {"winner": "a"}, status=DecisionStatus.DECIDED)
    second = engine.open_decision("Second?", ["a", "b"])
    third = engine.open_decision("Third?", ["a", "b"])
    engine.close_decision(third.id, {"winner": "a"}, status=DecisionStatus.DECIDED)
    assert [decision.id for decision in engine.decisions()] == [second.id, third.id, first.id]


def test_the_inbox_is_a_durable_future(paths: Paths, settings: Settings) -> None:
    engine = Engine(paths, settings, env={})
    item = engine.inbox.ask(InboxKind.TIE_BREAK, "Break the tie", {"tied": ["a", "b"]})
    engine.close()

    reopened = Engine(paths, settings, env={})
    (waiting,) = reopened.inbox.open_items()
    assert waiting.id == item.id and waiting.payload == {"tied": ["a", "b"]}

    async def wait_and_answer() -> object:
        waiter = asyncio.create_task(reopened.inbox.wait(item.id))
        await asyncio.sleep(0)
        assert not waiter.done()
        reopened.inbox.answer(item.id, "b")
        return await waiter

    assert asyncio.run(wait_and_answer()) == "b"
    answered = reopened.store.inbox_item(item.id)
    assert answered is not None and answered.status is InboxStatus.ANSWERED
    assert asyncio.run(reopened.inbox.wait(item.id)) == "b"
    with pytest.raises(InboxError, match="already answered"):
        reopened.inbox.answer(item.id, "a")
    reopened.close()


def test_disabling_an_agent_is_audited_and_kept(paths: Paths, settings: Settings) -> None:
    engine = Engine(paths, settings, env={})
    engine.set_agent_enabled("grok", False)
    engine.close()
    reopened = Engine(paths, settings, env={})
    assert [agent.name for agent in reopened.enabled_agents()] == [
        "claude",
        "chatgpt",
        "gemini",
        "copilot",
    ]
    assert reopened.audit_events(1)[0].kind == "agent.disabled"
    with pytest.raises(EngineError, match="no agent named 'nobody'"):
        reopened.set_agent_enabled("nobody", True)
    reopened.close()


def test_bus_subscribers_that_raise_do_not_break_the_engine(engine: Engine) -> None:
    def broken(_event: EngineEvent) -> None:
        raise ValueError("subscriber bug")

    seen: list[str] = []
    engine.bus.subscribe(broken)
    engine.bus.subscribe(lambda event: seen.append(event.kind))
    engine.create_project("P")
    assert seen == ["project.created"]
    assert engine.projects()[0].name == "P"
