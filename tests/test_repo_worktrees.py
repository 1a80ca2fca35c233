"""A worktree per task: made from the integration head, reused after a crash, kept while it holds work."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from repos import assert_fsck_clean, commit_all, git, make_repository, write

from orkestra_tui.engine.repo.link import LinkedRepository, link_repository
from orkestra_tui.engine.repo.names import RepositoryError
from orkestra_tui.engine.repo.worktrees import (
    discard_uncommitted,
    ensure_task_worktree,
    list_worktrees,
    orphans,
    owned_worktrees,
    prune_worktrees,
    remove_task_worktree,
    task_branches,
)

PROJECT = "shop"


async def linked(tmp_path: Path) -> LinkedRepository:
    root = make_repository(tmp_path / "repo", {"README.md": "# Shop\n", "app.py": "print('hi')\n"})
    return await link_repository(root, PROJECT, tmp_path / "data" / "repos" / PROJECT)


async def task(repository: LinkedRepository, key: str) -> Path:
    made = await ensure_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, key
    )
    return made.path


async def test_a_task_gets_its_own_branch_and_worktree_from_the_integration_head(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    write(repository.integration_path / "merged.txt", "already merged work\n")
    integration_head = commit_all(repository.integration_path, "earlier task")
    made = await ensure_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t1"
    )
    assert made.branch == "orkestra-task/shop/t1"
    assert made.path == (tmp_path / "data" / "repos" / PROJECT / "tasks" / "t1").resolve()
    assert made.base_commit == integration_head
    assert not made.reused
    assert git(made.path, "rev-parse", "HEAD").strip() == integration_head
    assert (made.path / "merged.txt").exists()
    assert git(repository.root, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"  # the user's stays
    assert_fsck_clean(repository.root)


async def test_after_a_crash_the_worktree_is_reused_as_it_was(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    path = await task(repository, "t1")
    write(path / "feature.py", "x = 1\n")
    first = commit_all(path, "agent's first commit")
    write(path / "wip.py", "unfinished\n")
    lock = Path(git(path, "rev-parse", "--git-path", "index.lock").strip())
    lock = lock if lock.is_absolute() else path / lock
    lock.write_text("", encoding="utf-8")  # a git command killed mid-way
    again = await ensure_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t1"
    )
    assert again.reused
    assert again.path == path
    assert git(path, "rev-parse", "HEAD").strip() == first
    assert (path / "wip.py").exists()
    assert not lock.exists()
    await discard_uncommitted(path)
    assert not (path / "wip.py").exists()
    assert git(path, "status", "--porcelain").strip() == ""


async def test_a_worktree_deleted_by_hand_is_made_again_on_its_branch(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    path = await task(repository, "t1")
    write(path / "feature.py", "x = 1\n")
    commit = commit_all(path, "agent's commit")
    shutil.rmtree(path)
    again = await ensure_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t1"
    )
    assert again.reused
    assert git(path, "rev-parse", "HEAD").strip() == commit  # the branch's commits are kept
    assert [worktree for worktree in await list_worktrees(repository.root) if worktree.prunable] == []


async def test_a_bad_task_key_is_refused(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    for key in ("../escape", "a b", "", "-x", "x/y"):
        with pytest.raises(RepositoryError, match="cannot name a task's branch"):
            await task(repository, key)


async def test_orkestra_lists_its_worktrees_and_finds_orphans(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    for key in ("t1", "t2", "t3"):
        await task(repository, key)
    owned = await owned_worktrees(repository.root, repository.layout.folder)
    assert sorted(worktree.path.name for worktree in owned) == ["integration", "t1", "t2", "t3"]
    assert sorted(await task_branches(repository.root, PROJECT)) == ["t1", "t2", "t3"]
    assert await orphans(repository.root, repository.layout, PROJECT, {"t2"}) == ["t1", "t3"]
    assert await orphans(repository.root, repository.layout, PROJECT, {"t1", "t2", "t3"}) == []


async def test_unmerged_work_is_kept_with_the_reason(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    path = await task(repository, "t1")
    write(path / "feature.py", "x = 1\n")
    commit_all(path, "agent's commit")
    removal = await remove_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t1"
    )
    assert not removal.removed
    assert removal.reason == "kept orkestra-task/shop/t1: it holds commits not merged into orkestra/shop"
    assert path.exists()
    assert "t1" in await task_branches(repository.root, PROJECT)


async def test_uncommitted_work_is_kept_with_the_reason(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    made = await ensure_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t1"
    )
    write(made.path / "draft.py", "not committed\n")
    removal = await remove_task_worktree(
        repository.root,
        repository.layout,
        PROJECT,
        repository.integration_branch,
        "t1",
        base_commit=made.base_commit,
    )
    assert not removal.removed
    assert removal.reason == f"kept {made.path}: it has uncommitted changes (draft.py)"
    assert (made.path / "draft.py").exists()


async def test_merged_work_and_empty_branches_are_removed_and_a_repeat_is_harmless(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    merged_path = await task(repository, "t1")
    write(merged_path / "feature.py", "x = 1\n")
    commit_all(merged_path, "agent's commit")
    git(repository.integration_path, "merge", "--quiet", "--no-ff", "-m", "merge t1", "orkestra-task/shop/t1")
    empty = await ensure_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t2"
    )
    write(repository.integration_path / "later.txt", "the integration branch moved on\n")
    commit_all(repository.integration_path, "later")
    removal = await remove_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t1"
    )
    assert removal.removed
    assert removal.reason == f"removed worktree {merged_path} and branch orkestra-task/shop/t1"
    assert not merged_path.exists()
    removal = await remove_task_worktree(
        repository.root,
        repository.layout,
        PROJECT,
        repository.integration_branch,
        "t2",
        base_commit=empty.base_commit,
    )
    assert removal.removed
    assert await task_branches(repository.root, PROJECT) == {}
    repeat = await remove_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t1"
    )
    assert repeat.removed and repeat.reason == "nothing left to remove"
    assert_fsck_clean(repository.root)


async def test_a_merged_worktree_deleted_by_hand_is_pruned_and_its_branch_removed(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    path = await task(repository, "t1")
    shutil.rmtree(path)
    assert any(worktree.prunable for worktree in await list_worktrees(repository.root))
    removal = await remove_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t1"
    )
    assert removal.removed
    assert removal.reason == "removed branch orkestra-task/shop/t1"
    await prune_worktrees(repository.root)
    assert [worktree.path.name for worktree in await list_worktrees(repository.root)] == [
        "repo",
        "integration",
    ]


async def test_ignored_files_do_not_keep_a_merged_worktree(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    write(repository.integration_path / ".gitignore", "__pycache__/\n")
    commit_all(repository.integration_path, "ignore caches")
    path = await task(repository, "t1")
    write(path / "__pycache__" / "app.cpython-311.pyc", "cache\n")  # what a gate leaves behind
    removal = await remove_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t1"
    )
    assert removal.removed, removal.reason
    assert not path.exists()


async def test_tasks_started_together_each_get_their_worktree(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    keys = [f"t{number}" for number in range(6)]
    made = await asyncio.gather(*(task(repository, key) for key in keys))
    assert [path.name for path in made] == keys
    assert sorted(await task_branches(repository.root, PROJECT)) == sorted(keys)
    assert_fsck_clean(repository.root)


async def test_a_worktree_left_half_made_by_a_crash_is_made_again(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    path = await task(repository, "t1")
    # `git worktree add` locks a worktree "initializing" until its checkout is done; killed mid-way:
    admin = Path(git(path, "rev-parse", "--git-dir").strip())
    (admin / "locked").write_text("initializing", encoding="utf-8")
    (path / "README.md").unlink()
    again = await ensure_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t1"
    )
    assert again.path == path
    assert (path / "README.md").exists()
    assert all(worktree.locked is None for worktree in await list_worktrees(repository.root))
