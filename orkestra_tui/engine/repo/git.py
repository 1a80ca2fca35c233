"""The one module of Orkestra that runs the `git` binary.

Every git command goes through `run_git`: no shell, the arguments as a list,
a timeout, the output captured and decoded safely, and a failure raised as a
`GitError` whose message is one line (git's own first line of complaint).

Orkestra's git commands must not depend on, or be broken by, the user's own
git set-up, so each runs in a controlled environment (`git_environment`):

- `GIT_CONFIG_GLOBAL=/dev/null` and `GIT_CONFIG_NOSYSTEM=1`: the user's global
  and system config (signing, aliases, hooks paths, templates) do not apply;
  the repository's own `.git/config` still does.
- `-c core.hooksPath=/dev/null` and `-c commit.gpgSign=false`: the
  repository's hooks and signing settings do not run on Orkestra's commits and
  merges (a pre-commit hook that formats files, or a signing prompt, would
  change or block them).
- `-c gc.auto=0`: no automatic gc in the middle of a run (it may detach a
  background process); the user's own git runs gc as usual.
- every inherited `GIT_*` variable is dropped (a `GIT_DIR` or `GIT_INDEX_FILE`
  left by a hook that started Orkestra would point the commands elsewhere),
  `GIT_OPTIONAL_LOCKS=0` keeps `git status` from rewriting the user's index,
  `GIT_TERMINAL_PROMPT=0` keeps git from ever asking, and `LC_ALL=C` keeps its
  messages in one language.
- the committer, and the author unless the caller names one, is Orkestra.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from orkestra_tui.errors import OrkestraError

GIT_MINIMUM_VERSION = (2, 38)
"""`git merge-tree --write-tree` (the conflict pre-check) needs git 2.38."""
DEFAULT_TIMEOUT_S = 300.0
"""Long enough for a checkout of a large repository; a stuck command is killed after it."""
ERROR_LINE_CHARS = 300
ORKESTRA_NAME = "Orkestra"
ORKESTRA_EMAIL = "orkestra@orkestra.invalid"
CONFIG_OVERRIDES = ("-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false", "-c", "gc.auto=0")
GIT_PREFIXES = ("fatal: ", "error: ", "warning: ", "usage: ")
LOCK_WAITS_S = (0.05, 0.1, 0.2, 0.4, 0.8)
"""How long to wait before each new try of a command that found a lock taken by another git process."""
_LOCK_BUSY = re.compile(
    r"\.lock'?: File exists|cannot lock ref|could not lock|Unable to create '[^']*\.lock'"
)


class GitError(OrkestraError):
    """A git command failed, in one line; `returncode` and `stderr` keep the details."""

    def __init__(self, message: str, *, returncode: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class GitMissing(GitError):
    """No `git` binary on PATH."""


class GitTooOld(GitError):
    """The `git` binary is older than Orkestra needs."""


@dataclass(frozen=True)
class GitResult:
    """What one git command printed and how it ended."""

    returncode: int
    stdout: str
    """Decoded as UTF-8 with surrogate escapes, so a path that is not UTF-8 still round-trips."""
    stderr: str


def git_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every git command Orkestra runs (see the module's docstring)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    environment.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_OPTIONAL_LOCKS="0",
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
        LANGUAGE="C",
        GIT_AUTHOR_NAME=ORKESTRA_NAME,
        GIT_AUTHOR_EMAIL=ORKESTRA_EMAIL,
        GIT_COMMITTER_NAME=ORKESTRA_NAME,
        GIT_COMMITTER_EMAIL=ORKESTRA_EMAIL,
    )
    environment.update(extra or {})
    return environment


def git_executable() -> str:
    """The `git` binary on PATH, or GitMissing."""
    found = shutil.which("git")
    if found is None:
        raise GitMissing(
            "git was not found on PATH; Orkestra needs git 2.38 or newer for repository projects"
        )
    return found


def one_line(text: str) -> str:
    """Text made one printable line: control characters dropped, spaces collapsed, length capped."""
    printable = "".join(character if character.isprintable() else " " for character in text)
    collapsed = " ".join(printable.split())
    return collapsed if len(collapsed) <= ERROR_LINE_CHARS else collapsed[: ERROR_LINE_CHARS - 1] + "…"


def failure_line(args: Sequence[str], returncode: int, stdout: str, stderr: str) -> str:
    """One line for a failed command: git's first complaint, without its `fatal:` prefix."""
    lines = [line.strip() for line in (*stderr.splitlines(), *stdout.splitlines()) if line.strip()]
    if not lines:
        return f"git {args[0] if args else ''} exited with status {returncode}"
    first = lines[0]
    for prefix in GIT_PREFIXES:
        first = first.removeprefix(prefix)
    return one_line(f"git {args[0]}: {first}")


async def run_git(
    args: Sequence[str],
    *,
    cwd: Path,
    check: bool = True,
    input_text: str | None = None,
    environment: Mapping[str, str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> GitResult:
    """Run `git ARGS` in CWD and return what it printed; GitError if it fails and CHECK is set.

    ENVIRONMENT adds to (or overrides) `git_environment()`, e.g. a task's author.
    A cancelled or timed-out command is killed, never left running.
    """
    for wait_s in (*LOCK_WAITS_S, None):
        result = await _run_once(
            args, cwd=cwd, input_text=input_text, environment=environment, timeout_s=timeout_s
        )
        if result.returncode == 0 or wait_s is None or not _LOCK_BUSY.search(result.stderr):
            break
        # Another git process (a second Orkestra run, the user's own git) holds a lock: its
        # command changed nothing yet, so it is safe to try again in a moment.
        await asyncio.sleep(wait_s)
    if check and result.returncode != 0:
        raise GitError(
            failure_line(args, result.returncode, result.stdout, result.stderr),
            returncode=result.returncode,
            stderr=result.stderr,
        )
    return result


async def _run_once(
    args: Sequence[str],
    *,
    cwd: Path,
    input_text: str | None,
    environment: Mapping[str, str] | None,
    timeout_s: float,
) -> GitResult:
    """One run of `git ARGS`, whatever its exit status."""
    executable = git_executable()
    if not cwd.is_dir():
        raise GitError(f"the folder {cwd} does not exist")
    try:
        process = await asyncio.create_subprocess_exec(
            executable,
            *CONFIG_OVERRIDES,
            *args,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL if input_text is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=git_environment(environment),
        )
    except FileNotFoundError:
        raise GitMissing("git was not found; Orkestra needs git 2.38 or newer") from None
    except PermissionError:
        raise GitError(f"{executable} cannot be run (permission denied)") from None
    stdin_bytes = None if input_text is None else input_text.encode("utf-8", "surrogateescape")
    try:
        stdout_bytes, stderr_bytes = await asyncio.wait_for(process.communicate(stdin_bytes), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise GitError(f"git {args[0] if args else ''} gave no answer within {timeout_s:g} s") from None
    except asyncio.CancelledError:
        process.kill()
        await asyncio.shield(process.wait())
        raise
    returncode = process.returncode if process.returncode is not None else -1
    return GitResult(
        returncode=returncode,
        stdout=stdout_bytes.decode("utf-8", "surrogateescape"),
        stderr=stderr_bytes.decode("utf-8", "replace"),
    )


async def git_output(args: Sequence[str], *, cwd: Path, timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """The stdout of a git command that must succeed, without its trailing newline."""
    return (await run_git(args, cwd=cwd, timeout_s=timeout_s)).stdout.rstrip("\n")


def parse_git_version(text: str) -> tuple[int, int, int]:
    """(major, minor, patch) from `git version 2.39.5`, `2.37.1 (Apple Git-136)` or `2.45.1.windows.1`."""
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if match is None:
        raise GitError(f"cannot read the version of git from {one_line(text)!r}")
    return int(match[1]), int(match[2]), int(match[3] or 0)


async def git_version() -> tuple[int, int, int]:
    """The version of the `git` binary on PATH; GitMissing if there is none."""
    result = await run_git(["version"], cwd=Path(os.sep), timeout_s=30)  # needs no repository
    return parse_git_version(result.stdout)


async def check_git() -> str:
    """`git 2.39.5` when git is usable; otherwise GitMissing or GitTooOld, in one line."""
    version = await git_version()
    shown = ".".join(str(part) for part in version)
    if version[:2] < GIT_MINIMUM_VERSION:
        minimum = ".".join(str(part) for part in GIT_MINIMUM_VERSION)
        raise GitTooOld(
            f"git {shown} is too old; Orkestra needs git {minimum} or newer (merge-tree --write-tree)"
        )
    return f"git {shown}"


async def git_problem() -> str | None:
    """None when git is usable, otherwise the one line that says why not (for `orkestra doctor`)."""
    try:
        await check_git()
    except GitError as error:
        return str(error)
    return None


_repository_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Path, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def repository_lock(root: Path) -> asyncio.Lock:
    """One lock per repository and event loop, held around commands that add or remove worktrees and branches.

    Git locks each ref on its own; this keeps one process's parallel tasks from racing on the shared
    `packed-refs` and `worktrees/` entries. Processes coordinate through their leases, not through this.
    """
    loop = asyncio.get_running_loop()
    return _repository_locks.setdefault(loop, {}).setdefault(root.resolve(), asyncio.Lock())
