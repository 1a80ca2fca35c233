"""`.orkestra.toml`: defaults, every key checked, one line per problem with the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from orkestra_tui.engine.repo.repo_settings import (
    DEFAULT_GATE_TIMEOUT_S,
    REPO_SETTINGS_FILE,
    RepoSettings,
    RepoSettingsError,
    read_repo_settings,
    ref_name_problem,
)
from orkestra_tui.errors import OrkestraError


def settings_file(folder: Path, text: str) -> Path:
    path = folder / REPO_SETTINGS_FILE
    path.write_text(text, encoding="utf-8")
    return path


def problems(folder: Path, text: str) -> list[str]:
    path = settings_file(folder, text)
    with pytest.raises(RepoSettingsError) as caught:
        read_repo_settings(folder)
    lines = str(caught.value).split("\n")
    assert lines == [str(problem) for problem in caught.value.problems]
    assert all(line.startswith(str(path)) for line in lines)
    return [line.removeprefix(str(path)) for line in lines]


def test_a_missing_file_gives_the_defaults(tmp_path: Path) -> None:
    assert read_repo_settings(tmp_path) == RepoSettings()
    assert RepoSettings().gate_timeout_s == DEFAULT_GATE_TIMEOUT_S
    assert RepoSettings().base is None


def test_every_key_is_read(tmp_path: Path) -> None:
    settings_file(
        tmp_path,
        'gates = ["python -m pytest -q", "ruff check . && echo ok"]\n'
        'base = "release/2.x"\n'
        'protect = ["LICENSE", ".github/**"]\n'
        "gate_timeout_s = 90\n",
    )
    assert read_repo_settings(tmp_path) == RepoSettings(
        gates=("python -m pytest -q", "ruff check . && echo ok"),
        base="release/2.x",
        protect=("LICENSE", ".github/**"),
        gate_timeout_s=90.0,
    )


def test_refs_heads_is_taken_off_a_base_branch(tmp_path: Path) -> None:
    settings_file(tmp_path, 'base = "refs/heads/main"\n')
    assert read_repo_settings(tmp_path).base == "main"


def test_every_problem_is_one_line_naming_the_key_and_its_line(tmp_path: Path) -> None:
    text = (
        "# the repository's settings\n"
        'gates = "pytest"\n'
        'bsae = "main"\n'
        'protect = ["LICENSE", 3]\n'
        "gate_timeout_s = 0\n"
        "colour = true\n"
    )
    assert problems(tmp_path, text) == [
        ", line 2: gates must be a list of strings, not 'pytest'",
        ", line 3: unknown key 'bsae' in the top level; did you mean 'base'?",
        ", line 4: protect must be a list of strings, not a list",
        ", line 5: gate_timeout_s must be a number of seconds above 0, not 0",
        ", line 6: unknown key 'colour' in the top level;"
        " valid keys: gates, base, protect, gate_timeout_s, contest",
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('gates = ["pytest", "  "]', "gates item 2 is empty; give a command line"),
        ("gates = [1]", "gates must be a list of strings, not a list"),
        ('protect = ["/etc/passwd"]', "protect item 1 '/etc/passwd' is absolute"),
        ('protect = ["../x"]', "protect item 1 '../x' contains '..'"),
        ('protect = [""]', "protect item 1 is empty"),
        ("base = 3", "base must be a branch name in quotes, not 3"),
        ('base = "my branch"', "base 'my branch' is not a valid branch name: it contains a space"),
        ('base = "feature..x"', "it contains '..'"),
        ('base = "-main"', "it starts with '-'"),
        ('base = "main.lock"', "it has a part ending with '.lock'"),
        ('base = ""', "it is empty"),
        ('gate_timeout_s = "10"', "gate_timeout_s must be a number of seconds above 0, not '10'"),
        ("gate_timeout_s = true", "not true"),
        ("gate_timeout_s = -1.5", "not -1.5"),
        ("gate_timeout_s = nan", "not nan"),
        ("gate_timeout_s = inf", "not inf"),
        ("[gates]\nfirst = 'x'", "gates must be a list of strings, not a table"),
    ],
)
def test_wrong_values_are_refused(tmp_path: Path, line: str, problem: str) -> None:
    [found] = problems(tmp_path, line + "\n")
    assert found.startswith(", line 1: ")
    assert problem in found


def test_a_huge_timeout_is_a_number_not_a_crash(tmp_path: Path) -> None:
    settings_file(tmp_path, f"gate_timeout_s = {10**30}\n")
    assert read_repo_settings(tmp_path).gate_timeout_s == 1e30


def test_malformed_toml_is_one_line_with_its_line_number(tmp_path: Path) -> None:
    assert problems(tmp_path, 'gates = ["pytest"]\nbase = \n') == [
        ", line 2: invalid TOML: Invalid value (column 8)"
    ]


def test_a_file_that_is_not_text_or_not_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / REPO_SETTINGS_FILE).write_bytes(b"gates = [\xff]\n")
    with pytest.raises(
        RepoSettingsError, match=r"\.orkestra\.toml: not a text file \(expected UTF-8 TOML\)$"
    ):
        read_repo_settings(tmp_path)
    (tmp_path / REPO_SETTINGS_FILE).unlink()
    (tmp_path / REPO_SETTINGS_FILE).mkdir()
    with pytest.raises(RepoSettingsError, match=r"\.orkestra\.toml: is a folder, not a file$"):
        read_repo_settings(tmp_path)


def test_the_error_is_a_user_error() -> None:
    assert issubclass(RepoSettingsError, OrkestraError)


@pytest.mark.parametrize(
    "name", ["main", "release/2.x", "feature/JIRA-12_fix", "orkestra/my-project", "v1.0", "a@b"]
)
def test_good_branch_names(name: str) -> None:
    assert ref_name_problem(name) is None


@pytest.mark.parametrize(
    "name",
    ["", "-x", "@", "a@{1}", "a//b", "/a", "a/", "a..b", "a.", "a b", "a\tb", "a~1", "a^", "a:b", "a?", "a*",
     "a[b", "a\\b", ".hidden", "x/.y", "x.lock", "x/y.lock/z", "a\x7fb"],
)  # fmt: skip
def test_bad_branch_names(name: str) -> None:
    assert ref_name_problem(name) is not None
