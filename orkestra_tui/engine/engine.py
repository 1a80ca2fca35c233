"""The Engine: one facade over the store, the bus, the agents and the inbox.

The same engine runs the TUI, the headless commands and the tests, in one
asyncio loop. A method is `async` only when it may wait on an agent or on the
human; reads and writes of the store are quick synchronous SQLite calls.
Every change is committed with its audit event (see `store.py`), and the bus
announces it afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import Clock, SystemClock
from orkestra_tui.engine.events import EventBus
from orkestra_tui.engine.inbox import Inbox
from orkestra_tui.engine.models import (
    TASK_TRANSITIONS,
    AgentInfo,
    AuditEvent,
    Ballot,
    CallRecord,
    Decision,
    DecisionStatus,
    Involvement,
    Project,
    ProjectStatus,
    Task,
    TaskSpec,
    TaskStatus,
)
from orkestra_tui.engine.store import Store, Transaction, dumps
from orkestra_tui.errors import OrkestraError
from orkestra_tui.providers.registry import AgentRuntime, build_agents

if TYPE_CHECKING:
    from orkestra_tui.engine.calls import CallOutcome
    from orkestra_tui.providers.base import ProviderRequest

PROJECT_NAME_LIMIT = 80


class EngineError(OrkestraError):
    """A request the engine cannot carry out as asked."""


class Engine:
    """Orkestra's engine over one data directory."""

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        *,
        demo: bool = False,
        clock: Clock | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.demo = demo
        self.clock: Clock = clock or SystemClock()
        self.bus = EventBus()
        self.store = Store(paths.database, clock=self.clock)
        self.store.listener = self.bus.publish_stored
        self.inbox = Inbox(self.store)
        environment = os.environ if env is None else env
        self.runtimes: dict[str, AgentRuntime] = {
            runtime.name: runtime for runtime in build_agents(settings, environment, demo=demo)
        }
        self._register_agents()

    def close(self) -> None:
        self.store.close()

    # -------------------------------------------------------------- agents

    def _register_agents(self) -> None:
        """Record the roster in the store, auditing agents that are new or changed."""
        known = {
            name: (provider, model)
            for name, provider, model in self.store.query("SELECT name, provider, model FROM agent")
        }
        changes = [
            runtime.settings
            for runtime in self.runtimes.values()
            if known.get(runtime.name) != (runtime.settings.provider, runtime.settings.model)
        ]
        if not changes:
            return
        with self.store.transaction() as tx:
            for agent in changes:
                tx.execute(
                    "INSERT INTO agent (name, provider, model, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET provider = excluded.provider,"
                    " model = excluded.model, updated_at = excluded.updated_at",
                    (agent.name, agent.provider, agent.model, tx.clock.now()),
                )
                verb = "joined the committee" if agent.name not in known else "changed model"
                tx.audit(
                    "engine",
                    "agent.registered" if agent.name not in known else "agent.changed",
                    f"{agent.name} {verb} ({agent.provider} {agent.model})",
                    subject=f"agent:{agent.name}",
                    data={"provider": agent.provider, "model": agent.model},
                )

    def agents(self) -> list[AgentInfo]:
        overrides = self.store.agent_overrides()
        return [
            AgentInfo(
                name=runtime.name,
                provider=runtime.settings.provider,
                model=runtime.settings.model,
                enabled=runtime.settings.enabled and overrides.get(runtime.name, True),
                simulated=runtime.simulated,
                simulated_reason=runtime.simulated_reason,
                specialties=dict(runtime.settings.specialties),
                weight=runtime.settings.weight,
                concurrency=runtime.settings.concurrency,
            )
            for runtime in self.runtimes.values()
        ]

    def set_agent_enabled(self, name: str, enabled: bool, *, actor: str = "human") -> None:
        if name not in self.runtimes:
            raise EngineError(f"there is no agent named {name!r}")
        with self.store.transaction() as tx:
            tx.execute(
                "UPDATE agent SET enabled = ?, updated_at = ? WHERE name = ?",
                (int(enabled), tx.clock.now(), name),
            )
            tx.audit(
                actor,
                "agent.enabled" if enabled else "agent.disabled",
                f"{name} {'enabled' if enabled else 'disabled'}",
                subject=f"agent:{name}",
            )

    def enabled_agents(self) -> list[AgentRuntime]:
        enabled = {info.name for info in self.agents() if info.enabled}
        return [runtime for runtime in self.runtimes.values() if runtime.name in enabled]

    async def call(self, agent_name: str, request: ProviderRequest) -> CallOutcome:
        """Call one agent and store the call record with its audit event."""
        outcome = await self._invoke(agent_name, request)
        with self.store.transaction() as tx:
            self._record_call(tx, outcome.record)
        return outcome

    async def _invoke(self, agent_name: str, request: ProviderRequest) -> CallOutcome:
        from orkestra_tui.engine.calls import invoke

        runtime = self.runtimes.get(agent_name)
        if runtime is None:
            raise EngineError(f"there is no agent named {agent_name!r}")
        return await invoke(
            runtime, request, clock=self.clock, timeout_s=self.settings.engine.agent_timeout_s
        )

    @staticmethod
    def _record_call(tx: Transaction, record: CallRecord, project_id: int | None = None) -> None:
        tx.execute(
            "INSERT INTO call (agent, model, purpose, started_at, latency_ms, tokens_in, tokens_out,"
            " cost, error_class, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.agent,
                record.model,
                record.purpose,
                record.started_at,
                record.latency_ms,
                record.tokens_in,
                record.tokens_out,
                record.cost,
                record.error_class,
                record.error,
            ),
        )
        outcome = f"failed ({record.error_class})" if record.error_class else "answered"
        tx.audit(
            record.agent,
            "call.failed" if record.error_class else "call.ok",
            f"{record.agent} {outcome} a {record.purpose or 'request'} in {record.latency_ms:.0f} ms",
            subject=f"agent:{record.agent}",
            project_id=project_id,
            data={
                "model": record.model,
                "tokens_in": record.tokens_in,
                "tokens_out": record.tokens_out,
                "cost": record.cost,
                "error": record.error,
            },
        )

    # ------------------------------------------------------------ projects

    def create_project(
        self,
        name: str,
        brief: str = "",
        *,
        involvement: Involvement = Involvement.CHECKPOINTS,
        actor: str = "human",
    ) -> Project:
        clean_name = " ".join(name.split())
        if not clean_name:
            raise EngineError("a project needs a name")
        if len(clean_name) > PROJECT_NAME_LIMIT:
            raise EngineError(f"a project name is at most {PROJECT_NAME_LIMIT} characters")
        if self.store.project_by_name(clean_name) is not None:
            raise EngineError(f"a project named {clean_name!r} already exists")
        with self.store.transaction() as tx:
            cursor = tx.execute(
                "INSERT INTO project (name, brief, involvement, status, created_at) VALUES (?, ?, ?, ?, ?)",
                (clean_name, brief, int(involvement), ProjectStatus.PLANNING.value, tx.clock.now()),
            )
            project_id = int(cursor.lastrowid or 0)
            tx.audit(
                actor,
                "project.created",
                f"Project {clean_name!r} created",
                subject=f"project:{project_id}",
                project_id=project_id,
                data={"involvement": int(involvement), "brief_chars": len(brief)},
            )
        project = self.store.project(project_id)
        assert project is not None
        return project

    def projects(self) -> list[Project]:
        return self.store.projects()

    def project_named(self, name: str) -> Project:
        project = self.store.project_by_name(name)
        if project is None:
            names = ", ".join(repr(project.name) for project in self.store.projects()) or "none yet"
            raise EngineError(f"there is no project named {name!r} (projects: {names})")
        return project

    # --------------------------------------------------------------- tasks

    def add_tasks(self, project_id: int, specs: Sequence[TaskSpec], *, actor: str = "engine") -> list[Task]:
        """Create tasks in one transaction; `depends_on` keys refer to tasks in this batch.

        A task with no dependencies is ready at once; the others wait as pending.
        A dependency on a key not in the batch is dropped and recorded; a cycle
        is refused.
        """
        if self.store.project(project_id) is None:
            raise EngineError(f"there is no project {project_id}")
        keys = [spec.key or f"task-{index + 1}" for index, spec in enumerate(specs)]
        if len(set(keys)) != len(keys):
            raise EngineError("two tasks in one batch share a key")
        known = set(keys)
        dependencies = {
            key: tuple(dict.fromkeys(dep for dep in spec.depends_on if dep in known and dep != key))
            for key, spec in zip(keys, specs, strict=True)
        }
        _check_acyclic(dependencies)
        now = self.clock.now()
        with self.store.transaction() as tx:
            first_id = int(self.store.scalar("SELECT coalesce(max(id), 0) FROM task")) + 1
            ids = {key: first_id + offset for offset, key in enumerate(keys)}
            rows = []
            for key, spec in zip(keys, specs, strict=True):
                status = TaskStatus.PENDING if dependencies[key] else TaskStatus.READY
                rows.append(
                    (
                        ids[key],
                        project_id,
                        key,
                        spec.phase,
                        spec.title,
                        spec.instructions,
                        spec.category,
                        int(spec.priority),
                        status.value,
                        now,
                        now,
                    )
                )
            tx.executemany(
                "INSERT INTO task (id, project_id, key, phase, title, instructions, category,"
                " priority, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            tx.executemany(
                "INSERT INTO task_dependency (task_id, depends_on) VALUES (?, ?)",
                [(ids[key], ids[dep]) for key in keys for dep in dependencies[key]],
            )
            for key, spec in zip(keys, specs, strict=True):
                dropped = [dep for dep in spec.depends_on if dep not in known]
                data: dict[str, Any] = {
                    "key": key,
                    "phase": spec.phase,
                    "priority": spec.priority.label,
                }
                if dropped:
                    data["dropped_dependencies"] = dropped
                tx.audit(
                    actor,
                    "task.created",
                    f"Task {spec.title!r} created",
                    subject=f"task:{ids[key]}",
                    project_id=project_id,
                    data=data,
                )
        return self.store.tasks_with_ids(first_id, first_id + len(specs) - 1) if specs else []

    def tasks(
        self, project_id: int | None = None, statuses: Iterable[TaskStatus] | None = None
    ) -> list[Task]:
        return self.store.tasks(project_id, statuses)

    def task(self, task_id: int) -> Task:
        task = self.store.task(task_id)
        if task is None:
            raise EngineError(f"there is no task {task_id}")
        return task

    def task_counts(self, project_id: int | None = None) -> dict[TaskStatus, int]:
        return self.store.task_counts(project_id)

    def set_task_status(
        self,
        task_id: int,
        status: TaskStatus,
        *,
        actor: str = "human",
        note: str = "",
        assigned_to: str | None = None,
    ) -> Task:
        with self.store.transaction() as tx:
            self._move_task(tx, self.task(task_id), status, actor=actor, note=note, assigned_to=assigned_to)
        return self.task(task_id)

    def _move_task(
        self,
        tx: Transaction,
        task: Task,
        status: TaskStatus,
        *,
        actor: str,
        note: str = "",
        result: str | None = None,
        assigned_to: str | None = None,
    ) -> None:
        if status not in TASK_TRANSITIONS[task.status]:
            raise EngineError(f"task {task.id} cannot go from {task.status.label} to {status.label}")
        now = tx.clock.now()
        tx.execute(
            "UPDATE task SET status = ?, updated_at = ?, result = coalesce(?, result),"
            " assigned_to = coalesce(?, assigned_to),"
            " attempts = attempts + ? WHERE id = ?",
            (status.value, now, result, assigned_to, int(status is TaskStatus.RUNNING), task.id),
        )
        summary = f"Task {task.title!r} is {status.label}"
        if note:
            summary += f": {note}"
        tx.audit(
            actor,
            f"task.{status.value}",
            summary,
            subject=f"task:{task.id}",
            project_id=task.project_id,
            data={"from": task.status.value, "to": status.value, "note": note},
        )
        if status is TaskStatus.DONE:
            self._release_dependents(tx, task)

    def _release_dependents(self, tx: Transaction, task: Task) -> None:
        """Pending tasks whose last unfinished dependency was `task` become ready."""
        rows = self.store.query(
            "SELECT t.id, t.title FROM task_dependency d JOIN task t ON t.id = d.task_id"
            " WHERE d.depends_on = ? AND t.status = 'pending' AND NOT EXISTS ("
            "  SELECT 1 FROM task_dependency d2 JOIN task o ON o.id = d2.depends_on"
            "  WHERE d2.task_id = t.id AND o.status != 'done')",
            (task.id,),
        )
        now = tx.clock.now()
        for dependent_id, title in rows:
            tx.execute("UPDATE task SET status = 'ready', updated_at = ? WHERE id = ?", (now, dependent_id))
            tx.audit(
                "engine",
                "task.ready",
                f"Task {title!r} is ready: its dependencies are done",
                subject=f"task:{dependent_id}",
                project_id=task.project_id,
                data={"from": "pending", "to": "ready"},
            )

    async def perform_task(self, task_id: int, agent_name: str) -> Task:
        """Have one agent carry out one ready task and store its result.

        The full scheduler (leases, review, retries) builds on this; here the
        task runs once and ends done or failed.
        """
        from orkestra_tui.providers.base import Message, ProviderRequest

        task = self.task(task_id)
        with self.store.transaction() as tx:
            self._move_task(tx, task, TaskStatus.RUNNING, actor=agent_name, assigned_to=agent_name)
        project = self.store.project(task.project_id)
        request = ProviderRequest(
            system="You are a member of a committee of agents carrying out a software project.",
            messages=(Message("user", f"Task: {task.title}\n\n{task.instructions}"),),
            purpose="task",
            context={
                "title": task.title,
                "instructions": task.instructions,
                "project": project.name if project else "",
            },
        )
        outcome = await self._invoke(agent_name, request)
        running = self.task(task_id)
        with self.store.transaction() as tx:
            self._record_call(tx, outcome.record, task.project_id)
            if outcome.response is not None and outcome.response.text.strip():
                self._move_task(tx, running, TaskStatus.DONE, actor=agent_name, result=outcome.response.text)
            else:
                reason = str(outcome.error) if outcome.error else "the agent returned nothing"
                self._move_task(tx, running, TaskStatus.FAILED, actor=agent_name, note=reason)
        return self.task(task_id)

    # ----------------------------------------------------------- decisions

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
        actor: str = "human",
    ) -> Decision:
        from orkestra_tui.engine.methods import METHODS

        chosen_method = method or self.settings.engine.default_method
        if chosen_method not in METHODS:
            raise EngineError(f"unknown method {chosen_method!r}; choose one of {', '.join(METHODS)}")
        clean_options = [" ".join(option.split()) for option in options]
        if not question.strip():
            raise EngineError("a decision needs a question")
        if len(clean_options) < 2 or any(not option for option in clean_options):
            raise EngineError("a decision needs at least two non-empty options")
        if len(set(clean_options)) != len(clean_options):
            raise EngineError("two options are the same")
        voter_names = list(voters) if voters is not None else [agent.name for agent in self.enabled_agents()]
        with self.store.transaction() as tx:
            cursor = tx.execute(
                "INSERT INTO decision (project_id, question, options, method, rules, voters, max_rounds,"
                " category, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    project_id,
                    question.strip(),
                    dumps(clean_options),
                    chosen_method,
                    dumps(dict(rules or {})),
                    dumps(voter_names),
                    max_rounds or self.settings.engine.max_rounds,
                    category,
                    DecisionStatus.OPEN.value,
                    tx.clock.now(),
                ),
            )
            decision_id = int(cursor.lastrowid or 0)
            tx.audit(
                actor,
                "decision.opened",
                f"Question put to the committee: {question.strip()}",
                subject=f"decision:{decision_id}",
                project_id=project_id,
                data={"options": clean_options, "method": chosen_method, "voters": voter_names},
            )
        decision = self.store.decision(decision_id)
        assert decision is not None
        return decision

    def record_ballot(self, ballot: Ballot, *, project_id: int | None = None) -> None:
        """Store one ballot as it arrives (a retried round replaces the voter's earlier one)."""
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO ballot (decision_id, round, voter, ranking, confidence,"
                " reasoning, abstain_reason, cast_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ballot.decision_id,
                    ballot.round,
                    ballot.voter,
                    dumps(list(ballot.ranking)),
                    ballot.confidence,
                    ballot.reasoning,
                    ballot.abstain_reason,
                    ballot.cast_at,
                ),
            )
            tx.execute(
                "UPDATE decision SET status = ?, current_round = max(current_round, ?) WHERE id = ?",
                (DecisionStatus.VOTING.value, ballot.round, ballot.decision_id),
            )
            what = "abstained" if ballot.is_abstention else f"ranked {' > '.join(ballot.ranking)}"
            tx.audit(
                ballot.voter,
                "ballot.cast",
                f"{ballot.voter} {what} in round {ballot.round}",
                subject=f"decision:{ballot.decision_id}",
                project_id=project_id,
                data={
                    "round": ballot.round,
                    "ranking": list(ballot.ranking),
                    "confidence": ballot.confidence,
                    "abstain_reason": ballot.abstain_reason,
                },
            )

    def close_decision(
        self,
        decision_id: int,
        outcome: Mapping[str, Any],
        *,
        status: DecisionStatus,
        actor: str = "engine",
    ) -> Decision:
        decision = self.store.decision(decision_id)
        if decision is None:
            raise EngineError(f"there is no decision {decision_id}")
        with self.store.transaction() as tx:
            tx.execute(
                "UPDATE decision SET status = ?, outcome = ?, decided_at = ? WHERE id = ?",
                (status.value, dumps(dict(outcome)), tx.clock.now(), decision_id),
            )
            tx.audit(
                actor,
                f"decision.{status.value}",
                str(outcome.get("reason") or f"Decision {decision_id} is {status.value}"),
                subject=f"decision:{decision_id}",
                project_id=decision.project_id,
                data={"winner": outcome.get("winner"), "consensus": outcome.get("consensus")},
            )
        closed = self.store.decision(decision_id)
        assert closed is not None
        return closed

    def decisions(self) -> list[Decision]:
        return self.store.decisions()

    # --------------------------------------------------------------- audit

    def audit_events(self, limit: int = 100, **filters: Any) -> list[AuditEvent]:
        return self.store.audit_events(limit, **filters)


def _check_acyclic(dependencies: Mapping[str, tuple[str, ...]]) -> None:
    """Refuse a dependency cycle, naming it."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in dependencies:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            key, index = stack.pop()
            if index == 0:
                state[key] = 1
                path.append(key)
            children = dependencies.get(key, ())
            if index < len(children):
                stack.append((key, index + 1))
                child = children[index]
                if state.get(child) == 1:
                    cycle = [*path[path.index(child) :], child]
                    raise EngineError(f"tasks depend on each other in a cycle: {' -> '.join(cycle)}")
                if not state.get(child):
                    stack.append((child, 0))
            else:
                state[key] = 2
                path.pop()
