"""A contest entry's content: its diff (or Markdown result), and the detail each voter reads of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orkestra_tui.engine.execution.contest.records import EntryRecord
from orkestra_tui.engine.repo import changes
from orkestra_tui.engine.repo.git import GitError, git_output
from orkestra_tui.secrets import redact

if TYPE_CHECKING:
    from orkestra_tui.engine.store.store import Store

DETAIL_CHARS = 12_000
"""The most of an entry a voter reads (about 3,000 tokens): the diff first, then gates and files."""


async def entry_diff(store: Store, task_id: int, entry: EntryRecord, *, limit: int | None) -> str:
    """The entry's change against the commit it started from; its Markdown result without a repository."""
    project = store.query("SELECT project_id FROM task WHERE id = ?", (task_id,))
    link = changes.repository(store, project[0][0]) if project else None
    if link is None:
        text = entry.result
    elif entry.commit is None or entry.base_commit is None:
        text = ""
    else:
        try:
            text = await git_output(
                [
                    "diff",
                    "--no-color",
                    "--no-ext-diff",
                    "--stat",
                    "--patch",
                    entry.base_commit,
                    entry.commit,
                    "--",
                ],
                cwd=link.path,
            )
        except GitError as error:
            return f"(the diff could not be read: {error})"
        text = redact(text)
    if limit is not None and len(text) > limit:
        return text[:limit] + f"\n… ({len(text) - limit:,} more characters)"
    return text


async def entry_detail(store: Store, task_id: int, entry: EntryRecord, *, repository: bool) -> str:
    """What a voter reads of an entry, within `DETAIL_CHARS`: the diff (or result), gates, files."""
    gates = "\n".join(f"- `{command}`: {'passed' if ok else 'failed'}" for command, ok in entry.gates)
    files = ", ".join(entry.files)
    tail = []
    if repository:
        tail.append("Gates:\n" + (gates or "- (no gates are set in .orkestra.toml)"))
        tail.append(f"Files changed ({len(entry.files)}, +{entry.added} -{entry.removed}): {files or 'none'}")
    tail_text = "\n\n".join(tail)
    room = max(1_000, DETAIL_CHARS - len(tail_text) - 40)
    body = await entry_diff(store, task_id, entry, limit=room)
    if repository:
        body = f"```diff\n{body}\n```" if body else "(the entry changes no file)"
    return "\n\n".join(part for part in (body, tail_text) if part)
