"""Carrying out the plan: ready tasks leased, assigned, run in parallel, reviewed and retried.

One scheduler runs in each process that works (the app, or `orkestra run`);
several may share a data directory. They agree through the database alone:

- **Claim.** In one write transaction, the next ready task (by priority, then
  age) is checked, given the best available agent (`selection`), and leased:
  `lease_owner` names this process, `lease_expires_at` says until when. SQLite
  lets one writer in at a time, so two processes never lease the same task.
  The ready tasks are read a page at a time, those pinned to an agent that
  cannot take one now left out by the query, so a task that can go is found
  wherever it is in the queue. The task's call is recorded as started in the
  same transaction, before its request goes out (`call_log`). A task a stopped
  run left in review (its result stored, no lease) is claimed first: only its
  review is left to do, and the agent is not called again.
- **Pre-checks** run in that same transaction, before any call is paid for:
  dependencies done, agent available, lease held, budget left, workspace
  writable, disk space, instructions present, no dependency cycle. A failed
  check blocks the task with its reason (budget: the project pauses and the
  human is asked through the inbox; agent gone: the task waits for another).
- **Renewal.** While the work runs, the leases are extended; a process that
  dies stops renewing, and its tasks are released when their leases expire
  (at once, if its pid is gone from this machine): the stale-lock cleanup.
- **Work.** The agent gets the task, the brief and its dependencies' results,
  trimmed to fit. The result is stored as a Markdown artifact; file blocks go
  to the project's workspace, only inside it (`workspace`).
- **Review.** Agents of other providers judge the result (`review`); the
  policy there says done, done with a warning, retry with the comments, or
  awaiting the human.
- **Finish.** One transaction records the outcome, only if the lease is still
  held (so a task is completed exactly once), releases the lease, frees the
  dependents, and records the post-checks.
- **Stop.** Work under way is cancelled: a task whose agent was still working
  goes back to ready (its attempt interrupted, its call recorded as
  interrupted); a task in review keeps its result and stays in review, its
  lease released, for the next run to review.

Provider failures are retried with backoff by `AgentPool.call`, up to
`max_attempts`. What still fails for a passing reason (rate limits, overload,
timeouts, an open circuit) does not fail the task: it goes back to ready, to
another capable agent if one is available, else to wait for the circuit's
probe; it fails only after `TEMPORARY_FAILURES_LIMIT` such rounds. A final
error (a refused key, a bad request, an unreadable answer) fails it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from orkestra_tui.engine import telemetry
from orkestra_tui.engine.agents.call_log import record_call
from orkestra_tui.engine.agents.prompts import task_request
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.events import EngineEvent
from orkestra_tui.engine.execution.checks import (
    disk_check,
    post_checks,
    require_free_space,
    result_problem,
    workspace_check,
)
from orkestra_tui.engine.execution.claims import Claim
from orkestra_tui.engine.execution.contest.run import ContestRun
from orkestra_tui.engine.execution.leases import release_stale
from orkestra_tui.engine.execution.repo_steps import RepoSteps
from orkestra_tui.engine.execution.tasks import (
    END_ATTEMPT_SQL,
    REVIEW_ROW_SQL,
    block_task,
    claim_review,
    claim_task,
    finish_task,
    give_back,
    keep_in_review,
    note_milestone,
    release_dependents,
    store_result,
)
from orkestra_tui.engine.models import CallRecord, InboxKind, ProjectStatus, Task, TaskStatus
from orkestra_tui.engine.owners import lease_owner_name
from orkestra_tui.engine.planning.graph import find_cycle
from orkestra_tui.engine.planning.projects import write_status
from orkestra_tui.engine.store.rows import TASK_COLUMNS
from orkestra_tui.engine.store.store import Transaction
from orkestra_tui.errors import DiskFullError, OrkestraError, is_disk_full
from orkestra_tui.wording import plural

if TYPE_CHECKING:
    from orkestra_tui.config import Paths, Settings
    from orkestra_tui.engine.agents.calls import CallOutcome
    from orkestra_tui.engine.agents.pool import AgentPool
    from orkestra_tui.engine.clock import Clock
    from orkestra_tui.engine.events import EventBus
    from orkestra_tui.engine.execution.selection import Candidate, Choice
    from orkestra_tui.engine.inbox import Inbox
    from orkestra_tui.engine.models import CallStart
    from orkestra_tui.engine.store.store import Store
    from orkestra_tui.providers.base import ProviderError, ProviderRequest

CANDIDATES_TTL_S = 1.0
"""How long the agents' health, read for choosing, is reused."""

CLAIM_PAGE = 32
"""How many ready tasks a claim reads at a time."""

TEMPORARY_FAILURES_LIMIT = 10
"""Attempts at a task after which a passing failure (a rate limit, an open circuit) fails it."""

PROBE_WAIT_MIN_S = 0.05
"""The shortest such wait."""

PROBE_WAIT_MAX_S = 30.0
"""The longest a run waits, idle, for an agent's circuit to let a probe through before looking again."""


@dataclass
class RunSummary:
    """What a run did, and what it left."""

    done: int = 0
    failed: int = 0
    blocked: int = 0
    awaiting_human: int = 0
    retried: int = 0
    released: int = 0
    deferred: int = 0
    """Tasks given back to ready after a passing failure (to another agent, or to wait for a probe)."""
    stopped: str = ""
    """Why the run ended: nothing left to do, no active project, paused, stopped, budget, or no
    agent can take the ready tasks."""
    counts: dict[str, int] = field(default_factory=dict)
    """Tasks per status at the end, over the projects run."""


class SchedulerParts(Protocol):
    """The parts a scheduler runs on (the Engine has them all, and is passed as them)."""

    @property
    def store(self) -> Store: ...
    @property
    def bus(self) -> EventBus: ...
    @property
    def inbox(self) -> Inbox: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def paths(self) -> Paths: ...
    @property
    def pool(self) -> AgentPool: ...


class Scheduler:
    """Runs the ready tasks of active projects until there is nothing left it can do.

    It keeps only the parts it uses (`SchedulerParts`), never what hands them over.
    """

    def __init__(
        self,
        parts: SchedulerParts,
        *,
        owner: str | None = None,
        max_concurrent: int | None = None,
        lease_s: float | None = None,
        reviewers: int | None = None,
    ) -> None:
        settings = parts.settings.engine
        self.store = parts.store
        self.bus = parts.bus
        self.inbox = parts.inbox
        self.clock = parts.clock
        self.settings = parts.settings
        self.paths = parts.paths
        self.pool = parts.pool
        self.owner = owner or lease_owner_name()
        self.max_concurrent = max_concurrent or settings.max_concurrent_tasks
        if self.max_concurrent < 1:
            raise EngineError("at least one task must be able to run")
        self.lease_s = lease_s or settings.lease_s
        self.reviewers = settings.reviewers if reviewers is None else reviewers
        self._min_free_bytes = settings.min_free_mb * 1024 * 1024
        self.paused = False
        self._stopping = False
        self._wake = asyncio.Event()
        self._assigned: Counter[str] = Counter()
        self._candidates: tuple[float, list[Candidate]] | None = None
        self._cycles: dict[int, set[int]] = {}
        self._unrecorded: dict[int, tuple[CallRecord, ...]] = {}
        self._avoid: dict[int, set[str]] = {}
        """Agents that just failed a task for a passing reason: another takes it next, if one can."""
        self._probe_wait_s: float | None = None
        """When idle for want of an agent whose circuit is open: how long until one may be probed."""
        """Call attempts made for a task, until the transaction that stores them has committed."""
        self._started: dict[int, list[tuple[int, CallStart]]] = {}
        """The calls this process recorded as started for a task (its own, its reviews), until it
        finishes: a stop closes those that got no answer as interrupted."""
        self._paused_for_budget = False
        self.repo = RepoSteps(self)
        """The steps of a task in a project linked to a git repository."""
        self.contest_agents: int | None = None
        """`orkestra run --contest N`: every task this run starts is a contest of N (unless set on it)."""
        self.contest_tie_break = "ask"
        """Who breaks a tie in a contest's vote (a TieBreakPolicy value); `ask` parks the task."""
        self.contests = ContestRun(self)
        """The steps of a task run as a contest of several agents."""
        self.blocked = 0
        """Tasks the pre-checks blocked, since this scheduler was made."""

    # ------------------------------------------------------------ controls

    def pause(self) -> None:
        """Start no new task; the ones running finish."""
        self.paused = True
        self._wake.set()

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    def stop(self) -> None:
        """End the run: running work is interrupted and its tasks go back to ready (or, their agent
        finished, stay in review with their result)."""
        self._stopping = True
        self._wake.set()

    def poke(self) -> None:
        """Something changed (a task retried, a budget raised): look for work again."""
        self._wake.set()

    # -------------------------------------------------------------- leases

    def release_stale(self) -> int:
        """Release leases that expired, or whose owner on this machine has died; how many."""
        return release_stale(self.store, self.owner, self.clock.now())

    def _renew(self, task_ids: Iterable[int]) -> None:
        ids = list(task_ids)
        if ids:
            self.store.renew_leases(ids, self.owner, self.clock.now() + self.lease_s)

    # --------------------------------------------------------------- claim

    def _active_projects(self, project_id: int | None) -> list[int]:
        if project_id is not None:
            project = self.store.project(project_id)
            if project is None:
                raise EngineError(f"there is no project {project_id}")
            return [project_id] if project.status is ProjectStatus.ACTIVE else []
        return [project.id for project in self.store.projects() if project.status is ProjectStatus.ACTIVE]

    def _agents(self, running: dict[str, int] | None = None) -> list[Candidate]:
        """The agents as candidates; with `running`, its counts put in.

        Their health and whether they are enabled are read at most a second ago,
        but their key and circuit now: a circuit that opened a moment ago must
        not be handed a task.
        """
        from dataclasses import replace

        from orkestra_tui.engine.execution.selection import candidates, unavailable_reason

        now = time.monotonic()
        if self._candidates is None or now - self._candidates[0] > CANDIDATES_TTL_S:
            self._candidates = (now, candidates(self.pool, {}))
        agents = []
        for cached in self._candidates[1]:
            enabled = cached.unavailable_reason != "disabled"  # a human's toggle: a second's delay is fine
            reason = unavailable_reason(self.pool, cached.name, enabled=enabled)
            agent = cached
            if reason != cached.unavailable_reason:
                agent = replace(agent, available=not reason, unavailable_reason=reason)
            if running is not None and agent.name in running:
                agent = replace(agent, running=running[agent.name])
            agents.append(agent)
        return agents

    def _available(self) -> set[str]:
        """The agents that can be called now (as of the last read, at most a second ago)."""
        return {candidate.name for candidate in self._agents() if candidate.available}

    def _cycle_members(self, project_id: int) -> set[int]:
        if project_id not in self._cycles:
            edges: dict[str, list[str]] = {}
            for task_id, depends_on in self.store.query(
                "SELECT d.task_id, d.depends_on FROM task_dependency d JOIN task t ON t.id = d.task_id"
                " WHERE t.project_id = ?",
                (project_id,),
            ):
                edges.setdefault(str(task_id), []).append(str(depends_on))
            cycle = find_cycle({key: tuple(value) for key, value in edges.items()})
            self._cycles[project_id] = {int(key) for key in cycle} if cycle else set()
        return self._cycles[project_id]

    def claim(self, projects: Sequence[int]) -> Claim | None:
        """Lease the next task this process can work on now, or None; blocked ones are set aside.

        A task left in review by a stopped run comes first; then the ready tasks by priority and
        age, a page at a time, without those pinned to an agent that cannot take one now.
        """
        if not projects:
            return None
        require_free_space(self.paths.data_dir, self._min_free_bytes)
        marks = ", ".join("?" * len(projects))
        with self.store.transaction() as tx:
            resumed = self._claim_review(tx, projects, marks)
            if resumed is not None:
                return resumed
            running = dict(
                self.store.query(
                    "SELECT assigned_to, count(*) FROM task WHERE status IN ('running', 'review')"
                    " AND lease_owner IS NOT NULL GROUP BY assigned_to"
                )
            )
            agents = self._agents(running)
            takers = [agent.name for agent in agents if agent.available and agent.has_room]
            if not takers:
                return None  # every agent is busy or unavailable: no ready task can go now
            takers_marks = ", ".join("?" * len(takers))
            after: list[Any] = []
            while True:
                rows = self.store.query(
                    f"SELECT {TASK_COLUMNS} FROM task WHERE status = 'ready' AND project_id IN ({marks})"
                    f" AND (pinned_agent IS NULL OR pinned_agent IN ({takers_marks}))"
                    + (" AND (priority, created_at, id) > (?, ?, ?)" if after else "")
                    + f" ORDER BY priority, created_at, id LIMIT {CLAIM_PAGE}",
                    [*projects, *takers, *after],
                )
                for row in rows:
                    task = self._task_from(row)
                    choice = self._choose(task, agents)
                    if choice is None:
                        continue  # nobody can take this one now: try the next
                    problem = self._pre_checks(tx, task, choice.agent)
                    if problem == "budget":
                        self._paused_for_budget = True
                        return None
                    if problem:
                        if problem != "agent":
                            self.blocked += 1
                        continue
                    return self._lease(tx, task, choice)
                if len(rows) < CLAIM_PAGE:
                    return None
                last = rows[-1]
                after = [last[7], last[14], last[0]]  # priority, created_at, id: the next page starts after

    def _lease(self, tx: Transaction, task: Task, choice: Choice) -> Claim:
        """Lease `task` to `choice.agent` in the claim's transaction, and record its call as started."""
        from orkestra_tui.engine.agents.call_log import start_call
        from orkestra_tui.engine.agents.calls import call_start

        now = tx.clock.now()
        attempt = task.attempts + 1
        claim_task(
            tx,
            task.id,
            owner=self.owner,
            expires_at=now + self.lease_s,
            agent=choice.agent,
            rationale=choice.rationale,
            attempt=attempt,
            now=now,
        )
        tx.audit(
            "engine",
            "task.running",
            f"Task {task.title!r} went to {choice.agent}",
            subject=f"task:{task.id}",
            project_id=task.project_id,
            data={
                "from": "ready",
                "to": "running",
                "agent": choice.agent,
                "attempt": attempt,
                "rationale": choice.rationale,
                "runners_up": [list(item) for item in choice.runners_up],
            },
        )
        project = self.store.project(task.project_id)
        assert project is not None
        request = self._request(task, project.brief, bool(project.workspace))
        self._assigned[choice.agent] += 1
        if self.contests.settle(tx, task):  # each entry's call is recorded as started when it goes out
            return Claim(task, choice.agent, attempt, request, contest=True)
        call = call_start(
            self.pool.runtimes[choice.agent],
            request,
            now=now,
            owner=self.pool.call_owner,
            project_id=task.project_id,
            task_id=task.id,
        )
        call_id = start_call(tx, call)
        self._started[task.id] = [(call_id, call)]
        return Claim(task, choice.agent, attempt, request, call_id)

    def _claim_review(self, tx: Transaction, projects: Sequence[int], marks: str) -> Claim | None:
        """Lease a task a stopped run left in review (its result stored), to review it; None if none."""
        rows = self.store.query(
            f"SELECT {TASK_COLUMNS} FROM task WHERE status = 'review' AND lease_owner IS NULL"
            f" AND project_id IN ({marks}) ORDER BY priority, created_at, id LIMIT 1",
            list(projects),
        )
        if not rows:
            return None
        task = self._task_from(rows[0])
        project = self.store.project(task.project_id)
        assert project is not None
        problem = self._budget_check(project.id, project.budget, task.assigned_to or "", calls=self.reviewers)
        if problem != "ok":
            self._pause_for_budget(tx, project.id, project.name, project.budget or 0.0, problem)
            self._paused_for_budget = True
            return None
        now = tx.clock.now()
        claim_review(tx, task.id, owner=self.owner, expires_at=now + self.lease_s, now=now)
        tx.audit(
            "engine",
            "task.review_resumed",
            f"The review of {task.title!r}, by {task.assigned_to}, resumes; its result was kept",
            subject=f"task:{task.id}",
            project_id=task.project_id,
            data={"agent": task.assigned_to, "attempt": task.attempts},
        )
        return Claim(task, task.assigned_to or "", task.attempts)

    def _choose(self, task: Task, agents: list[Candidate]) -> Choice | None:
        """The agent for a task: not one that just failed it for a passing reason, unless none else can."""
        from orkestra_tui.engine.execution.selection import choose

        options: dict[str, Any] = {
            "strategy": self.settings.engine.routing,
            "pinned": task.pinned_agent,
            "assigned_so_far": self._assigned,
        }
        avoid = self._avoid.get(task.id, set())
        choice = choose(task.category, agents, exclude=avoid, **options) if avoid else None
        return choice or choose(task.category, agents, **options)

    def _task_from(self, row: tuple[Any, ...]) -> Task:
        from orkestra_tui.engine.store.rows import task as task_from_row

        depends_on = tuple(
            dep
            for (dep,) in self.store.query(
                "SELECT depends_on FROM task_dependency WHERE task_id = ?", (row[0],)
            )
        )
        return task_from_row(row, depends_on)

    def _pre_checks(self, tx: Transaction, task: Task, agent: str) -> str:
        """Run the checks before a task's call; record them; '' when all pass, else what failed.

        A failure blocks the task, except for the budget (the project pauses)
        and an agent gone meanwhile (the task waits for another).
        """
        project = self.store.project(task.project_id)
        assert project is not None
        unfinished = self.store.scalar(
            "SELECT count(*) FROM task_dependency d JOIN task o ON o.id = d.depends_on"
            " WHERE d.task_id = ? AND o.status != 'done'",
            (task.id,),
        )
        checks: dict[str, str] = {
            "dependencies": "ok" if not unfinished else f"{unfinished} not done",
            "agent": "ok" if agent in self._available() else f"{agent} is not available",
            "lease": "ok",  # taken in this very transaction, which holds the database's write lock
            "budget": self._budget_check(
                project.id, project.budget, agent, calls=self.contests.calls_before(task)
            ),
            "workspace": workspace_check(project.workspace),
            "disk": disk_check(self.paths.data_dir, self._min_free_bytes),
            "instructions": "ok" if task.instructions.strip() else "the task has no instructions",
            "cycle": "ok"
            if task.id not in self._cycle_members(task.project_id)
            else "it is in a dependency cycle",
        }
        repository = self.repo.repository_check(project.id)  # only for a project linked to one
        if repository is not None:
            checks["repository"] = repository
        failed = {name: outcome for name, outcome in checks.items() if outcome != "ok"}
        tx.audit(
            "engine",
            "task.checked",
            f"Checks before {task.title!r}: " + ("all passed" if not failed else "; ".join(failed.values())),
            subject=f"task:{task.id}",
            project_id=task.project_id,
            data={"checks": checks, "stage": "before"},
        )
        if not failed:
            return ""
        if "budget" in failed:
            self._pause_for_budget(tx, project.id, project.name, project.budget or 0.0, failed["budget"])
            return "budget"
        if "agent" in failed and len(failed) == 1:
            return "agent"
        reason = "; ".join(failed.values())
        block_task(tx, task.id, reason, TaskStatus.READY.value, now=tx.clock.now())
        tx.audit(
            "engine",
            "task.blocked",
            f"Task {task.title!r} is blocked: {reason}",
            subject=f"task:{task.id}",
            project_id=task.project_id,
            data={"from": "ready", "to": "blocked", "note": reason},
        )
        return reason

    def spent(self, project_id: int) -> float:
        return sum(self.store.project_costs(project_id).values())

    def _budget_check(
        self, project_id: int, budget: float | None, agent: str, *, calls: int | None = None
    ) -> str:
        """'ok', or why the next `calls` (by default the task's and its reviews) would pass the budget."""
        if budget is None:
            return "ok"
        from orkestra_tui.engine.agents.calls import cost_of

        runtime = self.pool.runtimes.get(agent) or next(iter(self.pool.runtimes.values()), None)
        count = 1 + self.reviewers if calls is None else calls
        estimate = cost_of(runtime, 4_000, 1_500) * count if runtime else 0.0
        spent = self.spent(project_id)
        if spent + estimate > budget:
            return (
                f"the next calls (about ${estimate:.4f}) would pass the budget:"
                f" ${spent:.4f} of ${budget:.2f} spent"
            )
        return "ok"

    def _pause_for_budget(self, tx: Transaction, project_id: int, name: str, budget: float, why: str) -> None:
        write_status(tx, project_id, ProjectStatus.PAUSED)
        tx.audit(
            "engine",
            "project.paused",
            f"Project {name!r} paused: {why}",
            subject=f"project:{project_id}",
            project_id=project_id,
            data={"reason": "budget", "budget": budget},
        )
        asked = any(
            item.kind is InboxKind.BUDGET and item.project_id == project_id for item in self.store.inbox()
        )
        if not asked:
            self.inbox.ask_in(
                tx,
                InboxKind.BUDGET,
                f"Project {name!r} reached its budget: raise it, or leave the project paused",
                {"project_id": project_id, "budget": budget, "reason": why},
                project_id=project_id,
            )

    # ----------------------------------------------------------------- run

    async def run_task(self, task_id: int, agent: str) -> str:
        """Carry out one ready task with `agent`, on the run's own path; the status it ended in.

        The claim (pre-checks, lease, attempt, call started), the work, the review
        and the finish are those of `run`; only the choice of task and agent is
        the caller's. For sample data and benchmarks that need a given task done
        by a given agent. A task the pre-checks stop is not run: `EngineError`
        says why.
        """
        from orkestra_tui.engine.execution.selection import Choice

        task = self.store.task(task_id)
        if task is None:
            raise EngineError(f"there is no task {task_id}")
        if task.status is not TaskStatus.READY:
            raise EngineError(f"task {task_id} is {task.status.label}: only a ready task can be run")
        with self.store.transaction() as tx:
            problem = self._pre_checks(tx, task, agent)
            claim = None if problem else self._lease(tx, task, Choice(agent, 0.0, f"{agent}: chosen"))
        if claim is None:
            raise EngineError(f"task {task_id} cannot run now: {problem}")
        return await self._work(claim)

    async def run(self, project_id: int | None = None, *, until_done: bool = True) -> RunSummary:
        """Work until nothing is left that this process can do (or, not `until_done`, until stopped)."""
        summary = RunSummary()
        blocked_before = self.blocked
        self._paused_for_budget = False
        summary.released = self.release_stale()
        working: dict[asyncio.Task[str], int] = {}
        subscription = self.bus.subscribe(self._on_event)
        last_cleanup = time.monotonic()
        try:
            while not self._stopping:
                self._wake.clear()  # before claiming: news that arrives meanwhile must not be lost
                projects = self._active_projects(project_id)
                await self.repo.look_at_repositories(projects)
                self.contests.resume_answered(projects)  # a contest's tie broken: its vote can end
                while not self.paused and len(working) < self.max_concurrent:
                    claim = self.claim(projects)
                    if claim is None:
                        break
                    work = telemetry.task_work(
                        self._work(claim),
                        task_id=claim.task.id,
                        project_id=claim.task.project_id,
                        attempt=claim.attempt,
                        agent=claim.agent,
                    )
                    working[asyncio.ensure_future(work)] = claim.task.id
                if not working:
                    summary.stopped = self._idle_reason(project_id)
                    if until_done and summary.stopped:
                        break
                    summary.stopped = ""
                    if self._probe_wait_s is not None:
                        await self._wait_for_probe(self._probe_wait_s)
                        continue
                waiters: set[asyncio.Future[Any]] = set(working)
                waker = asyncio.ensure_future(self._wake.wait())
                waiters.add(waker)
                done, _pending = await asyncio.wait(
                    waiters, timeout=self.lease_s / 3, return_when=asyncio.FIRST_COMPLETED
                )
                waker.cancel()
                for work in [item for item in working if item in done]:
                    working.pop(work)
                    _count(summary, work.result())
                self._renew(working.values())
                if time.monotonic() - last_cleanup > self.lease_s / 2:
                    last_cleanup = time.monotonic()
                    summary.released += self.release_stale()
            if self._stopping:
                summary.stopped = "stopped"
        finally:
            subscription.close()
            for work in working:
                work.cancel()
            if working:
                await asyncio.gather(*working, return_exceptions=True)
        summary.blocked = self.blocked - blocked_before
        summary.counts = self._counts(project_id)
        return summary

    async def _wait_for_probe(self, seconds: float) -> None:
        """Idle until an open circuit may be probed, or until news arrives (a task retried, an agent on)."""
        # At least a moment: a circuit due to half-open this instant may still read as open.
        sleeper = asyncio.ensure_future(
            self.pool.sleep(min(max(seconds, PROBE_WAIT_MIN_S), PROBE_WAIT_MAX_S))
        )
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    def _on_event(self, event: EngineEvent) -> None:
        if event.is_kind("inbox", "project") or event.kind in (
            "task.ready",
            "task.retried",
            "task.rejected",
            "task.reassigned",
        ):
            self._wake.set()

    def _idle_reason(self, project_id: int | None) -> str:
        """Why nothing runs in this process now, if it is for good ('' while waiting makes sense).

        Waiting for an agent's circuit to let a probe through sets `_probe_wait_s`.
        """
        self._probe_wait_s = None
        projects = self._active_projects(project_id)  # a claim may have paused one for its budget
        if self.paused:
            return "paused"
        if not projects:
            return "budget" if self._paused_for_budget else "no active project"
        if not self._has_ready(projects):
            return "nothing left to do"
        if self.store.scalar(
            "SELECT count(*) FROM task WHERE status IN ('running', 'review') AND lease_owner IS NOT NULL"
        ):
            return ""  # a busy agent will free up
        next_probe_s = self._next_probe_s()
        if next_probe_s is not None:
            self._probe_wait_s = next_probe_s
            return ""  # an agent's circuit is open for now: its probe may take the work
        return "no agent can take the ready tasks"  # none is busy or recovering: none will free up

    def _next_probe_s(self) -> float | None:
        """Seconds until the first agent whose circuit is open may be probed; None when none is open."""
        waits = [
            self.pool.breakers[agent.name].seconds_until_probe()
            for agent in self._agents()
            if agent.unavailable_reason in ("circuit open", "circuit probing")
        ]
        return min(waits) if waits else None

    def _has_ready(self, projects: Sequence[int]) -> bool:
        """Whether a task is ready, or waits in review with no one reviewing it."""
        marks = ", ".join("?" * len(projects))
        return bool(
            self.store.scalar(
                f"SELECT count(*) FROM task WHERE (status = 'ready' OR (status = 'review'"
                f" AND lease_owner IS NULL)) AND project_id IN ({marks})",
                list(projects),
            )
        )

    def _counts(self, project_id: int | None) -> dict[str, int]:
        if project_id is None:
            rows = self.store.query("SELECT status, count(*) FROM task GROUP BY status")
        else:
            rows = self.store.query(
                "SELECT status, count(*) FROM task WHERE project_id = ? GROUP BY status", (project_id,)
            )
        return dict(rows)

    # ---------------------------------------------------------------- work

    async def _work(self, claim: Claim) -> str:
        """Carry out one claimed task to its outcome; returns the status it ended in."""
        try:
            if claim.review_only:
                return await self._resume_review(claim)
            attempt: telemetry.Attributes = {"orkestra.task.attempt": claim.attempt}
            return await telemetry.traced("attempt", self._carry_out(claim), attempt)
        except asyncio.CancelledError:
            self._give_back(claim, "the run was stopped")
            raise
        except EngineError as problem:
            self._give_back(claim, str(problem))
            return "released"
        except DiskFullError:
            # The task goes back to ready if there is still room to say so; else its lease expires,
            # or the next run finds this process gone and releases it then.
            with contextlib.suppress(OrkestraError):
                self._give_back(claim, "the disk is full")
            raise

    def _record_calls(self, tx: Transaction, task: Task) -> None:
        """Store the task's call attempts not stored yet (the caller forgets them once committed)."""
        for attempt in self._unrecorded.get(task.id, ()):
            record_call(tx, attempt, task.project_id, task_id=task.id)

    def _give_back(self, claim: Claim, why: str) -> None:
        """Release an interrupted task, if this process still holds it: back to ready, or kept in review.

        The calls made for it are recorded first; those recorded as started that
        got no answer are closed as interrupted, at their estimated cost.
        """
        from orkestra_tui.engine.agents.call_log import interrupt_call

        task = claim.task
        with self.store.transaction() as tx:
            self._record_calls(tx, task)  # paid for, whatever happens to the task
            for call_id, call in self._started.pop(task.id, ()):
                interrupt_call(tx, call_id, call, 0.0)  # unless answered, or closed already
            if self._holds(task.id):  # else the human or another process moved it meanwhile
                self._release(tx, claim, why)
        self._unrecorded.pop(task.id, None)

    def _release(self, tx: Transaction, claim: Claim, why: str) -> None:
        task = claim.task
        status = self.store.scalar("SELECT status FROM task WHERE id = ?", (task.id,))
        if status == TaskStatus.REVIEW.value:  # the agent's result is stored: keep it for the next run
            keep_in_review(tx, task.id, owner=self.owner, now=tx.clock.now())
            tx.audit(
                "engine",
                "task.released",
                f"Task {task.title!r} keeps its result and waits for its review: {why}",
                subject=f"task:{task.id}",
                project_id=task.project_id,
                data={"from": status, "to": status, "note": why},
            )
            return
        now = tx.clock.now()
        give_back(tx, task.id, owner=self.owner, now=now)
        tx.execute(END_ATTEMPT_SQL, ("interrupted", why, now, task.id, claim.attempt))
        tx.audit(
            "engine",
            "task.released",
            f"Task {task.title!r} is ready again: {why}",
            subject=f"task:{task.id}",
            project_id=task.project_id,
            data={"from": status, "to": "ready", "note": why},
        )

    def _holds(self, task_id: int) -> bool:
        """Whether this process still holds the task's lease."""
        return bool(
            self.store.scalar(
                "SELECT count(*) FROM task WHERE id = ? AND lease_owner = ?", (task_id, self.owner)
            )
        )

    async def _carry_out(self, claim: Claim) -> str:
        from orkestra_tui.engine.repo import changes, workspace

        task, agent = claim.task, claim.agent
        project = self.store.project(task.project_id)
        assert project is not None
        assert claim.request is not None
        link = changes.repository(self.store, project.id)
        if claim.contest:
            return await self.contests.carry_out(claim, project, link)
        if link is not None:
            return await self.repo.carry_out(claim, project, link)
        outcome = await self.pool.call(
            agent,
            claim.request,
            project_id=task.project_id,
            task_id=task.id,
            record=False,
            started_call=claim.call_id,
        )
        # Recorded in the next transaction (review, or finish), which comes with no wait in between.
        self._unrecorded[task.id] = outcome.attempts
        if outcome.response is None:
            return self._call_failed(claim, outcome)
        text = outcome.response.text
        problem = result_problem(text)
        if problem:
            return self._finish(claim, TaskStatus.FAILED, note=f"{agent}'s result {problem}", error=problem)
        if not self._holds(task.id):  # another process may have redone it: write none of this
            raise EngineError("the lease was lost while the agent worked")
        try:
            artifact = workspace.write_artifact(
                workspace.artifact_path(self.paths.projects_dir, task.project_id, task.id, task.title),
                text,
            )
        except OSError as error:
            if is_disk_full(error):  # not the result's fault: the task waits for space
                raise DiskFullError(self.paths.projects_dir) from error
            reason = f"{agent}'s result could not be stored: {error.strerror or error}"
            return self._finish(claim, TaskStatus.FAILED, note=reason, error=reason)
        refused: list[tuple[str, str]] = []
        written: list[str] = []
        if project.workspace:
            report = workspace.write_file_blocks(Path(project.workspace), workspace.file_blocks(text))
            written = [str(path) for path in report.written]
            refused = list(report.refused)
        return await self._review(
            claim, text, artifact=artifact, brief=project.brief, written=written, refused=refused
        )

    def _call_failed(self, claim: Claim, outcome: CallOutcome) -> str:
        """A call to the task's agent got no answer: defer a passing failure, else fail the task."""
        agent, error = claim.agent, outcome.error
        if error is not None and _passing(error) and claim.attempt < TEMPORARY_FAILURES_LIMIT:
            return self._defer(claim, error)
        if error is not None and error.retryable:
            # Provider calls, not the task's attempts (its runs, as the task's detail counts them).
            reason = f"{agent} failed after {plural(len(outcome.attempts), 'call')}: {error}"
        else:
            reason = f"{agent} failed and it cannot be retried: {error}"
        return self._finish(claim, TaskStatus.FAILED, note=reason, error=reason)

    def _defer(self, claim: Claim, error: ProviderError) -> str:
        """Give a task back to ready after a passing failure; the next claim prefers another agent."""
        task, agent = claim.task, claim.agent
        calls = [call for call in self._unrecorded.get(task.id, ()) if call.error_class != "circuit_open"]
        if calls:
            reason = f"{agent} failed after {plural(len(calls), 'call')}: {calls[-1].error or error}"
            if error.error_class == "circuit_open":
                reason += "; its circuit is open"
        else:
            reason = f"{agent} could not be called: {error}"
        with self.store.transaction() as tx:
            self._record_calls(tx, task)
            now = tx.clock.now()
            # The note stays: it is what the next agent reads of the last review.
            if not give_back(tx, task.id, owner=self.owner, now=now):
                raise EngineError("the lease was lost before the task could be given back")
            tx.execute(END_ATTEMPT_SQL, ("deferred", reason, now, task.id, claim.attempt))
            tx.audit(
                "engine",
                "task.deferred",
                f"Task {task.title!r} waits for an agent: {reason}",
                subject=f"task:{task.id}",
                project_id=task.project_id,
                data={"from": "running", "to": "ready", "agent": agent, "error_class": error.error_class},
            )
        self._unrecorded.pop(task.id, None)
        self._avoid.setdefault(task.id, set()).add(agent)
        self._candidates = None  # its health just changed
        return "deferred"

    def _request(self, task: Task, brief: str, workspace: bool) -> ProviderRequest:
        dependencies = self.store.query(
            "SELECT t.title, coalesce(t.result, '') FROM task_dependency d JOIN task t ON t.id = d.depends_on"
            " WHERE d.task_id = ? ORDER BY t.id",
            (task.id,),
        )
        return task_request(task, brief, dependencies, workspace=workspace)

    async def _review(
        self,
        claim: Claim,
        text: str,
        *,
        artifact: Path,
        brief: str,
        written: list[str],
        refused: list[tuple[str, str]],
        shown: str | None = None,
    ) -> str:
        """Store the agent's result (the task goes to review), then have it reviewed.

        SHOWN is what the reviewers read, when it is more than the result (a change's diff and gates).

        The review calls are recorded as started in the same transaction, before they go out.
        """
        from orkestra_tui.engine.agents.call_log import start_call
        from orkestra_tui.engine.agents.calls import call_start
        from orkestra_tui.engine.execution.review import review_request

        task, agent = claim.task, claim.agent
        reviewers = self._reviewers(task, agent)
        request = review_request(task, shown or text, brief) if reviewers else None
        with self.store.transaction() as tx:
            self._record_calls(tx, task)
            # The attempt's work is done: a stop or a crash from here on keeps it (see `_release`).
            if not store_result(
                tx,
                task.id,
                owner=self.owner,
                attempt=claim.attempt,
                result=text,
                artifact=self._relative(artifact),
                now=tx.clock.now(),
            ):
                raise EngineError("the lease was lost while the agent worked")
            tx.audit(
                agent,
                "task.review",
                f"{agent} finished {task.title!r}; it goes to review",
                subject=f"task:{task.id}",
                project_id=task.project_id,
                data={
                    "from": "running",
                    "to": "review",
                    "artifact": self._relative(artifact),
                    "files": written,
                },
            )
            for path, reason in refused:
                tx.audit(
                    "engine",
                    "task.file_refused",
                    f"{agent} asked to write {path!r}; refused: {reason}",
                    subject=f"task:{task.id}",
                    project_id=task.project_id,
                    data={"path": path, "reason": reason},
                )
            started: dict[str, int] = {}
            now = tx.clock.now() if reviewers else 0.0
            for name in reviewers:
                assert request is not None
                call = call_start(
                    self.pool.runtimes[name],
                    request,
                    now=now,
                    owner=self.pool.call_owner,
                    project_id=task.project_id,
                    task_id=task.id,
                )
                started[name] = start_call(tx, call)
                self._started.setdefault(task.id, []).append((started[name], call))
        self._unrecorded.pop(task.id, None)
        return await self._judge(
            claim, shown or text, brief, reviewers, request=request, started_calls=started
        )

    async def _resume_review(self, claim: Claim) -> str:
        """Review the result a stopped run left in review; the agent that made it is not called again.

        In a repository project, a change approved before the stop (by its reviewers, or by the
        human) goes straight to the merge queue; otherwise its reviewers see its diff again.
        """
        from orkestra_tui.engine.repo import changes

        task = claim.task
        project = self.store.project(task.project_id)
        assert project is not None
        shown = task.result or ""
        change = changes.task_change(self.store, task.id)
        if change is not None and changes.repository(self.store, project.id) is not None:
            if change.state in ("approved", "merged"):
                return await self.repo.merge_approved(claim, project, "")
            shown += "\n\n" + await self.repo.change_for_review(task.id, None)
        reviewers = self._reviewers(task, claim.agent)
        return await self._judge(claim, shown, project.brief, reviewers)

    def _reviewers(self, task: Task, agent: str) -> list[str]:
        """Who reviews `agent`'s result: agents of other providers, available now."""
        from orkestra_tui.engine.execution.review import choose_reviewers

        if not self.reviewers:
            return []
        others = [
            (candidate.name, candidate.provider)
            for candidate in self._agents()
            if candidate.name == agent or candidate.available
        ]
        # A result kept from a stopped run may be by an agent no longer on the committee: anyone reviews it.
        author_vendor = dict(others).get(agent, "")
        return choose_reviewers(agent, others, self.reviewers, seed=task.id, author_vendor=author_vendor)

    async def _judge(
        self,
        claim: Claim,
        text: str,
        brief: str,
        reviewers: list[str],
        *,
        request: ProviderRequest | None = None,
        started_calls: dict[str, int] | None = None,
    ) -> str:
        """Have the result reviewed by `reviewers` and finish the task with the verdict."""
        from orkestra_tui.engine.execution.review import decide, review

        task = claim.task
        reviews = (
            await telemetry.traced(
                "review",
                review(self.pool, task, text, brief, reviewers, request=request, started_calls=started_calls),
                {"orkestra.task.id": task.id, "orkestra.reviewers": ", ".join(reviewers)},
                lambda done: {"orkestra.review.verdicts": ", ".join(item.verdict for item in done)},
            )
            if reviewers
            else []
        )
        verdict = decide(reviews, already_retried=task.review_rounds > 0)
        if self.reviewers == 0:
            verdict = type(verdict)("done", "")
        if verdict.kind in ("done", "done_with_warning"):
            from orkestra_tui.engine.repo import changes

            project = self.store.project(task.project_id)
            if project is not None and changes.task_change(self.store, task.id) is not None:
                return await self.repo.merge_approved(claim, project, verdict.note, reviews)
        status = {
            "done": TaskStatus.DONE,
            "done_with_warning": TaskStatus.DONE,
            "retry": TaskStatus.READY,
            "awaiting_human": TaskStatus.AWAITING_HUMAN,
        }[verdict.kind]
        return self._finish(claim, status, note=verdict.note, reviews=reviews, retry=verdict.kind == "retry")

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.paths.data_dir))
        except ValueError:
            return str(path)

    def _finish(
        self,
        claim: Claim,
        status: TaskStatus,
        *,
        note: str = "",
        error: str = "",
        reviews: Sequence[Any] = (),
        retry: bool = False,
    ) -> str:
        """Record the outcome if this process still holds the lease; release it; post-checks."""
        task, agent = claim.task, claim.agent
        with self.store.transaction() as tx:
            self._record_calls(tx, task)
            now = tx.clock.now()
            previous = self.store.scalar("SELECT status FROM task WHERE id = ?", (task.id,))
            if not finish_task(
                tx,
                task.id,
                status,
                owner=self.owner,
                attempt=claim.attempt,
                note=note,
                error=error,
                retry=retry,
                now=now,
            ):
                raise EngineError("the lease was lost before the task could be finished")
            for item in reviews:
                tx.execute(
                    REVIEW_ROW_SQL, (task.id, claim.attempt, item.reviewer, item.verdict, item.comments, now)
                )
            kind = "task.retried" if retry else f"task.{status.value}"
            summary = (
                f"Task {task.title!r} is {status.label}"
                if not retry
                else f"Task {task.title!r} goes back for changes"
            )
            if note:
                summary += f": {note}"
            tx.audit(
                agent if status is TaskStatus.DONE else "engine",
                kind,
                summary,
                subject=f"task:{task.id}",
                project_id=task.project_id,
                data={
                    "from": previous,
                    "to": status.value,
                    "note": note,
                    "agent": agent,
                    "reviews": [{"reviewer": r.reviewer, "verdict": r.verdict} for r in reviews],
                },
            )
            if status is TaskStatus.AWAITING_HUMAN:
                self.inbox.ask_in(
                    tx,
                    InboxKind.TASK_REVIEW,
                    f"Approve, redo or cancel {task.title!r}",
                    {"task_id": task.id, "note": note},
                    project_id=task.project_id,
                )
            if status is TaskStatus.DONE:
                release_dependents(tx, self.store, task)
                note_milestone(tx, self.store, task)
            post_checks(tx, self.store, self.paths.data_dir, task, status)
        self._unrecorded.pop(task.id, None)
        self._started.pop(task.id, None)
        return "retried" if retry else status.value


def _passing(error: ProviderError) -> bool:
    """Whether a failure is expected to pass (a rate limit, an outage, an open circuit)."""
    return error.retryable or error.error_class == "circuit_open"


def _count(summary: RunSummary, outcome: str) -> None:
    if outcome == TaskStatus.DONE.value:
        summary.done += 1
    elif outcome == TaskStatus.FAILED.value:
        summary.failed += 1
    elif outcome == TaskStatus.AWAITING_HUMAN.value:
        summary.awaiting_human += 1
    elif outcome == "retried":
        summary.retried += 1
    elif outcome == "deferred":
        summary.deferred += 1
