"""Running a contest: N agents do one claimed task at once, the committee votes, the winner goes on.

A contest task is claimed once, under one lease that the scheduler renews as usual. Then:

1. **Entries.** An agent per entry (`choose_contestants`: the claim's agent first, then one of
   each other provider where possible), lettered A, B, C. They run concurrently, each with its
   own call (recorded as started before it goes out), in its own worktree and branch in a
   repository project (`contest_repo`), as its own Markdown result otherwise. Each entry is
   stored the moment it ends, with its calls, so a run killed in the middle resumes with the
   unfinished entries only: a finished entry's agent is not called again.
2. **Survivors.** An entry whose gates still fail after its retries drops out, as does one
   whose agent gave no usable answer. None left: the task fails (or, in a repository, goes to
   the human) like a single task would. One left: it wins without a vote (recorded).
3. **The vote.** Two or more: a committee decision like any other, "Entry A", "Entry B"...,
   each entry's diff and gates stored with the decision as its option's detail, the entry's
   agent as its author (so no agent votes for its own), the human's tie-break last. A vote that
   needs the human parks the task (awaiting the human, its lease released); once the tie is
   broken the scheduler takes it up again and the vote ends where it was.
4. **The winner** becomes the task's result (its branch and commit the task's change) and goes
   to cross-review and the merge queue like a single task's. Losing entries' worktrees and
   branches are removed once the task merges (`contest_repo.remove_losers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from orkestra_tui.engine import telemetry
from orkestra_tui.engine.errors import EngineError, RequestRejected
from orkestra_tui.engine.execution.checks import result_problem
from orkestra_tui.engine.execution.contest import records as contests
from orkestra_tui.engine.execution.contest.desk import choose_contestants
from orkestra_tui.engine.execution.contest.entries import entry_detail
from orkestra_tui.engine.execution.contest.records import ContestRecord, EntryRecord
from orkestra_tui.engine.execution.contest.view import ContestState, EntryState
from orkestra_tui.engine.models import DecisionStatus, Project, Task, TaskStatus
from orkestra_tui.errors import DiskFullError, is_disk_full

if TYPE_CHECKING:
    from orkestra_tui.contest_rules import ContestRule
    from orkestra_tui.engine.agents.calls import CallOutcome
    from orkestra_tui.engine.execution.claims import Claim
    from orkestra_tui.engine.execution.contest.host import ContestHost
    from orkestra_tui.engine.repo.changes import RepositoryLink
    from orkestra_tui.engine.store.store import Transaction
    from orkestra_tui.providers.base import ProviderRequest

T = TypeVar("T")

RULES_TTL_S = 5.0
"""How long a repository's contest rules, once read, are taken at their word (as its other checks are)."""


class ContestRun:
    """The contest steps of one scheduler."""

    def __init__(self, host: ContestHost) -> None:
        from orkestra_tui.engine.execution.contest.vote import ContestVote

        self.host = host
        self.votes = ContestVote(host)
        """The committee's vote on the entries, and the task's wait for the human's tie-break."""
        self._claiming: tuple[int, int | None] | None = None
        """The task the pre-checks just read (its id and `wanted`), for its lease in the same transaction."""
        self._repo_rules: dict[int, tuple[float, tuple[ContestRule, ...]]] = {}
        """Per project: when its `.orkestra.toml` was read, and its contest rules."""

    # ------------------------------------------------------------ claiming

    def wanted(self, task: Task) -> int | None:
        """How many agents the task's contest wants, if it is one (as set, or by this run); None if not."""
        row = self.host.store.query("SELECT agents, state FROM contest WHERE task_id = ?", (task.id,))
        if row:
            state = ContestState(row[0][1])
            if state is ContestState.WON and not self._won_unfinished(task):
                return None  # came back after its winner's review: it runs as a single task now
            return int(row[0][0])
        if self.host.contest_agents:
            return self.host.contest_agents
        return self._rule_agents(task)

    def _rule_agents(self, task: Task) -> int | None:
        """The agents a contest rule asks for this task: `.orkestra.toml`'s first, then config.toml's."""
        from orkestra_tui.contest_rules import rule_for
        from orkestra_tui.engine.repo import changes
        from orkestra_tui.engine.repo.repo_settings import RepoSettingsError

        looked = self._repo_rules.get(task.project_id)
        if looked is None or time.monotonic() - looked[0] > RULES_TTL_S:
            found: tuple[ContestRule, ...] = ()
            link = changes.repository(self.host.store, task.project_id)
            if link is not None:
                # A broken file: the "repository usable" check says what is wrong with it.
                with contextlib.suppress(RepoSettingsError, OSError):
                    found = self.host.repo.repo_work().settings_at(link.worktree).contest
            looked = self._repo_rules[task.project_id] = (time.monotonic(), found)
        rule = rule_for(looked[1] + self.host.settings.contest, task.category, int(task.priority))
        return rule.agents if rule is not None else None

    def settle(self, tx: Transaction, task: Task) -> bool:
        """In the claim's transaction: make the task's contest row if this run or a rule asks for one.

        Whether the task runs as a contest.
        """
        claiming, self._claiming = self._claiming, None
        agents = claiming[1] if claiming is not None and claiming[0] == task.id else self.wanted(task)
        if agents is None:
            return False
        exists = tx.execute("SELECT 1 FROM contest WHERE task_id = ?", (task.id,)).fetchone()
        if not exists:
            source = "run" if self.host.contest_agents else "rule"
            contests.set_contest(tx, task.id, agents, source=source, actor="engine", title=task.title)
        return True

    def _won_unfinished(self, task: Task) -> bool:
        """A contest won, whose winner a killed run had not yet stored as the task's result."""
        return not task.result

    def calls_before(self, task: Task) -> int | None:
        """The calls a contest task makes before its review (entries and one round); None if no contest."""
        agents = self.wanted(task)
        self._claiming = (task.id, agents)  # the lease comes next, in the same transaction
        if agents is None:
            return None
        voters = len(self.host.pool.enabled_agents())
        return agents + voters + self.host.reviewers

    # ------------------------------------------------------------- running

    async def carry_out(self, claim: Claim, project: Project, link: RepositoryLink | None) -> str:
        """Carry out a claimed contest task to its outcome; the status it ended in."""
        task = claim.task
        record = contests.contest(self.host.store, task.id)
        assert record is not None  # settled in the claim
        if record.state is ContestState.WON:
            return await self._go_on(claim, project, link, record)
        if not record.entries:
            record = self._start(task, record, claim.agent)
        if any(not entry.finished for entry in record.entries):
            await self._run_entries(claim, project, link, record)
            record = self._record(task.id)
        survivors = [entry for entry in record.entries if entry.state is EntryState.PASSED]
        if not survivors:
            return self._no_survivor(claim, record, link is not None)
        if len(survivors) == 1:
            return await self._won(claim, project, link, survivors[0], how="the only entry left", vote=False)
        return await self._vote(claim, project, link, record, survivors)

    def _record(self, task_id: int) -> ContestRecord:
        record = contests.contest(self.host.store, task_id)
        assert record is not None
        return record

    def _start(self, task: Task, record: ContestRecord, first: str) -> ContestRecord:
        host = self.host
        available = sum(1 for name in host.pool.runtimes if host.pool.agent_available(name))
        count = max(1, min(record.agents, available))
        agents = choose_contestants(
            host.pool, task.category, count, first=first, strategy=host.settings.engine.routing
        )
        with host.store.transaction() as tx:
            contests.start_entries(tx, task.id, agents or [first], title=task.title)
        return self._record(task.id)

    async def _run_entries(
        self, claim: Claim, project: Project, link: RepositoryLink | None, record: ContestRecord
    ) -> None:
        """Run the unfinished entries at once; each is stored as it ends."""
        from orkestra_tui.engine.agents.call_log import start_call
        from orkestra_tui.engine.agents.calls import call_start

        host, task = self.host, claim.task
        assert claim.request is not None
        unfinished = [entry for entry in record.entries if not entry.finished]
        if link is not None:
            from orkestra_tui.engine.execution.contest.repository import EntryWork

            work = EntryWork(self.host, claim, project, link, store_entry=self.store_entry, swap=self.swap)
            await asyncio.gather(*(_entry_span(entry, work.run(entry)) for entry in unfinished))
            return
        started: dict[str, int] = {}
        with host.store.transaction() as tx:
            now = tx.clock.now()
            for entry in unfinished:
                call = call_start(
                    host.pool.runtimes[entry.agent],
                    claim.request,
                    now=now,
                    owner=host.pool.call_owner,
                    project_id=task.project_id,
                    task_id=task.id,
                )
                started[entry.letter] = start_call(tx, call)
                host._started.setdefault(task.id, []).append((started[entry.letter], call))
            contests.note_calls(tx, task.id, {entry.letter: entry.agent for entry in unfinished})
        await asyncio.gather(
            *(
                _entry_span(entry, self._markdown_entry(claim, entry, claim.request, started[entry.letter]))
                for entry in unfinished
            )
        )

    async def _markdown_entry(
        self, claim: Claim, entry: EntryRecord, request: ProviderRequest, call_id: int
    ) -> None:
        """One entry of a project without a repository: the agent's Markdown result, stored as it ends."""
        task = claim.task
        outcome = await self.host.pool.call(
            entry.agent,
            request,
            project_id=task.project_id,
            task_id=task.id,
            record=False,
            started_call=call_id,
        )
        swapped = self.swap(claim, entry, outcome)
        if swapped is not None:  # its agent is rate-limited or out: a spare agent makes the entry
            await self._markdown_entry(claim, swapped, request, self.start_call(task, swapped.agent, request))
            return
        text = outcome.response.text if outcome.response is not None else ""
        problem = result_problem(text) if outcome.response is not None else _failure(outcome)
        artifact = None if problem else self._entry_artifact(task, entry, text)
        self.store_entry(
            claim,
            entry,
            EntryState.FAILED if problem else EntryState.PASSED,
            outcome,
            result=text,
            note=f"{entry.agent}'s result {problem}" if problem and outcome.response else problem,
            artifact=artifact,
        )

    def _entry_artifact(self, task: Task, entry: EntryRecord, text: str) -> str | None:
        """The entry's Markdown beside the task's artifact (`...-entry-a.md`); its path in the data dir."""
        from orkestra_tui.engine.repo import workspace

        data_dir = self.host.paths.data_dir
        path = workspace.artifact_path(self.host.paths.projects_dir, task.project_id, task.id, task.title)
        path = path.with_name(f"{path.stem}-entry-{entry.letter.lower()}.md")
        try:
            workspace.write_artifact(path, text)
        except OSError as error:
            if is_disk_full(error):  # not the entry's fault: the task waits for space
                raise DiskFullError(self.host.paths.projects_dir) from error
            return None  # the entry's text is stored with it all the same
        return str(path.relative_to(data_dir)) if path.is_relative_to(data_dir) else str(path)

    def start_call(self, task: Task, agent: str, request: ProviderRequest) -> int:
        """Record an entry's call as started, before it goes out; its id (closed as interrupted on a stop)."""
        from orkestra_tui.engine.agents.call_log import start_call
        from orkestra_tui.engine.agents.calls import call_start

        host = self.host
        call = call_start(
            host.pool.runtimes[agent],
            request,
            now=host.clock.now(),
            owner=host.pool.call_owner,
            project_id=task.project_id,
            task_id=task.id,
        )
        with host.store.transaction() as tx:
            call_id = start_call(tx, call)
            contests.note_calls(tx, task.id, {self._letter_of(task, agent): agent})
        host._started.setdefault(task.id, []).append((call_id, call))
        return call_id

    def _letter_of(self, task: Task, agent: str) -> str:
        record = self._record(task.id)
        return next((entry.letter for entry in record.entries if entry.agent == agent), "?")

    def swap(self, claim: Claim, entry: EntryRecord, outcome: CallOutcome) -> EntryRecord | None:
        """A spare agent for an entry whose own failed for a passing reason (a rate limit, its circuit
        open), as a single task would go to another agent; None when it failed otherwise or none is spare.

        The failed calls are stored in the same transaction; the entry keeps its letter.
        """
        from orkestra_tui.engine.agents.call_log import record_call

        error, task = outcome.error, claim.task
        if outcome.response is not None or error is None:
            return None
        if not (error.retryable or error.error_class == "circuit_open"):
            return None
        taken = {item.agent for item in self._record(task.id).entries}
        spares = [
            name
            for name in choose_contestants(
                self.host.pool,
                task.category,
                len(self.host.pool.runtimes),
                strategy=self.host.settings.engine.routing,
            )
            if name not in taken
        ]
        if not spares:
            return None
        with self.host.store.transaction() as tx:
            for attempt in outcome.attempts:
                record_call(tx, attempt, task.project_id, task_id=task.id)
            contests.restart_entry(tx, task.id, entry.letter, spares[0], why=f"could not be called: {error}")
        return dataclasses.replace(entry, agent=spares[0])

    def store_entry(
        self, claim: Claim, entry: EntryRecord, state: EntryState, *outcomes: CallOutcome, **fields: Any
    ) -> None:
        """Store a finished entry with its calls, in one transaction, only while the lease is held."""
        from orkestra_tui.engine.agents.call_log import record_call

        task = claim.task
        attempts = [attempt for outcome in outcomes for attempt in outcome.attempts]
        with self.host.store.transaction() as tx:
            for attempt in attempts:
                record_call(tx, attempt, task.project_id, task_id=task.id)  # paid for, whatever happens
            if not self.host._holds(task.id):
                raise EngineError("the lease was lost while the contest's entries were made")
            cost = sum(attempt.cost for attempt in attempts)
            contests.finish_entry(tx, task.id, entry.letter, state, cost=cost, **fields)

    # ---------------------------------------------------------------- vote

    async def _vote(
        self,
        claim: Claim,
        project: Project,
        link: RepositoryLink | None,
        record: ContestRecord,
        survivors: list[EntryRecord],
    ) -> str:
        task = claim.task
        decision_id = record.decision_id
        if decision_id is None:
            try:
                decision_id = await self.votes.open_decision(task, survivors, repository=link is not None)
            except RequestRejected as refused:  # no committee can vote on it: the human decides the task
                why = f"the entries could not be put to a vote: {refused}"
                return self._no_winner(claim, why, status=TaskStatus.AWAITING_HUMAN)
        elif record.state is not ContestState.VOTING:
            with self.host.store.transaction() as tx:
                contests.set_state(
                    tx,
                    task.id,
                    ContestState.VOTING,
                    summary="The contest's vote resumes",
                    kind="vote_resumed",
                )
        decided = await self.votes.decide(decision_id)
        if decided is None:  # the vote waits for the human's tie-break: the task waits with it
            return self.votes.park(claim, decision_id)
        winner = decided.outcome.get("winner") if decided.outcome else None
        entry = next((item for item in survivors if item.option == winner), None)
        if decided.status is not DecisionStatus.DECIDED or entry is None:
            reason = decided.outcome.get("reason", "no winner") if decided.outcome else "no winner"
            return self._no_winner(claim, f"the committee chose no entry: {reason}")
        return await self._won(claim, project, link, entry, how="the committee's vote", vote=True)

    def resume_answered(self, project_ids: list[int]) -> int:
        """Tasks whose contest's tie-break the human answered go back to ready, to finish their vote."""
        return self.votes.resume_answered(project_ids)

    # -------------------------------------------------------------- ending

    def _no_survivor(self, claim: Claim, record: ContestRecord, repository: bool) -> str:
        reasons = "; ".join(
            f"Entry {entry.letter} ({entry.agent}): {entry.note or entry.state.value}"
            for entry in record.entries
        )
        why = f"no entry of the contest passed: {reasons}"
        return self._no_winner(
            claim, why, status=TaskStatus.AWAITING_HUMAN if repository else TaskStatus.FAILED
        )

    def _no_winner(self, claim: Claim, why: str, *, status: TaskStatus = TaskStatus.FAILED) -> str:
        with self.host.store.transaction() as tx:
            contests.set_state(tx, claim.task.id, ContestState.FAILED, summary=why, kind="failed", note=why)
        return self.host._finish(claim, status, note=why, error=why)

    async def _won(
        self,
        claim: Claim,
        project: Project,
        link: RepositoryLink | None,
        entry: EntryRecord,
        *,
        how: str,
        vote: bool,
    ) -> str:
        from orkestra_tui.engine.execution.tasks import assign_to

        task = claim.task
        with self.host.store.transaction() as tx:
            contests.set_state(
                tx,
                task.id,
                ContestState.WON,
                summary=f"Entry {entry.letter} by {entry.agent} wins {task.title!r} ({how})",
                kind="won",
                winner=entry.letter,
                data={"agent": entry.agent, "vote": vote, "how": how},
            )
            assign_to(tx, task.id, entry.agent, owner=self.host.owner)
        return await self._go_on(claim, project, link, self._record(task.id))

    async def _go_on(
        self, claim: Claim, project: Project, link: RepositoryLink | None, record: ContestRecord
    ) -> str:
        """The winning entry becomes the task's result and goes to review (and the merge queue)."""
        from orkestra_tui.engine.repo import workspace

        host, task = self.host, claim.task
        entry = record.entry(record.winner or "")
        if entry is None:
            raise EngineError(f"the contest of task {task.id} has no winning entry")
        claim = dataclasses.replace(claim, agent=entry.agent)
        shown: str | None = None
        written: list[str] = list(entry.files)
        if link is not None:
            from orkestra_tui.engine.execution.contest.repository import adopt_winner

            adopt_winner(host.store, task, entry)
            detail = await entry_detail(host.store, task.id, entry, repository=True)
            shown = f"{entry.result}\n\nThe change, against the integration branch:\n{detail}"
        artifact = workspace.write_artifact(
            workspace.artifact_path(host.paths.projects_dir, task.project_id, task.id, task.title),
            entry.result,
        )
        refused: list[tuple[str, str]] = []
        if link is None and project.workspace:
            from pathlib import Path

            report = workspace.write_file_blocks(Path(project.workspace), workspace.file_blocks(entry.result))
            written = [str(path) for path in report.written]
            refused = list(report.refused)
        return await host._review(
            claim,
            entry.result,
            artifact=artifact,
            brief=project.brief,
            written=written,
            refused=refused,
            shown=shown,
        )


def _failure(outcome: CallOutcome) -> str:
    error = outcome.error
    return f"{error.error_class}: {error}" if error is not None else "no answer"


def _entry_span(entry: EntryRecord, work: Awaitable[T]) -> Awaitable[T]:
    """One contest entry's work, as its own span under the task's attempt when telemetry is on."""
    return telemetry.traced(
        "entry", work, {"orkestra.contest.entry": entry.letter, "orkestra.agent": entry.agent}
    )
