"""Real git repositories in temporary folders for the repository tests, made with the git binary itself."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENVIRONMENT = {
    **{name: value for name, value in os.environ.items() if not name.startswith("GIT_")},
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
}


def git(cwd: Path, *arguments: str, check: bool = True, input_text: str | None = None) -> str:
    """`git ARGUMENTS` in CWD as a user would run it (no global config), its stdout."""
    result = subprocess.run(
        ["git", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env=GIT_ENVIRONMENT,
        input=input_text,
        timeout=60,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(arguments)} failed: {result.stderr}")
    return result.stdout


def make_repository(folder: Path, files: dict[str, str] | None = None, *, branch: str = "main") -> Path:
    """A repository at FOLDER with the user's identity in its own config and one commit of FILES."""
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "--quiet", f"--initial-branch={branch}")
    git(folder, "config", "user.name", "Ada User")
    git(folder, "config", "user.email", "ada@example.com")
    for name, text in (files or {"README.md": "# Project\n"}).items():
        write(folder / name, text)
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "-m", "Initial")
    return folder.resolve()


def write(path: Path, text: str) -> None:
    """Write TEXT at PATH, making its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def commit_all(folder: Path, message: str) -> str:
    """Commit everything in FOLDER as the user; the new commit."""
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "-m", message)
    return git(folder, "rev-parse", "HEAD").strip()


def assert_fsck_clean(root: Path) -> None:
    """`git fsck --strict` finds nothing wrong (dangling objects are not errors)."""
    result = subprocess.run(
        ["git", "fsck", "--strict", "--no-dangling"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env=GIT_ENVIRONMENT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stderr.lower(), result.stderr
