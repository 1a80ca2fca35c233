"""Planning: from a project brief to an approved task graph, step by step.

1. start: the brief is stored with a new project;
2. propose: every participating agent drafts a plan at once (JSON against
   PLAN_SCHEMA, repaired once, otherwise left out with the reason);
3. vote: the valid plans, anonymised, go to the committee; no agent may vote
   for its own plan;
4. synthesize: the winning plan's author, as chair, may adopt improvements
   from the other plans; a copy of a task the plan has is dropped, and a new task in
   a later phase with no dependency follows the phase before (`plan_guard`); the
   changes are listed (the user may keep the original);
5. review: the user edits, deletes or adds tasks, rejects with feedback (back
   to step 2), or approves;
6. approve: the plan becomes tasks on the Board, dependencies checked.

The session is stored after every step (table plan_session), so quitting or a
crash resumes at the same step with the proposals and votes already paid for.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from orkestra_tui.engine import telemetry
from orkestra_tui.engine.agents.answers import (
    CATEGORIES,
    PLAN_SCHEMA,
    AnswerError,
    first_of,
    parse_answer,
    placeholder_problems,
    plan_refusal,
    real_tasks,
)
from orkestra_tui.engine.agents.raw_answers import keep_refused_answer
from orkestra_tui.engine.errors import EngineError, RequestRejected
from orkestra_tui.engine.events import EngineEvent
from orkestra_tui.engine.models import (
    DecisionStatus,
    Involvement,
    Priority,
    Project,
    ProjectStatus,
    Task,
    TaskSpec,
)
from orkestra_tui.engine.planning.brief_rules import brief_problems, fold_name
from orkestra_tui.engine.planning.graph import find_cycle
from orkestra_tui.engine.planning.plan_guard import guard_refinement
from orkestra_tui.engine.store.store import dumps
from orkestra_tui.wording import plural

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orkestra_tui.engine.agents.pool import AgentPool
    from orkestra_tui.engine.events import EventBus
    from orkestra_tui.engine.inbox import Inbox
    from orkestra_tui.engine.planning.plan_contests import ContestSetter
    from orkestra_tui.engine.planning.projects import ProjectDesk
    from orkestra_tui.engine.store.store import Store
    from orkestra_tui.engine.voting.desk import DecisionDesk

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
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (PlanStep.DONE, PlanStep.CANCELLED)


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
    repository: str = ""
    """The folder of the git repository the work lands in ("" for Markdown results)."""

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


def dependency_problems(plan: dict[str, Any]) -> tuple[list[str], list[str] | None]:
    """Dependencies on tasks the plan lacks (as `key -> dependency`), and a cycle among the rest."""
    tasks = [task for phase in plan["phases"] for task in phase["tasks"]]
    keys = {task["key"] for task in tasks}
    unknown = [
        f"{task['key']} -> {dep}" for task in tasks for dep in task.get("depends_on", []) if dep not in keys
    ]
    cycle = find_cycle(
        {task["key"]: tuple(d for d in task.get("depends_on", []) if d in keys) for task in tasks}
    )
    return unknown, cycle


def check_plan(plan: dict[str, Any]) -> str:
    """What is wrong with a plan beyond its schema (texts empty or placeholders, duplicate task keys), or ''.

    A template echoed back (`"title": "..."`) is no plan: every text must be written for the project.
    """
    placeholders = placeholder_problems(plan)
    if placeholders:
        what = "placeholders, not real text" if real_tasks(plan) else "no real task, only placeholders"
        return f"the plan has {what}: {first_of(placeholders)}"
    keys = [task["key"] for phase in plan["phases"] for task in phase["tasks"]]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    return f"task keys used twice: {', '.join(duplicates)}" if duplicates else ""


class TaskAdder(Protocol):
    """Where an approved plan's tasks are added (the task desk, above planning)."""

    def add_tasks(
        self, project_id: int, specs: Sequence[TaskSpec], *, actor: str = "engine"
    ) -> list[Task]: ...


class PlannerParts(Protocol):
    """The parts the planner uses (the Engine has them all, and is passed as them)."""

    @property
    def store(self) -> Store: ...
    @property
    def bus(self) -> EventBus: ...
    @property
    def inbox(self) -> Inbox: ...
    @property
    def pool(self) -> AgentPool: ...
    @property
    def project_desk(self) -> ProjectDesk: ...
    @property
    def decision_desk(self) -> DecisionDesk: ...
    @property
    def task_desk(self) -> TaskAdder: ...
    @property
    def contest_desk(self) -> ContestSetter: ...


class Planner:
    """The planning workflow over the parts it uses; every step is stored before it returns."""

    def __init__(self, parts: PlannerParts) -> None:
        self.store = parts.store
        self.bus = parts.bus
        self.inbox = parts.inbox
        self.pool = parts.pool
        self.projects = parts.project_desk
        self.decisions = parts.decision_desk
        self.tasks = parts.task_desk
        self.contests = parts.contest_desk

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

    def under_way(self) -> list[PlanSession]:
        """Plans not yet approved or cancelled, oldest first."""
        rows = self.store.query(
            "SELECT project_id FROM plan_session WHERE step NOT IN (?, ?) ORDER BY updated_at, project_id",
            (PlanStep.DONE.value, PlanStep.CANCELLED.value),
        )
        return [self.session(project_id) for (project_id,) in rows]

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

    def start(self, brief: Brief, *, take_up: bool = False) -> PlanSession:
        """Store the brief with a new project; the proposals come next.

        With `take_up`, a project of that name left in planning with no plan stored (a start
        killed in between) is planned instead of refused.
        """
        orphan = self.orphan(brief.name) if take_up else None
        taken = orphan is None and self.store.project_by_name(fold_name(brief.name)) is not None
        problems = brief_problems(brief, agent_names=list(self.pool.runtimes), name_taken=taken)
        if problems:
            raise RequestRejected(problems)
        project = orphan or self.projects.create_project(
            brief.name, brief.description, involvement=brief.involvement
        )
        session = PlanSession(
            project_id=project.id, step=PlanStep.PROPOSALS, brief=replace(brief, name=project.name)
        )
        return self._save(session, "plan.started", f"Planning started for {project.name!r}")

    def orphan(self, name: str) -> Project | None:
        """A project left in planning with no plan stored (a start killed in between): taken up again."""
        project = self.store.project_by_name(" ".join(name.split()))
        if project is None or project.status is not ProjectStatus.PLANNING:
            return None
        if self.store.scalar("SELECT count(*) FROM plan_session WHERE project_id = ?", (project.id,)):
            return None
        return project

    def find(self, name: str) -> PlanSession | None:
        """The plan of the project named `name`, finished or not; None if it has none."""
        project = self.store.project_by_name(" ".join(name.split()))
        if project is None or self.orphan(project.name) is not None:
            return None
        try:
            return self.session(project.id)
        except EngineError:
            return None

    async def advance(self, project_id: int, *, tie_break: str = "ask", pause: bool = False) -> PlanSession:
        """Run the steps that need no one (proposals, vote, synthesis) up to the review.

        Hands-off, the reviewed plan is approved at once. With `pause` (hands-on)
        one step is run and the session returned, for the human to look at.
        """
        session = self.session(project_id)
        with telemetry.span("plan", {"orkestra.project.id": project_id}) as plan_span:
            while session.step is not PlanStep.REVIEW and not session.step.finished:
                step = session.step.value  # proposals, vote or synthesis: its span's name
                if session.step is PlanStep.PROPOSALS:
                    session = await telemetry.traced(step, self.propose(project_id))
                elif session.step is PlanStep.VOTE:
                    session = await self.vote(project_id, tie_break=tie_break)
                else:
                    session = await telemetry.traced(step, self.synthesize(project_id))
                plan_span.set_attribute("orkestra.plan.step", session.step.value)
                if pause:
                    return session
        if session.step is PlanStep.REVIEW and session.brief.involvement is Involvement.HANDS_OFF:
            self.approve(project_id)
            session = self.session(project_id)
        return session

    async def propose(self, project_id: int) -> PlanSession:
        """Every participating agent drafts a plan at once; at least one must be valid.

        Each draft is stored as it arrives, so after a crash only the agents
        without a valid plan are asked again.
        """
        from orkestra_tui.engine.agents.prompts import plan_request

        session = self._expect(project_id, PlanStep.PROPOSALS)
        request = plan_request(session.brief, session.feedback)
        done = {proposal.agent for proposal in session.proposals if proposal.ok}
        await asyncio.gather(
            *(self._draft(project_id, agent, request) for agent in session.brief.agents if agent not in done)
        )
        session = self.session(project_id)
        valid = [proposal for proposal in session.proposals if proposal.ok]
        if not valid:
            reasons = "; ".join(f"{proposal.agent}: {proposal.reason}" for proposal in session.proposals)
            self._save(
                session, "plan.proposals_failed", "No agent produced a valid plan", {"reasons": reasons}
            )
            raise EngineError(f"no agent produced a valid plan ({reasons})")
        return self._save(
            replace(session, step=PlanStep.VOTE),
            "plan.proposed",
            f"{len(valid)} of {len(session.proposals)} agents proposed a plan",
        )

    def _keep_draft(self, project_id: int, proposal: Proposal) -> None:
        """Store one agent's draft (valid or not) in place of any earlier one, in the brief's order."""
        session = self.session(project_id)
        drafts = {item.agent: item for item in session.proposals}
        drafts[proposal.agent] = proposal
        ordered = tuple(drafts[agent] for agent in session.brief.agents if agent in drafts)
        summary = (
            f"{proposal.agent} proposed a plan: {plural(proposal.task_count, 'task')}"
            if proposal.ok
            else f"{proposal.agent} gave no valid plan: {proposal.reason}"
        )
        self._save(replace(session, proposals=ordered), "plan.drafted", summary, {"agent": proposal.agent})

    async def _draft(self, project_id: int, agent: str, request: Any) -> None:
        self.bus.publish(
            EngineEvent(
                "plan.drafting",
                f"{agent} is drafting a plan",
                subject=f"project:{project_id}",
                project_id=project_id,
                data={"agent": agent},
            )
        )
        self._keep_draft(project_id, await self._drafted(project_id, agent, request))

    async def _drafted(self, project_id: int, agent: str, request: Any) -> Proposal:
        from orkestra_tui.engine.agents.prompts import repair_request

        def interpret(text: str) -> tuple[dict[str, Any] | None, str]:
            try:
                plan = parse_answer(text, PLAN_SCHEMA)
            except AnswerError as problem:
                return None, plan_refusal(text, str(problem))
            problem_text = check_plan(plan)
            return (None, problem_text) if problem_text else (plan, "")

        outcome = await self.pool.call(agent, request, project_id=project_id)
        if outcome.response is None:
            return Proposal(agent, None, f"{outcome.record.error_class}: {outcome.record.error}")
        plan, problem = interpret(outcome.response.text)
        if plan is None:
            keep_refused_answer(self.store, outcome, problem, request)
            retry = await self.pool.call(
                agent, repair_request(request, outcome.response.text, problem), project_id=project_id
            )
            if retry.response is None:
                return Proposal(agent, None, f"invalid plan ({problem}), then {retry.record.error_class}")
            plan, problem = interpret(retry.response.text)
            if plan is None:
                keep_refused_answer(self.store, retry, problem, request)
                return Proposal(agent, None, f"invalid plan twice ({problem})")
        return Proposal(agent, plan)

    def _expect(self, project_id: int, step: PlanStep) -> PlanSession:
        session = self.session(project_id)
        if session.step is not step:
            raise EngineError(f"the plan is at the {session.step.value} step, not {step.value}")
        return session

    async def vote(self, project_id: int, *, tie_break: str = "ask") -> PlanSession:
        """The committee votes on the anonymised plans; nobody votes for its own."""
        session = self.session(project_id)
        if session.step is not PlanStep.VOTE:
            raise EngineError(f"the plan is at the {session.step.value} step, not vote")
        valid = [proposal for proposal in session.proposals if proposal.ok]
        if session.decision_id is None:
            # Plan A is nobody's in particular: the letters follow a shuffle fixed per project and attempt.
            random.Random(f"plan:{project_id}:{len(session.feedback)}").shuffle(valid)
            labels = {proposal.agent: chr(ord("A") + index) for index, proposal in enumerate(valid)}
            options = {
                f"Plan {labels[proposal.agent]}: {proposal.plan['summary']}": proposal.agent  # type: ignore[index]
                for proposal in valid
            }
            if len(options) < 2:
                return self._choose(session, valid[0].agent, "only one valid plan")
            decision = self.decisions.open_decision(
                f"Which plan should {session.brief.name} follow?",
                list(options),
                method=session.brief.method,
                voters=[proposal.agent for proposal in valid],
                authors=options,
                rules={"round_feedback": True} if session.brief.involvement is Involvement.HANDS_ON else None,
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
        # No compromise step: a mediator's wording would be a plan nobody wrote. Hands-off, nobody
        # is asked to break a tie: the policy does (the first of the tied plans, unless told otherwise).
        decided = await self.decisions.decide(
            session.decision_id,  # type: ignore[arg-type]
            tie_break="first" if hands_off and tie_break == "ask" else tie_break,
            resolution=("human", "fallback"),
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
        from orkestra_tui.engine.agents.prompts import synthesis_request

        session = self._expect(project_id, PlanStep.SYNTHESIS)
        assert session.plan is not None
        chair = next(proposal.agent for proposal in session.proposals if proposal.plan == session.plan)
        others = [
            proposal.plan
            for proposal in session.proposals
            if proposal.plan is not None and proposal.plan != session.plan
        ]
        outcome = await self.pool.call(chair, synthesis_request(session.plan, others), project_id=project_id)
        refined: dict[str, Any] | None = None
        if outcome.response is not None:
            try:
                refined = parse_answer(outcome.response.text, PLAN_SCHEMA)
                problem = check_plan(refined)
            except AnswerError as refusal:
                refined, problem = None, str(refusal)
            if problem:
                keep_refused_answer(self.store, outcome, problem)
        if refined is None or check_plan(refined):
            return self._save(
                replace(session, step=PlanStep.REVIEW, changes=()),
                "plan.synthesis_skipped",
                f"{chair} gave no usable refinement; the chosen plan stands",
            )
        # Whatever the chair is, it adds no copy of a task the plan has, nor a task that starts too soon.
        refined, guarded = guard_refinement(session.plan, refined, others)
        changes = tuple(plan_changes(session.plan, refined) + guarded)
        return self._save(
            replace(
                session, step=PlanStep.REVIEW, plan=refined, changes=changes, proposals=session.proposals
            ),
            "plan.synthesized",
            f"{chair} refined the plan: {plural(len(changes), 'change')}",
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
        """Change a task's title, instructions, category, priority, dependencies or acceptance in review."""
        allowed = {"title", "instructions", "priority", "depends_on", "category", "acceptance", "contest"}
        unknown = set(fields) - allowed
        if unknown:
            raise EngineError(f"a task has no field {sorted(unknown)[0]!r}")
        if "contest" in fields:
            from orkestra_tui.engine.planning.plan_contests import contest_size

            fields["contest"] = contest_size(fields["contest"])
        if "priority" in fields and fields["priority"] not in PRIORITIES:
            raise EngineError(f"priority must be one of {', '.join(PRIORITIES)}")
        if "category" in fields and fields["category"] not in CATEGORIES:
            raise EngineError(f"category must be one of {', '.join(CATEGORIES)}")
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
        if "contest" in task:
            from orkestra_tui.engine.planning.plan_contests import contest_size

            task = {**task, "contest": contest_size(task["contest"])}
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

    def cancel(self, project_id: int) -> PlanSession:
        """Give up on this plan: the project is archived, with what was spent on record."""
        session = self.session(project_id)
        if session.step.finished:
            raise EngineError(f"the plan is already {session.step.value}")
        if session.decision_id is not None:
            decision = self.store.decision(session.decision_id)
            if decision is not None and decision.status.is_open:
                for item in self.inbox.open_items():
                    if item.payload.get("decision_id") == decision.id:
                        self.inbox.cancel(item.id, "the plan was cancelled", actor="human")
                self.decisions.close_decision(
                    decision.id, {"reason": "the plan was cancelled"}, status=DecisionStatus.CANCELLED
                )
        self.projects.set_project_status(project_id, ProjectStatus.ARCHIVED, actor="human")
        return self._save(
            replace(session, step=PlanStep.CANCELLED), "plan.cancelled", "The plan was cancelled"
        )

    def reject(self, project_id: int, feedback: str) -> PlanSession:
        """Back to the proposals, with feedback every agent will read."""
        session = self.session(project_id)
        if not feedback.strip():
            raise EngineError("say what should change: the agents read it before they plan again")
        if session.step.finished or session.step is PlanStep.PROPOSALS:
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
        if not real_tasks(session.plan):
            # Whatever the path here (hands-off, --yes, a plan stored before placeholders were refused).
            raise EngineError("the plan has no real task to approve; reject it with feedback, or add a task")
        tasks = [(phase["name"], task) for phase in session.plan["phases"] for task in phase["tasks"]]
        dropped, cycle = dependency_problems(session.plan)
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
        created = self.tasks.add_tasks(project_id, specs, actor="engine")
        if any(task.get("contest") for _phase, task in tasks):
            from orkestra_tui.engine.planning.plan_contests import set_plan_contests

            set_plan_contests(self.contests, created, {task["key"]: task for _phase, task in tasks})
        self.projects.set_project_status(project_id, ProjectStatus.ACTIVE)
        self._save(
            replace(session, step=PlanStep.DONE),
            "plan.approved",
            f"Plan approved: {plural(len(created), 'task')} in "
            f"{plural(len(session.plan['phases']), 'phase')}",
            {"dropped_dependencies": dropped},
        )
        return created
