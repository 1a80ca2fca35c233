"""Linking a repository: its top level, initialising it, the base and integration branches, the pre-check."""

from __future__ import annotations

from pathlib import Path

import pytest
from repos import assert_fsck_clean, git, make_repository, write

from orkestra_tui.engine.repo.link import (
    base_branch,
    current_branch,
    initialise_repository,
    is_repository,
    link_repository,
    repository_problems,
    repository_root,
)
from orkestra_tui.engine.repo.names import RepositoryError


def checkout_state(root: Path) -> tuple[str, bytes, str, str]:
    """Everything of the user's checkout Orkestra must leave alone: status, index, HEAD, the files' text."""
    status = git(root, "status", "--porcelain=v2", "--branch", "--untracked-files=all")
    index = (root / ".git" / "index").read_bytes()
    head = git(root, "symbolic-ref", "HEAD") + git(root, "rev-parse", "HEAD")
    files = "\n".join(
        f"{path.relative_to(root)}={path.read_text(encoding='utf-8')}"
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    )
    return status, index, head, files


def dirty_checkout(root: Path) -> None:
    """Modified, staged, untracked and deleted files in the user's checkout."""
    write(root / "README.md", "# Project, edited but not committed\n")
    write(root / "staged.py", "print('staged')\n")
    git(root, "add", "staged.py")
    write(root / "notes" / "untracked.txt", "mine\n")
    (root / "old.txt").unlink()


async def test_a_folder_that_is_not_a_repository_is_refused_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    with pytest.raises(RepositoryError, match=r"^.*plain is not a git repository \(Orkestra can initialise"):
        await repository_root(folder)
    assert not await is_repository(folder)
    with pytest.raises(RepositoryError, match="does not exist"):
        await repository_root(tmp_path / "missing")
    write(tmp_path / "file.txt", "x")
    with pytest.raises(RepositoryError, match="is not a folder"):
        await repository_root(tmp_path / "file.txt")


async def test_a_bare_repository_and_a_git_folder_are_refused(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    bare.mkdir()
    git(bare, "init", "--bare", "--quiet")
    with pytest.raises(RepositoryError, match="is a bare repository"):
        await repository_root(bare)
    root = make_repository(tmp_path / "repo")
    with pytest.raises(RepositoryError, match=r"inside a repository's \.git folder"):
        await repository_root(root / ".git")


async def test_a_sub_folder_gives_the_top_level(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo", {"src/app.py": "x = 1\n"})
    assert await repository_root(root / "src") == root


async def test_initialising_makes_a_base_branch_and_keeps_the_files(tmp_path: Path) -> None:
    folder = tmp_path / "new project"
    write(folder / "draft.md", "my notes\n")
    root = await initialise_repository(folder)
    assert root == folder.resolve()
    assert await current_branch(root) == "main"
    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(root, "ls-tree", "HEAD").strip() == ""  # the initial commit is empty
    assert git(root, "status", "--porcelain").strip() == "?? draft.md"
    again = await initialise_repository(folder)  # safe to repeat: no second commit
    assert again == root
    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"
    assert_fsck_clean(root)


async def test_initialising_a_fresh_git_init_keeps_what_the_user_staged(tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    git(folder, "init", "--quiet", "--initial-branch=trunk")
    write(folder / "a.py", "a = 1\n")
    git(folder, "add", "a.py")
    root = await initialise_repository(folder)
    assert await current_branch(root) == "trunk"
    assert git(root, "status", "--porcelain").strip() == "A  a.py"  # still staged, not committed
    assert git(root, "log", "--format=%an %s", "-1").startswith("Orkestra Initial commit")


async def test_the_base_branch_is_the_current_one_unless_named(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo")
    git(root, "branch", "develop")
    assert await base_branch(root) == "main"
    assert await base_branch(root, "develop") == "develop"
    with pytest.raises(RepositoryError, match=r"^the base branch 'release' does not exist in "):
        await base_branch(root, "release")
    git(root, "checkout", "--quiet", "--detach")
    with pytest.raises(RepositoryError, match=r"detached HEAD\); name the base branch"):
        await base_branch(root)


async def test_linking_leaves_a_dirty_checkout_exactly_as_it_was(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo", {"README.md": "# Project\n", "old.txt": "old\n"})
    dirty_checkout(root)
    before = checkout_state(root)
    linked = await link_repository(root, "my-project", tmp_path / "data" / "repos" / "my-project")
    assert checkout_state(root) == before
    assert linked.root == root
    assert linked.base_branch == "main"
    assert linked.integration_branch == "orkestra/my-project"
    assert git(root, "rev-parse", "orkestra/my-project") == git(root, "rev-parse", "main")
    assert (linked.integration_path / "README.md").read_text(encoding="utf-8") == "# Project\n"
    assert git(linked.integration_path, "symbolic-ref", "--short", "HEAD").strip() == "orkestra/my-project"
    assert not linked.integration_path.is_relative_to(root)
    again = await link_repository(root, "my-project", tmp_path / "data" / "repos" / "my-project")
    assert again == linked  # safe to repeat
    assert checkout_state(root) == before
    assert await repository_problems(root, "main", linked.integration_branch) == []
    assert_fsck_clean(root)


async def test_the_integration_branch_starts_from_the_named_base(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo")
    git(root, "checkout", "--quiet", "-b", "develop")
    write(root / "dev.txt", "dev\n")
    git(root, "add", "dev.txt")
    git(root, "commit", "--quiet", "-m", "dev")
    git(root, "checkout", "--quiet", "main")
    linked = await link_repository(root, "p", tmp_path / "data", base="develop")
    assert linked.base_branch == "develop"
    assert (linked.integration_path / "dev.txt").exists()


async def test_a_worktrees_folder_inside_the_repository_is_refused(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo")
    with pytest.raises(RepositoryError, match="may not be inside the repository"):
        await link_repository(root, "p", root / ".orkestra")
    assert git(root, "branch", "--list", "orkestra/*").strip() == ""


async def test_a_folder_in_the_way_of_the_integration_worktree_is_refused(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo")
    write(tmp_path / "data" / "integration" / "someone-else.txt", "not ours\n")
    with pytest.raises(RepositoryError, match=r"integration is in the way"):
        await link_repository(root, "p", tmp_path / "data")
    assert (tmp_path / "data" / "integration" / "someone-else.txt").exists()


async def test_the_usable_check_names_each_problem_in_one_line(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert await repository_problems(plain, "main", "orkestra/p") == [
        f"{plain} is not a git repository (Orkestra can initialise one if you ask)"
    ]
    root = make_repository(tmp_path / "repo", {"shared.txt": "base\n"})
    problems = await repository_problems(root, "release", "orkestra/p")
    assert problems == [
        f"the base branch 'release' does not exist in {root}",
        f"the integration branch 'orkestra/p' is missing from {root}",
    ]
    linked = await link_repository(root, "p", tmp_path / "data")
    assert (
        await repository_problems(root, "main", "orkestra/p", integration_path=linked.integration_path) == []
    )
    git(linked.integration_path, "worktree", "remove", str(linked.integration_path))
    assert await repository_problems(
        root, "main", "orkestra/p", integration_path=linked.integration_path
    ) == [f"the integration worktree {linked.integration_path} is missing"]
    assert all("\n" not in line for line in problems)


async def test_a_repository_mid_merge_is_not_usable(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo", {"shared.txt": "base\n"})
    git(root, "checkout", "--quiet", "-b", "other")
    write(root / "shared.txt", "other\n")
    git(root, "commit", "--quiet", "-am", "other")
    git(root, "checkout", "--quiet", "main")
    write(root / "shared.txt", "main\n")
    git(root, "commit", "--quiet", "-am", "main")
    git(root, "merge", "other", check=False)  # conflicts: the merge waits for the user
    problems = await repository_problems(root, "main", "orkestra/p")
    assert problems[0] == f"{root} is in the middle of a merge; finish or abort it first"
    with pytest.raises(RepositoryError, match="in the middle of a merge"):
        await link_repository(root, "p", tmp_path / "data")
    git(root, "merge", "--abort")
    git(root, "checkout", "--quiet", "other")
    git(root, "rebase", "main", check=False)  # conflicts too
    assert (await repository_problems(root, "main", "orkestra/p"))[0].endswith(
        "in the middle of a rebase; finish or abort it first"
    )
