"""Tidying worktrees at start: no worktree is left without a task that owns it, nothing unmerged is lost.

In process (`Engine.tidy_worktrees`) for each kind of leftover, and through a real
`orkestra run`, which tidies before it runs anything.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import orkestra
from repos import assert_fsck_clean, git, make_repository, write

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.tasks import claim_task
from orkestra_tui.engine.models import ProjectStatus, TaskSpec


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repository(tmp_path / "project", {"README.md": "# Shop\n"})


def tasks_folder(data_dir: Path, project_id: int = 1) -> Path:
    return data_dir / "worktrees" / f"{project_id}-shop" / "tasks"


def leftover(repo: Path, folder: Path, key: str, *, commit: bool = False) -> Path:
    """A task worktree and branch as a killed run leaves them; with COMMIT, holding a commit not merged."""
    path = folder / key
    git(repo, "worktree", "add", "--quiet", "-b", f"orkestra-task/shop/{key}", str(path), "orkestra/shop")
    if commit:
        write(path / "unmerged.txt", "work nobody merged\n")
        git(path, "add", "unmerged.txt")
        git(path, "-c", "user.name=Agent", "-c", "user.email=a@example.com", "commit", "--quiet", "-m", "WIP")
    return path


def worktree_paths(repo: Path) -> set[str]:
    listing = git(repo, "worktree", "list", "--porcelain")
    return {line.removeprefix("worktree ") for line in listing.splitlines() if line.startswith("worktree ")}


async def test_leftovers_are_removed_unmerged_work_is_kept_and_live_tasks_keep_theirs(
    engine: Engine, repo: Path
) -> None:
    project = engine.create_project("Shop")
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    specs = [TaskSpec(title=f"Part {n}", instructions="Write it.", key=f"t{n}") for n in (1, 2, 3)]
    live, cancelled, leased = engine.add_tasks(project.id, specs)
    link = await engine.link_repository(project.id, repo)
    work = engine.repo_work()
    for task in (live, cancelled):
        await work.prepare(engine.task(task.id), link, project)
    engine.cancel_task(cancelled.id)
    with engine.store.transaction() as tx:  # another run holds task 3 and is making its worktree
        claim_task(
            tx, leased.id, owner="other-run", expires_at=tx.clock.now() + 600, agent="claude",
            rationale="", attempt=1, now=tx.clock.now(),
        )  # fmt: skip
        tx.audit("engine", "task.claimed", "claimed by another run", subject=f"task:{leased.id}")
    folder = tasks_folder(engine.paths.data_dir)
    leftover(repo, folder, f"task-{leased.id}")
    leftover(repo, folder, "task-99")  # no such task: a killed run's, holding nothing
    leftover(repo, folder, "task-98", commit=True)  # no such task, but unmerged work
    deleted = leftover(repo, folder, "task-97")
    git(repo, "worktree", "lock", str(deleted))  # a lock is no reason to keep a folder deleted by hand
    git(repo, "worktree", "unlock", str(deleted))
    shutil.rmtree(deleted)

    lines = await engine.tidy_worktrees(project.id)

    folder_text = str(folder.resolve())
    assert f"forgot the worktree {folder_text}/task-97: its folder was deleted" in lines
    assert any(line.startswith("removed") and f"{folder_text}/task-99 " in line for line in lines)
    assert any(line.startswith("removed") and f"{folder_text}/task-{cancelled.id} " in line for line in lines)
    assert any("branch orkestra-task/shop/task-97" in line for line in lines)  # its branch, holding nothing
    assert "kept orkestra-task/shop/task-98: it holds commits not merged into orkestra/shop" in lines, lines
    remaining = worktree_paths(repo)
    assert f"{folder_text}/task-{live.id}" in remaining  # a live task's, found again by its next run
    assert f"{folder_text}/task-{leased.id}" in remaining  # another run's, left alone
    assert f"{folder_text}/task-98" in remaining
    assert (
        not {f"{folder_text}/task-99", f"{folder_text}/task-97", f"{folder_text}/task-{cancelled.id}"}
        & remaining
    )
    branches = git(repo, "branch", "--list", "--format=%(refname:short)", "orkestra-task/*").split()
    assert sorted(branches) == sorted(
        f"orkestra-task/shop/{key}" for key in (f"task-{live.id}", f"task-{leased.id}", "task-98")
    )
    cancelled_change = engine.task_change(cancelled.id)
    assert cancelled_change is not None and cancelled_change.worktree is None
    live_change = engine.task_change(live.id)
    assert live_change is not None and live_change.worktree is not None
    (event,) = engine.audit_events(10, kind="repository.tidied")
    assert event.project_id == project.id
    assert len(event.data["removed"]) == 3 and event.data["kept"] == [lines[-1]]

    again = await engine.tidy_worktrees(project.id)  # nothing more to do: the kept one is said again
    assert again == ["kept orkestra-task/shop/task-98: it holds commits not merged into orkestra/shop"]
    assert len(engine.audit_events(10, kind="repository.tidied")) == 1
    assert_fsck_clean(repo)


async def test_a_deleted_integration_worktree_is_made_again(engine: Engine, repo: Path) -> None:
    project = engine.create_project("Shop")
    link = await engine.link_repository(project.id, repo)
    shutil.rmtree(link.worktree)
    status = await engine.repository_status(project.id)
    assert status is not None and status.problems == (f"the integration worktree {link.worktree} is missing",)

    lines = await engine.tidy_worktrees(project.id)

    assert lines == [f"forgot the worktree {link.worktree}: its folder was deleted"]
    assert (link.worktree / "README.md").exists()
    status = await engine.repository_status(project.id)
    assert status is not None and status.problems == ()


async def test_a_project_without_a_repository_or_with_its_repository_gone_is_said_in_one_line(
    engine: Engine, repo: Path, tmp_path: Path
) -> None:
    plain = engine.create_project("Notes")
    assert await engine.tidy_worktrees(plain.id) == []
    project = engine.create_project("Shop")
    await engine.link_repository(project.id, repo)
    repo.rename(tmp_path / "moved")

    (line,) = await engine.tidy_worktrees(project.id)

    assert line.startswith("the worktrees of 'Shop' could not be tidied: ")
    assert "\n" not in line


def test_orkestra_run_tidies_what_a_killed_run_left_before_it_runs(tmp_path: Path, repo: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8")
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project("Shop")
        engine.add_tasks(project.id, [TaskSpec(title="Part 1", instructions="Write it.", key="t1")])
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()
    assert orkestra(home, "project", "Shop", "--repo", str(repo)).returncode == 0
    folder = tasks_folder(home / "data")
    leftover(repo, folder, "task-41")
    leftover(repo, folder, "task-42", commit=True)

    ran = orkestra(home, "run", "--until-done", "--on-review", "approve", "--json")

    assert ran.returncode == 0, ran.stderr
    said = ran.stderr.splitlines()
    resolved = folder.resolve()
    assert f"orkestra: removed worktree {resolved}/task-41 and branch orkestra-task/shop/task-41" in said, (
        ran.stderr
    )
    assert "orkestra: kept orkestra-task/shop/task-42: it holds commits not merged into orkestra/shop" in said
    assert f"{resolved}/task-41" not in worktree_paths(repo)
    assert git(repo, "log", "-1", "--format=%s", "orkestra-task/shop/task-42") == "WIP\n"
    assert json.loads(ran.stdout)["stopped"] == "done"
    assert_fsck_clean(repo)


BLOCKING_CODER = """\
import pathlib, sys, time
prompt = sys.stdin.read()
if "<<<RESULT" in prompt:
    print('{"verdict": "approve", "comments": "Fine."}')
    sys.exit(0)
signals = pathlib.Path(SIGNALS)
here = pathlib.Path.cwd()
(signals / f"started-{here.name}").touch()
while (signals / "hold").exists():  # the run is killed while every task is at this point
    time.sleep(0.01)
(here / f"{here.name}.txt").write_text("done\\n", encoding="utf-8")
print("# Done")
"""


def test_a_run_killed_mid_task_leaves_no_worktree_without_a_task(tmp_path: Path, repo: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    signals = tmp_path / "signals"
    signals.mkdir()
    program = tmp_path / "coder.py"
    program.write_text(f"SIGNALS = {str(signals)!r}\n" + BLOCKING_CODER, encoding="utf-8")
    command = json.dumps([sys.executable, str(program)])
    (home / "config.toml").write_text(
        "[simulation]\nseed = 0\nlatency_ms = 0\n\n"
        f'[[agents]]\nname = "coder"\nprovider = "command"\ncommand = {command}\nconcurrency = 2\n',
        encoding="utf-8",
    )
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project("Shop")
        kept, cancelled = engine.add_tasks(
            project.id, [TaskSpec(title=f"Part {n}", instructions="Write it.", key=f"t{n}") for n in (1, 2)]
        )
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()
    assert orkestra(home, "project", "Shop", "--repo", str(repo)).returncode == 0
    (signals / "hold").touch()
    arguments = ["--data-dir", str(home), "run", "--max-concurrent", "2", "--on-review", "approve"]
    process = subprocess.Popen(
        [sys.executable, "-m", "orkestra_tui", *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its agents' processes die with it
    )
    try:
        deadline = time.monotonic() + 60
        wanted = {f"started-task-{kept.id}", f"started-task-{cancelled.id}"}
        while {path.name for path in signals.iterdir()} < wanted | {"hold"}:
            assert process.poll() is None and time.monotonic() < deadline, "the run did not start both tasks"
            time.sleep(0.01)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    (signals / "hold").unlink()
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        engine.cancel_task(cancelled.id)  # its worktree now has no task that owns it
    finally:
        engine.close()
    folder = tasks_folder(home / "data").resolve()
    assert {f"{folder}/task-{kept.id}", f"{folder}/task-{cancelled.id}"} <= worktree_paths(repo)

    ran = orkestra(home, "run", "--until-done", "--on-review", "approve", "--json")

    assert ran.returncode == 0, ran.stderr
    removed = (
        f"removed worktree {folder}/task-{cancelled.id} and branch orkestra-task/shop/task-{cancelled.id}"
    )
    assert f"orkestra: {removed}" in ran.stderr.splitlines(), ran.stderr
    statuses = {task["id"]: task["status"] for task in json.loads(ran.stdout)["tasks"]}
    assert statuses == {kept.id: "done", cancelled.id: "cancelled"}
    merges = git(repo, "log", "--merges", "--format=%B%x00", "orkestra/shop").split("\0")
    assert sum(f"Orkestra-Task: {kept.id}\n" in merge for merge in merges) == 1
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 2  # the user's, integration
    assert git(repo, "branch", "--list", "orkestra-task/*") == ""
    assert_fsck_clean(repo)
