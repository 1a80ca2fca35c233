"""A task in a repository project, end to end, over real git: worktree, change, gates, review, merge."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import ScriptedProvider
from repos import assert_fsck_clean, git, make_repository, write
from test_scheduler import active_project, cast, member, scripted_engine, spec

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.providers.base import ProviderRequest

GATES = ".orkestra.toml", 'gates = ["python -m compileall -q ."]\nprotect = ["LICENSE"]\n'


def file_block(path: str, text: str) -> str:
    return f"I made the change.\n\n```python file={path}\n{text}```\n"


def edit_block(path: str, search: str, replace: str) -> str:
    return f"Edited.\n\n```text edit={path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repository(
        tmp_path / "project",
        {"README.md": "# Shop\n", "LICENSE": "MIT\n", GATES[0]: GATES[1], "src/__init__.py": ""},
    )


@pytest.fixture
def scripted(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = scripted_engine(paths, settings, clock, max_attempts=3)
    yield engine
    engine.close()


async def run(engine: Engine) -> None:
    await Scheduler(engine).run()


def branch_file(repo: Path, branch: str, path: str) -> str:
    return git(repo, "show", f"{branch}:{path}")


def task_requests(provider: ScriptedProvider) -> list[ProviderRequest]:
    return [request for request in provider.requests if request.purpose == "task"]


async def linked(engine: Engine, repo: Path, *specs: object) -> tuple[int, list[int], str]:
    project_id, task_ids = active_project(engine, *specs)  # type: ignore[arg-type]
    link = await engine.link_repository(project_id, repo)
    return project_id, task_ids, link.branch


async def test_a_change_lands_on_the_integration_branch_and_the_users_checkout_is_untouched(
    scripted: Engine, repo: Path
) -> None:
    write(repo / "README.md", "# Shop, edited by the user\n")  # uncommitted work of the user's own
    write(repo / "scratch.txt", "mine\n")
    status_before = git(repo, "status", "--porcelain=v2")
    hello = file_block("src/hello.py", "def hello():\n    return 1\n")
    providers = cast(scripted, {name: member(hello) for name in ("claude", "chatgpt", "gemini")})
    _project, (task_id,), branch = await linked(scripted, repo, spec("Say hello"))

    await run(scripted)

    task = scripted.task(task_id)
    assert task.status is TaskStatus.DONE, task.note
    assert branch_file(repo, branch, "src/hello.py") == "def hello():\n    return 1\n"
    merge_message = git(repo, "log", "-1", "--format=%B", branch)
    assert f"Orkestra-Task: {task_id}" in merge_message
    author = git(repo, "log", "-1", "--format=%an", f"{branch}^2")
    assert author == f"{task.assigned_to}\n"
    assert git(repo, "status", "--porcelain=v2") == status_before
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    change = scripted.task_change(task_id)
    assert change is not None and change.state == "merged" and change.worktree is None
    assert change.files == ("src/hello.py",)
    stages = [(run.stage, run.passed) for run in scripted.gate_runs(task_id)]
    assert stages == [("task", True), ("merge", True)]
    assert change.branch not in git(repo, "branch", "--list", "orkestra-task/*")
    after = [e for e in scripted.audit_events(100, kind="task.checked") if e.data["stage"] == "after"]
    assert after[0].data["checks"]["commit"] == "ok" and after[0].data["checks"]["worktree"] == "ok"
    before = [e for e in scripted.audit_events(100, kind="task.checked") if e.data["stage"] == "before"]
    assert before[0].data["checks"]["repository"] == "ok"
    reviews = [r for p in providers.values() for r in p.requests if r.purpose == "review"]
    assert reviews and all("src/hello.py" in r.messages[-1].content for r in reviews)
    assert_fsck_clean(repo)


async def test_a_failed_gate_goes_back_to_the_same_agent_with_its_output_never_to_review(
    scripted: Engine, repo: Path
) -> None:
    def answer(request: ProviderRequest) -> str:
        if request.context["repository"]["gate_feedback"]:
            return file_block("src/calc.py", "def add(a, b):\n    return a + b\n")
        return file_block("src/calc.py", "def add(a, b)\n    return a + b\n")  # a syntax error

    providers = cast(scripted, {name: member(answer) for name in ("claude", "chatgpt", "gemini")})
    _project, (task_id,), branch = await linked(scripted, repo, spec("Add numbers"))

    await run(scripted)

    task = scripted.task(task_id)
    assert task.status is TaskStatus.DONE, task.note
    asked = [r for p in providers.values() for r in task_requests(p)]
    assert len(asked) == 2
    assert "compileall" in asked[1].messages[-1].content
    assert "SyntaxError" in asked[1].messages[-1].content
    assert [(run.attempt, run.passed) for run in scripted.gate_runs(task_id) if run.stage == "task"] == [
        (1, False),
        (1, True),
    ]
    assert "return a + b" in branch_file(repo, branch, "src/calc.py")


async def test_gates_that_keep_failing_go_to_the_human(scripted: Engine, repo: Path) -> None:
    broken = file_block("src/bad.py", "def broken(:\n")
    providers = cast(scripted, {name: member(broken) for name in ("claude", "chatgpt", "gemini")})
    _project, (task_id,), branch = await linked(scripted, repo, spec("Break things"))

    await run(scripted)

    task = scripted.task(task_id)
    assert task.status is TaskStatus.AWAITING_HUMAN
    assert "still fails after 3 tries" in task.note
    assert not [r for p in providers.values() for r in p.requests if r.purpose == "review"]
    assert "src/bad.py" not in git(repo, "ls-tree", "-r", "--name-only", branch)


async def test_an_edit_that_does_not_apply_is_sent_back_once_with_the_reason(
    scripted: Engine, repo: Path
) -> None:
    def answer(request: ProviderRequest) -> str:
        if request.context["repository"]["edit_feedback"]:
            return edit_block("README.md", "# Shop\n", "# Shop\n\nA small shop.\n")
        return edit_block("README.md", "# Store\n", "# Store\n\nA small shop.\n")

    providers = cast(scripted, {name: member(answer) for name in ("claude", "chatgpt", "gemini")})
    _project, (task_id,), branch = await linked(scripted, repo, spec("Describe the shop"))

    await run(scripted)

    assert scripted.task(task_id).status is TaskStatus.DONE
    asked = [r for p in providers.values() for r in task_requests(p)]
    assert len(asked) == 2 and "README.md" in asked[1].messages[-1].content
    assert branch_file(repo, branch, "README.md") == "# Shop\n\nA small shop.\n"


async def test_paths_outside_the_worktree_or_protected_are_refused_and_recorded(
    scripted: Engine, repo: Path, tmp_path: Path
) -> None:
    answer = (
        file_block("../outside.py", "x = 1\n")
        + file_block("LICENSE", "stolen\n")
        + file_block(".git/hooks/pre-commit", "echo hi\n")
        + file_block("src/ok.py", "ok = True\n")
    )
    cast(scripted, {name: member(answer) for name in ("claude", "chatgpt", "gemini")})
    _project, (task_id,), branch = await linked(scripted, repo, spec("Try everything"))

    await run(scripted)

    assert scripted.task(task_id).status is TaskStatus.DONE
    refused = {event.data["path"] for event in scripted.audit_events(100, kind="task.file_refused")}
    assert refused >= {"../outside.py", "LICENSE", ".git/hooks/pre-commit"}
    assert not (tmp_path / "outside.py").exists()
    assert branch_file(repo, branch, "LICENSE") == "MIT\n"
    assert branch_file(repo, branch, "src/ok.py") == "ok = True\n"


async def test_a_dependent_task_starts_from_its_dependencys_merged_change(
    scripted: Engine, repo: Path
) -> None:
    def answer(request: ProviderRequest) -> str:
        if request.context["title"] == "Base":
            return file_block("src/base.py", "BASE = 1\n")
        assert "src/base.py" in request.context["repository"]["files"]
        return file_block("src/top.py", "from src.base import BASE\n")

    cast(scripted, {name: member(answer) for name in ("claude", "chatgpt", "gemini")})
    _project, task_ids, branch = await linked(scripted, repo, spec("Base", "a"), spec("Top", "b", "a"))

    await run(scripted)

    assert [scripted.task(task_id).status for task_id in task_ids] == [TaskStatus.DONE, TaskStatus.DONE]
    tree = git(repo, "ls-tree", "-r", "--name-only", branch)
    assert "src/base.py" in tree and "src/top.py" in tree


async def test_a_conflict_runs_the_task_again_on_a_fresh_worktree_then_merges(
    scripted: Engine, repo: Path
) -> None:
    """Two tasks made from one head both add NOTES.md: the second to merge conflicts, and runs again."""

    def answer(request: ProviderRequest) -> str:
        repository = request.context["repository"]
        line = request.context["title"] + "\n"
        if repository["conflict"]:
            current = repository["named_files"]["NOTES.md"]
            return edit_block("NOTES.md", current, current + line)
        return file_block("NOTES.md", line)

    cast(scripted, {name: member(answer) for name in ("claude", "chatgpt", "gemini")})
    specs = (
        spec("First note", "a", instructions="Add NOTES.md."),
        spec("Second note", "b", instructions="Add NOTES.md."),
    )
    _project, task_ids, branch = await linked(scripted, repo, *specs)

    await run(scripted)

    assert [scripted.task(task_id).status for task_id in task_ids] == [TaskStatus.DONE, TaskStatus.DONE]
    reruns = sorted(scripted.task_change(task_id).reruns for task_id in task_ids)  # type: ignore[union-attr]
    assert reruns == [0, 1]
    assert sorted(branch_file(repo, branch, "NOTES.md").splitlines()) == ["First note", "Second note"]
    assert_fsck_clean(repo)


async def test_approving_an_escalated_task_merges_it(scripted: Engine, repo: Path) -> None:
    cast(
        scripted,
        {
            name: member(file_block("src/risky.py", "RISK = 1\n"), "blocker")
            for name in ("claude", "chatgpt", "gemini")
        },
    )
    _project, (task_id,), branch = await linked(scripted, repo, spec("Risky"))
    await run(scripted)
    assert scripted.task(task_id).status is TaskStatus.AWAITING_HUMAN
    assert "src/risky.py" not in git(repo, "ls-tree", "-r", "--name-only", branch)

    assert scripted.approve_task(task_id).status is TaskStatus.REVIEW
    await run(scripted)

    assert scripted.task(task_id).status is TaskStatus.DONE
    assert branch_file(repo, branch, "src/risky.py") == "RISK = 1\n"
    assert json.loads(json.dumps(scripted.task_change(task_id).state)) == "merged"  # type: ignore[union-attr]


async def test_a_command_agent_works_in_the_tasks_worktree_and_its_changes_are_what_git_shows(
    scripted: Engine, repo: Path, tmp_path: Path
) -> None:
    """A coding-agent CLI edits files where it runs; a protected file it touched is put back."""
    script = (
        "import pathlib, sys\n"
        "sys.stdin.read()\n"
        "pathlib.Path('src/cli_made.py').write_text('MADE = True\\n')\n"
        "pathlib.Path('LICENSE').write_text('changed by the agent\\n')\n"
        "print('Made src/cli_made.py.')\n"
    )
    from orkestra_tui.providers.command import CommandProvider

    cast(scripted)  # the reviewers answer as scripted; the task goes to the command agent
    scripted.use_provider(
        "claude", CommandProvider([sys.executable, "-c", script], workspace=tmp_path / "shared")
    )
    _project, (task_id,), branch = await linked(scripted, repo, spec("Make a module"))
    scripted.reassign_task(task_id, "claude")

    await run(scripted)

    assert scripted.task(task_id).status is TaskStatus.DONE, scripted.task(task_id).note
    assert branch_file(repo, branch, "src/cli_made.py") == "MADE = True\n"
    assert branch_file(repo, branch, "LICENSE") == "MIT\n"
    refused = {event.data["path"] for event in scripted.audit_events(100, kind="task.file_refused")}
    assert "LICENSE" in refused
    assert not (tmp_path / "shared" / "src").exists()


async def test_a_tracked_link_leading_out_of_the_repository_never_reaches_the_prompt(
    scripted: Engine, repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "private.txt"
    outside.write_text("PRIVATE-MARKER-4711\n")
    (repo / "notes.txt").symlink_to(outside)
    git(repo, "add", "notes.txt")
    git(repo, "commit", "--quiet", "-m", "A link")
    providers = cast(scripted)
    _project, (_task_id,), _branch = await linked(
        scripted, repo, spec("Read notes.txt", instructions="See notes.txt.")
    )

    await run(scripted)

    asked = [r for p in providers.values() for r in task_requests(p)]
    assert asked and all("PRIVATE-MARKER" not in r.messages[-1].content for r in asked)
    assert all("PRIVATE-MARKER" not in str(r.context) for r in asked)


async def test_a_merge_that_breaks_the_gates_is_not_kept_and_comes_to_you_after_a_fresh_run(
    scripted: Engine, tmp_path: Path
) -> None:
    """Each change passes the gate alone; together they fail it: the second merge is undone."""
    check = (
        "import pathlib, sys\n"
        "sys.exit(pathlib.Path('src/a.py').exists() and pathlib.Path('src/b.py').exists())\n"
    )
    repo = make_repository(
        tmp_path / "project",
        {"README.md": "# Shop\n", "check.py": check, GATES[0]: 'gates = ["python check.py"]\n'},
    )

    def answer(request: ProviderRequest) -> str:
        name = "a" if request.context["title"] == "Part a" else "b"
        return file_block(f"src/{name}.py", f"{name.upper()} = 1\n")

    cast(scripted, {name: member(answer) for name in ("claude", "chatgpt", "gemini")})
    _project, task_ids, branch = await linked(scripted, repo, spec("Part a", "a"), spec("Part b", "b"))

    await run(scripted)

    statuses = sorted(scripted.task(task_id).status.value for task_id in task_ids)
    assert statuses == ["awaiting_human", "done"]
    tree = git(repo, "ls-tree", "-r", "--name-only", branch)
    assert ("src/a.py" in tree) != ("src/b.py" in tree)  # one merged, the other never kept
    merge_gates = [run for task_id in task_ids for run in scripted.gate_runs(task_id) if run.stage == "merge"]
    assert any(not run.passed for run in merge_gates)
    assert_fsck_clean(repo)


async def test_the_base_branch_named_in_orkestra_toml_is_where_the_work_starts(
    scripted: Engine, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "project", {"README.md": "# Shop\n", GATES[0]: 'base = "develop"\n'})
    git(repo, "branch", "develop")
    git(repo, "checkout", "--quiet", "develop")
    write(repo / "DEVELOP.md", "only on develop\n")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "Develop")
    git(repo, "checkout", "--quiet", "main")  # the user works on main; the settings name develop

    project_id, _tasks = active_project(scripted, spec("Anything"))
    link = await scripted.link_repository(project_id, repo)

    assert link.base == "develop"
    assert "DEVELOP.md" in git(repo, "ls-tree", "-r", "--name-only", link.branch)
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


async def test_init_makes_a_missing_folder_a_repository_with_a_first_commit(
    scripted: Engine, tmp_path: Path
) -> None:
    project_id, _tasks = active_project(scripted, spec("Anything"))
    link = await scripted.link_repository(project_id, tmp_path / "new" / "app", init=True)

    assert (tmp_path / "new" / "app" / ".git").is_dir()
    assert link.base == "main" and git(link.path, "log", "--format=%s", link.branch).strip()


async def test_a_command_agent_that_commits_itself_is_judged_on_what_it_committed(
    scripted: Engine, repo: Path, tmp_path: Path
) -> None:
    """Commits a CLI makes on its own are folded back into its change: a protected file stays out."""
    script = (
        "import pathlib, subprocess, sys\n"
        "sys.stdin.read()\n"
        "pathlib.Path('src/self_made.py').write_text('SELF = True\\n')\n"
        "pathlib.Path('LICENSE').write_text('changed and committed by the agent\\n')\n"
        "git = ['git', '-c', 'user.name=Cli', '-c', 'user.email=cli@example.invalid']\n"
        "subprocess.run([*git, 'add', '--all'], check=True)\n"
        "subprocess.run([*git, 'commit', '--quiet', '-m', 'my own commit'], check=True)\n"
        "print('Committed src/self_made.py.')\n"
    )
    from orkestra_tui.providers.command import CommandProvider

    cast(scripted)
    scripted.use_provider(
        "claude", CommandProvider([sys.executable, "-c", script], workspace=tmp_path / "shared")
    )
    _project, (task_id,), branch = await linked(scripted, repo, spec("Make it yourself"))
    scripted.reassign_task(task_id, "claude")

    await run(scripted)

    assert scripted.task(task_id).status is TaskStatus.DONE, scripted.task(task_id).note
    assert branch_file(repo, branch, "src/self_made.py") == "SELF = True\n"
    assert branch_file(repo, branch, "LICENSE") == "MIT\n"
    assert "my own commit" not in git(repo, "log", "--format=%s", branch)
