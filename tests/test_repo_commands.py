"""The repository from the command line: plan --repo, project --repo, run, status, land and doctor.

Real `orkestra` processes over real repositories in tmp_path, in a fresh data dir. The
committee that plans is simulated; the tasks are carried out by a small coding-agent
command (a `command` agent) that writes a file in its task's worktree, so each task
leaves a real commit to gate, review and merge, offline and deterministically.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from processes import orkestra
from repos import assert_fsck_clean, git, make_repository, write

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec

CODER = """\
import pathlib, sys
prompt = sys.stdin.read()
if "<<<RESULT" in prompt:  # a review: the change is fine
    print('{"verdict": "approve", "comments": "Looks right."}')
else:  # a task: one file of its own, named after its worktree
    here = pathlib.Path.cwd()
    target = here / "work" / f"{here.name}.txt"
    target.parent.mkdir(exist_ok=True)
    target.write_text(f"made in {here.name}\\n", encoding="utf-8")
    print("# Done\\n\\nWrote the file.")
"""
PLANNERS = ("sim1", "sim2", "sim3")


def roster(home: Path, *, planners_enabled: bool) -> None:
    """config.toml: three simulated planners (enabled or not) and the `coder` command agent."""
    program = home.parent / "coder.py"
    program.write_text(CODER, encoding="utf-8")
    blocks = [
        f'[[agents]]\nname = "{name}"\nprovider = "simulated"\nenabled = {str(planners_enabled).lower()}\n'
        for name in PLANNERS
    ]
    command = json.dumps([sys.executable, str(program)])
    blocks.append(f'[[agents]]\nname = "coder"\nprovider = "command"\ncommand = {command}\n')
    text = "[simulation]\nseed = 0\nlatency_ms = 0\n\n" + "\n".join(blocks)
    (home / "config.toml").write_text(text, encoding="utf-8")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8")
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repository(tmp_path / "shop", {"README.md": "# Shop\n", "src/app.py": "print('shop')\n"})


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a refused command (exit 2), with no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("orkestra: ")
    return lines[0]


def checkout_state(repo: Path) -> tuple[str, str, str]:
    """What the user has in their checkout: HEAD, the branch, and the status (staged, unstaged, untracked)."""
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "symbolic-ref", "HEAD"),
        git(repo, "status", "--porcelain=v2", "--untracked-files=all"),
    )


def make_project(home: Path, name: str = "Shop", count: int = 2) -> int:
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project(name)
        engine.add_tasks(
            project.id,
            [
                TaskSpec(title=f"Part {number}", instructions=f"Write part {number}.", key=f"t{number}")
                for number in range(1, count + 1)
            ],
        )
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
        return project.id
    finally:
        engine.close()


# ------------------------------------------------------------ the whole way


def test_plan_with_a_repository_runs_into_the_integration_branch_and_lands_on_a_clean_checkout(
    home: Path, repo: Path
) -> None:
    roster(home, planners_enabled=True)
    write(repo / "README.md", "# Shop, being edited by the user\n")  # the user's own work in progress
    write(repo / "scratch.txt", "mine\n")
    git(repo, "add", "scratch.txt")
    before = checkout_state(repo)

    planned = orkestra(
        home,
        *("plan", "--name", "Shop", "--description", "A small online shop.", "--involvement", "1"),
        *("--agents", ",".join(PLANNERS), "--repo", str(repo), "--json"),
    )
    assert planned.returncode == 0, planned.stderr
    document = json.loads(planned.stdout)
    assert document["approved"] is True
    assert document["repository"]["path"] == str(repo)
    assert document["repository"]["branch"] == "orkestra/shop"
    assert document["repository"]["base"] == "main"

    roster(home, planners_enabled=False)  # every task goes to the coder
    ran = orkestra(home, "run", "--until-done", "--on-review", "approve", "--json")
    assert ran.returncode == 0, ran.stderr
    tasks = json.loads(ran.stdout)["tasks"]
    assert tasks and all(task["status"] == "done" and task["agent"] == "coder" for task in tasks)

    history = git(repo, "log", "--format=%B%x00", "orkestra/shop")
    for task in tasks:
        assert f"Orkestra-Task: {task['id']}" in history
        work = git(repo, "ls-tree", "-r", "--name-only", "orkestra/shop", "work/")
        assert f"work/task-{task['id']}.txt" in work
    assert "Orkestra-Agent: coder" in history
    assert checkout_state(repo) == before  # HEAD, branch, index, working tree: as they were
    assert git(repo, "branch", "--list", "orkestra-task/*") == ""
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 2  # the user's, integration
    assert_fsck_clean(repo)

    status = orkestra(home, "status", "--json")
    assert status.returncode == 0, status.stderr
    (project,) = json.loads(status.stdout)["projects"]
    repository = project["repository"]
    assert repository["branch"] == "orkestra/shop"
    assert repository["ahead"] == 2 * len(tasks)  # each task's commit and its merge
    assert repository["behind"] == 0
    assert repository["merged_tasks"] == len(tasks)
    assert repository["waiting"] == [] and repository["problems"] == []
    shown = orkestra(home, "status")
    assert f"{2 * len(tasks)} commits ahead of main, 0 behind; {len(tasks)} tasks merged" in shown.stdout

    refused = one_line_error(orkestra(home, "land", "Shop"))
    assert "uncommitted changes" in refused
    assert checkout_state(repo) == before

    git(repo, "checkout", "--", "README.md")
    git(repo, "commit", "--quiet", "-m", "Scratch notes")
    landed = orkestra(home, "land", "Shop")
    assert landed.returncode == 0, landed.stderr
    head = git(repo, "rev-parse", "HEAD").strip()
    assert landed.stdout == f"landed orkestra/shop on main ({head[:12]})\n"
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main\n"
    assert (repo / "work" / f"task-{tasks[0]['id']}.txt").exists()
    assert git(repo, "status", "--porcelain") == ""

    again = orkestra(home, "land", "Shop", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {
        "project": "Shop",
        "repository": str(repo),
        "from": "orkestra/shop",
        "onto": "main",
        "commit": None,
        "landed": False,
    }
    assert orkestra(home, "land", "Shop").stdout == "main already has everything on orkestra/shop\n"
    assert_fsck_clean(repo)


# ------------------------------------------------------------------ linking


def test_an_existing_project_is_linked_later_and_shown(home: Path, repo: Path) -> None:
    make_project(home)
    before = checkout_state(repo)

    shown = orkestra(home, "project", "Shop")
    assert shown.returncode == 0, shown.stderr
    assert '"Shop" has no repository' in shown.stdout
    assert json.loads(orkestra(home, "project", "Shop", "--json").stdout)["repository"] is None

    linked = orkestra(home, "project", "Shop", "--repo", str(repo), "--json")
    assert linked.returncode == 0, linked.stderr
    document = json.loads(linked.stdout)
    assert document["linked"] is True
    assert document["repository"]["branch"] == "orkestra/shop"
    worktree = Path(document["repository"]["worktree"])
    assert worktree.is_relative_to(home) and not worktree.is_relative_to(repo)
    assert git(repo, "rev-parse", "orkestra/shop") == git(repo, "rev-parse", "main")
    assert checkout_state(repo) == before

    again = orkestra(home, "project", "Shop")
    assert again.stdout.splitlines()[0] == f'"Shop" works in {repo} on orkestra/shop (from main)'

    status = json.loads(orkestra(home, "status", "--json").stdout)
    repository = status["projects"][0]["repository"]
    assert (repository["ahead"], repository["behind"], repository["merged_tasks"]) == (0, 0, 0)


def test_a_folder_that_is_not_a_repository_is_refused_unless_asked_to_initialise_it(
    home: Path, tmp_path: Path
) -> None:
    make_project(home)
    plain = tmp_path / "plain"
    write(plain / "notes.txt", "my notes\n")

    refused = one_line_error(orkestra(home, "project", "Shop", "--repo", str(plain)))
    assert refused == f"orkestra: {plain} is not a git repository; pass --init-repo to make it one"
    assert not (plain / ".git").exists()

    made = orkestra(home, "project", "Shop", "--repo", str(plain), "--init-repo")
    assert made.returncode == 0, made.stderr
    assert (plain / ".git").is_dir()
    assert git(plain, "status", "--porcelain") == "?? notes.txt\n"  # the user's file stays untracked
    assert git(plain, "rev-parse", "orkestra/shop") == git(plain, "rev-parse", "main")


def test_plan_refuses_a_folder_that_is_not_a_repository_before_making_the_project(
    home: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    brief = ("plan", "--name", "Shop", "--description", "A shop.", "--involvement", "1")

    refused = one_line_error(orkestra(home, *brief, "--repo", str(plain)))
    assert "is not a git repository; pass --init-repo" in refused
    missing = one_line_error(orkestra(home, *brief, "--repo", str(tmp_path / "nowhere")))
    assert missing == f"orkestra: {tmp_path / 'nowhere'} does not exist"
    assert json.loads(orkestra(home, "status", "--json").stdout)["projects"] == []

    made = orkestra(home, *brief, "--repo", str(plain), "--init-repo", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["repository"]["branch"] == "orkestra/shop"


@pytest.mark.parametrize(
    ("arguments", "line"),
    [
        (("project", "Shop", "--init-repo"), "orkestra: --init-repo goes with --repo PATH"),
        (("project", "Shop", "--base", "main"), "orkestra: --base goes with --repo PATH"),
        (("project", "Nope", "--repo", "."), 'orkestra: there is no project named "Nope"; projects: "Shop"'),
        (
            ("land", "Shop"),
            'orkestra: "Shop" has no repository; link one with orkestra project "Shop" --repo PATH',
        ),
        (("land", "Nope"), 'orkestra: there is no project named "Nope"; projects: "Shop"'),
    ],
)
def test_bad_requests_get_one_line(home: Path, arguments: tuple[str, ...], line: str) -> None:
    make_project(home)
    assert one_line_error(orkestra(home, *arguments)) == line


def test_a_missing_base_branch_is_refused(home: Path, repo: Path) -> None:
    make_project(home)
    refused = one_line_error(orkestra(home, "project", "Shop", "--repo", str(repo), "--base", "develop"))
    assert "the base branch 'develop' does not exist" in refused
    assert git(repo, "branch", "--list", "orkestra/*") == ""


# ------------------------------------------------------------------- doctor


def doctor(home: Path, path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PATH": path, "COLUMNS": "200"},
    )


def test_doctor_checks_git_a_warning_without_linked_projects_an_error_with_one(
    home: Path, repo: Path, tmp_path: Path
) -> None:
    no_git = tmp_path / "bin"
    no_git.mkdir()
    old_git = tmp_path / "old-bin"
    old_git.mkdir()
    fake = old_git / "git"
    fake.write_text("#!/bin/sh\necho 'git version 2.30.1'\n", encoding="utf-8")
    fake.chmod(0o755)

    fine = doctor(home, os.environ["PATH"])
    assert fine.returncode == 0, fine.stderr
    assert json.loads(fine.stdout)["git"]["level"] == "ok"

    unlinked = doctor(home, str(no_git))
    assert unlinked.returncode == 0, unlinked.stderr
    git_report = json.loads(unlinked.stdout)["git"]
    assert git_report["level"] == "warning" and "git was not found" in git_report["problem"]
    text = subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), "doctor"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PATH": str(no_git), "COLUMNS": "200"},
    )
    assert "warning: git was not found on PATH" in text.stdout

    make_project(home)
    assert orkestra(home, "project", "Shop", "--repo", str(repo)).returncode == 0
    linked = doctor(home, os.environ["PATH"])
    assert linked.returncode == 0, linked.stdout
    assert json.loads(linked.stdout)["repositories"] == [
        {"project": "Shop", "path": str(repo), "branch": "orkestra/shop", "problems": []}
    ]

    missing = doctor(home, str(no_git))
    assert missing.returncode == 1
    report = json.loads(missing.stdout)
    assert report["git"]["level"] == "error"
    assert "git was not found" in report["repositories"][0]["problems"][0]
    too_old = doctor(home, str(old_git))
    assert too_old.returncode == 1
    assert "git 2.30.1 is too old" in json.loads(too_old.stdout)["git"]["problem"]

    (repo / ".git" / "MERGE_HEAD").write_text(git(repo, "rev-parse", "HEAD"), encoding="utf-8")
    mid_merge = doctor(home, os.environ["PATH"])
    assert mid_merge.returncode == 1
    (problem,) = json.loads(mid_merge.stdout)["repositories"][0]["problems"]
    assert "in the middle of a merge" in problem


# ------------------------------------------------------------------- status


def test_status_shows_what_waits_to_merge_and_a_repository_that_cannot_be_used(
    home: Path, repo: Path
) -> None:
    make_project(home)
    assert orkestra(home, "project", "Shop", "--repo", str(repo)).returncode == 0
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:  # a run started task 1 in its worktree (and was stopped there)
        (project,) = engine.projects()
        link = engine.repository(project.id)
        assert link is not None
        task = engine.tasks(project.id)[0]
        asyncio.run(engine.repo_work().prepare(task, link, project))
    finally:
        engine.close()

    shown = orkestra(home, "status")
    assert shown.returncode == 0, shown.stderr
    assert f"Shop: orkestra/shop in {repo}, from main" in shown.stdout
    assert '  waiting to merge: #1 "Part 1" (working)' in shown.stdout
    (listed,) = json.loads(orkestra(home, "status", "--json").stdout)["projects"]
    assert listed["repository"]["waiting"] == [{"id": 1, "title": "Part 1", "state": "working"}]

    (repo / ".git" / "MERGE_HEAD").write_text(git(repo, "rev-parse", "HEAD"), encoding="utf-8")
    broken = orkestra(home, "status")
    assert broken.returncode == 0, broken.stderr
    assert f"  not usable: {repo} is in the middle of a merge; finish or abort it first" in broken.stdout
    (listed,) = json.loads(orkestra(home, "status", "--json").stdout)["projects"]
    assert listed["repository"]["problems"] == [
        f"{repo} is in the middle of a merge; finish or abort it first"
    ]
