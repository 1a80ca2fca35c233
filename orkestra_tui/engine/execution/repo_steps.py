"""The scheduler's steps for a task of a project linked to a git repository.

A task there runs in its own worktree: the agent's change is applied (or, for a
coding-agent CLI, made in place), committed on the task's branch and gated. A failed
gate goes back to the same agent, in the same claim, with the gate's output, up to
`max_attempts`, then to the human, never to review. Reviewers see the diff and the
gates. An approved change merges through the merge queue (`RepoWork.merge`); a
conflict, or a merge that breaks the gates, runs the task again once on a fresh
worktree from the current head, then goes to the human. The task is done once merged.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from orkestra_tui.engine import telemetry
from orkestra_tui.engine.agents.prompts import task_request
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.execution.checks import result_problem
from orkestra_tui.engine.execution.contest.cleanup import remove_losers
from orkestra_tui.engine.models import Project, Task, TaskStatus
from orkestra_tui.engine.repo import changes
from orkestra_tui.engine.repo.changes import RepositoryLink
from orkestra_tui.engine.repo.edits import CHANGE_BLOCKS_HELP
from orkestra_tui.engine.repo.git import GitError
from orkestra_tui.engine.repo.names import RepositoryError
from orkestra_tui.engine.repo.repo_settings import RepoSettingsError
from orkestra_tui.engine.repo.work import Gated, Prepared, RepoWork, Taken
from orkestra_tui.errors import DiskFullError, is_disk_full

if TYPE_CHECKING:
    from orkestra_tui.config import Paths, Settings
    from orkestra_tui.engine.agents.calls import CallOutcome
    from orkestra_tui.engine.agents.pool import AgentPool
    from orkestra_tui.engine.clock import Clock
    from orkestra_tui.engine.execution.claims import Claim
    from orkestra_tui.engine.models import CallRecord
    from orkestra_tui.engine.store.store import Store
    from orkestra_tui.providers.base import ProviderRequest


class StepsHost(Protocol):
    """What the steps use of the scheduler that runs them."""

    store: Store
    clock: Clock
    settings: Settings
    paths: Paths
    pool: AgentPool
    _unrecorded: dict[int, tuple[CallRecord, ...]]

    def _finish(
        self,
        claim: Claim,
        status: TaskStatus,
        *,
        note: str = "",
        error: str = "",
        reviews: Sequence[Any] = (),
        retry: bool = False,
    ) -> str: ...

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
    ) -> str: ...

    def _holds(self, task_id: int) -> bool: ...

    def _call_failed(self, claim: Claim, outcome: CallOutcome) -> str: ...


REPOSITORY_CHECK_TTL_S = 5.0
"""How long a repository found usable (or not) is taken at its word before looking again."""
REPOSITORY_ERRORS = (GitError, RepositoryError, RepoSettingsError)


class RepoSteps:
    """What the scheduler does differently for a task in a repository project."""

    def __init__(self, scheduler: StepsHost) -> None:
        self.scheduler = scheduler
        self._repo: RepoWork | None = None
        self._checks: dict[int, tuple[float, str]] = {}
        """Per linked project: when its repository was last looked at, and "ok" or what is wrong."""

    def repo_work(self) -> RepoWork:
        if self._repo is None:
            host = self.scheduler
            runtimes = host.pool.runtimes.values()
            self._repo = RepoWork.for_agents(host.store, host.clock, host.paths.data_dir, runtimes)
        return self._repo

    def repository_check(self, project_id: int) -> str | None:
        """The pre-check "repository usable", from the last look (see `_look_at_repositories`)."""
        if changes.repository(self.scheduler.store, project_id) is None:
            return None
        return self._checks.get(project_id, (0.0, "ok"))[1]

    async def look_at_repositories(self, project_ids: list[int]) -> None:
        """Ask git whether each linked repository is usable, at most every few seconds each."""
        now = time.monotonic()
        for project_id in project_ids:
            link = changes.repository(self.scheduler.store, project_id)
            if link is None:
                continue
            looked = self._checks.get(project_id)
            if looked is not None and now - looked[0] < REPOSITORY_CHECK_TTL_S:
                continue
            try:
                problems = await self.repo_work().problems(link)
            except REPOSITORY_ERRORS as error:
                problems = [str(error)]
            self._checks[project_id] = (now, "; ".join(problems) or "ok")

    async def carry_out(self, claim: Claim, project: Project, link: RepositoryLink) -> str:
        from orkestra_tui.engine.repo import workspace

        task, agent = claim.task, claim.agent
        repo = self.repo_work()
        try:
            prepared = await repo.prepare(task, link, project)
        except REPOSITORY_ERRORS as error:
            self._checks.pop(project.id, None)
            why = f"the repository cannot be used: {error}"
            return self.scheduler._finish(claim, TaskStatus.BLOCKED, note=why, error=why)
        edits_itself = self._edits_itself(agent)
        request = self._repo_request(task, project.brief, prepared, edits_itself)
        text = await self._ask(claim, request, first=True)
        if isinstance(text, _Ended):
            return text.status
        taken = await repo.take_answer(prepared, text, edits_itself=edits_itself)
        self._note_refusals(task, agent, taken)
        if taken.feedback and not edits_itself:  # sent back once with the reason, never applied fuzzily
            retry = self._follow_up(request, prepared, text, edit_feedback=taken.feedback)
            again = await self._ask(claim, retry)
            if isinstance(again, _Ended):
                return again.status
            text = again
            taken = await repo.take_answer(prepared, again, edits_itself=False)
            self._note_refusals(task, agent, taken)
        tries = max(1, self.scheduler.settings.engine.max_attempts)
        gated: Gated | None = None
        for gate_try in range(1, tries + 1):
            try:
                gated = await telemetry.traced(
                    "gate",
                    repo.commit_and_gate(task, agent, prepared, attempt=claim.attempt),
                    {"orkestra.task.id": task.id, "orkestra.gate.try": gate_try},
                    lambda done: {"orkestra.gate.passed": done.passed},
                )
            except REPOSITORY_ERRORS as error:
                why = f"the change could not be committed: {error}"
                return self.scheduler._finish(claim, TaskStatus.AWAITING_HUMAN, note=why, error=why)
            if gated.passed:
                break
            if gate_try == tries:
                failed = gated.gates.failed
                why = (
                    f"the gate `{failed.command if failed else '?'}` still fails after "
                    f"{tries} tries by {agent}"
                )
                return self.scheduler._finish(claim, TaskStatus.AWAITING_HUMAN, note=why, error=why)
            retry = self._follow_up(
                request, prepared, text, gate_feedback=gated.feedback(), attempt=gate_try + 1
            )
            again = await self._ask(claim, retry)
            if isinstance(again, _Ended):
                return again.status
            text = again
            taken = await repo.take_answer(prepared, again, edits_itself=edits_itself)
            self._note_refusals(task, agent, taken)
        assert gated is not None
        if not self.scheduler._holds(task.id):
            raise EngineError("the lease was lost while the agent worked")
        try:
            artifact = workspace.write_artifact(
                workspace.artifact_path(
                    self.scheduler.paths.projects_dir, task.project_id, task.id, task.title
                ),
                text,
            )
        except OSError as error:
            if is_disk_full(error):
                raise DiskFullError(self.scheduler.paths.projects_dir) from error
            reason = f"{agent}'s result could not be stored: {error.strerror or error}"
            return self.scheduler._finish(claim, TaskStatus.FAILED, note=reason, error=reason)
        shown = text + "\n\n" + await self.change_for_review(task.id, gated)
        return await self.scheduler._review(
            claim,
            text,
            artifact=artifact,
            brief=project.brief,
            written=list(gated.files),
            refused=[],
            shown=shown,
        )

    def _edits_itself(self, agent: str) -> bool:
        runtime = self.scheduler.pool.runtimes.get(agent)
        provider = getattr(runtime, "provider", None) if runtime is not None else None
        return bool(getattr(type(provider), "edits_files_itself", False))

    def _repo_request(
        self, task: Task, brief: str, prepared: Prepared, edits_itself: bool
    ) -> ProviderRequest:
        dependencies = self.scheduler.store.query(
            "SELECT t.title, coalesce(t.result, '') FROM task_dependency d JOIN task t ON t.id = d.depends_on"
            " WHERE d.task_id = ? ORDER BY t.id",
            (task.id,),
        )
        how = (
            "Make the change in the files of your working folder (a git worktree of the repository)."
            if edits_itself
            else CHANGE_BLOCKS_HELP
        )
        request = task_request(task, brief, dependencies, workspace=False, extra=(prepared.prompt_text, how))
        context = {**request.context, "repository": dict(prepared.context)}
        return dataclasses.replace(request, context=context, workdir=prepared.worktree)

    def _follow_up(
        self,
        request: ProviderRequest,
        prepared: Prepared,
        answer: str,
        *,
        edit_feedback: str | None = None,
        gate_feedback: str | None = None,
        attempt: int | None = None,
    ) -> ProviderRequest:
        """The same request, sent back with why the last answer did not get through."""
        from orkestra_tui.providers.base import Message

        feedback = edit_feedback or gate_feedback or ""
        current = self.repo_work().refreshed(prepared)
        repository = {**current, "edit_feedback": edit_feedback, "gate_feedback": gate_feedback}
        if attempt is not None:
            repository["attempt"] = attempt
        return dataclasses.replace(
            request,
            messages=(*request.messages, Message("assistant", answer), Message("user", feedback)),
            context={**request.context, "repository": repository},
        )

    async def _ask(self, claim: Claim, request: ProviderRequest, *, first: bool = False) -> str | _Ended:
        """Call the task's agent; its text, or how the task ended when the call failed."""
        task, agent = claim.task, claim.agent
        outcome = await self.scheduler.pool.call(
            agent,
            request,
            project_id=task.project_id,
            task_id=task.id,
            record=not first,
            started_call=claim.call_id if first else None,
        )
        if first:
            self.scheduler._unrecorded[task.id] = outcome.attempts
        if outcome.response is None:
            return _Ended(self.scheduler._call_failed(claim, outcome))
        problem = result_problem(outcome.response.text)
        if problem:
            return _Ended(
                self.scheduler._finish(
                    claim, TaskStatus.FAILED, note=f"{agent}'s result {problem}", error=problem
                )
            )
        text: str = outcome.response.text
        return text

    def _note_refusals(self, task: Task, agent: str, taken: Taken) -> None:
        if not taken.refused:
            return
        with self.scheduler.store.transaction() as tx:
            for refusal in taken.refused:
                tx.audit(
                    "engine",
                    "task.file_refused",
                    f"{agent} asked to change {refusal.path!r}; refused: {refusal.reason}",
                    subject=f"task:{task.id}",
                    project_id=task.project_id,
                    data={"path": refusal.path, "reason": refusal.reason},
                )

    async def change_for_review(self, task_id: int, gated: Gated | None) -> str:
        """What reviewers read beside the result: the diff, and the gates (as run now, or as stored)."""
        diff = await self.repo_work().diff(task_id)
        if gated is not None:
            runs = [(r.command, r.passed, r.duration_s) for r in gated.gates.results]
        else:
            stored = [run for run in changes.gate_runs(self.scheduler.store, task_id) if run.stage == "task"]
            last = max((run.attempt for run in stored), default=0)
            runs = [(run.command, run.passed, run.duration_s) for run in stored if run.attempt == last]
        if runs:
            gates = "\n".join(
                f"- `{command}`: {'passed' if passed else 'failed'} ({duration:.1f} s)"
                for command, passed, duration in runs
            )
        else:
            gates = "- (no gates are set in .orkestra.toml)"
        body = f"```diff\n{diff}\n```" if diff else "(the change touches no file)"
        return f"The change, against the integration branch:\n{body}\n\nGates on the change:\n{gates}"

    async def merge_approved(
        self, claim: Claim, project: Project, note: str, reviews: Sequence[Any] = ()
    ) -> str:
        """Merge an approved task; it is done once merged, else runs again once, then goes to the human."""
        task = claim.task
        repo = self.repo_work()
        with self.scheduler.store.transaction() as tx:
            changes.set_state(tx, task.id, "approved", now=tx.clock.now())
            tx.audit(
                "engine",
                "task.merge_queued",
                f"{task.title!r} is approved: it joins the merge queue",
                subject=f"task:{task.id}",
                project_id=task.project_id,
                data={},
            )
        try:
            merged = await telemetry.traced(
                "merge",
                repo.merge(task, project),
                {"orkestra.task.id": task.id},
                lambda done: {"orkestra.merge.result": done.kind},
            )
        except REPOSITORY_ERRORS as error:
            why = f"the merge could not be made: {error}"
            return self.scheduler._finish(
                claim, TaskStatus.AWAITING_HUMAN, note=why, error=why, reviews=reviews
            )
        if merged.kind in ("merged", "already", "nothing"):
            removal = await repo.clean_up(task, project)
            await remove_losers(self.scheduler.store, task)  # a contest's other entries, if it was one
            kept = "" if removal is None or removal.removed else f" ({removal.reason})"
            return self.scheduler._finish(claim, TaskStatus.DONE, note=(note + kept).strip(), reviews=reviews)
        change = changes.task_change(self.scheduler.store, task.id)
        what = (
            f"it conflicts with the integration branch on {merged.detail}"
            if merged.kind == "conflict"
            else f"the merged result fails its gates: {merged.detail}"
        )
        await repo.set_aside(task, what)  # a fresh run from the current head is the only way it can merge
        if change is not None and change.reruns == 0:
            return self.scheduler._finish(
                claim,
                TaskStatus.READY,
                note=f"{what}; it runs again from the current head",
                retry=True,
                reviews=reviews,
            )
        # The human decides: approving runs it once more from the current head; or cancel it.
        return self.scheduler._finish(
            claim, TaskStatus.AWAITING_HUMAN, note=f"{what}, again after a fresh run", reviews=reviews
        )


@dataclasses.dataclass(frozen=True)
class _Ended:
    """A call that ended the task's attempt, and the status it ended in."""

    status: str
