"""Names and places: Orkestra's branch names, the slugs in them, and where its worktrees live.

Pure functions, no git: the integration branch is `orkestra/<project-slug>`, a
task's branch `orkestra-task/<project-slug>/<task-key>`, and every worktree lives
under one folder the caller gives (in the data dir, never inside the user's
repository): `<folder>/integration` and `<folder>/tasks/<task-key>`.

Task branches cannot be `orkestra/<project-slug>/<task-key>`: git keeps a
branch as a file under refs/heads, so `orkestra/<project-slug>` (a file) and
`orkestra/<project-slug>/<task-key>` (a file in a folder of the same name)
cannot both exist. Hence a prefix of their own, which no project slug can
collide with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orkestra_tui.errors import OrkestraError

BRANCH_PREFIX = "orkestra"
TASK_BRANCH_PREFIX = "orkestra-task"
SLUG_CHARS = 48
TASK_KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
AGENT_EMAIL_DOMAIN = "agents.orkestra.invalid"


class RepositoryError(OrkestraError):
    """A repository, branch or worktree that Orkestra cannot use as asked, in one line."""


def slug(text: str, *, fallback: str = "project") -> str:
    """Lower-case ASCII letters, digits and single hyphens: `My Project!` → `my-project`."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    joined = "-".join(words)[:SLUG_CHARS].strip("-")
    return joined or fallback


def integration_branch_name(project_slug: str) -> str:
    """`orkestra/<project-slug>`, the branch Orkestra merges its tasks into."""
    return f"{BRANCH_PREFIX}/{checked_slug(project_slug)}"


def task_branch_name(project_slug: str, task_key: str) -> str:
    """`orkestra-task/<project-slug>/<task-key>`, the branch a task's work is committed on."""
    return f"{task_branch_prefix(project_slug)}{checked_task_key(task_key)}"


def task_branch_prefix(project_slug: str) -> str:
    """`orkestra-task/<project-slug>/`, what every task branch of the project starts with."""
    return f"{TASK_BRANCH_PREFIX}/{checked_slug(project_slug)}/"


def checked_slug(project_slug: str) -> str:
    """The slug itself when it is one (see `slug`), otherwise RepositoryError."""
    if project_slug != slug(project_slug, fallback=""):
        raise RepositoryError(f"{project_slug!r} is not a project slug (lower-case letters, digits, hyphens)")
    return project_slug


def checked_task_key(task_key: str) -> str:
    """The key itself when it can name a branch and a folder (letters, digits, -, _), else RepositoryError."""
    if TASK_KEY_PATTERN.fullmatch(task_key) is None:
        raise RepositoryError(f"{task_key!r} cannot name a task's branch (letters, digits, '-' and '_' only)")
    return task_key


def agent_email(agent_name: str) -> str:
    """An agent's author email, `<agent>@agents.orkestra.invalid` (a domain that never exists)."""
    return f"{slug(agent_name, fallback='agent')}@{AGENT_EMAIL_DOMAIN}"


def commit_subject(title: str, *, fallback: str = "Orkestra task") -> str:
    """A task title made one line for a commit's subject: control characters dropped, spaces collapsed."""
    printable = "".join(character if character.isprintable() else " " for character in title)
    return " ".join(printable.split())[:200] or fallback


def trailer_value(value: str) -> str:
    """A trailer's value on one line (a newline would end the trailer and start another)."""
    return commit_subject(value, fallback="-")


@dataclass(frozen=True)
class WorktreeLayout:
    """Where one project's worktrees live: a folder of Orkestra's own, outside the user's repository."""

    folder: Path

    @property
    def integration_path(self) -> Path:
        """The integration branch's worktree."""
        return self.folder / "integration"

    @property
    def tasks_folder(self) -> Path:
        """The folder that holds one worktree per task, named by the task's key."""
        return self.folder / "tasks"

    def task_path(self, task_key: str) -> Path:
        """The worktree of the task with this key."""
        return self.tasks_folder / checked_task_key(task_key)
