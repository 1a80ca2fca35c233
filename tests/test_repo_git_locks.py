"""Two git processes at once: a command that finds a lock taken waits and tries again, never half-done."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from repos import git, make_repository, write

from orkestra_tui.engine.repo.git import LOCK_WAITS_S, GitError, GitResult, run_git


async def test_a_command_that_finds_the_index_locked_waits_for_the_other_process(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo")
    write(root / "new.txt", "new\n")
    lock = root / ".git" / "index.lock"
    lock.write_text("")  # another git process is writing the index

    async def other_process_finishes() -> None:
        await asyncio.sleep(LOCK_WAITS_S[0] + LOCK_WAITS_S[1] / 2)
        lock.unlink()

    finishing = asyncio.ensure_future(other_process_finishes())
    result = await run_git(["add", "new.txt"], cwd=root)
    await finishing

    assert result.returncode == 0
    assert "new.txt" in git(root, "diff", "--cached", "--name-only")


async def test_a_lock_that_stays_is_one_clear_error_after_the_last_try(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo")
    write(root / "new.txt", "new\n")
    (root / ".git" / "index.lock").write_text("")  # left by a killed git, never removed

    with pytest.raises(GitError) as raised:
        await run_git(["add", "new.txt"], cwd=root)

    assert "index.lock" in str(raised.value) and "\n" not in str(raised.value)
    assert git(root, "diff", "--cached", "--name-only") == ""


async def test_other_failures_are_not_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orkestra_tui.engine.repo import git as git_module

    root = make_repository(tmp_path / "repo")
    runs: list[list[str]] = []
    run_once = git_module._run_once

    async def counted(args: list[str], **options: Any) -> GitResult:
        runs.append(list(args))
        return await run_once(args, **options)

    monkeypatch.setattr(git_module, "_run_once", counted)
    result = await run_git(["rev-parse", "--verify", "no-such-branch"], cwd=root, check=False)

    assert result.returncode != 0
    assert len(runs) == 1
