"""The chair's refinement adds no copy of a task the plan has, and no task that starts too soon."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from fakes import Script, ScriptedProvider, committee_member, plan_for

from orkestra_tui.config import Settings, SimulationSettings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Involvement
from orkestra_tui.engine.planning.plan_guard import (
    guard_refinement,
    phase_names,
    same_substance,
    task_subject,
)
from orkestra_tui.engine.planning.planning import Brief, Planner, PlanStep
from orkestra_tui.providers.base import ProviderRequest

AGENTS = ("claude", "chatgpt", "gemini", "copilot", "grok")
FEATURES = ("sharing", "search", "cart", "checkout", "accounts", "reports", "offline mode")


def planned(home: Path, seed: int) -> tuple[Engine, dict[str, Any], list[dict[str, Any]]]:
    """A hands-off plan by the simulated committee: the approved plan, and every proposal."""
    settings = replace(Settings(), simulation=SimulationSettings(seed=seed, latency_ms=0))
    engine = Engine(resolve_paths(home), settings, env={})
    chance = random.Random(seed)
    features = tuple(chance.sample(FEATURES, chance.randint(0, 5)))
    planner = Planner(engine)
    brief = Brief(
        name="Notes",
        description="A note-taking app.",
        features=features,
        involvement=Involvement.HANDS_OFF,
        agents=AGENTS,
    )
    project_id = planner.start(brief).project_id
    session = asyncio.run(planner.advance(project_id, tie_break="first"))
    assert session.step is PlanStep.DONE and session.plan is not None
    proposals = [proposal.plan for proposal in session.proposals if proposal.plan is not None]
    return engine, session.plan, proposals


def test_the_simulated_committee_never_plans_a_task_twice_nor_an_unanchored_one(tmp_path: Path) -> None:
    for seed in range(60):
        engine, plan, proposals = planned(tmp_path / f"seed-{seed}", seed)
        engine.close()
        phases = phase_names(plan, *proposals)
        tasks = [task for phase in plan["phases"] for task in phase["tasks"]]
        for index, task in enumerate(tasks):
            twins = [other["title"] for other in tasks[index + 1 :] if same_substance(task, other, phases)]
            assert not twins, f"seed {seed}: {task['title']!r} is planned again as {twins}"
        keys = {task["key"] for task in tasks}
        for phase in plan["phases"][1:]:
            for task in phase["tasks"]:
                assert task["depends_on"], f"seed {seed}: {task['title']!r} starts at once in {phase['name']}"
                assert set(task["depends_on"]) <= keys, f"seed {seed}: {task['title']!r}"


def test_the_simulated_chair_adopts_a_missing_task_in_its_phase_and_anchored(tmp_path: Path) -> None:
    adopted = 0
    for seed in range(20):
        engine, plan, _proposals = planned(tmp_path / f"seed-{seed}", seed)
        engine.close()
        for index, phase in enumerate(plan["phases"]):
            for task in phase["tasks"]:
                if task["key"].startswith("adopted-"):
                    adopted += 1
                    assert index == 0 or task["depends_on"]
    assert adopted > 0, "the chair never adopted anything: the property test above proves little"


def test_a_subject_is_the_title_less_a_phase_name() -> None:
    phases = {"build", "foundations"}
    assert task_subject("Build: Sharing", phases) == task_subject("Foundations:  sharing.", phases)
    assert task_subject("Docs: the API", phases) != task_subject("Tests: the API", phases)
    assert task_subject("Build:", phases) == "build"


# ------------------------------------------------------------ the engine's guard


def duplicating_chair(author: str) -> Script:
    """`committee_member`, but as chair it adds a copy of t1 under another phase's name, a copy of
    t3 under another title, a task depending on that copy, and a task with no dependency at all."""
    member = committee_member(author)

    def script(request: ProviderRequest, index: int) -> str | BaseException:
        if request.purpose != "synthesis":
            return member(request, index)
        plan = plan_for(author)
        extra = {"category": "code", "priority": "normal", "acceptance": ["done"]}
        copy_of_t3 = dict(plan["phases"][1]["tasks"][0], key="x2", title="Documentation", depends_on=[])
        plan["phases"][1]["tasks"] += [
            {
                **extra,
                "key": "x1",
                "title": "Polish: set up the repository!",
                "instructions": "Again.",
                "depends_on": [],
            },
            copy_of_t3,
            {**extra, "key": "x3", "title": "Proofread", "instructions": "Read it.", "depends_on": ["x2"]},
            {
                **extra,
                "key": "x4",
                "title": "Write a changelog",
                "instructions": "List the changes.",
                "depends_on": [],
            },
        ]
        return json.dumps(plan)

    return script


def test_the_engine_drops_a_chairs_duplicates_and_anchors_its_new_tasks(engine: Engine) -> None:
    for agent in engine.agents():
        if agent.name not in ("claude", "chatgpt"):
            engine.set_agent_enabled(agent.name, False)
    for name in ("claude", "chatgpt"):
        engine.use_provider(name, ScriptedProvider(duplicating_chair(name)))
    planner = Planner(engine)
    brief = Brief(name="Shop", description="A small shop.", agents=("claude", "chatgpt"))
    project_id = planner.start(brief).project_id
    asyncio.run(planner.propose(project_id))
    asyncio.run(planner.vote(project_id, tie_break="first"))
    session = asyncio.run(planner.synthesize(project_id))

    assert session.plan is not None
    foundations, polish = session.plan["phases"]
    assert [task["key"] for task in polish["tasks"]] == ["t3", "x3", "x4"]
    by_key = {task["key"]: task for task in polish["tasks"]}
    assert by_key["x3"]["depends_on"] == ["t3"]  # it depended on the copy: now on the original
    assert by_key["x4"]["depends_on"] == [task["key"] for task in foundations["tasks"]]
    assert by_key["t3"]["depends_on"] == ["t2"]  # the chosen plan's own tasks are left alone
    assert "dropped: Polish: set up the repository! (the plan already has it: Set up the repository)" in (
        session.changes
    )
    assert "dropped: Documentation (the plan already has it: Write the docs)" in session.changes
    assert "anchored: Write a changelog (now after the phase Foundations)" in session.changes
    assert not any("anchored: Proofread" in change for change in session.changes)
    assert {"added: Proofread", "added: Write a changelog"} <= set(session.changes)
    assert not any(change.startswith("added: Documentation") for change in session.changes)
    tasks = planner.approve(project_id)
    assert len(tasks) == 5


def test_the_guard_leaves_a_refinement_without_copies_alone() -> None:
    before = plan_for("claude")
    after = json.loads(json.dumps(before))
    after["phases"][1]["tasks"].append(
        {
            "key": "t4",
            "title": "Test the API",
            "instructions": "Cover the API with tests.",
            "category": "tests",
            "priority": "high",
            "depends_on": ["t2"],
            "acceptance": [],
        }
    )
    expected = json.loads(json.dumps(after))
    guarded, notes = guard_refinement(before, after)
    assert guarded == expected and notes == []
