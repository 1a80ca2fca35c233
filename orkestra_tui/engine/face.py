"""The change side of the Engine's public face: each method hands the request to the part that owns it.

Screens, commands and tests ask the Engine (`engine.open_decision(...)`,
`engine.cancel_task(...)`); the work is done by the parts the Engine built: the
agent pool (`agents/pool.py`), the decision desk (`voting/desk.py`), the project
desk (`planning/projects.py`) and the task desk (`execution/controls.py`). Each
method here is one line that passes the request on, with nothing decided here.
A task control reads the task through `self.task` first, so the desk checks the
task as the caller saw it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orkestra_tui.engine.models import Involvement
from orkestra_tui.engine.store.store import Store

if TYPE_CHECKING:
    from orkestra_tui.engine.agents.calls import CallOutcome
    from orkestra_tui.engine.agents.circuit import CircuitBreaker
    from orkestra_tui.engine.agents.health import AgentHealth
    from orkestra_tui.engine.agents.model_check import ModelCheck
    from orkestra_tui.engine.agents.pool import AgentPool
    from orkestra_tui.engine.agents.raw_answers import RefusedAnswer
    from orkestra_tui.engine.agents.retry import RetryPolicy
    from orkestra_tui.engine.errors import FieldProblem
    from orkestra_tui.engine.execution.contest.desk import ContestDesk
    from orkestra_tui.engine.execution.contest.marks import ContestMark
    from orkestra_tui.engine.execution.contest.view import ContestEstimate, ContestView
    from orkestra_tui.engine.execution.controls import TaskDesk
    from orkestra_tui.engine.execution.selection import Standing
    from orkestra_tui.engine.models import (
        AgentInfo,
        AuditEvent,
        Ballot,
        Decision,
        DecisionStatus,
        Project,
        ProjectStatus,
        Task,
        TaskSpec,
        TaskStatus,
    )
    from orkestra_tui.engine.planning.projects import ProjectDesk
    from orkestra_tui.engine.progress import ProjectProgress
    from orkestra_tui.engine.voting.desk import DecisionDesk
    from orkestra_tui.providers.base import Provider, ProviderRequest
    from orkestra_tui.providers.registry import AgentRuntime


class EngineFace:
    """What screens and commands change through the Engine, passed on to its parts."""

    store: Store
    pool: AgentPool
    decision_desk: DecisionDesk
    project_desk: ProjectDesk
    task_desk: TaskDesk
    contest_desk: ContestDesk

    # -------------------------------------------------------------- agents

    @property
    def runtimes(self) -> dict[str, AgentRuntime]:
        return self.pool.runtimes

    @property
    def breakers(self) -> dict[str, CircuitBreaker]:
        return self.pool.breakers

    @property
    def bad_keys(self) -> set[str]:
        """Agents whose key a provider refused (401) in this run."""
        return self.pool.bad_keys

    @property
    def call_owner(self) -> str:
        """This process, as named on the calls it starts."""
        return self.pool.call_owner

    @property
    def retry(self) -> RetryPolicy:
        return self.pool.retry

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        """How the retry policy waits (tests record the delays instead)."""
        return self.pool.sleep

    @sleep.setter
    def sleep(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        self.pool.sleep = sleep

    def agents(self) -> list[AgentInfo]:
        return self.pool.agents()

    def set_agent_enabled(self, name: str, enabled: bool, *, actor: str = "human") -> None:
        self.pool.set_agent_enabled(name, enabled, actor=actor)

    def use_provider(self, agent_name: str, provider: Provider) -> None:
        """Serve an agent with the given provider from now on (tests use scripted fakes)."""
        self.pool.use_provider(agent_name, provider)

    def enabled_agents(self) -> list[AgentRuntime]:
        return self.pool.enabled_agents()

    async def call(
        self,
        agent_name: str,
        request: ProviderRequest,
        *,
        project_id: int | None = None,
        decision_id: int | None = None,
        task_id: int | None = None,
        record: bool = True,
        started_call: int | None = None,
    ) -> CallOutcome:
        """Call one agent within its token limit, under the retry policy and its circuit breaker."""
        return await self.pool.call(
            agent_name,
            request,
            project_id=project_id,
            decision_id=decision_id,
            task_id=task_id,
            record=record,
            started_call=started_call,
        )

    def agent_health(self, agent_name: str) -> AgentHealth:
        """Latency, success, errors, tokens and cost of an agent's recent calls."""
        return self.pool.agent_health(agent_name)

    def refused_answers(self, agent_name: str, limit: int = 3) -> list[RefusedAnswer]:
        """An agent's latest answers that could not be used, oldest first (see `raw_answers`)."""
        return self.pool.refused_answers(agent_name, limit)

    def agent_status(self, agent: AgentInfo, health: AgentHealth) -> str:
        return self.pool.agent_status(agent, health)

    async def test_agent(self, agent_name: str) -> CallOutcome:
        """A tiny live call, recorded like any other; a success clears a refused key."""
        return await self.pool.test_agent(agent_name)

    async def check_model(self, agent_name: str) -> ModelCheck:
        """Whether the agent's endpoint lists its configured model (a warning when not); no call recorded."""
        return await self.pool.check_model(agent_name)

    def agent_available(self, agent_name: str) -> bool:
        """Enabled, its key not refused, and its circuit not open."""
        return self.pool.agent_available(agent_name)

    # ------------------------------------------------------------ projects

    def create_project(
        self,
        name: str,
        brief: str = "",
        *,
        involvement: Involvement = Involvement.CHECKPOINTS,
        actor: str = "human",
    ) -> Project:
        return self.project_desk.create_project(name, brief, involvement=involvement, actor=actor)

    def set_project_status(self, project_id: int, status: ProjectStatus, *, actor: str = "engine") -> None:
        self.project_desk.set_project_status(project_id, status, actor=actor)

    def projects(self) -> list[Project]:
        return self.project_desk.projects()

    def plans_under_way(self) -> list[int]:
        """The projects whose plan is neither approved nor cancelled yet, least recently touched first."""
        return self.project_desk.plans_under_way()

    def project_named(self, name: str) -> Project:
        return self.project_desk.project_named(name)

    def set_budget(self, project_id: int, budget: float | None) -> None:
        """The most a project may spend on calls, in dollars (None: no cap)."""
        self.project_desk.set_budget(project_id, budget)

    def set_workspace(self, project_id: int, folder: str | None) -> None:
        """The folder the agents' files are written to (None: results stay artifacts only)."""
        self.project_desk.set_workspace(project_id, folder)

    def answer_budget(self, item_id: int, budget: float | None) -> None:
        """Answer a budget request: a higher budget resumes the project; None leaves it paused."""
        self.project_desk.answer_budget(item_id, budget)

    # --------------------------------------------------------------- tasks

    def add_tasks(self, project_id: int, specs: Sequence[TaskSpec], *, actor: str = "engine") -> list[Task]:
        """Create tasks in one transaction (see `tasks.insert_tasks` for the rules)."""
        return self.task_desk.add_tasks(project_id, specs, actor=actor)

    def add_task(
        self,
        project_id: int,
        title: str,
        instructions: str,
        *,
        category: str = "code",
        priority: str = "normal",
        depends_on: Sequence[int] = (),
        actor: str = "human",
    ) -> Task:
        """One task added to a project's Board, checked as a task the plan review adds (see `TaskDesk`)."""
        return self.task_desk.add_task(
            project_id,
            title,
            instructions,
            category=category,
            priority=priority,
            depends_on=depends_on,
            actor=actor,
        )

    def tasks(
        self, project_id: int | None = None, statuses: Iterable[TaskStatus] | None = None
    ) -> list[Task]:
        return self.store.tasks(project_id, statuses)

    def task(self, task_id: int) -> Task:
        return self.task_desk.task(task_id)

    def task_counts(self, project_id: int | None = None) -> dict[TaskStatus, int]:
        return self.store.task_counts(project_id)

    def contest_marks(self, project_id: int) -> dict[int, ContestMark]:
        """The project's contest tasks at a glance (agents, state, winner), by task id, in one read."""
        from orkestra_tui.engine.execution.contest.marks import contest_marks

        return contest_marks(self.store, project_id)

    def project_progress(self, project_id: int) -> ProjectProgress:
        """A project's tasks done out of those not cancelled, and its counts per status."""
        from orkestra_tui.engine.progress import ProjectProgress

        return ProjectProgress(self.store.task_counts(project_id))

    def set_task_status(
        self,
        task_id: int,
        status: TaskStatus,
        *,
        actor: str = "human",
        note: str = "",
        assigned_to: str | None = None,
    ) -> Task:
        task = self.task(task_id)
        return self.task_desk.set_task_status(task, status, actor=actor, note=note, assigned_to=assigned_to)

    def approve_task(self, task_id: int) -> Task:
        """The human approves a task the reviewers sent to them: it is done."""
        return self.task_desk.approve_task(self.task(task_id))

    def reject_task(self, task_id: int, note: str) -> Task:
        """The human sends a task back to be redone, with a note the agent reads."""
        return self.task_desk.reject_task(self.task(task_id), note)

    def cancel_task(self, task_id: int) -> Task:
        return self.task_desk.cancel_task(self.task(task_id))

    def retry_task(self, task_id: int) -> Task:
        """A failed or blocked task goes back to ready (or pending, if its dependencies are not done)."""
        return self.task_desk.retry_task(self.task(task_id))

    def agent_standings(self, task_id: int) -> list[Standing]:
        """Every agent's score, load and availability for the task, as the scheduler's selection sees them."""
        return self.task_desk.agent_standings(self.task(task_id))

    def retry_advice(self, task_id: int) -> str:
        """What a retry of the task will do about an agent that cannot be called now ('' if nothing)."""
        return self.task_desk.retry_advice(self.task(task_id))

    def reassign_task(self, task_id: int, agent: str | None) -> Task:
        """Pin a task to an agent (None: let the scheduler choose again); not while it runs."""
        return self.task_desk.reassign_task(self.task(task_id), agent)

    # ------------------------------------------------------------ contests

    def set_task_contest(
        self, task_id: int, agents: int | None, *, actor: str = "human"
    ) -> ContestView | None:
        """Run a task as a contest of AGENTS agents (None: with one); only before it starts."""
        return self.contest_desk.set_task_contest(task_id, agents, actor=actor)

    def contest(self, task_id: int) -> ContestView | None:
        """A task's contest, its entries and its winner; None when the task is no contest."""
        return self.contest_desk.contest(task_id)

    def contest_problem(self, agents: int) -> str | None:
        """Why a contest of AGENTS cannot be asked for now (one line); None when it can."""
        return self.contest_desk.contest_problem(agents)

    def contests_in_progress(self, project_id: int | None = None) -> list[ContestView]:
        return self.contest_desk.contests_in_progress(project_id)

    async def contest_entry_diff(self, task_id: int, letter: str) -> str:
        """An entry's diff, whole (its Markdown result in a project without a repository)."""
        return await self.contest_desk.contest_entry_diff(task_id, letter)

    def contest_estimate(self, task_id: int, agents: int) -> ContestEstimate:
        """What a contest of AGENTS would cost: a run per entry, and one round of the committee's ballots."""
        return self.contest_desk.contest_estimate(task_id, agents)

    # ----------------------------------------------------------- decisions

    def decision_problems(
        self,
        question: str,
        options: Sequence[str],
        *,
        method: str | None = None,
        rules: Mapping[str, Any] | None = None,
        voters: Sequence[str] | None = None,
        max_rounds: int | None = None,
    ) -> list[FieldProblem]:
        """Every problem `open_decision` would refuse these with, each with its field; none if it opens."""
        return self.decision_desk.decision_problems(
            question, options, method=method, rules=rules, voters=voters, max_rounds=max_rounds
        )

    def open_decision(
        self,
        question: str,
        options: Sequence[str],
        *,
        method: str | None = None,
        rules: Mapping[str, Any] | None = None,
        voters: Sequence[str] | None = None,
        max_rounds: int | None = None,
        category: str = "",
        project_id: int | None = None,
        authors: Mapping[str, str] | None = None,
        actor: str = "human",
    ) -> Decision:
        """Put a question to the committee; `decide` then runs the vote."""
        return self.decision_desk.open_decision(
            question,
            options,
            method=method,
            rules=rules,
            voters=voters,
            max_rounds=max_rounds,
            category=category,
            project_id=project_id,
            authors=authors,
            actor=actor,
        )

    async def decide(
        self, decision_id: int, *, tie_break: str = "ask", resolution: Sequence[str] | None = None
    ) -> Decision:
        """Run (or resume) the committee's vote on a decision until it ends."""
        return await self.decision_desk.decide(decision_id, tie_break=tie_break, resolution=resolution)

    def decisions_under_way(self) -> list[Decision]:
        """Decisions a vote was running on, for resuming after a restart (a plan's vote left out)."""
        return self.decision_desk.decisions_under_way()

    def vote_runner(self, decision_id: int) -> str | None:
        """The other live process running the decision's vote, if one is (then this one leaves it be)."""
        return self.decision_desk.vote_runner(decision_id)

    def cast_human_ballot(self, decision_id: int, ranking: Sequence[str], *, reasoning: str = "") -> Ballot:
        """The human's ballot for the round under way; casting again changes it."""
        return self.decision_desk.cast_human_ballot(decision_id, ranking, reasoning=reasoning)

    def add_feedback(self, decision_id: int, text: str) -> int:
        """Feedback for the committee, shown to the agents from the next round on; returns that round."""
        return self.decision_desk.add_feedback(decision_id, text)

    def answer_tie_break(self, item_id: int, choice: str) -> None:
        """Break a tie the committee asked the human about."""
        self.decision_desk.answer_tie_break(item_id, choice)

    def answer_round_feedback(self, item_id: int, text: str) -> None:
        """Answer the committee's request for feedback between rounds; empty text skips."""
        self.decision_desk.answer_round_feedback(item_id, text)

    def record_ballot(self, ballot: Ballot, *, project_id: int | None = None) -> None:
        """Store one ballot as it arrives (a retried round replaces the voter's earlier one)."""
        self.decision_desk.record_ballot(ballot, project_id=project_id)

    def close_decision(
        self, decision_id: int, outcome: Mapping[str, Any], *, status: DecisionStatus, actor: str = "engine"
    ) -> Decision:
        return self.decision_desk.close_decision(decision_id, outcome, status=status, actor=actor)

    def decisions(self) -> list[Decision]:
        return self.store.decisions()

    def decision_option_details(self, decision_id: int) -> dict[str, str]:
        """What each option of a decision holds beyond its name (a contest entry's diff), by option."""
        from orkestra_tui.engine.voting.decisions import option_details

        return option_details(self.store, decision_id)

    # --------------------------------------------------------------- audit

    def audit_events(self, limit: int = 100, **filters: Any) -> list[AuditEvent]:
        return self.store.audit_events(limit, **filters)
