"""The one module that runs git: its runner, its one-line errors, the version check, and no other caller."""

from __future__ import annotations

import ast
import os
import shutil
import stat
from pathlib import Path

import pytest
from repos import git, make_repository, write

from orkestra_tui.engine.repo.commits import commit_task
from orkestra_tui.engine.repo.git import (
    GitError,
    GitMissing,
    GitTooOld,
    check_git,
    git_environment,
    git_output,
    git_problem,
    git_version,
    parse_git_version,
    run_git,
)
from orkestra_tui.engine.repo.link import link_repository

PACKAGE = Path(__file__).resolve().parent.parent / "orkestra_tui"
GIT_MODULE = PACKAGE / "engine" / "repo" / "git.py"
LAUNCHERS = {
    "run", "Popen", "call", "check_call", "check_output", "create_subprocess_exec", "create_subprocess_shell",
    "system", "popen", "execv", "execvp", "execvpe", "execl", "execlp", "spawnv", "spawnvp", "which",
}  # fmt: skip


def fake_git(folder: Path, script: str) -> Path:
    """A folder holding an executable `git` that runs SCRIPT (a shell script)."""
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / "git"
    program.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return folder


def runs_git(source: str) -> list[int]:
    """The lines of SOURCE that name the git program or launch a process with a `git …` argument."""
    tree = ast.parse(source)
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    # A "git" that names a field (a JSON report's key) names no program.
    docstrings |= {id(key) for node in ast.walk(tree) if isinstance(node, ast.Dict) for key in node.keys}
    docstrings |= {id(node.slice) for node in ast.walk(tree) if isinstance(node, ast.Subscript)}
    lines: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docstrings and node.value in ("git", "git.exe"):
            lines.append(node.lineno)
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in LAUNCHERS:
                for argument in ast.walk(node):
                    if isinstance(argument, ast.Constant) and str(argument.value).startswith("git "):
                        lines.append(argument.lineno)
    return lines


def test_no_other_module_of_the_package_runs_git() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): found
        for path in PACKAGE.rglob("*.py")
        if path != GIT_MODULE and (found := runs_git(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
    # The scan does see the one module that does run git, so it is not looking at nothing.
    assert runs_git(GIT_MODULE.read_text(encoding="utf-8"))
    assert runs_git('import subprocess\nsubprocess.run("git status", shell=True)\n')


async def test_a_command_returns_its_output(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo")
    assert await git_output(["rev-parse", "--abbrev-ref", "HEAD"], cwd=root) == "main"
    result = await run_git(["hash-object", "--stdin"], cwd=root, input_text="hello\n")
    assert result.returncode == 0
    assert result.stdout.strip() == git(root, "hash-object", "--stdin", input_text="hello\n").strip()


async def test_a_failure_is_one_line_from_git_without_its_prefix(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo")
    with pytest.raises(GitError) as caught:
        await run_git(["rev-parse", "--verify", "no-such-branch"], cwd=root)
    message = str(caught.value)
    assert message == "git rev-parse: Needed a single revision"
    assert caught.value.returncode == 128
    not_checked = await run_git(["rev-parse", "--verify", "no-such-branch"], cwd=root, check=False)
    assert not_checked.returncode == 128


async def test_a_folder_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(GitError, match=r"^the folder .*missing does not exist$"):
        await run_git(["status"], cwd=tmp_path / "missing")


async def test_git_missing_from_path_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repository(tmp_path / "repo")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(GitMissing) as caught:
        await run_git(["status"], cwd=tmp_path)
    assert "\n" not in str(caught.value)
    assert "git was not found on PATH" in str(caught.value)
    assert await git_problem() == str(caught.value)
    with pytest.raises(GitMissing):  # linking says the same, as an OrkestraError the commands print
        await link_repository(root, "p", tmp_path / "data")


async def test_an_old_git_is_refused_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(fake_git(tmp_path / "bin", 'echo "git version 2.37.1 (Apple Git-137)"')))
    assert await git_version() == (2, 37, 1)
    with pytest.raises(GitTooOld, match=r"^git 2\.37\.1 is too old; Orkestra needs git 2\.38 or newer"):
        await check_git()
    problem = await git_problem()
    assert problem is not None and problem.startswith("git 2.37.1 is too old")


async def test_the_machine_s_git_is_new_enough() -> None:
    assert (await check_git()).startswith("git 2.")
    assert await git_problem() is None


def test_versions_are_read_from_every_known_form() -> None:
    assert parse_git_version("git version 2.39.5\n") == (2, 39, 5)
    assert parse_git_version("git version 2.45.1.windows.1") == (2, 45, 1)
    assert parse_git_version("git version 2.38") == (2, 38, 0)
    with pytest.raises(GitError, match="cannot read the version"):
        parse_git_version("not git at all")


async def test_a_command_that_hangs_is_killed_at_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pid"
    monkeypatch.setenv(
        "PATH", str(fake_git(tmp_path / "bin", f'echo $$ > "{pid_file}"\nexec {shutil.which("sleep")} 60'))
    )
    with pytest.raises(GitError, match=r"^git status gave no answer within 0\.5 s$"):
        await run_git(["status"], cwd=tmp_path, timeout_s=0.5)
    pid = int(pid_file.read_text(encoding="utf-8"))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped, not left running


def test_the_environment_shuts_out_the_user_s_global_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_DIR", "/somewhere/else/.git")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/home/user/.gitconfig")
    environment = git_environment({"GIT_AUTHOR_NAME": "Claude"})
    assert "GIT_DIR" not in environment
    assert environment["GIT_CONFIG_GLOBAL"] == os.devnull
    assert environment["GIT_CONFIG_NOSYSTEM"] == "1"
    assert environment["GIT_AUTHOR_NAME"] == "Claude"
    assert environment["GIT_COMMITTER_NAME"] == "Orkestra"


async def test_hooks_signing_and_global_config_cannot_break_orkestra_s_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repository(tmp_path / "repo")
    failing_hook = root / ".git" / "hooks" / "pre-commit"
    failing_hook.write_text("#!/bin/sh\necho hook ran >&2\nexit 1\n", encoding="utf-8")
    failing_hook.chmod(0o755)
    git(root, "config", "commit.gpgSign", "true")  # the repository's own config asks for signing
    global_config = tmp_path / "global.gitconfig"
    global_config.write_text("[user]\n\tsigningKey = nothing\n[alias]\n\tcommit = status\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))  # as a hook that started Orkestra would leave
    write(root / "new.txt", "made by an agent\n")
    result = await commit_task(root, title="Add new.txt", task_id="7", agent_name="Claude")
    assert result.committed
    assert git(root, "log", "-1", "--format=%an|%cn|%G?").strip() == "Claude|Orkestra|N"
