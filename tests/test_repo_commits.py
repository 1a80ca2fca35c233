"""A task's change: the paths git sees changed, and the commit with the task's title, trailers and agent."""

from __future__ import annotations

from pathlib import Path

from repos import assert_fsck_clean, git, make_repository, write

from orkestra_tui.engine.repo.commits import commit_task, commit_trailers, task_message
from orkestra_tui.engine.repo.status import (
    ChangedPath,
    changed_paths,
    changes_since,
    diff_since,
    parse_porcelain,
)


async def test_every_kind_of_change_is_seen(tmp_path: Path) -> None:
    root = make_repository(
        tmp_path / "repo", {"keep.txt": "k\n", "edit.txt": "e\n", "gone.txt": "g\n", "old name.txt": "r\n"}
    )
    write(root / "edit.txt", "edited\n")
    (root / "gone.txt").unlink()
    git(root, "mv", "old name.txt", "new name.txt")
    write(root / "deep" / "new.py", "n = 1\n")
    write(root / "café.md", "unicode\n")
    changes = sorted(await changed_paths(root), key=lambda change: change.path)
    assert changes == [
        ChangedPath("café.md", "untracked"),
        ChangedPath("deep/new.py", "untracked"),
        ChangedPath("edit.txt", "modified"),
        ChangedPath("gone.txt", "deleted"),
        ChangedPath("new name.txt", "renamed", "old name.txt", staged=True),
    ]
    assert await changed_paths(root, untracked=False) == [
        change for change in await changed_paths(root) if change.kind != "untracked"
    ]


def test_the_porcelain_parser_reads_renames_and_conflicts() -> None:
    output = "R  b.txt\0a.txt\0UU both.txt\0AA added.txt\0 M m.txt\0?? new\0!! ignored\0"
    assert parse_porcelain(output) == [
        ChangedPath("b.txt", "renamed", "a.txt", staged=True),
        ChangedPath("both.txt", "conflicted", staged=True),
        ChangedPath("added.txt", "conflicted", staged=True),
        ChangedPath("m.txt", "modified"),
        ChangedPath("new", "untracked"),
    ]
    assert parse_porcelain("") == []


async def test_the_commit_carries_the_title_trailers_and_the_agent_as_author(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo", {"app.py": "print('hi')\n", "old.py": "x\n"})
    write(root / "app.py", "print('hello')\n")
    write(root / "tests" / "test_app.py", "def test(): pass\n")
    (root / "old.py").unlink()
    result = await commit_task(
        root, title="Say hello", task_id="42", agent_name="Claude", body="Why: politeness."
    )
    assert result.committed and result.commit is not None
    assert result.summary == f"committed {result.commit[:12]} (3 paths)"
    assert sorted(change.path for change in result.changes) == ["app.py", "old.py", "tests/test_app.py"]
    assert git(root, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == (
        "Claude <claude@agents.orkestra.invalid>|Orkestra <orkestra@orkestra.invalid>"
    )
    assert git(root, "log", "-1", "--format=%B").strip() == (
        "Say hello\n\nWhy: politeness.\n\nOrkestra-Task: 42\nOrkestra-Agent: Claude"
    )
    assert await commit_trailers(root, result.commit) == {"Orkestra-Task": "42", "Orkestra-Agent": "Claude"}
    assert git(root, "status", "--porcelain").strip() == ""
    assert_fsck_clean(root)


async def test_nothing_to_commit_is_a_result_not_an_error(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo")
    head = git(root, "rev-parse", "HEAD")
    result = await commit_task(root, title="Nothing", task_id="1", agent_name="Gemini")
    assert not result.committed
    assert result.changes == ()
    assert result.summary == "nothing to commit: the worktree has no change"
    assert git(root, "rev-parse", "HEAD") == head


async def test_ignored_files_stay_out_of_the_commit(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo", {".gitignore": "*.pyc\n"})
    write(root / "cache.pyc", "binary\n")
    result = await commit_task(root, title="Only a cache", task_id="1", agent_name="Grok")
    assert not result.committed


def test_a_title_from_a_model_cannot_break_the_message() -> None:
    message = task_message("# Add\nlogin\x1b[31m  page", "7\nOrkestra-Agent: forged", "Chat GPT")
    assert (
        message
        == "# Add login [31m page\n\nOrkestra-Task: 7 Orkestra-Agent: forged\nOrkestra-Agent: Chat GPT\n"
    )


async def test_a_title_that_starts_with_a_hash_is_kept(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo")
    write(root / "a.txt", "a\n")
    await commit_task(root, title="#12 fix the parser", task_id="12", agent_name="Ollama")
    assert git(root, "log", "-1", "--format=%s").strip() == "#12 fix the parser"
    assert git(root, "log", "-1", "--format=%ae").strip() == "ollama@agents.orkestra.invalid"


async def test_the_changes_and_diff_since_the_fork_are_what_the_task_did(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo", {"a.txt": "a\n", "move me.txt": "same text for the rename\n"})
    git(root, "checkout", "--quiet", "-b", "task")
    write(root / "a.txt", "a, edited\n")
    git(root, "mv", "move me.txt", "moved.txt")
    write(root / "new.py", "n = 1\n")
    await commit_task(root, title="Task", task_id="1", agent_name="Claude")
    git(root, "checkout", "--quiet", "main")
    write(root / "main-only.txt", "the base moved on: not part of the task's diff\n")
    git(root, "add", "main-only.txt")
    git(root, "commit", "--quiet", "-m", "main moves on")
    changes = await changes_since(root, "main", "task")
    assert changes == [
        ChangedPath("a.txt", "modified", staged=True),
        ChangedPath("moved.txt", "renamed", "move me.txt", staged=True),
        ChangedPath("new.py", "added", staged=True),
    ]
    diff = await diff_since(root, "main", "task")
    assert "+a, edited" in diff and "rename from move me.txt" in diff and "main-only" not in diff
    assert "\x1b[" not in diff
    assert (await diff_since(root, "main", "task", paths=("new.py",))).count("diff --git") == 1
