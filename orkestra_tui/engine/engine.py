"""The Engine: one facade over the store, the bus, the agents and the inbox.

The same engine runs the TUI, the headless commands and the tests, in one
asyncio loop. A method is `async` only when it may wait on an agent or on the
human; reads and writes of the store are quick synchronous SQLite calls.
Every change is committed with its audit event (see `store.py`), and the bus
announces it afterwards.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.agents.call_log import record_call
from orkestra_tui.engine.agents.circuit import CircuitBreaker
from orkestra_tui.engine.agents.retry import RetryPolicy
from orkestra_tui.engine.clock import Clock, SystemClock
from orkestra_tui.engine.errors import EngineError, FieldProblem, RequestRejected
from orkestra_tui.engine.events import EventBus
from orkestra_tui.engine.execution.tasks import (
    block_dependents,
    control_task,
    insert_tasks,
    move_task,
    note_milestone,
    pin_task,
    release_dependents,
)
from orkestra_tui.engine.inbox import Inbox
from orkestra_tui.engine.models import (
    HUMAN_VOTER,
    AgentInfo,
    AuditEvent,
    Ballot,
    CallRecord,
    CallStart,
    Decision,
    DecisionStatus,
    InboxKind,
    Involvement,
    Project,
    ProjectStatus,
    RoundStatus,
    Task,
    TaskSpec,
    TaskStatus,
)
from orkestra_tui.engine.owners import lease_owner_name
from orkestra_tui.engine.planning.brief_rules import fold_name, name_problems
from orkestra_tui.engine.progress import ProjectProgress
from orkestra_tui.engine.reads import EngineReads
from orkestra_tui.engine.repository_face import RepositoryFace
from orkestra_tui.engine.store.store import Store
from orkestra_tui.engine.voting.decision_rules import decision_problems, fold_options
from orkestra_tui.engine.voting.decisions import add_feedback, close, insert_ballot, insert_decision
from orkestra_tui.providers.registry import AgentRuntime, build_agents

if TYPE_CHECKING:
    from orkestra_tui.engine.agents.calls import CallOutcome
    from orkestra_tui.engine.agents.health import AgentHealth
    from orkestra_tui.engine.agents.model_check import ModelCheck
    from orkestra_tui.engine.agents.raw_answers import RefusedAnswer
    from orkestra_tui.engine.execution.selection import Standing
    from orkestra_tui.engine.store.watch import ChangeWatch, ExternalChanges
    from orkestra_tui.providers.base import Provider, ProviderError, ProviderRequest

__all__ = ["Engine", "EngineError"]

APPROVED_OVER = "Approved over the review's concern:"
"""How an approved task's note begins when the reviewers had raised something: their text follows."""


PING_TOKENS = 64
"""The token limit of an agent test: room for "pong", or for a reasoning model's first thoughts."""


class Engine(EngineReads, RepositoryFace):
    """Orkestra's engine over one data directory; what screens and commands read is in `EngineReads`."""

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        *,
        demo: bool = False,
        clock: Clock | None = None,
        env: Mapping[str, str] | None = None,
        only_reads: bool = False,
        check_pages: bool = False,
    ) -> None:
        """`only_reads`: the caller writes nothing, so a data dir that cannot be written is opened
        read-only (see `Store`); the engine then records no agent and no call. `check_pages`: check
        every page of the database before anything is written to it."""
        self.paths = paths
        self.settings = settings
        self.demo = demo
        self.clock: Clock = clock or SystemClock()
        self.bus = EventBus()
        self.store = Store(paths.database, clock=self.clock, only_reads=only_reads)
        if check_pages:
            try:
                self.store.check_pages()
            except BaseException:
                self.store.close()
                raise
        self.store.listener = self.bus.publish_stored
        self.inbox = Inbox(self.store)
        environment = os.environ if env is None else env
        self.runtimes: dict[str, AgentRuntime] = {
            runtime.name: runtime
            for runtime in build_agents(
                settings, environment, demo=demo, workspace=str(paths.data_dir / "workspace")
            )
        }
        self.breakers = {
            name: CircuitBreaker(
                self.clock,
                failures_to_open=settings.engine.circuit_failures,
                cooldown_s=settings.engine.circuit_cooldown_s,
            )
            for name in self.runtimes
        }
        self.call_owner = lease_owner_name()
        """This process, as named on the calls it starts (so recovery can tell when it is gone)."""
        self.bad_keys: set[str] = set()
        """Agents whose key a provider refused (401) in this run."""
        self.retry = RetryPolicy(
            max_attempts=settings.engine.max_attempts, retry_after_cap_s=settings.engine.retry_after_cap_s
        )
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        """How the retry policy waits (tests record the delays instead)."""
        self._retry_rng = random.Random()
        self._change_watch: ChangeWatch | None = None
        self._register_agents()

    def close(self) -> None:
        if self._change_watch is not None:
            self._change_watch.close()
        self.store.close()

    async def aclose(self) -> None:
        """Close the providers' network clients, then the store."""
        for runtime in self.runtimes.values():
            await runtime.aclose()  # only providers already made: never builds one to close it
        self.close()

    # -------------------------------------------------------------- agents

    def _register_agents(self) -> None:
        """Record the roster in the store, auditing agents that are new or changed."""
        if self.store.read_only:
            return
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
                model=runtime.model or runtime.settings.model,
                enabled=runtime.settings.enabled and overrides.get(runtime.name, True),
                simulated=runtime.simulated,
                simulated_reason=runtime.simulated_reason,
                specialties=dict(runtime.settings.specialties),
                weight=runtime.settings.weight,
                concurrency=runtime.concurrency,
                key_variable=runtime.key_variable,
                base_url=runtime.base_url,
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

    def use_provider(self, agent_name: str, provider: Provider) -> None:
        """Serve an agent with the given provider from now on (tests use scripted fakes)."""
        runtime = self.runtimes.get(agent_name)
        if runtime is None:
            raise EngineError(f"there is no agent named {agent_name!r}")
        self.runtimes[agent_name] = replace(runtime, provider_override=provider)

    def enabled_agents(self) -> list[AgentRuntime]:
        enabled = {info.name for info in self.agents() if info.enabled}
        return [runtime for runtime in self.runtimes.values() if runtime.name in enabled]

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
        """Call one agent within its token limit, under the retry policy and its circuit breaker.

        The request's token limit is kept within the agent's `max_tokens`. An
        answer cut off at its limit is unusable: it is asked for again once with
        twice the room (within `max_tokens`), else the call fails with the
        reason ("the answer was cut off at 2048 tokens"). See `_call` for the rest.
        """
        from orkestra_tui.engine.agents.calls import more_room, within_limit

        runtime = self._runtime(agent_name)
        request = within_limit(runtime, request)
        work = {"project_id": project_id, "decision_id": decision_id, "task_id": task_id}
        outcome = await self._call(agent_name, request, **work, record=record, started_call=started_call)
        room = more_room(runtime, request, outcome)
        if room is None:
            self._keep_cut_off(outcome, request)
            return outcome
        try:
            again = await self._call(agent_name, replace(request, max_tokens=room), **work, record=record)
        except asyncio.CancelledError:
            self._cancelled(outcome.attempts, record, None, (project_id, decision_id, task_id))
            raise
        if again.error is not None and again.error.error_class == "bad_request":
            # The model takes no more room than it had: the cut-off is the reason to give.
            self._keep_cut_off(outcome, request)
            return replace(outcome, attempts=(*outcome.attempts, *again.attempts))
        self._keep_cut_off(again, request)
        return replace(again, attempts=(*outcome.attempts, *again.attempts))

    def _keep_cut_off(self, outcome: CallOutcome, request: ProviderRequest) -> None:
        """Keep the text of an answer that stayed cut off with its call, as a refused answer is kept."""
        from orkestra_tui.engine.agents.raw_answers import keep_refused_answer

        if outcome.unusable is not None and outcome.error is not None:
            keep_refused_answer(
                self.store, replace(outcome, response=outcome.unusable), str(outcome.error), request
            )

    async def _call(
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
        """Call one agent under the retry policy and its circuit breaker.

        Every attempt is recorded as started before its request goes out, then
        completed, tied to its work, with its audit event; with `record=False`
        the caller completes `outcome.attempts` in its own transaction.
        `started_call` is a row the caller already recorded as started (in a
        transaction of its own) for the first attempt. A call cancelled under
        way (a stop) is marked interrupted at once. A 401 marks the agent "bad
        key" at once, without a retry.
        """
        from orkestra_tui.engine.agents.calls import call_start, invoke, refused, was_cut_off

        runtime = self._runtime(agent_name)
        breaker = self.breakers[agent_name]
        attempts: list[CallRecord] = []
        attempt = 0
        while True:
            attempt += 1
            call_id = started_call if attempt == 1 else None
            refusal = self._refusal(agent_name, breaker)
            if refusal is not None:
                outcome = refused(runtime, request, refusal, self.clock.now(), call_id=call_id)
                if record and call_id is not None:
                    with self.store.transaction() as tx:
                        record_call(tx, outcome.record, project_id, decision_id=decision_id, task_id=task_id)
                # A refusal keeps the attempts made before it: they were paid for and must be stored.
                return replace(outcome, attempts=(*attempts, *outcome.attempts))

            now = self.clock.now()
            start = functools.partial(  # built only when written, or interrupted
                call_start,
                runtime,
                request,
                now=now,
                owner=self.call_owner,
                project_id=project_id,
                decision_id=decision_id,
                task_id=task_id,
            )

            if call_id is None and not self.store.read_only:  # a read-only store records no call
                call_id = self.store.start_call(start())
            began = self.clock.monotonic()
            try:
                outcome = await invoke(
                    runtime,
                    request,
                    clock=self.clock,
                    timeout_s=runtime.timeout_s,
                    started_at=now,
                )
            except asyncio.CancelledError:
                latency_ms = (self.clock.monotonic() - began) * 1000.0
                in_flight = (call_id, start(), latency_ms) if call_id is not None else None
                self._cancelled(attempts, record, in_flight, (project_id, decision_id, task_id))
                raise
            outcome = replace(outcome, record=replace(outcome.record, call_id=call_id))
            attempts.append(outcome.record)
            changed = breaker.record(outcome.ok or was_cut_off(outcome))  # a cut-off answer is an answer
            bad_key = outcome.error is not None and outcome.error.error_class == "auth"
            if bad_key:
                self.bad_keys.add(agent_name)
            if (record or changed or bad_key) and not self.store.read_only:
                with self.store.transaction() as tx:
                    if record:
                        record_call(tx, outcome.record, project_id, decision_id=decision_id, task_id=task_id)
                    if changed is not None:
                        tx.audit(
                            "engine",
                            f"agent.circuit_{changed.value.replace('-', '_')}",
                            f"{agent_name}'s circuit is {changed.value}",
                            subject=f"agent:{agent_name}",
                            data={"consecutive_failures": breaker.consecutive_failures},
                        )
                    if bad_key:
                        tx.audit(
                            "engine",
                            "agent.bad_key",
                            f"{agent_name}'s key was refused ({runtime.key_variable or 'no variable'})",
                            subject=f"agent:{agent_name}",
                        )
            assert outcome.error is not None or outcome.ok
            if outcome.ok or outcome.error is None or not self.retry.should_retry(outcome.error, attempt):
                return replace(outcome, attempts=tuple(attempts))
            try:
                await self.sleep(self.retry.delay_s(outcome.error, attempt, self._retry_rng))
            except asyncio.CancelledError:
                self._cancelled(attempts, record, None, (project_id, decision_id, task_id))
                raise

    def _refusal(self, agent_name: str, breaker: CircuitBreaker) -> ProviderError | None:
        """Why the agent is not called now (its key was refused, its circuit is open), or None."""
        from orkestra_tui.providers.base import ProviderError

        if agent_name in self.bad_keys:
            return ProviderError("auth", "the key was refused; fix it, then test the agent again")
        if not breaker.acquire():
            return ProviderError("circuit_open", "the agent's circuit is open after repeated failures")
        return None

    def _cancelled(
        self,
        attempts: Sequence[CallRecord],
        recorded: bool,
        in_flight: tuple[int, CallStart, float] | None,
        work: tuple[int | None, int | None, int | None],
    ) -> None:
        """A call was cancelled (a stop): record what its caller will never get, interrupt what was under way.

        Without `recorded`, the attempts made so far were the caller's to record;
        they are recorded here, tied to `work` (its project, decision and task).
        The attempt `in_flight` (its row, start and latency so far) is marked
        interrupted, at its estimated cost. If the
        store cannot take it now, the rows stay started and the next start's
        recovery marks them interrupted.
        """
        import sqlite3

        from orkestra_tui.engine.agents.call_log import interrupt_call

        project_id, decision_id, task_id = work
        unrecorded = [] if recorded else list(attempts)
        if not unrecorded and in_flight is None:
            return
        try:
            with self.store.transaction() as tx:
                for attempt_record in unrecorded:
                    record_call(tx, attempt_record, project_id, decision_id=decision_id, task_id=task_id)
                if in_flight is not None:
                    interrupt_call(tx, *in_flight)
        except sqlite3.Error:
            pass  # left started: recovery closes them at the next start

    def _runtime(self, agent_name: str) -> AgentRuntime:
        runtime = self.runtimes.get(agent_name)
        if runtime is None:
            raise EngineError(f"there is no agent named {agent_name!r}")
        return runtime

    def agent_health(self, agent_name: str) -> AgentHealth:
        """Latency, success, errors, tokens and cost of an agent's recent calls."""
        from orkestra_tui.engine.agents.health import summarise

        return summarise(agent_name, self.store.calls(agent_name, limit=500))

    def refused_answers(self, agent_name: str, limit: int = 3) -> list[RefusedAnswer]:
        """An agent's latest answers that could not be used, oldest first (see `raw_answers`)."""
        from orkestra_tui.engine.agents.raw_answers import refused_answers

        return refused_answers(self.store, agent_name, limit)

    def agent_status(self, agent: AgentInfo, health: AgentHealth) -> str:
        from orkestra_tui.engine.agents.health import agent_status

        return agent_status(
            enabled=agent.enabled,
            simulated=agent.simulated,
            bad_key=agent.name in self.bad_keys,
            circuit=self.breakers[agent.name].state.value,
            health=health,
        )

    async def test_agent(self, agent_name: str) -> CallOutcome:
        """A tiny live call, recorded like any other; a success clears a refused key.

        An answer cut off at the ping's small limit (a reasoning model spends it
        thinking) still shows the agent works: it counts as an answer here.
        """
        from orkestra_tui.engine.agents.calls import was_cut_off
        from orkestra_tui.providers.base import Message, ProviderRequest

        self.bad_keys.discard(agent_name)
        request = ProviderRequest(
            system="Reply with the single word: pong.",
            messages=(Message("user", "ping"),),
            max_tokens=PING_TOKENS,
            purpose="ping",
        )
        outcome = await self.call(agent_name, request)
        if was_cut_off(outcome) and outcome.unusable is not None:
            return replace(outcome, response=outcome.unusable, error=None)
        return outcome

    async def check_model(self, agent_name: str) -> ModelCheck:
        """Whether the agent's endpoint lists its configured model (a warning when not); no call recorded."""
        from orkestra_tui.engine.agents.model_check import check_model

        return await check_model(self._runtime(agent_name))

    def agent_available(self, agent_name: str) -> bool:
        """Enabled, its key not refused, and its circuit not open."""
        return (
            agent_name in {runtime.name for runtime in self.enabled_agents()}
            and agent_name not in self.bad_keys
            and self.breakers[agent_name].available
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
        clean_name = fold_name(name)
        problems = name_problems(name, taken=self.store.project_by_name(clean_name) is not None)
        if problems:
            raise RequestRejected(problems)
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

    def set_project_status(self, project_id: int, status: ProjectStatus, *, actor: str = "engine") -> None:
        project = self.store.project(project_id)
        if project is None:
            raise EngineError(f"there is no project {project_id}")
        with self.store.transaction() as tx:
            tx.execute("UPDATE project SET status = ? WHERE id = ?", (status.value, project_id))
            tx.audit(
                actor,
                f"project.{status.value}",
                f"Project {project.name!r} is {status.value}",
                subject=f"project:{project_id}",
                project_id=project_id,
            )

    def projects(self) -> list[Project]:
        return self.store.projects()

    def plans_under_way(self) -> list[int]:
        """The projects whose plan is neither approved nor cancelled yet, least recently touched first."""
        rows = self.store.query(
            "SELECT project_id FROM plan_session WHERE step NOT IN ('done', 'cancelled')"
            " ORDER BY updated_at, project_id"
        )
        return [int(project_id) for (project_id,) in rows]

    def project_named(self, name: str) -> Project:
        project = self.store.project_by_name(name)
        if project is None:
            names = ", ".join(repr(project.name) for project in self.store.projects()) or "none yet"
            raise EngineError(f"there is no project named {name!r} (projects: {names})")
        return project

    # --------------------------------------------------------------- tasks

    def add_tasks(self, project_id: int, specs: Sequence[TaskSpec], *, actor: str = "engine") -> list[Task]:
        """Create tasks in one transaction (see `tasks.insert_tasks` for the rules)."""
        if self.store.project(project_id) is None:
            raise EngineError(f"there is no project {project_id}")
        with self.store.transaction() as tx:
            ids = insert_tasks(tx, self.store, project_id, specs, actor=actor)
        return self.store.tasks_with_ids(ids.start, ids.stop - 1) if specs else []

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

    def project_progress(self, project_id: int) -> ProjectProgress:
        """A project's tasks done out of those not cancelled, and its counts per status."""
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
        with self.store.transaction() as tx:
            move_task(
                tx, self.store, self.task(task_id), status, actor=actor, note=note, assigned_to=assigned_to
            )
        return self.task(task_id)

    # ------------------------------------------------------- task controls

    def _control_task(
        self,
        task_id: int,
        status: TaskStatus,
        *,
        allowed: Sequence[TaskStatus],
        note: str,
        kind: str,
        why: str,
        unpin: bool = False,
        advice: str = "",
    ) -> Task:
        """Move a task for the human, answer its review request, and clear its lease; the task after."""
        task = self.task(task_id)
        if task.status not in allowed:
            raise EngineError(f"task {task_id} is {task.status.label}: it cannot be {why}")
        with self.store.transaction() as tx:
            if status is TaskStatus.READY and self.store.scalar(
                "SELECT count(*) FROM task_dependency d JOIN task o ON o.id = d.depends_on"
                " WHERE d.task_id = ? AND o.status != 'done'",
                (task_id,),
            ):
                status = TaskStatus.PENDING
            control_task(  # an attempt under way ends here; its scheduler finds its lease gone
                tx,
                task,
                status,
                note=note,
                outcome="cancelled" if status is TaskStatus.CANCELLED else "retry",
                error=note or f"{why} by the human",
                unpin=unpin,
            )
            tx.audit(
                "human",
                kind,
                f"Task {task.title!r} {why}"
                + (f": {note}" if note else "")
                + (f"; {advice}" if advice else ""),
                subject=f"task:{task_id}",
                project_id=task.project_id,
                data={"from": task.status.value, "to": status.value, "note": note}
                | ({"advice": advice} if advice else {})
                | ({"unpinned": task.pinned_agent} if unpin else {}),
            )
            for item in self.store.inbox():
                if item.kind is InboxKind.TASK_REVIEW and item.payload.get("task_id") == task_id:
                    self.inbox.answer_in(tx, item.id, {"status": status.value, "note": note})
            if status is TaskStatus.DONE:
                release_dependents(tx, self.store, task)
                note_milestone(tx, self.store, task)
            if status is TaskStatus.CANCELLED:
                block_dependents(tx, self.store, task, f"it depends on {task.title!r}, which was cancelled")
        return self.task(task_id)

    def approve_task(self, task_id: int) -> Task:
        """The human approves a task the reviewers sent to them: it is done.

        The reviewers' concern stays in the note, as what the approval went over.
        """
        concern = self.task(task_id).note.strip()
        status = self._approved_status(task_id)  # in a repository project, done once merged
        return self._control_task(
            task_id,
            status,
            allowed=(TaskStatus.AWAITING_HUMAN,),
            note=f"{APPROVED_OVER} {concern}" if concern else "",
            kind="task.approved",
            why="approved",
        )

    def reject_task(self, task_id: int, note: str) -> Task:
        """The human sends a task back to be redone, with a note the agent reads."""
        if not note.strip():
            raise EngineError("say what should change: the agent reads it before it tries again")
        return self._control_task(
            task_id,
            TaskStatus.READY,
            allowed=(TaskStatus.AWAITING_HUMAN, TaskStatus.REVIEW),
            note=f"You asked: {note.strip()}",
            kind="task.rejected",
            why="sent back",
        )

    def cancel_task(self, task_id: int) -> Task:
        return self._control_task(
            task_id,
            TaskStatus.CANCELLED,
            allowed=[
                status for status in TaskStatus if status not in (TaskStatus.DONE, TaskStatus.CANCELLED)
            ],
            note="",
            kind="task.cancelled",
            why="cancelled",
        )

    def retry_task(self, task_id: int) -> Task:
        """A failed or blocked task goes back to ready (or pending, if its dependencies are not done).

        When the agent it last went to (or is pinned to) cannot be called now, a
        pin to it is dropped, so the retry does not go straight back to a broken
        agent; `retry_advice` says so beforehand.
        """
        task = self.task(task_id)
        advice, other_agents = self._retry_advice(task)
        return self._control_task(
            task_id,
            TaskStatus.READY,
            allowed=(TaskStatus.FAILED, TaskStatus.BLOCKED),
            note="",
            kind="task.retried",
            why="retried",
            unpin=bool(advice and other_agents and task.pinned_agent),
            advice=advice,
        )

    def agent_standings(self, task_id: int) -> list[Standing]:
        """Every agent's score, load and availability for the task, as the scheduler's selection sees them."""
        from orkestra_tui.engine.execution.selection import standings

        return standings(self, self.task(task_id).category)

    def retry_advice(self, task_id: int) -> str:
        """What a retry of the task will do about an agent that cannot be called now ('' if nothing)."""
        return self._retry_advice(self.task(task_id))[0]

    def _retry_advice(self, task: Task) -> tuple[str, list[str]]:
        from orkestra_tui.engine.execution.selection import UNAVAILABLE_PHRASES, unavailable_reason

        last_agent = task.pinned_agent or task.assigned_to
        if last_agent not in self.runtimes or self.agent_available(last_agent):
            return "", []
        enabled = last_agent in {runtime.name for runtime in self.enabled_agents()}
        reason = unavailable_reason(self, last_agent, enabled=enabled)
        phrase = UNAVAILABLE_PHRASES.get(reason, "{name} is unavailable").format(name=last_agent)
        others = sorted(name for name in self.runtimes if name != last_agent and self.agent_available(name))
        if others:
            return f"{phrase}, so another agent takes it ({', '.join(others)} can)", others
        return f"{phrase}, so it waits until an agent can take it", []

    def reassign_task(self, task_id: int, agent: str | None) -> Task:
        """Pin a task to an agent (None: let the scheduler choose again); not while it runs."""
        task = self.task(task_id)
        if agent is not None and agent not in self.runtimes:
            raise EngineError(f"there is no agent named {agent!r} (agents: {', '.join(self.runtimes)})")
        if task.status in (TaskStatus.RUNNING, TaskStatus.REVIEW, TaskStatus.DONE, TaskStatus.CANCELLED):
            raise EngineError(f"task {task_id} is {task.status.label}: it cannot be reassigned now")
        with self.store.transaction() as tx:
            pin_task(tx, task, agent)
            tx.audit(
                "human",
                "task.reassigned",
                f"Task {task.title!r} " + (f"pinned to {agent}" if agent else "left to the scheduler"),
                subject=f"task:{task_id}",
                project_id=task.project_id,
                data={"agent": agent},
            )
        return self.task(task_id)

    def set_budget(self, project_id: int, budget: float | None) -> None:
        """The most a project may spend on calls, in dollars (None: no cap)."""
        project = self.store.project(project_id)
        if project is None:
            raise EngineError(f"there is no project {project_id}")
        if budget is not None and not budget >= 0:
            raise EngineError("a budget is an amount of 0 or more")
        with self.store.transaction() as tx:
            tx.execute("UPDATE project SET budget = ? WHERE id = ?", (budget, project_id))
            tx.audit(
                "human",
                "project.budget",
                f"Budget of {project.name!r}: " + ("none" if budget is None else f"${budget:.2f}"),
                subject=f"project:{project_id}",
                project_id=project_id,
                data={"budget": budget},
            )

    def set_workspace(self, project_id: int, folder: str | None) -> None:
        """The folder the agents' files are written to (None: results stay artifacts only)."""
        project = self.store.project(project_id)
        if project is None:
            raise EngineError(f"there is no project {project_id}")
        path = str(Path(folder).expanduser().resolve()) if folder else None
        if path is not None and not Path(path).is_dir():
            raise EngineError(f"the workspace {path} is not a folder")
        with self.store.transaction() as tx:
            tx.execute("UPDATE project SET workspace = ? WHERE id = ?", (path, project_id))
            tx.audit(
                "human",
                "project.workspace",
                f"Workspace of {project.name!r}: {path or 'none'}",
                subject=f"project:{project_id}",
                project_id=project_id,
                data={"workspace": path},
            )

    def answer_budget(self, item_id: int, budget: float | None) -> None:
        """Answer a budget request: a higher budget resumes the project; None leaves it paused."""
        from orkestra_tui.engine.models import InboxStatus

        item = self.store.inbox_item(item_id)
        if item is None or item.kind is not InboxKind.BUDGET:
            raise EngineError(f"there is no budget request {item_id}")
        if item.status is not InboxStatus.OPEN:
            raise EngineError(f"the budget request {item_id} is already {item.status.value}")
        project_id = int(item.payload["project_id"])
        if budget is not None:
            self.set_budget(project_id, budget)
        self.inbox.answer(item_id, {"budget": budget})
        if budget is not None:
            self.set_project_status(project_id, ProjectStatus.ACTIVE, actor="human")

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
        return decision_problems(
            question,
            options,
            method=method or self.settings.engine.default_method,
            rules=rules or {},
            voters=list(voters) if voters is not None else [agent.name for agent in self.enabled_agents()],
            max_rounds=max_rounds,
            agent_names=list(self.runtimes),
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
        """Put a question to the committee; `decide` then runs the vote.

        `voters` are agent names, with HUMAN_VOTER when the human votes too
        (default: every enabled agent). `authors` maps an option to the agent
        who proposed it, which then may not vote for it.
        """
        chosen_method = method or self.settings.engine.default_method
        voter_names = list(voters) if voters is not None else [agent.name for agent in self.enabled_agents()]
        # The quorum in force when the question is put is stored with it, so the decision keeps it.
        chosen_rules = {"quorum": self.settings.engine.quorum, **(rules or {})}
        problems = self.decision_problems(
            question,
            options,
            method=chosen_method,
            rules=chosen_rules,
            voters=voter_names,
            max_rounds=max_rounds,
        )
        if problems:
            raise RequestRejected(problems)
        cleaned = fold_options(options)
        with self.store.transaction() as tx:
            decision_id = insert_decision(
                tx,
                question=question,
                options=cleaned,
                method=chosen_method,
                rules=chosen_rules,
                voters=voter_names,
                max_rounds=max_rounds or self.settings.engine.max_rounds,
                category=category,
                project_id=project_id,
                actor=actor,
                authors={" ".join(option.split()): agent for option, agent in (authors or {}).items()},
            )
        decision = self.store.decision(decision_id)
        assert decision is not None
        return decision

    async def decide(
        self,
        decision_id: int,
        *,
        tie_break: str = "ask",
        resolution: Sequence[str] | None = None,
    ) -> Decision:
        """Run (or resume) the committee's vote on a decision until it ends.

        `tie_break` is a TieBreakPolicy value (ask, first, random, fail);
        `resolution` the deadlock chain (default: compromise, human, fallback).
        """
        from orkestra_tui.engine.voting.committee import RESOLUTION_STEPS, Committee, TieBreakPolicy

        try:
            policy = TieBreakPolicy(tie_break)
        except ValueError:
            raise EngineError(
                f"unknown tie-break policy {tie_break!r}; use ask, first, random or fail"
            ) from None
        steps = RESOLUTION_STEPS if resolution is None else resolution
        return await Committee(self, tie_break=policy, resolution=steps).run(decision_id)

    def decisions_under_way(self) -> list[Decision]:
        """Decisions a vote was running on, for resuming after a restart.

        A plan's vote is left out: the planning workflow resumes its own.
        """
        planned = {
            row[0]
            for row in self.store.query("SELECT decision_id FROM plan_session WHERE decision_id IS NOT NULL")
        }
        return [
            decision
            for decision in self.store.decisions()
            if decision.status.is_open and decision.current_round and decision.id not in planned
        ]

    def cast_human_ballot(self, decision_id: int, ranking: Sequence[str], *, reasoning: str = "") -> Ballot:
        """The human's ballot for the round under way; casting again changes it."""
        decision = self._open_decision(decision_id)
        if HUMAN_VOTER not in decision.voters:
            raise EngineError("the human is not a voter on this decision")
        rounds = self.store.rounds(decision_id)
        if not rounds or rounds[-1].status is not RoundStatus.OPEN:
            raise EngineError("no round is under way on this decision")
        current = rounds[-1]
        unknown = [option for option in ranking if option not in current.options]
        if unknown or len(set(ranking)) != len(ranking):
            raise EngineError("a ranking must name each of the round's options at most once")
        excluded = tuple(option for option in current.options if decision.authors.get(option) == HUMAN_VOTER)
        ballot = Ballot(
            decision_id,
            current.round,
            HUMAN_VOTER,
            tuple(ranking),
            1.0,
            reasoning,
            "",
            self.clock.now(),
            excluded,
        )
        self.record_ballot(ballot, project_id=decision.project_id)
        for item in self.inbox.open_items():
            if item.kind is InboxKind.BALLOT and item.payload.get("decision_id") == decision_id:
                self.inbox.answer(item.id, {"ranking": list(ranking)})
        return ballot

    def add_feedback(self, decision_id: int, text: str) -> int:
        """Feedback for the committee, shown to the agents from the next round on; returns that round."""
        decision = self._open_decision(decision_id)
        clean = text.strip()
        if not clean:
            raise EngineError("feedback cannot be empty")
        round_number = decision.current_round + 1
        with self.store.transaction() as tx:
            add_feedback(tx, decision, round_number, clean)
        return round_number

    def answer_tie_break(self, item_id: int, choice: str) -> None:
        """Break a tie the committee asked the human about."""
        item = self.store.inbox_item(item_id)
        if item is None or item.kind is not InboxKind.TIE_BREAK:
            raise EngineError(f"there is no tie-break request {item_id}")
        tied = [entry["option"] for entry in item.payload.get("tied", [])]
        if choice not in tied:
            raise EngineError(f"{choice!r} is not one of the tied options")
        self.inbox.answer(item_id, {"choice": choice})

    def answer_round_feedback(self, item_id: int, text: str) -> None:
        """Answer the committee's request for feedback between rounds; empty text skips.

        The text is stored as feedback for the round asked about in the same
        transaction that answers the request, so a crash keeps both or neither.
        """
        from orkestra_tui.engine.models import InboxStatus

        item = self.store.inbox_item(item_id)
        if item is None or item.kind is not InboxKind.ROUND_FEEDBACK:
            raise EngineError(f"there is no request for round feedback {item_id}")
        if item.status is not InboxStatus.OPEN:
            raise EngineError(f"the request for round feedback {item_id} is already {item.status.value}")
        clean = text.strip()
        decision = self._open_decision(int(item.payload["decision_id"])) if clean else None
        with self.store.transaction() as tx:
            if decision is not None:
                add_feedback(tx, decision, int(item.payload["round"]), clean)
            self.inbox.answer_in(tx, item_id, {"text": clean})
        self.inbox.wake(item_id, {"text": clean})

    def _open_decision(self, decision_id: int) -> Decision:
        decision = self.store.decision(decision_id)
        if decision is None:
            raise EngineError(f"there is no decision {decision_id}")
        if not decision.status.is_open:
            raise EngineError(f"decision {decision_id} is already {decision.status.value.replace('_', ' ')}")
        return decision

    def record_ballot(self, ballot: Ballot, *, project_id: int | None = None) -> None:
        """Store one ballot as it arrives (a retried round replaces the voter's earlier one)."""
        with self.store.transaction() as tx:
            insert_ballot(tx, ballot, project_id=project_id)

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
            close(tx, decision, outcome, status=status, actor=actor)
        closed = self.store.decision(decision_id)
        assert closed is not None
        return closed

    def decisions(self) -> list[Decision]:
        return self.store.decisions()

    # --------------------------------------------------------------- audit

    def audit_events(self, limit: int = 100, **filters: Any) -> list[AuditEvent]:
        return self.store.audit_events(limit, **filters)

    def external_changes(self) -> ExternalChanges | None:
        """What other processes committed since the last call (the first call starts watching)."""
        from orkestra_tui.engine.store.watch import ChangeWatch

        if self._change_watch is None:
            self._change_watch = ChangeWatch(self.store, self.bus)
            return None
        return self._change_watch.changes()
