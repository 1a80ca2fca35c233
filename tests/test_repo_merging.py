"""Merging: the conflict pre-check, a task into the integration branch (once) and back out, and landing."""

from __future__ import annotations

from pathlib import Path

import pytest
from repos import assert_fsck_clean, commit_all, git, make_repository, write

from orkestra_tui.engine.repo.commits import commit_task
from orkestra_tui.engine.repo.git import GitError
from orkestra_tui.engine.repo.link import LinkedRepository, link_repository
from orkestra_tui.engine.repo.merging import (
    AheadCount,
    ahead_of_base,
    conflicting_paths,
    is_task_merged,
    land,
    merge_task,
    merged_task_ids,
    undo_merge,
)
from orkestra_tui.engine.repo.names import RepositoryError
from orkestra_tui.engine.repo.worktrees import ensure_task_worktree

PROJECT = "shop"


async def linked(tmp_path: Path) -> LinkedRepository:
    root = make_repository(tmp_path / "repo", {"README.md": "# Shop\n", "shared.txt": "one\ntwo\nthree\n"})
    return await link_repository(root, PROJECT, tmp_path / "data")


async def task_with_change(repository: LinkedRepository, key: str, files: dict[str, str]) -> str:
    """A task worktree with FILES written and committed by an agent; its branch."""
    made = await ensure_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, key
    )
    for name, text in files.items():
        write(made.path / name, text)
    await commit_task(made.path, title=f"Task {key}", task_id=key, agent_name="Claude")
    return made.branch


def parents(worktree: Path, commit: str = "HEAD") -> list[str]:
    return git(worktree, "rev-list", "--parents", "-n", "1", commit).split()[1:]


async def test_a_task_merges_once_with_its_trailer(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    branch = await task_with_change(repository, "t1", {"feature.py": "x = 1\n"})
    assert await conflicting_paths(repository.root, repository.integration_branch, branch) == []
    assert not await is_task_merged(repository.integration_path, "t1")
    result = await merge_task(repository.integration_path, branch, task_id="t1", title="Add the feature")
    assert result.merged and not result.already_merged and result.commit is not None
    assert len(parents(repository.integration_path)) == 2  # --no-ff: a merge commit, always
    assert git(repository.integration_path, "log", "-1", "--format=%B").strip() == (
        "Merge task t1: Add the feature\n\nOrkestra-Task: t1"
    )
    assert await is_task_merged(repository.integration_path, "t1")
    again = await merge_task(repository.integration_path, branch, task_id="t1", title="Add the feature")
    assert again.merged and again.already_merged and again.commit is None
    assert git(repository.integration_path, "rev-parse", "HEAD").strip() == result.commit  # not merged twice
    assert await merged_task_ids(repository.integration_path) == ["t1"]
    assert_fsck_clean(repository.root)


async def test_a_task_id_is_matched_exactly(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    branch = await task_with_change(repository, "t12", {"a.txt": "a\n"})
    await merge_task(repository.integration_path, branch, task_id="t12", title="Twelve")
    assert await is_task_merged(repository.integration_path, "t12")
    assert not await is_task_merged(repository.integration_path, "t1")
    assert not await is_task_merged(repository.integration_path, "t1.")  # no regular expression either


async def test_a_conflict_is_found_before_merging_and_touches_nothing(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    first = await task_with_change(repository, "t1", {"shared.txt": "one\nTWO by t1\nthree\n"})
    second = await task_with_change(
        repository, "t2", {"shared.txt": "one\ntwo by t2\nthree\n", "b.txt": "b\n"}
    )
    await merge_task(repository.integration_path, first, task_id="t1", title="First")
    head = git(repository.integration_path, "rev-parse", "HEAD")
    status = git(repository.integration_path, "status", "--porcelain=v2")
    assert await conflicting_paths(repository.root, repository.integration_branch, second) == ["shared.txt"]
    assert git(repository.integration_path, "rev-parse", "HEAD") == head
    assert git(repository.integration_path, "status", "--porcelain=v2") == status
    result = await merge_task(repository.integration_path, second, task_id="t2", title="Second")
    assert not result.merged
    assert result.conflicts == ("shared.txt",)
    assert git(repository.integration_path, "rev-parse", "HEAD") == head  # aborted, back where it was
    assert git(repository.integration_path, "status", "--porcelain").strip() == ""
    assert not await is_task_merged(repository.integration_path, "t2")
    assert_fsck_clean(repository.root)


async def test_a_merge_left_half_done_by_a_crash_is_aborted_first(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    first = await task_with_change(repository, "t1", {"a.txt": "a\n"})
    second = await task_with_change(repository, "t2", {"b.txt": "b\n"})
    git(repository.integration_path, "merge", "--no-ff", "--no-commit", first)  # killed before the commit
    write(repository.integration_path / "gate-output.log", "left by a gate\n")
    result = await merge_task(repository.integration_path, second, task_id="t2", title="Second")
    assert result.merged
    assert not (repository.integration_path / "a.txt").exists()  # the half-done merge of t1 is gone
    assert (repository.integration_path / "b.txt").exists()
    assert not await is_task_merged(repository.integration_path, "t1")
    assert git(repository.integration_path, "status", "--porcelain").strip() == ""


async def test_a_merge_that_fails_its_gates_is_undone_once(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    branch = await task_with_change(repository, "t1", {"broken.py": "syntax error(\n"})
    result = await merge_task(repository.integration_path, branch, task_id="t1", title="Broken")
    assert result.commit is not None
    assert await undo_merge(repository.integration_path, result.previous_head, result.commit)
    assert git(repository.integration_path, "rev-parse", "HEAD").strip() == result.previous_head
    assert git(repository.root, "rev-parse", repository.integration_branch).strip() == result.previous_head
    assert not await is_task_merged(repository.integration_path, "t1")
    assert not await undo_merge(repository.integration_path, result.previous_head, result.commit)  # repeat


async def test_an_undo_after_the_branch_moved_on_is_refused(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    first = await task_with_change(repository, "t1", {"a.txt": "a\n"})
    second = await task_with_change(repository, "t2", {"b.txt": "b\n"})
    merged = await merge_task(repository.integration_path, first, task_id="t1", title="First")
    await merge_task(repository.integration_path, second, task_id="t2", title="Second")
    assert merged.commit is not None
    with pytest.raises(RepositoryError, match=r"moved on from .*; not undone$"):
        await undo_merge(repository.integration_path, merged.previous_head, merged.commit)
    assert await is_task_merged(repository.integration_path, "t2")


async def test_a_missing_task_branch_is_one_line(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    with pytest.raises(RepositoryError, match=r"^the task branch orkestra-task/shop/nope does not exist$"):
        await merge_task(repository.integration_path, "orkestra-task/shop/nope", task_id="nope", title="No")
    with pytest.raises(GitError, match=r"^git merge-tree: "):
        await conflicting_paths(repository.root, repository.integration_branch, "orkestra-task/shop/nope")


async def test_status_counts_how_far_the_integration_branch_is_ahead(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    assert await ahead_of_base(repository.root, "main", repository.integration_branch) == AheadCount(0, 0, 0)
    for key in ("t1", "t2"):
        branch = await task_with_change(repository, key, {f"{key}.txt": key})
        await merge_task(repository.integration_path, branch, task_id=key, title=key)
    write(repository.root / "user.txt", "the user's own commit\n")
    commit_all(repository.root, "user")
    counts = await ahead_of_base(repository.root, "main", repository.integration_branch)
    assert (counts.ahead, counts.behind, counts.merged_tasks) == (4, 1, 2)  # 2 task commits + 2 merges


async def test_landing_merges_into_the_user_s_branch_only_when_clean(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    branch = await task_with_change(repository, "t1", {"feature.py": "x = 1\n"})
    await merge_task(repository.integration_path, branch, task_id="t1", title="Feature")
    write(repository.root / "README.md", "# Shop, being edited\n")
    head = git(repository.root, "rev-parse", "HEAD")
    with pytest.raises(RepositoryError) as caught:
        await land(repository.root, repository.integration_branch)
    assert str(caught.value) == (
        f"{repository.root} has uncommitted changes (README.md); commit or stash them first"
    )
    assert git(repository.root, "rev-parse", "HEAD") == head
    assert (repository.root / "README.md").read_text(encoding="utf-8") == "# Shop, being edited\n"
    git(repository.root, "checkout", "--", "README.md")
    write(repository.root / "scratch.txt", "an untracked file does not stop landing\n")
    landed = await land(repository.root, repository.integration_branch, project_name="Shop")
    assert landed.commit is not None and landed.branch == "main"
    integration_head = git(repository.root, "rev-parse", repository.integration_branch).strip()
    assert parents(repository.root) == [head.strip(), integration_head]
    assert git(repository.root, "log", "-1", "--format=%s").strip() == "Merge orkestra/shop into main (Shop)"
    assert (repository.root / "feature.py").exists()
    again = await land(repository.root, repository.integration_branch)
    assert again.commit is None and again.summary == "main is already up to date"
    assert_fsck_clean(repository.root)


async def test_landing_refuses_a_conflict_a_detached_head_and_a_merge_in_progress(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    branch = await task_with_change(repository, "t1", {"shared.txt": "one\nTWO\nthree\n"})
    await merge_task(repository.integration_path, branch, task_id="t1", title="Edit")
    write(repository.root / "shared.txt", "one\nzwei\nthree\n")
    commit_all(repository.root, "user's own edit")
    head = git(repository.root, "rev-parse", "HEAD")
    with pytest.raises(RepositoryError, match=r"^orkestra/shop conflicts with main on shared\.txt; merge it"):
        await land(repository.root, repository.integration_branch)
    assert git(repository.root, "rev-parse", "HEAD") == head
    assert git(repository.root, "status", "--porcelain").strip() == ""
    git(repository.root, "merge", repository.integration_branch, check=False)  # the user starts it by hand
    with pytest.raises(RepositoryError, match=r"in the middle of a merge"):
        await land(repository.root, repository.integration_branch)
    git(repository.root, "merge", "--abort")
    git(repository.root, "checkout", "--quiet", "--detach")
    with pytest.raises(RepositoryError, match="detached HEAD"):
        await land(repository.root, repository.integration_branch)


async def test_a_task_with_no_commit_of_its_own_is_not_merged_again(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    made = await ensure_task_worktree(
        repository.root, repository.layout, PROJECT, repository.integration_branch, "t1"
    )
    head = git(repository.integration_path, "rev-parse", "HEAD").strip()
    result = await merge_task(repository.integration_path, made.branch, task_id="t1", title="Nothing")
    assert result.already_merged and result.commit is None and result.previous_head == head
    assert git(repository.integration_path, "rev-parse", "HEAD").strip() == head


async def test_the_history_before_the_base_can_be_left_out(tmp_path: Path) -> None:
    repository = await linked(tmp_path)
    branch = await task_with_change(repository, "t1", {"a.txt": "a\n"})
    await merge_task(repository.integration_path, branch, task_id="t1", title="One")
    await land(repository.root, repository.integration_branch)  # main now holds task t1 of this project
    git(repository.root, "branch", "orkestra/next", "main")  # a second project's integration branch
    assert await is_task_merged(repository.root, "t1", "orkestra/next")
    assert not await is_task_merged(repository.root, "t1", "orkestra/next", since="main")
