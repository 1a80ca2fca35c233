"""A contest's entries in a project linked to a repository: a worktree and branch each, gated.

Each entry works in its own worktree on `orkestra-task/<project>/task-<id>-<letter>`, made from
the integration branch's head (found again after a crash, cleaned back to its last commit).
Its agent's change is applied and committed there like a single task's, then gated; a failed
gate goes back to the same agent with its output, up to `max_attempts`, then the entry drops
out. The winner's branch and commit become the task's change (`adopt_winner`); the losers'
worktrees and branches are removed once the task merges (`remove_losers`), their diffs kept in
the decision record.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.execution.checks import result_problem
from orkestra_tui.engine.execution.contest import records as contests
from orkestra_tui.engine.execution.contest.view import EntryState
from orkestra_tui.engine.repo import changes
from orkestra_tui.engine.repo.commits import commit_task
from orkestra_tui.engine.repo.gates import GateRun, run_gates
from orkestra_tui.engine.repo.git import GitError, git_output
from orkestra_tui.engine.repo.names import RepositoryError, slug
from orkestra_tui.engine.repo.repo_settings import RepoSettingsError
from orkestra_tui.engine.repo.status import changed_paths, head_commit
from orkestra_tui.engine.repo.work import Gated, Prepared, layout_for
from orkestra_tui.engine.repo.worktrees import discard_uncommitted, ensure_task_worktree

if TYPE_CHECKING:
    from orkestra_tui.engine.agents.calls import CallOutcome
    from orkestra_tui.engine.execution.claims import Claim
    from orkestra_tui.engine.execution.contest.host import ContestHost
    from orkestra_tui.engine.execution.contest.records import EntryRecord
    from orkestra_tui.engine.models import Project, Task
    from orkestra_tui.engine.repo.changes import RepositoryLink
    from orkestra_tui.engine.store.store import Store
    from orkestra_tui.providers.base import ProviderRequest

ENTRY_ERRORS = (GitError, RepositoryError, RepoSettingsError)


def entry_key(task: Task, letter: str) -> str:
    """An entry's worktree and branch name part: `task-<id>-<letter>`."""
    return f"task-{task.id}-{letter.lower()}"


class EntryWork:
    """The entries of one claimed contest task in a repository project."""

    def __init__(
        self,
        host: ContestHost,
        claim: Claim,
        project: Project,
        link: RepositoryLink,
        *,
        store_entry: Callable[..., None],
        swap: Callable[[Claim, EntryRecord, CallOutcome], EntryRecord | None],
    ) -> None:
        self.host = host
        self.store_entry = store_entry
        self.swap = swap
        self.claim = claim
        self.project = project
        self.link = link

    async def run(self, entry: EntryRecord, *, swapped: bool = False) -> None:
        """Make, commit and gate one entry; it is stored the moment it ends.

        An agent that cannot be called for a passing reason hands the entry to a spare agent, once.
        """
        store_entry = self.store_entry
        try:
            prepared = await self._prepare(entry)
        except ENTRY_ERRORS as error:
            store_entry(self.claim, entry, EntryState.FAILED, note=f"its worktree could not be made: {error}")
            return
        steps = self.host.repo
        edits_itself = steps._edits_itself(entry.agent)
        task = self.claim.task
        request = steps._repo_request(task, self.project.brief, prepared, edits_itself)
        outcomes: list[CallOutcome] = []
        text = await self._ask(entry, request, outcomes, first=True)
        spare = self.swap(self.claim, entry, outcomes[-1]) if text is None and not swapped else None
        if spare is not None:
            await self.run(spare, swapped=True)
            return
        if text is None:
            store_entry(self.claim, entry, EntryState.FAILED, *outcomes, note=_why(outcomes, entry.agent))
            return
        repo = steps.repo_work()
        taken = await repo.take_answer(prepared, text, edits_itself=edits_itself)
        if taken.feedback and not edits_itself:  # sent back once with the reason, never applied loosely
            again = await self._ask(
                entry, steps._follow_up(request, prepared, text, edit_feedback=taken.feedback), outcomes
            )
            if again is None:
                store_entry(self.claim, entry, EntryState.FAILED, *outcomes, note=_why(outcomes, entry.agent))
                return
            text = again
            await repo.take_answer(prepared, again, edits_itself=False)
        tries = max(1, self.host.settings.engine.max_attempts)
        for gate_try in range(1, tries + 1):
            try:
                gated = await self._commit_and_gate(entry, prepared)
            except ENTRY_ERRORS as error:
                why = f"the change could not be committed: {error}"
                store_entry(self.claim, entry, EntryState.FAILED, *outcomes, result=text, note=why)
                return
            if gated.passed:
                break
            if gate_try == tries:
                failed = gated.gates.failed
                why = f"the gate `{failed.command if failed else '?'}` still fails after {tries} tries"
                store_entry(
                    self.claim,
                    entry,
                    EntryState.DROPPED,
                    *outcomes,
                    result=text,
                    note=why,
                    **self._fields(gated),
                )
                return
            follow = steps._follow_up(
                request, prepared, text, gate_feedback=gated.feedback(), attempt=gate_try + 1
            )
            again = await self._ask(entry, follow, outcomes)
            if again is None:
                store_entry(self.claim, entry, EntryState.FAILED, *outcomes, note=_why(outcomes, entry.agent))
                return
            text = again
            await repo.take_answer(prepared, again, edits_itself=edits_itself)
        added, removed = await _line_counts(prepared.worktree, prepared.base_commit, gated.commit)
        store_entry(
            self.claim,
            entry,
            EntryState.PASSED,
            *outcomes,
            result=text,
            added=added,
            removed=removed,
            **self._fields(gated),
        )

    async def _prepare(self, entry: EntryRecord) -> Prepared:
        task, link, project = self.claim.task, self.link, self.project
        repo = self.host.repo.repo_work()
        settings = repo.settings_at(link.worktree)
        made = await ensure_task_worktree(
            link.path,
            layout_for(self.host.paths.data_dir, project),
            slug(project.name),
            link.branch,
            entry_key(task, entry.letter),
        )
        if made.reused:  # a killed run's half-done entry: start again from its last commit
            await discard_uncommitted(made.path)
        if entry.branch != made.branch or entry.worktree != str(made.path):
            with self.host.store.transaction() as tx:
                contests.note_worktree(
                    tx,
                    task.id,
                    entry.letter,
                    branch=made.branch,
                    worktree=str(made.path),
                    base_commit=made.base_commit,
                )
        base = entry.base_commit if made.reused and entry.base_commit else made.base_commit
        return await repo.prepared_at(task, link, settings, made.path, branch=made.branch, base_commit=base)

    async def _ask(
        self,
        entry: EntryRecord,
        request: ProviderRequest,
        outcomes: list[CallOutcome],
        *,
        first: bool = False,
    ) -> str | None:
        """Call the entry's agent (its first call recorded as started before it goes out); its text."""
        from orkestra_tui.engine.agents.call_log import start_call
        from orkestra_tui.engine.agents.calls import call_start

        host, task = self.host, self.claim.task
        started: int | None = None
        if first:
            call = call_start(
                host.pool.runtimes[entry.agent],
                request,
                now=host.clock.now(),
                owner=host.pool.call_owner,
                project_id=task.project_id,
                task_id=task.id,
            )
            with host.store.transaction() as tx:
                started = start_call(tx, call)
                contests.note_calls(tx, task.id, {entry.letter: entry.agent})
            host._started.setdefault(task.id, []).append((started, call))
        outcome = await host.pool.call(
            entry.agent,
            request,
            project_id=task.project_id,
            task_id=task.id,
            record=False,
            started_call=started,
        )
        outcomes.append(outcome)
        if outcome.response is None or result_problem(outcome.response.text):
            return None
        text: str = outcome.response.text
        return text

    async def _commit_and_gate(self, entry: EntryRecord, prepared: Prepared) -> Gated:
        task = self.claim.task
        made = await commit_task(
            prepared.worktree, title=task.title, task_id=str(task.id), agent_name=entry.agent
        )
        head = made.commit or await head_commit(prepared.worktree)
        output = await git_output(
            ["diff", "--name-only", "-z", "--no-renames", prepared.base_commit, "HEAD", "--"],
            cwd=prepared.worktree,
        )
        files = sorted(name for name in output.split("\0") if name)
        gates = GateRun()
        if files and prepared.settings.gates:
            gates = await run_gates(
                prepared.settings.gates,
                prepared.worktree,
                timeout_s=prepared.settings.gate_timeout_s,
                key_variables=self.host.repo.repo_work().key_variables,
            )
            if await changed_paths(prepared.worktree):  # what the gates left (caches, reformatting)
                await discard_uncommitted(prepared.worktree)
        return Gated(commit=head if files else None, files=tuple(files), gates=gates)

    @staticmethod
    def _fields(gated: Gated) -> dict[str, object]:
        return {
            "commit": gated.commit,
            "files": list(gated.files),
            "gates": [(result.command, result.passed) for result in gated.gates.results],
        }


def _why(outcomes: list[CallOutcome], agent: str) -> str:
    last = outcomes[-1] if outcomes else None
    if last is None or last.response is None:
        error = last.error if last is not None else None
        return f"{agent} could not be called: {error}" if error is not None else f"{agent} gave no answer"
    return f"{agent}'s result {result_problem(last.response.text)}"


async def _line_counts(worktree: Path, base: str, commit: str | None) -> tuple[int, int]:
    """Lines added and removed by the entry's commit against where it started."""
    if commit is None:
        return 0, 0
    output = await git_output(["diff", "--numstat", "--no-renames", base, commit, "--"], cwd=worktree)
    added = removed = 0
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            added, removed = added + int(parts[0]), removed + int(parts[1])
    return added, removed


def adopt_winner(store: Store, task: Task, entry: EntryRecord) -> None:
    """The winning entry's branch and commit become the task's change, gated, ready for review."""
    if entry.branch is None or entry.worktree is None:
        raise EngineError(f"Entry {entry.letter} of task {task.id} has no branch to adopt")
    with store.transaction() as tx:
        now = tx.clock.now()
        changes.start_change(
            tx,
            task.id,
            branch=entry.branch,
            worktree=Path(entry.worktree),
            base_commit=entry.base_commit,
            now=now,
        )
        if entry.commit is not None:
            changes.record_commit(tx, task.id, commit=entry.commit, files=entry.files, now=now)
        changes.set_state(tx, task.id, "gated", now=now)
        tx.audit(
            "engine",
            "task.worktree",
            f"{task.title!r} takes Entry {entry.letter}'s change on {entry.branch}",
            subject=f"task:{task.id}",
            project_id=task.project_id,
            data={"branch": entry.branch, "worktree": entry.worktree, "base": entry.base_commit},
        )
