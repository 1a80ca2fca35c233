"""A task's change committed on its branch: the task's title, its trailers, the agent as author.

Every change in the task's worktree is committed (new, modified, deleted and
renamed files; ignored files stay out, as git ignores them). The message is
the task's title, a blank line, an optional body, and the trailers
`Orkestra-Task: <id>` and `Orkestra-Agent: <name>`; the author is the agent
(`<agent>@agents.orkestra.invalid`) and the committer Orkestra. A worktree
with nothing to commit gives a result that says so, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orkestra_tui.engine.repo.git import git_output, run_git
from orkestra_tui.engine.repo.names import agent_email, commit_subject, trailer_value
from orkestra_tui.engine.repo.status import ChangedPath, changed_paths, head_commit

TASK_TRAILER = "Orkestra-Task"
AGENT_TRAILER = "Orkestra-Agent"


@dataclass(frozen=True)
class CommitResult:
    """What committing a task's change did."""

    commit: str | None
    """The new commit, None when there was nothing to commit."""
    changes: tuple[ChangedPath, ...]
    """The paths the commit holds (empty when nothing was committed)."""

    @property
    def committed(self) -> bool:
        """Whether a commit was made."""
        return self.commit is not None

    @property
    def summary(self) -> str:
        """One line: the commit and how many paths, or that there was nothing to commit."""
        if self.commit is None:
            return "nothing to commit: the worktree has no change"
        count = len(self.changes)
        return f"committed {self.commit[:12]} ({count} path{'s' if count != 1 else ''})"


def task_message(title: str, task_id: str, agent_name: str, body: str = "") -> str:
    """The commit message of a task's change: title, optional body, then the two trailers."""
    parts = [commit_subject(title)]
    if body.strip():
        parts.append(body.strip())
    parts.append(f"{TASK_TRAILER}: {trailer_value(task_id)}\n{AGENT_TRAILER}: {trailer_value(agent_name)}")
    return "\n\n".join(parts) + "\n"


async def commit_task(
    worktree: Path, *, title: str, task_id: str, agent_name: str, body: str = ""
) -> CommitResult:
    """Commit every change in WORKTREE as the agent's work on the task; nothing to commit → no commit."""
    await run_git(["add", "--all", "--", "."], cwd=worktree)
    staged = await run_git(["diff", "--cached", "--quiet", "--no-ext-diff"], cwd=worktree, check=False)
    if staged.returncode == 0:
        return CommitResult(commit=None, changes=())
    if staged.returncode != 1:
        await run_git(["diff", "--cached", "--quiet"], cwd=worktree)  # raises its one-line GitError
    changes = tuple(await changed_paths(worktree))
    author = {"GIT_AUTHOR_NAME": trailer_value(agent_name), "GIT_AUTHOR_EMAIL": agent_email(agent_name)}
    await run_git(
        ["commit", "--quiet", "--no-verify", "--cleanup=whitespace", "--file=-"],
        cwd=worktree,
        input_text=task_message(title, task_id, agent_name, body),
        environment=author,
    )
    return CommitResult(commit=await head_commit(worktree), changes=changes)


async def commit_trailers(worktree: Path, commit: str) -> dict[str, str]:
    """The trailers of COMMIT's message (the last value of each key)."""
    output = await git_output(
        ["log", "-1", "--format=%(trailers:only,unfold,separator=%x00)", commit, "--"], cwd=worktree
    )
    trailers: dict[str, str] = {}
    for line in output.split("\0"):
        key, separator, value = line.partition(":")
        if separator:
            trailers[key.strip()] = value.strip()
    return trailers
