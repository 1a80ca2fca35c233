"""The repository's own settings: `.orkestra.toml` at its top level, checked in with the code.

    gates = ["python -m pytest -q", "ruff check ."]   # commands run in order in a task's worktree
    base = "main"                                     # the branch the integration branch starts from
    protect = ["LICENSE", ".github/**"]               # paths agents must not touch (see `protect`)
    gate_timeout_s = 600                              # seconds each gate may run
    contest = { priority = "critical", agents = 3 }   # tasks run by several agents, the best chosen

Every key is optional; a missing file gives the defaults. The file is checked as
config.toml is (`orkestra_tui.config_reader`): each problem is one line naming the
file, the line where it can be found, and the key; unknown keys suggest the
nearest valid one. Unlike config.toml, every problem is reported at once
(`RepoSettingsError.problems`), since the file is edited and committed in one go.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orkestra_tui.config_reader import SettingsReader, _show  # _show: config.toml's wording of a value
from orkestra_tui.contest_rules import ContestRule, read_contest_rules
from orkestra_tui.errors import OrkestraError
from orkestra_tui.settings import ConfigError

REPO_SETTINGS_FILE = ".orkestra.toml"
DEFAULT_GATE_TIMEOUT_S = 600.0
"""Ten minutes: a generous test suite, yet a hung one is stopped."""
KEYS = ("gates", "base", "protect", "gate_timeout_s", "contest")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


@dataclass(frozen=True)
class RepoSettings:
    """What `.orkestra.toml` says, with the defaults for what it leaves out."""

    gates: tuple[str, ...] = ()
    """Shell command lines run in order in a task's worktree; the first failure stops them."""
    base: str | None = None
    """The base branch; None lets the caller take the repository's current branch."""
    protect: tuple[str, ...] = ()
    """Glob patterns of paths agents must not change (`.orkestra.toml` is always protected)."""
    gate_timeout_s: float = DEFAULT_GATE_TIMEOUT_S
    """How long each gate may run before its whole process group is killed."""
    contest: tuple[ContestRule, ...] = ()
    """Which tasks run as a contest of several agents (see `orkestra_tui.contest_rules`)."""


class RepoSettingsError(OrkestraError):
    """`.orkestra.toml` cannot be used as it is: one line per problem, in file order."""

    def __init__(self, problems: list[ConfigError]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = tuple(problems)


def read_repo_settings(top_level: Path) -> RepoSettings:
    """Read and check `.orkestra.toml` in the repository's top-level folder; a missing file gives defaults."""
    path = top_level / REPO_SETTINGS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RepoSettings()
    except UnicodeDecodeError:
        raise RepoSettingsError([ConfigError(path, "not a text file (expected UTF-8 TOML)")]) from None
    except IsADirectoryError:
        raise RepoSettingsError([ConfigError(path, "is a folder, not a file")]) from None
    except OSError as error:
        raise RepoSettingsError([ConfigError(path, f"cannot be read: {error.strerror or error}")]) from None
    return parse_repo_settings(text, path)


def parse_repo_settings(text: str, path: Path) -> RepoSettings:
    """Check the text of a `.orkestra.toml`; `path` names it in errors."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if match is None:
            raise RepoSettingsError([ConfigError(path, f"invalid TOML: {message}")]) from None
        problem = f"invalid TOML: {message[: match.start()]} (column {match.group(2)})"
        raise RepoSettingsError([ConfigError(path, problem, int(match.group(1)))]) from None
    checker = _Checker(text, path)
    settings = checker.settings(document)
    if checker.problems:
        ordered = sorted(checker.problems, key=lambda problem: problem.line or 0)
        raise RepoSettingsError(ordered)
    return settings


def ref_name_problem(name: str) -> str | None:
    """Why `name` is not a usable branch name (git's check-ref-format rules), or None if it is."""
    if not name:
        return "is empty"
    if name.startswith("-"):
        return "starts with '-'"
    if name == "@" or "@{" in name:
        return "contains '@{' or is '@'"
    if "//" in name or name.startswith("/") or name.endswith("/"):
        return "has an empty part between slashes"
    if ".." in name:
        return "contains '..'"
    if name.endswith("."):
        return "ends with '.'"
    if _REF_FORBIDDEN.search(name):
        return "contains a space, a control character or one of ~^:?*[\\"
    for part in name.split("/"):
        if part.startswith("."):
            return f"has a part starting with '.' ({part!r})"
        if part.endswith(".lock"):
            return f"has a part ending with '.lock' ({part!r})"
    return None


class _Checker:
    """Collects one `ConfigError` per problem, located with config.toml's reader."""

    def __init__(self, text: str, path: Path) -> None:
        self.reader = SettingsReader(text, path)
        self.path = path
        self.problems: list[ConfigError] = []

    def add(self, key: str, problem: str) -> None:
        self.problems.append(ConfigError(self.path, problem, self.reader.locate("", None, key)))

    def settings(self, document: dict[str, Any]) -> RepoSettings:
        values: dict[str, Any] = {}
        for key, value in document.items():
            if key == "gates":
                values[key] = self.strings(key, value, self.gate_problem)
            elif key == "protect":
                values[key] = self.strings(key, value, _pattern_problem)
            elif key == "base":
                values[key] = self.base(value)
            elif key == "gate_timeout_s":
                values[key] = self.timeout(value)
            elif key == "contest":
                rules, problems = read_contest_rules(value)
                for problem in problems:
                    self.add(key, problem)
                values[key] = rules if not problems else None
            else:
                self.add(key, SettingsReader.unknown_key(key, KEYS, "the top level"))
        return RepoSettings(**{key: value for key, value in values.items() if value is not None})

    def strings(
        self, key: str, value: Any, item_problem: Callable[[str], str | None]
    ) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.add(key, f"{key} must be a list of strings, not {_show(value)}")
            return None
        found = False
        for number, item in enumerate(value, start=1):
            problem = item_problem(item)
            if problem is not None:
                self.add(key, f"{key} item {number} {problem}")
                found = True
        return None if found else tuple(value)

    @staticmethod
    def gate_problem(command: str) -> str | None:
        if not command.strip():
            return "is empty; give a command line"
        if "\x00" in command:
            return "contains a NUL character"
        return None

    def base(self, value: Any) -> str | None:
        if not isinstance(value, str):
            self.add("base", f"base must be a branch name in quotes, not {_show(value)}")
            return None
        problem = ref_name_problem(value.removeprefix("refs/heads/"))
        if problem is not None:
            self.add("base", f"base {value!r} is not a valid branch name: it {problem}")
            return None
        return value.removeprefix("refs/heads/")

    def timeout(self, value: Any) -> float | None:
        # An int of any size is finite (math.isfinite would overflow on a huge one).
        finite = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
        if isinstance(value, bool) or not finite or value <= 0:
            self.add(
                "gate_timeout_s", f"gate_timeout_s must be a number of seconds above 0, not {_show(value)}"
            )
            return None
        return float(value)


def _pattern_problem(pattern: str) -> str | None:
    if not pattern.strip():
        return "is empty"
    if pattern.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", pattern):
        return f"{pattern!r} is absolute; patterns are relative to the repository's top level"
    if ".." in re.split(r"[/\\]", pattern):
        return f"{pattern!r} contains '..'"
    return None
