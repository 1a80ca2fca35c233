"""Planning: from a project brief to an approved task graph, step by step.

1. start: the brief is stored with a new project;
2. propose: every participating agent drafts a plan at once (JSON against
   PLAN_SCHEMA, repaired once, otherwise left out with the reason);
3. vote: the valid plans, anonymised, go to the committee; no agent may vote
   for its own plan;
4. synthesize: the winning plan's author, as chair, may adopt improvements
   from the other plans; the changes are listed (the user may keep the original);
5. review: the user edits, deletes or adds tasks, rejects with feedback (back
   to step 2), or approves;
6. approve: the plan becomes tasks on the Board, dependencies checked.

The session is stored after every step (table plan_session), so quitting or a
crash resumes at the same step with the proposals and votes already paid for.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from orkestra_tui.engine.answers import PLAN_SCHEMA, AnswerError, parse_answer
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.graph import find_cycle
from orkestra_tui.engine.methods import METHODS
from orkestra_tui.engine.models import Involvement, Priority, ProjectStatus, Task, TaskSpec
from orkestra_tui.engine.store import dumps

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine

PRIORITIES = {
    "critical": Priority.CRITICAL,
    "high": Priority.HIGH,
    "normal": Priority.NORMAL,
    "low": Priority.LOW,
}


class PlanStep(StrEnum):
    PROPOSALS = "proposals"
    VOTE = "vote"
    SYNTHESIS = "synthesis"
    REVIEW = "review"
    DONE = "done"


@dataclass(frozen=True)
class Brief:
    name: str
    description: str
    goals: str = ""
    constraints: str = ""
    features: tuple[str, ...] = ()
    involvement: Involvement = Involvement.CHECKPOINTS
    agents: tuple[str, ...] = ()
    method: str = "majority"

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "features": list(self.features),
            "agents": list(self.agents),
            "involvement": int(self.involvement),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Brief:
        return cls(
            **{
                **data,
                "features": tuple(data["features"]),
                "agents": tuple(data["agents"]),
                "involvement": Involvement(data["involvement"]),
            }
        )


@dataclass(frozen=True)
class Proposal:
    agent: str
    plan: dict[str, Any] | None
    reason: str = ""
    """Why the agent was left out, when it was."""

    @property
    def ok(self) -> bool:
        return self.plan is not None

    @property
    def task_count(self) -> int:
        return sum(len(phase["tasks"]) for phase in self.plan["phases"]) if self.plan else 0


@dataclass(frozen=True)
class PlanSession:
    project_id: int
    step: PlanStep
    brief: Brief
    proposals: tuple[Proposal, ...] = ()
    decision_id: int | None = None
    plan: dict[str, Any] | None = None
    changes: tuple[str, ...] = ()
    feedback: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())


def plan_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Tasks added, removed or changed between two plans, as readable lines."""
    old = {task["key"]: task for phase in before["phases"] for task in phase["tasks"]}
    new = {task["key"]: task for phase in after["phases"] for task in phase["tasks"]}
    lines = [f"added: {new[key]['title']}" for key in new if key not in old]
    lines += [f"removed: {old[key]['title']}" for key in old if key not in new]
    for key in new.keys() & old.keys():
        changed = [
            name
            for name in ("title", "instructions", "priority", "depends_on", "category")
            if new[key].get(name) != old[key].get(name)
        ]
        if changed:
            lines.append(f"changed: {new[key]['title']} ({', '.join(changed)})")
    return lines


def check_plan(plan: dict[str, Any]) -> str:
    """What is wrong with a plan beyond its schema (duplicate task keys), or ''."""
    keys = [task["key"] for phase in plan["phases"] for task in phase["tasks"]]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    return f"task keys used twice: {', '.join(duplicates)}" if duplicates else ""


class Planner:
    """The planning workflow over one engine; every step is stored before it returns."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    # ------------------------------------------------------------- storage

    def session(self, project_id: int) -> PlanSession:
        rows = self.store.query(
            "SELECT step, brief, proposals, decision_id, plan, changes, feedback FROM plan_session"
            " WHERE project_id = ?",
            (project_id,),
        )
        if not rows:
            raise EngineError(f"project {project_id} has no plan under way")
        step, brief, proposals, decision_id, plan, changes, feedback = rows[0]
        return PlanSession(
            project_id=project_id,
            step=PlanStep(step),
            brief=Brief.from_dict(json.loads(brief)),
            proposals=tuple(Proposal(**item) for item in json.loads(proposals)),
            decision_id=decision_id,
            plan=json.loads(plan) if plan else None,
            changes=tuple(json.loads(changes)),
            feedback=tuple(json.loads(feedback)),
        )

    def _save(
        self, session: PlanSession, kind: str, summary: str, data: dict[str, Any] | None = None
    ) -> PlanSession:
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO plan_session (project_id, step, brief, proposals, decision_id, plan, changes,"
                " feedback, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (project_id) DO UPDATE SET"
                " step = excluded.step, proposals = excluded.proposals, decision_id = excluded.decision_id,"
                " plan = excluded.plan, changes = excluded.changes, feedback = excluded.feedback,"
                " updated_at = excluded.updated_at",
                (
                    session.project_id,
                    session.step.value,
                    dumps(session.brief.to_dict()),
                    dumps([asdict(proposal) for proposal in session.proposals]),
                    session.decision_id,
                    dumps(session.plan) if session.plan is not None else None,
                    dumps(list(session.changes)),
                    dumps(list(session.feedback)),
                    tx.clock.now(),
                ),
            )
            tx.audit(
                "engine",
                kind,
                summary,
                subject=f"project:{session.project_id}",
                project_id=session.project_id,
                data={"step": session.step.value, **(data or {})},
            )
        return session

    # ----------------------------------------------------------------- steps

    def start(self, brief: Brief) -> PlanSession:
        """Store the brief with a new project; the proposals come next."""
        if not brief.agents:
            raise EngineError("choose at least one agent")
        unknown = [name for name in brief.agents if name not in self.engine.runtimes]
        if unknown:
            raise EngineError(f"there is no agent named {unknown[0]!r}")
        if brief.method not in METHODS:
            raise EngineError(f"unknown method {brief.method!r}; choose one of {', '.join(METHODS)}")
        project = self.engine.create_project(brief.name, brief.description, involvement=brief.involvement)
        session = PlanSession(
            project_id=project.id, step=PlanStep.PROPOSALS, brief=replace(brief, name=project.name)
        )
        return self._save(session, "plan.started", f"Planning started for {project.name!r}")

    async def propose(self, project_id: int) -> PlanSession:
        """Every participating agent drafts a plan at once; at least one must be valid."""
        from orkestra_tui.engine.prompts import plan_request

        session = self._expect(project_id, PlanStep.PROPOSALS)
        request = plan_request(session.brief, session.feedback)
        proposals = await asyncio.gather(
            *(self._draft(session, agent, request) for agent in session.brief.agents)
        )
        valid = [proposal for proposal in proposals if proposal.ok]
        if not valid:
            reasons = "; ".join(f"{proposal.agent}: {proposal.reason}" for proposal in proposals)
            self._save(
                replace(session, proposals=tuple(proposals)),
                "plan.proposals_failed",
                "No agent produced a valid plan",
                {"reasons": reasons},
            )
            raise EngineError(f"no agent produced a valid plan ({reasons})")
        return self._save(
            replace(session, step=PlanStep.VOTE, proposals=tuple(proposals)),
            "plan.proposed",
            f"{len(valid)} of {len(proposals)} agents proposed a plan",
        )

    async def _draft(self, session: PlanSession, agent: str, request: Any) -> Proposal:
        from orkestra_tui.engine.prompts import repair_request

        def interpret(text: str) -> tuple[dict[str, Any] | None, str]:
            try:
                plan = parse_answer(text, PLAN_SCHEMA)
            except AnswerError as problem:
                return None, str(problem)
            problem_text = check_plan(plan)
            return (None, problem_text) if problem_text else (plan, "")

        outcome = await self.engine.call(agent, request, project_id=session.project_id)
        if outcome.response is None:
            return Proposal(agent, None, f"{outcome.record.error_class}: {outcome.record.error}")
        plan, problem = interpret(outcome.response.text)
        if plan is None:
            retry = await self.engine.call(
                agent, repair_request(request, outcome.response.text, problem), project_id=session.project_id
            )
            if retry.response is None:
                return Proposal(agent, None, f"invalid plan ({problem}), then {retry.record.error_class}")
            plan, problem = interpret(retry.response.text)
            if plan is None:
                return Proposal(agent, None, f"invalid plan twice ({problem})")
        return Proposal(agent, plan)

    def _expect(self, project_id: int, step: PlanStep) -> PlanSession:
        session = self.session(project_id)
        if session.step is not step:
            raise EngineError(f"the plan is at the {session.step.value} step, not {step.value}")
        return session

    async def vote(self, project_id: int, *, tie_break: str = "ask") -> PlanSession:
        """The committee votes on the anonymised plans; nobody votes for its own."""
        from orkestra_tui.engine.committee import TieBreakPolicy
        from orkestra_tui.engine.models import DecisionStatus

        session = self.session(project_id)
        if session.step is not PlanStep.VOTE:
            raise EngineError(f"the plan is at the {session.step.value} step, not vote")
        valid = [proposal for proposal in session.proposals if proposal.ok]
        if session.decision_id is None:
            labels = {proposal.agent: chr(ord("A") + index) for index, proposal in enumerate(valid)}
            options = {
                f"Plan {labels[proposal.agent]}: {proposal.plan['summary']}": proposal.agent  # type: ignore[index]
                for proposal in valid
            }
            if len(options) < 2:
                return self._choose(session, valid[0].agent, "only one valid plan")
            decision = self.engine.open_decision(
                f"Which plan should {session.brief.name} follow?",
                list(options),
                method=session.brief.method,
                voters=[proposal.agent for proposal in valid],
                authors=options,
                project_id=project_id,
                actor="engine",
            )
            session = self._save(
                replace(session, decision_id=decision.id),
                "plan.vote_opened",
                "The committee votes on the plans",
                {"decision": decision.id},
            )
        hands_off = session.brief.involvement is Involvement.HANDS_OFF
        decided = await self.engine.decide(
            session.decision_id,  # type: ignore[arg-type]
            tie_break=TieBreakPolicy.FIRST if hands_off and tie_break == "ask" else TieBreakPolicy(tie_break),
            resolution=("fallback",) if hands_off else ("human", "fallback"),
        )
        winner = decided.outcome.get("winner") if decided.outcome else None
        if decided.status is not DecisionStatus.DECIDED or not winner:
            raise EngineError(
                f"the committee chose no plan: {decided.outcome and decided.outcome.get('reason')}"
            )
        return self._choose(session, decided.authors[str(winner)], "the committee's vote")

    def _choose(self, session: PlanSession, agent: str, why: str) -> PlanSession:
        plan = next(proposal.plan for proposal in session.proposals if proposal.agent == agent)
        return self._save(
            replace(session, step=PlanStep.SYNTHESIS, plan=plan),
            "plan.chosen",
            f"{agent}'s plan was chosen ({why})",
            {"author": agent},
        )

    async def synthesize(self, project_id: int) -> PlanSession:
        """The chosen plan's author refines it with the best of the other plans; changes are listed."""
        from orkestra_tui.engine.prompts import synthesis_request

        session = self._expect(project_id, PlanStep.SYNTHESIS)
        assert session.plan is not None
        chair = next(proposal.agent for proposal in session.proposals if proposal.plan == session.plan)
        others = [
            proposal.plan
            for proposal in session.proposals
            if proposal.plan is not None and proposal.plan != session.plan
        ]
        outcome = await self.engine.call(
            chair, synthesis_request(session.plan, others), project_id=project_id
        )
        refined: dict[str, Any] | None = None
        if outcome.response is not None:
            try:
                refined = parse_answer(outcome.response.text, PLAN_SCHEMA)
            except AnswerError:
                refined = None
        if refined is None or check_plan(refined):
            return self._save(
                replace(session, step=PlanStep.REVIEW, changes=()),
                "plan.synthesis_skipped",
                f"{chair} gave no usable refinement; the chosen plan stands",
            )
        changes = tuple(plan_changes(session.plan, refined))
        return self._save(
            replace(
                session, step=PlanStep.REVIEW, plan=refined, changes=changes, proposals=session.proposals
            ),
            "plan.synthesized",
            f"{chair} refined the plan: {len(changes)} change(s)",
            {"changes": list(changes)},
        )

    def keep_original(self, project_id: int) -> PlanSession:
        """Undo the chair's refinement: back to the plan as the committee chose it."""
        session = self._expect(project_id, PlanStep.REVIEW)
        decision = self.store.decision(session.decision_id) if session.decision_id else None
        winner_agent = (
            decision.authors.get(str(decision.outcome.get("winner")))
            if decision and decision.outcome
            else None
        )
        original = next((p.plan for p in session.proposals if p.agent == winner_agent), None) or next(
            p.plan for p in session.proposals if p.ok
        )
        return self._save(
            replace(session, plan=original, changes=()), "plan.kept_original", "The original plan is kept"
        )

    def edit_task(self, project_id: int, key: str, **fields: Any) -> PlanSession:
        """Change a task's title, instructions, priority or dependencies during review."""
        allowed = {"title", "instructions", "priority", "depends_on", "category", "acceptance"}
        unknown = set(fields) - allowed
        if unknown:
            raise EngineError(f"a task has no field {sorted(unknown)[0]!r}")
        if "priority" in fields and fields["priority"] not in PRIORITIES:
            raise EngineError(f"priority must be one of {', '.join(PRIORITIES)}")
        session = self._expect(project_id, PlanStep.REVIEW)
        plan = json.loads(json.dumps(session.plan))
        task = next((task for phase in plan["phases"] for task in phase["tasks"] if task["key"] == key), None)
        if task is None:
            raise EngineError(f"the plan has no task {key!r}")
        task.update(fields)
        return self._save(
            replace(session, plan=plan), "plan.edited", f"Task {task['title']!r} edited", {"key": key}
        )

    def delete_task(self, project_id: int, key: str) -> PlanSession:
        session = self._expect(project_id, PlanStep.REVIEW)
        plan = json.loads(json.dumps(session.plan))
        for phase in plan["phases"]:
            phase["tasks"] = [task for task in phase["tasks"] if task["key"] != key]
        plan["phases"] = [phase for phase in plan["phases"] if phase["tasks"]]
        return self._save(replace(session, plan=plan), "plan.edited", f"Task {key!r} deleted", {"key": key})

    def add_task(self, project_id: int, phase_name: str, task: dict[str, Any]) -> PlanSession:
        session = self._expect(project_id, PlanStep.REVIEW)
        plan = json.loads(json.dumps(session.plan))
        phase = next((phase for phase in plan["phases"] if phase["name"] == phase_name), None)
        if phase is None:
            phase = {"name": phase_name, "tasks": []}
            plan["phases"].append(phase)
        phase["tasks"].append(
            {"depends_on": [], "acceptance": [], "category": "code", "priority": "normal", **task}
        )
        problem = check_plan(plan)
        if problem:
            raise EngineError(problem)
        return self._save(replace(session, plan=plan), "plan.edited", f"Task {task.get('title')!r} added")

    def reject(self, project_id: int, feedback: str) -> PlanSession:
        """Back to the proposals, with feedback every agent will read."""
        session = self.session(project_id)
        if session.step in (PlanStep.DONE, PlanStep.PROPOSALS):
            raise EngineError(f"the plan is at the {session.step.value} step; nothing to reject")
        rejected = replace(
            session,
            step=PlanStep.PROPOSALS,
            proposals=(),
            decision_id=None,
            plan=None,
            changes=(),
            feedback=(*session.feedback, feedback.strip()),
        )
        return self._save(rejected, "plan.rejected", f"The plan was rejected: {feedback.strip()}")

    def approve(self, project_id: int) -> list[Task]:
        """The reviewed plan becomes tasks, each with its phase; a dependency cycle must be fixed first."""
        session = self._expect(project_id, PlanStep.REVIEW)
        assert session.plan is not None
        tasks = [(phase["name"], task) for phase in session.plan["phases"] for task in phase["tasks"]]
        keys = {task["key"] for _phase, task in tasks}
        dropped = [
            f"{task['key']} -> {dep}"
            for _phase, task in tasks
            for dep in task.get("depends_on", [])
            if dep not in keys
        ]
        cycle = find_cycle(
            {task["key"]: tuple(d for d in task.get("depends_on", []) if d in keys) for _p, task in tasks}
        )
        if cycle:
            raise EngineError(
                f"tasks depend on each other in a cycle: {' -> '.join(cycle)}; fix it in review"
            )
        specs = [
            TaskSpec(
                title=task["title"],
                instructions=task["instructions"],
                category=task.get("category", "code"),
                priority=PRIORITIES.get(task.get("priority", "normal"), Priority.NORMAL),
                phase=phase,
                key=task["key"],
                depends_on=tuple(task.get("depends_on", [])),
                acceptance=tuple(task.get("acceptance", [])),
            )
            for phase, task in tasks
        ]
        created = self.engine.add_tasks(project_id, specs, actor="engine")
        self.engine.set_project_status(project_id, ProjectStatus.ACTIVE)
        self._save(
            replace(session, step=PlanStep.DONE),
            "plan.approved",
            f"Plan approved: {len(created)} tasks in {len(session.plan['phases'])} phases",
            {"dropped_dependencies": dropped},
        )
        return created
