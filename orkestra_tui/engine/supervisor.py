"""What every process that works on a data dir does around the engine: the app and `orkestra run`.

One `Supervisor` per process, over its engine. It defines once what the app and
the headless run used to decide each for itself:

- **Recovery at start.** `recover()` cleans up what an earlier process left
  (`execution/recovery.py`): once per process, whoever asks first; later calls
  return the same report and write nothing.
- **What to resume.** `votes_to_resume()` lists the votes under way (a plan's
  vote is left to its plan), and `plans_to_resume()` the plans a worker was
  carrying forward, but for one another live process on this machine is still
  running (`plan_holder`: nothing is paid for twice) and the hands-on plans that
  had stopped for the human's go-ahead. `advance_plan()` runs a plan's next steps,
  recording once that this process now carries it.
- **The scheduler's life.** `start_scheduler()` starts carrying out the tasks
  (a fresh scheduler after one that ended: a restart) or resumes after a pause;
  `pause_scheduler()`, `resume_scheduler()`; `run_scheduler()` runs this
  process's scheduler, made on first use, as `orkestra run` does again and again
  with `--until-done`; `shutdown()` stops it and waits until the work under way
  has been given back. Cancelling the run (the app quitting, ctrl+c or SIGTERM
  in `orkestra run`) gives the work back the same way.
- **Events.** The state of the scheduler (`engine.scheduler`), a plan whose
  steps stopped running here (`plan.stopped`), what other processes committed
  and a snapshot taken by a connection of its own are published on the bus, for
  the screens to re-read.

The caller shows what happened: the app in notifications and workers, the
command on stderr. Nothing here knows of either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from orkestra_tui.engine import telemetry
from orkestra_tui.engine.events import EngineEvent

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.execution.recovery import RecoveryReport
    from orkestra_tui.engine.execution.scheduler import RunSummary, Scheduler
    from orkestra_tui.engine.planning.planning import PlanSession
    from orkestra_tui.engine.store.watch import ExternalChanges

IDLE, RUNNING, PAUSED = "idle", "running", "paused"
"""The scheduler's states: not started (or ended), carrying out tasks, starting no new task."""


class Supervisor:
    """Recovery, resuming and the scheduler's life, for one process working on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.recovery: RecoveryReport | None = None
        """What recovery found and did, once it has run in this process."""
        self.scheduler: Scheduler | None = None
        """This process's scheduler, once one was made (it stays after its run ends, until a restart)."""
        self._runs = 0
        """Runs of the scheduler started and not ended (one at a time, in practice)."""
        self._ended = asyncio.Event()
        self._ended.set()
        self._plans_noted: set[int] = set()
        """Plans this process has recorded itself as running (a `plan.run` audit event each)."""

    # ------------------------------------------------------------ recovery

    def recover(self) -> RecoveryReport:
        """Clean up what stopped processes left, once: later calls return the first report.

        A failure (a damaged database, a full disk) raises and leaves recovery to the next call.
        """
        from orkestra_tui.engine.execution.recovery import recover

        if self.recovery is None:
            self.recovery = recover(self.engine)
        return self.recovery

    async def tidy_worktrees(self, project_ids: Iterable[int] | None = None) -> list[str]:
        """Remove the leftover worktrees of linked projects that no task owns; a line per thing done or kept.

        Every linked project, or those of PROJECT_IDS. Run at start, after `recover`; a worktree
        that holds unmerged or uncommitted work is kept, and its line says why.
        """
        wanted = None if project_ids is None else set(project_ids)
        lines: list[str] = []
        for project in self.engine.projects():
            if (wanted is None or project.id in wanted) and self.engine.repository(project.id) is not None:
                lines += await self.engine.tidy_worktrees(project.id)
        return lines

    # ------------------------------------------------------------ resuming

    def votes_to_resume(self) -> list[int]:
        """The decisions whose vote was under way, for this process to go on with (plans' votes aside).

        A vote another live process runs (the app in another terminal or browser tab) is left to it.
        """
        return [
            decision.id
            for decision in self.engine.decisions_under_way()
            if self.engine.vote_runner(decision.id) is None
        ]

    def plans_to_resume(self) -> list[int]:
        """The projects whose plan a worker was running when its process stopped.

        A plan another live process carries (`orkestra plan`, another app) is left to it. A
        hands-on plan that had stopped for the human's go-ahead stays stopped, and so does a
        plan at its review, which waits for the human whatever its involvement.
        """
        from orkestra_tui.engine.models import Involvement
        from orkestra_tui.engine.planning.planning import Planner, PlanStep

        projects = []
        for session in Planner(self.engine).under_way():
            if self.engine.plan_holder(session.project_id) is not None:
                continue  # still made elsewhere: it is not paid for twice
            hands_on = session.brief.involvement is Involvement.HANDS_ON
            started = session.step is PlanStep.PROPOSALS or (
                session.step is PlanStep.VOTE and session.decision_id is not None
            )
            if session.step is not PlanStep.REVIEW and (started or not hands_on):
                projects.append(session.project_id)
        return projects

    async def advance_plan(self, project_id: int) -> PlanSession:
        """Run a plan's steps that need no one (proposals, vote, synthesis); hands-on, one at a time.

        The first time, records that this process carries the plan, so that another leaves it.
        """
        from orkestra_tui.engine.models import Involvement
        from orkestra_tui.engine.planning.planning import Planner

        if project_id not in self._plans_noted:
            self._plans_noted.add(project_id)
            self.engine.note_plan_run(project_id, resumed=False)
        planner = Planner(self.engine)
        hands_on = planner.session(project_id).brief.involvement is Involvement.HANDS_ON
        return await planner.advance(project_id, pause=hands_on)

    def plan_stopped(self, project_id: int) -> None:
        """Say that a plan's steps stopped running here (done, paused, failed or cancelled)."""
        subject = f"project:{project_id}"
        self.engine.bus.publish(EngineEvent("plan.stopped", "Planning paused", subject, project_id))

    # ------------------------------------------------------------ the scheduler

    @property
    def scheduler_state(self) -> str:
        """idle (not started, or its run ended), running or paused."""
        if self.scheduler is None or not self._runs:
            return IDLE
        return PAUSED if self.scheduler.paused else RUNNING

    def make_scheduler(self, *, max_concurrent: int | None = None) -> Scheduler:
        """A fresh scheduler for this process, in place of one whose run has ended."""
        from orkestra_tui.engine.errors import EngineError
        from orkestra_tui.engine.execution.scheduler import Scheduler

        if self._runs:
            raise EngineError("the scheduler is already running in this process")
        self.scheduler = Scheduler(self.engine, max_concurrent=max_concurrent)
        return self.scheduler

    def run_scheduler(
        self, project_id: int | None = None, *, until_done: bool = True
    ) -> Coroutine[Any, Any, RunSummary]:
        """The run of this process's scheduler (made on first use), to await; running from now on.

        `until_done`: until nothing is left it can do; otherwise until stopped or cancelled. The
        state is `running` from this call on, so a screen sees it at once: the caller awaits the run.
        """
        scheduler = self.scheduler or self.make_scheduler()
        self._runs += 1
        self._ended.clear()
        return self._run(scheduler, project_id, until_done)

    async def _run(self, scheduler: Scheduler, project_id: int | None, until_done: bool) -> RunSummary:
        try:
            run = scheduler.run(project_id, until_done=until_done)
            return await telemetry.traced("run", run, {"orkestra.project.id": project_id or 0})
        finally:
            self._runs -= 1
            if not self._runs:
                self._ended.set()
            self.scheduler_changed()

    def start_scheduler(self) -> Coroutine[Any, Any, RunSummary] | None:
        """Start carrying out the active projects' tasks until stopped, or resume after a pause.

        Returns the run to await when one starts (a fresh scheduler, after one that ended),
        None when the scheduler was running or paused.
        """
        state = self.scheduler_state
        run = None
        if state == PAUSED:
            assert self.scheduler is not None
            self.scheduler.resume()
        elif state == IDLE:
            self.make_scheduler()
            run = self.run_scheduler(until_done=False)
        self.scheduler_changed()
        return run

    def pause_scheduler(self) -> None:
        """Start no new task; the running ones finish."""
        if self.scheduler is not None:
            self.scheduler.pause()
        self.scheduler_changed()

    def resume_scheduler(self) -> None:
        """Start new tasks again after a pause."""
        if self.scheduler is not None:
            self.scheduler.resume()
        self.scheduler_changed()

    async def shutdown(self) -> None:
        """Stop the scheduler and wait for its run to end: the work under way given back, leases released.

        A task whose agent was still working goes back to ready; one whose agent had finished
        stays in review with its result, for the next run to review.
        """
        if self.scheduler is not None and self._runs:
            self.scheduler.stop()
            await self._ended.wait()

    def scheduler_changed(self) -> None:
        """Tell the screens the scheduler's state (they re-read it)."""
        self.engine.bus.publish(EngineEvent("engine.scheduler", f"The scheduler is {self.scheduler_state}"))

    # ------------------------------------------------------------ other connections

    def publish_changes(self, changes: ExternalChanges) -> None:
        """Tell what other processes committed, as the engine tells its own changes."""
        for event in changes.events:
            self.engine.bus.publish(event)

    def snapshot_taken(self) -> None:
        """Announce the snapshot a connection of its own just recorded, as the store announces its own."""
        self.engine.bus.publish_stored(self.engine.audit_events(1, kind="snapshot.created"))
