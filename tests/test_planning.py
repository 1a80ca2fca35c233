"""Planning: brief, proposals, vote, synthesis, review, approval; failures, rejection and resuming."""

from __future__ import annotations

import asyncio
import json

import pytest
from fakes import ScriptedProvider, answers, committee_member, garbage, plan_for, vote_until_the_tie_break

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.engine import Engine, EngineError
from orkestra_tui.engine.models import DecisionStatus, Involvement, ProjectStatus, TaskStatus
from orkestra_tui.engine.planning.graph import find_cycle
from orkestra_tui.engine.planning.planning import Brief, Planner, PlanStep

AGENTS = ("claude", "chatgpt", "gemini", "copilot", "grok")


def brief(**changes: object) -> Brief:
    values: dict[str, object] = {
        "name": "Shop",
        "description": "A small online shop.",
        "features": ("cart", "search", "checkout"),
        "involvement": Involvement.HANDS_OFF,
        "agents": AGENTS,
    }
    values.update(changes)
    return Brief(**values)  # type: ignore[arg-type]  # Brief fields by name; the constructor checks them


def plan_through_review(planner: Planner, project_id: int) -> None:
    asyncio.run(planner.propose(project_id))
    asyncio.run(planner.vote(project_id, tie_break="first"))
    asyncio.run(planner.synthesize(project_id))


def test_the_whole_workflow_gives_an_acyclic_task_graph(engine: Engine) -> None:
    planner = Planner(engine)
    session = planner.start(brief())
    assert session.step is PlanStep.PROPOSALS
    proposed = asyncio.run(planner.propose(session.project_id))
    assert proposed.step is PlanStep.VOTE and all(proposal.ok for proposal in proposed.proposals)
    voted = asyncio.run(planner.vote(session.project_id, tie_break="first"))
    assert voted.step is PlanStep.SYNTHESIS and voted.plan is not None
    assert voted.decision_id is not None
    decision = engine.store.decision(voted.decision_id)
    assert decision is not None and set(decision.authors.values()) == set(AGENTS)
    synthesized = asyncio.run(planner.synthesize(session.project_id))
    assert synthesized.step is PlanStep.REVIEW
    assert any(change.startswith("added: ") for change in synthesized.changes)
    tasks = planner.approve(session.project_id)
    assert synthesized.plan is not None
    assert tasks and {task.phase for task in tasks} == {phase["name"] for phase in synthesized.plan["phases"]}
    graph = {str(task.id): tuple(str(dep) for dep in task.depends_on) for task in tasks}
    assert find_cycle(graph) is None
    assert any(task.status is TaskStatus.READY for task in tasks)
    stored_project = engine.store.project(session.project_id)
    assert stored_project is not None and stored_project.status is ProjectStatus.ACTIVE
    assert planner.session(session.project_id).step is PlanStep.DONE


def test_no_agent_votes_for_its_own_plan(engine: Engine) -> None:
    planner = Planner(engine)
    project_id = planner.start(brief()).project_id
    asyncio.run(planner.propose(project_id))
    voted = asyncio.run(planner.vote(project_id, tie_break="first"))
    assert voted.decision_id is not None
    decision = engine.store.decision(voted.decision_id)
    assert decision is not None
    for ballot in engine.store.ballots(decision.id):
        own = next(option for option, author in decision.authors.items() if author == ballot.voter)
        assert own not in ballot.ranking and ballot.excluded == (own,)


def test_an_invalid_plan_is_left_out_with_its_reason(engine: Engine) -> None:
    engine.use_provider("grok", ScriptedProvider(garbage))
    planner = Planner(engine)
    project_id = planner.start(brief()).project_id
    session = asyncio.run(planner.propose(project_id))
    grok = next(proposal for proposal in session.proposals if proposal.agent == "grok")
    assert not grok.ok and grok.reason.startswith("invalid plan twice")
    assert sum(proposal.ok for proposal in session.proposals) == 4


def test_when_every_plan_fails_nothing_half_made_is_stored(engine: Engine) -> None:
    for agent in AGENTS:
        engine.use_provider(agent, ScriptedProvider(garbage))
    planner = Planner(engine)
    project_id = planner.start(brief()).project_id
    with pytest.raises(EngineError, match="no agent produced a valid plan"):
        asyncio.run(planner.propose(project_id))
    assert planner.session(project_id).step is PlanStep.PROPOSALS
    assert engine.tasks(project_id) == []


def test_a_cycle_must_be_fixed_and_an_unknown_dependency_is_dropped(engine: Engine) -> None:
    planner = Planner(engine)
    project_id = planner.start(brief()).project_id
    plan_through_review(planner, project_id)
    plan = planner.session(project_id).plan
    assert plan is not None
    first, second = [task["key"] for phase in plan["phases"] for task in phase["tasks"]][:2]
    planner.edit_task(project_id, first, depends_on=[second])
    planner.edit_task(project_id, second, depends_on=[first])
    with pytest.raises(EngineError, match="cycle"):
        planner.approve(project_id)
    planner.edit_task(project_id, first, depends_on=["no-such-task"])
    tasks = planner.approve(project_id)
    assert tasks
    approved = engine.audit_events(1, kind="plan.approved")[0]
    assert approved.data["dropped_dependencies"] == [f"{first} -> no-such-task"]


def test_review_edits_deletes_and_adds_tasks(engine: Engine) -> None:
    planner = Planner(engine)
    project_id = planner.start(brief()).project_id
    plan_through_review(planner, project_id)
    plan = planner.session(project_id).plan
    assert plan is not None
    key = plan["phases"][0]["tasks"][0]["key"]
    planner.edit_task(project_id, key, title="Renamed", priority="critical")
    with pytest.raises(EngineError, match="priority must be one of"):
        planner.edit_task(project_id, key, priority="urgent")
    planner.add_task(
        project_id, "Extra", {"key": "extra-1", "title": "Write the FAQ", "instructions": "Do it."}
    )
    planner.delete_task(project_id, plan["phases"][-1]["tasks"][-1]["key"])
    titles = [task.title for task in planner.approve(project_id)]
    assert "Renamed" in titles and "Write the FAQ" in titles


def test_reject_goes_back_to_the_proposals_with_feedback(engine: Engine) -> None:
    fake = ScriptedProvider(lambda _request, _index: json.dumps(_plan()))
    engine.use_provider("chatgpt", fake)
    planner = Planner(engine)
    project_id = planner.start(brief(agents=("claude", "chatgpt"))).project_id
    plan_through_review(planner, project_id)
    rejected = planner.reject(project_id, "Start with the payment provider.")
    assert rejected.step is PlanStep.PROPOSALS and rejected.proposals == () and rejected.plan is None
    asyncio.run(planner.propose(project_id))
    assert "Start with the payment provider." in fake.requests[-1].messages[0].content


def test_every_step_survives_a_restart(paths: Paths, settings: Settings) -> None:
    def reopened() -> tuple[Engine, Planner]:
        engine = Engine(paths, settings, env={})
        return engine, Planner(engine)

    engine, planner = reopened()
    project_id = planner.start(brief()).project_id
    engine.close()
    for step in (PlanStep.PROPOSALS, PlanStep.VOTE, PlanStep.SYNTHESIS, PlanStep.REVIEW):
        engine, planner = reopened()
        session = planner.session(project_id)
        assert session.step is step
        calls_before = len(engine.store.calls())
        if step is PlanStep.PROPOSALS:
            asyncio.run(planner.propose(project_id))
        elif step is PlanStep.VOTE:
            asyncio.run(planner.vote(project_id, tie_break="first"))
            assert not [call for call in engine.store.calls()[calls_before:] if call.purpose == "plan"]
        elif step is PlanStep.SYNTHESIS:
            asyncio.run(planner.synthesize(project_id))
        else:
            planner.approve(project_id)
        engine.close()
    engine, planner = reopened()
    assert planner.session(project_id).step is PlanStep.DONE
    assert engine.tasks(project_id)
    engine.close()


def test_a_long_description_is_cut_and_the_prompt_says_so(engine: Engine) -> None:
    fake = ScriptedProvider(lambda _request, _index: json.dumps(_plan()))
    engine.use_provider("claude", fake)
    planner = Planner(engine)
    project_id = planner.start(brief(description="x" * 100_000, agents=("claude",))).project_id
    asyncio.run(planner.propose(project_id))
    prompt = fake.requests[0].messages[0].content
    assert "cut from 100,000 to 12,000 characters" in prompt
    assert len(prompt) < 20_000


def test_a_bad_brief_is_refused(engine: Engine) -> None:
    planner = Planner(engine)
    with pytest.raises(EngineError, match="at least one agent"):
        planner.start(brief(agents=()))
    with pytest.raises(EngineError, match="needs a name"):
        planner.start(brief(name="  "))
    with pytest.raises(EngineError, match="unknown method"):
        planner.start(brief(method="dictator"))


def _plan() -> dict[str, object]:
    return {
        "summary": "One phase.",
        "phases": [
            {
                "name": "Build",
                "tasks": [
                    {
                        "key": "a",
                        "title": "Payments",
                        "instructions": "Do payments.",
                        "category": "code",
                        "priority": "high",
                        "depends_on": [],
                        "acceptance": ["paid"],
                    },
                ],
            }
        ],
    }


def test_advance_runs_to_the_review_and_hands_off_approves_by_itself(engine: Engine) -> None:
    planner = Planner(engine)
    hands_off = planner.start(brief()).project_id
    assert asyncio.run(planner.advance(hands_off)).step is PlanStep.DONE
    assert engine.tasks(hands_off)
    checkpoints = planner.start(brief(name="Shop 2", involvement=Involvement.CHECKPOINTS)).project_id
    assert asyncio.run(planner.advance(checkpoints, tie_break="first")).step is PlanStep.REVIEW
    assert not engine.tasks(checkpoints)
    assert [session.project_id for session in planner.under_way()] == [checkpoints]


def test_hands_on_goes_one_step_at_a_time_and_its_vote_asks_for_feedback(engine: Engine) -> None:
    planner = Planner(engine)
    project_id = planner.start(brief(involvement=Involvement.HANDS_ON)).project_id
    assert asyncio.run(planner.advance(project_id, pause=True)).step is PlanStep.VOTE
    session = asyncio.run(planner.advance(project_id, tie_break="first", pause=True))
    assert session.step is PlanStep.SYNTHESIS
    assert session.decision_id is not None
    decision = engine.store.decision(session.decision_id)
    assert decision is not None and decision.rules == {"quorum": "majority", "round_feedback": True}


def test_drafts_are_kept_as_they_arrive_so_a_crash_asks_only_the_rest(engine: Engine) -> None:
    planner = Planner(engine)
    project_id = planner.start(brief(agents=("claude", "chatgpt"))).project_id
    slow = ScriptedProvider(answers(json.dumps(plan_for("chatgpt"))))
    slow.blocking = True
    engine.use_provider("chatgpt", slow)

    async def crash_while_chatgpt_drafts() -> None:
        drafting = asyncio.ensure_future(planner.propose(project_id))
        for _ in range(500):
            if planner.session(project_id).proposals:
                break
            await asyncio.sleep(0.01)
        drafting.cancel()

    asyncio.run(crash_while_chatgpt_drafts())
    session = planner.session(project_id)
    assert [proposal.agent for proposal in session.proposals] == ["claude"]
    fresh = ScriptedProvider(answers(json.dumps(plan_for("chatgpt"))))
    engine.use_provider("chatgpt", fresh)
    claude_calls = len(engine.store.calls("claude"))
    assert asyncio.run(planner.propose(project_id)).step is PlanStep.VOTE
    assert len(engine.store.calls("claude")) == claude_calls and len(fresh.requests) == 1


def test_cancel_archives_the_project_and_withdraws_its_vote(engine: Engine) -> None:
    planner = Planner(engine)
    pair = ("claude", "chatgpt")
    for name in pair:
        engine.use_provider(name, ScriptedProvider(committee_member(name)))
    project_id = planner.start(brief(involvement=Involvement.CHECKPOINTS, agents=pair)).project_id
    asyncio.run(planner.propose(project_id))

    asyncio.run(vote_until_the_tie_break(engine, project_id))
    session = planner.cancel(project_id)
    assert session.step is PlanStep.CANCELLED
    stored_project = engine.store.project(project_id)
    assert stored_project is not None and stored_project.status is ProjectStatus.ARCHIVED
    assert session.decision_id is not None
    stored_decision = engine.store.decision(session.decision_id)
    assert stored_decision is not None and stored_decision.status is DecisionStatus.CANCELLED
    assert engine.inbox.open_items() == []
    with pytest.raises(EngineError, match="already cancelled"):
        planner.cancel(project_id)
    assert planner.under_way() == []


def test_a_rejection_needs_words(engine: Engine) -> None:
    planner = Planner(engine)
    project_id = planner.start(brief()).project_id
    asyncio.run(planner.propose(project_id))
    with pytest.raises(EngineError, match="say what should change"):
        planner.reject(project_id, "  ")
