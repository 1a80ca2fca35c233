"""A repository project's side of carrying out a task: worktree, change, gates, diff and merge.

The scheduler calls these steps in order for a task of a project linked to a repository:

1. `prepare`: the task's worktree on its own branch, made from the integration branch's head
   (or found again after a crash), and the repository as context for the prompt.
2. `take_answer`: the agent's change. An API agent's answer is parsed into file changes and
   applied under the path rules; a `command` agent changed the worktree itself, and whatever
   `git status` shows is its change (paths it must not touch are refused and put back).
3. `commit` and `gate`: the change is committed on the task's branch, with the agent as author,
   then the gates of `.orkestra.toml` run in the worktree.
4. `diff`: what the reviewers (and the Board's `d`) see.
5. `merge`: approved tasks merge one at a time (a lock per repository), in dependency order
   (a task is ready only once its dependencies are merged). A conflict is found first with
   `git merge-tree`; the merge is made on a detached head in the integration worktree, the
   gates run on the merged result, and only then does the integration branch move. A killed
   run leaves the branch where it was, or moved with the task's trailer in its history, which
   `merge` recognises: every task is merged exactly once.
6. `clean_up`: the task's worktree and branch, once merged; kept, with the reason, otherwise.

Git holds the work; `changes` records where it is. Every git command goes through
`repo.git`; nothing here writes outside Orkestra's own worktrees under the data dir.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from orkestra_tui.engine.clock import Clock
from orkestra_tui.engine.models import Project, Task
from orkestra_tui.engine.repo import changes
from orkestra_tui.engine.repo.changes import RepositoryLink
from orkestra_tui.engine.repo.commits import commit_task
from orkestra_tui.engine.repo.context import build_repository_context, named_paths
from orkestra_tui.engine.repo.edits import (
    ApplyResult,
    Refusal,
    apply_changes,
    check_changed_paths,
    parse_changes,
)
from orkestra_tui.engine.repo.gates import GateRun, run_gates
from orkestra_tui.engine.repo.git import ORKESTRA_EMAIL, GitError, git_output, repository_lock, run_git
from orkestra_tui.engine.repo.link import (
    initialise_repository,
    link_repository,
    repository_problems,
    repository_root,
)
from orkestra_tui.engine.repo.merging import conflicting_paths, merge_message, recover_merge_state
from orkestra_tui.engine.repo.names import RepositoryError, WorktreeLayout, slug
from orkestra_tui.engine.repo.repo_settings import RepoSettings, RepoSettingsError, read_repo_settings
from orkestra_tui.engine.repo.status import branch_commit, changed_paths, head_commit, is_ancestor
from orkestra_tui.engine.repo.worktrees import (
    Removal,
    discard_uncommitted,
    ensure_task_worktree,
    remove_task_worktree,
)
from orkestra_tui.engine.store.store import Store
from orkestra_tui.secrets import redact

if TYPE_CHECKING:
    from orkestra_tui.providers.registry import AgentRuntime

WORKTREES_DIR = "worktrees"
CONTEXT_TOKENS = 16_000
"""The room the repository takes in a task's prompt: its file tree and the most relevant files."""
MERGE_PENDING = "merge.pending"
"""Beside the integration worktree while a merge is under way (see `RepoWork.merge`)."""
DIFF_CHARS = 60_000
"""The most of a diff a reviewer is shown; the Board shows it whole."""
GATE_FEEDBACK_CHARS = 4_000
MergeKind = Literal["merged", "already", "nothing", "conflict", "gates"]


@dataclass(frozen=True)
class Prepared:
    """A task's worktree, ready for its agent, and the repository as its prompt sees it."""

    link: RepositoryLink
    settings: RepoSettings
    worktree: Path
    branch: str
    base_commit: str
    prompt_text: str
    """The file tree and the most relevant files, marked as repository content."""
    context: dict[str, Any]
    """The same for simulated agents (see `SimulatedProvider`): files, named files, feedback."""


@dataclass(frozen=True)
class Taken:
    """What became of the agent's answer in the worktree."""

    written: tuple[str, ...] = ()
    refused: tuple[Refusal, ...] = ()
    feedback: str = ""
    """For the agent, when some of its edits could not be applied (empty otherwise)."""


@dataclass(frozen=True)
class Gated:
    """The task's change, committed, and its gates' outcome."""

    commit: str | None
    files: tuple[str, ...]
    gates: GateRun = field(default_factory=GateRun)

    @property
    def passed(self) -> bool:
        return self.gates.passed

    def feedback(self) -> str:
        """What the agent is told when a gate failed: the command, its exit, its output's tail."""
        failed = self.gates.failed
        if failed is None:
            return ""
        how = "timed out" if failed.timed_out else f"exited with {failed.exit_code}"
        output = failed.output[-GATE_FEEDBACK_CHARS:]
        return f"The gate `{failed.command}` {how} on your change. Its output:\n{output}"


@dataclass(frozen=True)
class Merged:
    kind: MergeKind
    commit: str | None = None
    detail: str = ""
    """The conflicting paths, or the failed gate's feedback."""


def layout_for(data_dir: Path, project: Project) -> WorktreeLayout:
    """Where a project's worktrees live: under the data dir, one folder per project."""
    return WorktreeLayout((data_dir / WORKTREES_DIR / f"{project.id}-{slug(project.name)}").resolve())


def worktree_key(task: Task, reruns: int = 0) -> str:
    """The task's worktree and branch name part: `task-<id>`, and `-r<n>` for its n-th fresh re-run."""
    return f"task-{task.id}" + (f"-r{reruns + 1}" if reruns else "")


class RepoWork:
    """The steps of a task in a repository project; the scheduler and the Engine call them."""

    def __init__(self, store: Store, clock: Clock, data_dir: Path, key_variables: Sequence[str] = ()) -> None:
        self.store = store
        self.clock = clock
        self.data_dir = data_dir
        self.key_variables = tuple(key_variables)
        """Every configured agent's key variable: none of them reaches a gate."""

    @classmethod
    def for_agents(
        cls, store: Store, clock: Clock, data_dir: Path, agents: Iterable[AgentRuntime]
    ) -> RepoWork:
        """The steps for an engine whose agents are AGENTS: their key variables are kept from the gates."""
        return cls(
            store, clock, data_dir, sorted({agent.key_variable for agent in agents if agent.key_variable})
        )

    # Linking.

    async def link(
        self, project: Project, folder: Path, *, init: bool = False, base: str | None = None
    ) -> RepositoryLink:
        """Link PROJECT to the repository at FOLDER (initialised first when INIT and it is not one)."""
        folder = folder.expanduser()
        # Initialising is safe to repeat: a repository with commits is left as it is.
        root = await initialise_repository(folder) if init else await repository_root(folder)
        chosen_base = base or self.settings_at(root).base  # `base` in .orkestra.toml, if it names one
        layout = layout_for(self.data_dir, project)
        linked = await link_repository(root, slug(project.name), layout.folder, base=chosen_base)
        link = RepositoryLink(
            project_id=project.id,
            path=linked.root,
            base=linked.base_branch,
            branch=linked.integration_branch,
            worktree=linked.integration_path,
            linked_at=self.clock.now(),
        )
        with self.store.transaction() as tx:
            changes.save_link(tx, link)
            tx.audit(
                "human",
                "project.repository",
                f"{project.name!r} works in {link.path} on {link.branch} (from {link.base})",
                subject=f"project:{project.id}",
                project_id=project.id,
                data={"path": str(link.path), "base": link.base, "branch": link.branch},
            )
        return link

    def settings_at(self, folder: Path) -> RepoSettings:
        """`.orkestra.toml` at FOLDER's top (defaults without one); RepoSettingsError in one line."""
        return read_repo_settings(folder)

    async def problems(self, link: RepositoryLink) -> list[str]:
        """The "repository usable" check: one line per problem, none when work can go on."""
        found = await repository_problems(link.path, link.base, link.branch, integration_path=link.worktree)
        if not found:
            try:
                self.settings_at(link.worktree)
            except RepoSettingsError as error:
                found.append(str(error))
        return found

    # A task's work.

    async def prepare(self, task: Task, link: RepositoryLink, project: Project) -> Prepared:
        """The task's worktree (fresh, or found again after a crash), cleaned back to its last commit."""
        settings = self.settings_at(link.worktree)
        previous = changes.task_change(self.store, task.id)
        reruns = previous.reruns if previous is not None else 0
        layout = layout_for(self.data_dir, project)
        made = await ensure_task_worktree(
            link.path, layout, slug(project.name), link.branch, worktree_key(task, reruns)
        )
        if made.reused:  # a killed run's half-done attempt: start again from the last commit
            await discard_uncommitted(made.path)
        if previous is None or previous.branch != made.branch or previous.worktree is None:
            with self.store.transaction() as tx:
                changes.start_change(
                    tx,
                    task.id,
                    branch=made.branch,
                    worktree=made.path,
                    base_commit=made.base_commit,
                    now=tx.clock.now(),
                )
                tx.audit(
                    "engine",
                    "task.worktree",
                    f"{task.title!r} works on {made.branch}, from {made.base_commit[:12]}",
                    subject=f"task:{task.id}",
                    project_id=task.project_id,
                    data={"branch": made.branch, "worktree": str(made.path), "base": made.base_commit},
                )
        return await self.prepared_at(
            task,
            link,
            settings,
            made.path,
            branch=made.branch,
            base_commit=made.base_commit,
            previous=previous,
        )

    async def prepared_at(
        self,
        task: Task,
        link: RepositoryLink,
        settings: RepoSettings,
        worktree: Path,
        *,
        branch: str,
        base_commit: str,
        previous: changes.TaskChange | None = None,
    ) -> Prepared:
        """The repository as the task's prompt sees it from WORKTREE (a task's, or a contest entry's)."""
        files = (await git_output(["ls-files", "-z"], cwd=worktree)).split("\0")
        files = [name for name in files if name]
        task_text = f"{task.title}\n{task.instructions}\n" + "\n".join(task.acceptance)
        built = build_repository_context(
            files,
            lambda name: _read_inside(worktree, name),
            task_text=task_text,
            budget_tokens=CONTEXT_TOKENS,
            changed_by_dependencies=self._dependency_files(task),
        )
        named = {name: _text_of(worktree, name) for name in named_paths(task_text, files)}
        if previous is not None and previous.state == "kept":  # a re-run sees the files it conflicted on
            for name in files:
                if name in previous.note and name not in named:
                    named[name] = _text_of(worktree, name)
        context = {
            "files": files,
            "named_files": named,
            "attempt": task.attempts + 1,
            "gate_feedback": None,
            "edit_feedback": None,
            "conflict": None,
            "task_key": task.key or f"t{task.id}",
        }
        if previous is not None and previous.note:
            if previous.state == "kept":
                context["conflict"] = previous.note
            elif task.note:
                context["gate_feedback"] = task.note
        return Prepared(link, settings, worktree, branch, base_commit, built.text, context)

    def refreshed(self, prepared: Prepared) -> dict[str, Any]:
        """The repository context again, with the named files as they are now (after an attempt)."""
        named = {name: _text_of(prepared.worktree, name) for name in prepared.context["named_files"]}
        return {**prepared.context, "named_files": named}

    def _dependency_files(self, task: Task) -> list[str]:
        rows = self.store.query(
            "SELECT c.files FROM task_dependency d JOIN task_change c ON c.task_id = d.depends_on"
            " WHERE d.task_id = ? ORDER BY d.depends_on",
            (task.id,),
        )
        import json

        return [name for (files,) in rows for name in json.loads(files or "[]")]

    async def take_answer(self, prepared: Prepared, text: str, *, edits_itself: bool) -> Taken:
        """Apply an API agent's answer to the worktree, or judge what a command agent changed there."""
        protect = prepared.settings.protect
        if edits_itself:
            # A CLI may commit on its own: its commits become a change like any other, to be judged.
            await self._uncommit_agent_commits(prepared.worktree, prepared.base_commit)
            found = await changed_paths(prepared.worktree)
            paths = [path for change in found for path in (change.path, change.original_path) if path]
            refused = check_changed_paths(paths, protect, worktree=prepared.worktree)
            if refused:  # put every refused path back as it was: none of it is kept
                await self._restore(prepared.worktree, [refusal.path for refusal in refused])
            return Taken(
                written=tuple(sorted(set(paths) - {r.path for r in refused})), refused=tuple(refused)
            )
        result: ApplyResult = apply_changes(prepared.worktree, parse_changes(text), protect=protect)
        return Taken(
            written=(*result.written, *result.deleted),
            refused=tuple(result.refused),
            feedback=result.feedback(),
        )

    async def _uncommit_agent_commits(self, worktree: Path, base: str) -> None:
        """Fold the commits the agent made itself (not committed by Orkestra) back into the worktree."""
        output = await git_output(["log", "--format=%H %ce", f"{base}..HEAD", "--"], cwd=worktree)
        oldest_foreign = None
        for line in output.splitlines():  # newest first: the agent's commits sit on top
            commit, _, committer = line.partition(" ")
            if committer == ORKESTRA_EMAIL:
                break
            oldest_foreign = commit
        if oldest_foreign is not None:
            await run_git(["reset", "--soft", "--quiet", f"{oldest_foreign}^"], cwd=worktree)

    async def _restore(self, worktree: Path, paths: Sequence[str]) -> None:
        safe = [path for path in paths if path and not path.startswith(("/", "-"))]
        for path in safe:
            tracked = await run_git(["ls-files", "--error-unmatch", "--", path], cwd=worktree, check=False)
            if tracked.returncode == 0:
                await run_git(["checkout", "HEAD", "--", path], cwd=worktree, check=False)
            else:
                await run_git(["clean", "-d", "--force", "--quiet", "--", path], cwd=worktree, check=False)

    async def commit_and_gate(self, task: Task, agent: str, prepared: Prepared, *, attempt: int) -> Gated:
        """Commit the change on the task's branch (the agent as author), then run the gates on it."""
        made = await commit_task(prepared.worktree, title=task.title, task_id=str(task.id), agent_name=agent)
        previous = changes.task_change(self.store, task.id)
        head = made.commit or (previous.commit if previous is not None else None)
        if head is None:
            head = await head_commit(prepared.worktree)
        files = await self._changed_since_base(prepared.worktree, prepared.base_commit)
        gates = GateRun()
        if files and prepared.settings.gates:
            gates = await run_gates(
                prepared.settings.gates,
                prepared.worktree,
                timeout_s=prepared.settings.gate_timeout_s,
                key_variables=self.key_variables,
            )
            if await changed_paths(prepared.worktree):  # what the gates left (caches, reformatting)
                await discard_uncommitted(prepared.worktree)
        with self.store.transaction() as tx:
            now = tx.clock.now()
            changes.record_commit(tx, task.id, commit=head, files=files, now=now)
            for result in gates.results:
                changes.record_gate(
                    tx,
                    task.id,
                    attempt=attempt,
                    stage="task",
                    command=result.command,
                    exit_code=None if result.timed_out else result.exit_code,
                    duration_s=result.duration_s,
                    output=result.output or result.error,
                    now=now,
                )
            if gates.passed:
                changes.set_state(tx, task.id, "gated", now=now)
            tx.audit(
                agent,
                "task.committed" if made.committed else "task.unchanged",
                f"{task.title!r}: {made.summary}"
                + ("" if not gates.results else "; gates " + ("passed" if gates.passed else "failed")),
                subject=f"task:{task.id}",
                project_id=task.project_id,
                data={"commit": head, "files": files, "gates": gates.as_json()},
            )
        return Gated(commit=head if files else None, files=tuple(files), gates=gates)

    async def _changed_since_base(self, worktree: Path, base: str) -> list[str]:
        output = await git_output(
            ["diff", "--name-only", "-z", "--no-renames", base, "HEAD", "--"], cwd=worktree
        )
        return sorted(name for name in output.split("\0") if name)

    async def diff(self, task_id: int, *, limit: int | None = DIFF_CHARS) -> str:
        """The task's change against the integration branch it will merge into, as a unified diff."""
        change = changes.task_change(self.store, task_id)
        task_row = self.store.query("SELECT project_id FROM task WHERE id = ?", (task_id,))
        link = changes.repository(self.store, task_row[0][0]) if task_row else None
        if change is None or link is None:
            return ""
        tip = change.merged_commit or change.commit
        if tip is None:
            return ""
        if change.merged_commit:
            spec = [f"{change.merged_commit}^1", change.merged_commit]
        else:
            spec = [f"{link.branch}...{tip}"]
        try:
            text = await git_output(
                ["diff", "--no-color", "--no-ext-diff", "--stat", "--patch", *spec, "--"], cwd=link.path
            )
        except GitError as error:
            return f"(the diff could not be read: {error})"
        text = redact(text)
        if limit is not None and len(text) > limit:
            return text[:limit] + f"\n… ({len(text) - limit:,} more characters on the Board: press d)"
        return text

    # The merge queue.

    async def merge(self, task: Task, project: Project) -> Merged:
        """Merge the task's approved change into the integration branch, gated, exactly once.

        A marker file beside the integration worktree says a merge is under way; a run killed
        mid-merge leaves it, and the next merge first puts the worktree back on its branch.
        """
        link = changes.repository(self.store, project.id)
        change = changes.task_change(self.store, task.id)
        if link is None or change is None:
            return Merged("nothing")
        async with _merge_turn(link):
            integration = link.worktree
            pending = integration.parent / MERGE_PENDING
            if pending.exists():
                await recover_merge_state(integration)
                await run_git(["checkout", "--quiet", "--force", link.branch], cwd=integration)
                await run_git(["clean", "-d", "--force", "--quiet"], cwd=integration)
                pending.unlink()
            before = await branch_commit(link.path, link.branch)
            if before is None:
                raise RepositoryError(f"the integration branch {link.branch} is missing from {link.path}")
            tip = change.commit
            if tip is None or not change.files:
                self._record_merge(task, before, already=False, empty=True)
                return Merged("nothing", before)
            if await is_ancestor(link.path, tip, before):  # merged before a crash kept it from the record
                merge_commit = await self._merge_commit_of(link, tip) or before
                self._record_merge(task, merge_commit, already=True)
                return Merged("already", merge_commit)
            conflicts = await conflicting_paths(link.path, before, tip)
            if conflicts:
                return Merged("conflict", detail=", ".join(conflicts))
            settings = self.settings_at(integration)
            pending.write_text(f"{task.id}\n")
            # On a detached head: the branch moves only once the merged result passes its gates.
            await run_git(["checkout", "--quiet", "--detach", before], cwd=integration)
            message = merge_message(str(task.id), task.title)
            made = await run_git(
                ["merge", "--no-ff", "--no-edit", "--no-verify", "-m", message, tip],
                cwd=integration,
                check=False,
            )
            if made.returncode != 0:
                await recover_merge_state(integration)
                await self._back_on_branch(link, pending)
                first_line = made.stderr.strip().splitlines()[0] if made.stderr.strip() else ""
                return Merged("conflict", detail=first_line)
            merged = await head_commit(integration)
            gates = GateRun()
            if settings.gates:
                gates = await run_gates(
                    settings.gates,
                    integration,
                    timeout_s=settings.gate_timeout_s,
                    key_variables=self.key_variables,
                )
            self._record_gates(task, gates, stage="merge")
            if not gates.passed:
                await self._back_on_branch(link, pending, clean=True)
                return Merged("gates", detail=Gated(None, (), gates).feedback())
            await run_git(["update-ref", f"refs/heads/{link.branch}", merged, before], cwd=integration)
            await self._back_on_branch(link, pending, clean=bool(gates.results))
            self._record_merge(task, merged, already=False)
            return Merged("merged", merged)

    async def _back_on_branch(self, link: RepositoryLink, pending: Path, *, clean: bool = False) -> None:
        """The integration worktree back on its branch (what the gates left removed); no merge pending."""
        await run_git(["checkout", "--quiet", "--force", link.branch], cwd=link.worktree)
        if clean:
            await run_git(["clean", "-d", "--force", "--quiet"], cwd=link.worktree)
        pending.unlink(missing_ok=True)

    async def _merge_commit_of(self, link: RepositoryLink, tip: str) -> str | None:
        """The first merge commit on the integration branch that brought TIP in."""
        output = await git_output(
            ["rev-list", "--ancestry-path", "--merges", "--reverse", f"{tip}..refs/heads/{link.branch}"],
            cwd=link.path,
        )
        return output.split()[0] if output.split() else None

    def _record_gates(self, task: Task, gates: GateRun, *, stage: changes.GateStage) -> None:
        if not gates.results:
            return
        with self.store.transaction() as tx:
            tx.audit(
                "engine",
                "task.gated",
                f"Gates on {task.title!r} merged: " + ("passed" if gates.passed else "failed"),
                subject=f"task:{task.id}",
                project_id=task.project_id,
                data={"stage": stage, "gates": gates.as_json()},
            )
            for result in gates.results:
                changes.record_gate(
                    tx,
                    task.id,
                    attempt=task.attempts,
                    stage=stage,
                    command=result.command,
                    exit_code=None if result.timed_out else result.exit_code,
                    duration_s=result.duration_s,
                    output=result.output or result.error,
                    now=tx.clock.now(),
                )

    def _record_merge(self, task: Task, commit: str, *, already: bool, empty: bool = False) -> None:
        with self.store.transaction() as tx:
            changes.record_merge(tx, task.id, merged_commit=commit, now=tx.clock.now())
            if empty:
                summary = f"{task.title!r} changed no file: nothing to merge"
            elif already:
                summary = f"{task.title!r} was merged already ({commit[:12]}); recorded"
            else:
                summary = f"{task.title!r} merged into the integration branch ({commit[:12]})"
            tx.audit(
                "engine",
                "task.merged",
                summary,
                subject=f"task:{task.id}",
                project_id=task.project_id,
                data={"commit": commit, "already": already, "empty": empty},
            )

    async def set_aside(self, task: Task, why: str) -> None:
        """The task runs again on a fresh worktree from the current head.

        Its old worktree goes (its work is committed on its branch, which is kept, unmerged, for
        whoever wants to look); git refuses to remove one holding uncommitted changes, and then
        it stays, with the reason on record.
        """
        change = changes.task_change(self.store, task.id)
        link = changes.repository(self.store, task.project_id)
        kept = ""
        if change is not None and link is not None and change.worktree is not None:
            async with repository_lock(link.path):
                removed = await run_git(
                    ["worktree", "remove", str(change.worktree)], cwd=link.path, check=False
                )
            if removed.returncode != 0 and change.worktree.exists():
                kept = f"; its worktree {change.worktree} is kept: {removed.stderr.strip()[:200]}"
        branch = f" (its first branch {change.branch} is kept)" if change is not None else ""
        with self.store.transaction() as tx:
            changes.count_rerun(tx, task.id, note=why, now=tx.clock.now())
            tx.audit(
                "engine",
                "task.set_aside",
                f"{task.title!r} runs again from the current head: {why}{branch}{kept}",
                subject=f"task:{task.id}",
                project_id=task.project_id,
                data={"note": why, "branch": change.branch if change is not None else None},
            )

    async def clean_up(self, task: Task, project: Project) -> Removal | None:
        """Remove the merged task's worktree and branch; keep (and say why) anything unmerged."""
        link = changes.repository(self.store, project.id)
        change = changes.task_change(self.store, task.id)
        if link is None or change is None or change.worktree is None:
            return None
        key = change.worktree.name
        removal = await _remove_merged_worktree(link, change) if change.state == "merged" else None
        if removal is None:  # not merged, or git refused: the careful way, which says what it keeps
            removal = await remove_task_worktree(
                link.path,
                layout_for(self.data_dir, project),
                slug(project.name),
                link.branch,
                key,
                base_commit=change.base_commit,
            )
        with self.store.transaction() as tx:
            if removal.removed:
                changes.forget_worktree(tx, task.id, now=tx.clock.now())
            else:
                changes.note_kept(tx, task.id, note=removal.reason, now=tx.clock.now())
            tx.audit(
                "engine",
                "task.worktree_removed" if removal.removed else "task.worktree_kept",
                f"{task.title!r}: {removal.reason}",
                subject=f"task:{task.id}",
                project_id=task.project_id,
                data={"removed": removal.removed, "reason": removal.reason},
            )
        return removal


async def _remove_merged_worktree(link: RepositoryLink, change: changes.TaskChange) -> Removal | None:
    """The quick removal of a merged task's worktree and branch: two commands, or None if git refuses.

    `git worktree remove` itself refuses a worktree with uncommitted or untracked files, and the
    branch's work is in the integration branch: nothing unmerged is lost.
    """
    assert change.worktree is not None
    async with repository_lock(link.path):
        removed = await run_git(["worktree", "remove", str(change.worktree)], cwd=link.path, check=False)
        if removed.returncode != 0:
            return None
        await run_git(["branch", "--delete", "--force", change.branch], cwd=link.path, check=False)
    reason = f"removed worktree {change.worktree} and branch {change.branch}"
    return Removal(change.worktree.name, True, reason)


@contextlib.asynccontextmanager
async def _merge_turn(link: RepositoryLink) -> AsyncIterator[None]:
    """One merge at a time per repository, across processes: an advisory lock beside the worktrees.

    The lock goes with the process holding it, so a killed run never leaves the queue stuck.
    """
    lock_path = link.worktree.parent / "merge.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                import asyncio

                await asyncio.sleep(0.05)
        yield
    finally:
        os.close(handle)


def _read_inside(worktree: Path, name: str) -> bytes:
    """A tracked file's bytes, only if it is a regular file inside the worktree (a link may lead out).

    An `OSError` tells the context builder to skip the file.
    """
    path = worktree / name
    if path.is_symlink() or not path.resolve().is_relative_to(worktree.resolve()) or not path.is_file():
        raise OSError(f"{name} is not a regular file inside the worktree")
    return path.read_bytes()


def _text_of(worktree: Path, name: str) -> str:
    """A worktree file's text for the prompt ('' when it is gone, not text, or leads outside)."""
    try:
        return _read_inside(worktree, name).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
