"""A model's answer as changes to a worktree: parsing, exact edits, the path rules and every refusal."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orkestra_tui.engine.repo.edits import (
    CHANGE_BLOCKS_HELP,
    NO_CHANGES_FEEDBACK,
    FileChange,
    Refusal,
    SearchReplace,
    apply_changes,
    check_changed_paths,
    parse_changes,
)
from orkestra_tui.engine.repo.protect import protecting_pattern

FENCE = "```"


def git(folder: Path, *arguments: str) -> str:
    return subprocess.run(
        ["git", *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        env={"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"},
    ).stdout


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    """A real repository with a few committed files."""
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    git(folder, "config", "user.name", "Test")
    git(folder, "config", "user.email", "test@example.invalid")
    (folder / "src").mkdir()
    (folder / "src" / "app.py").write_text("def main():\n    return 1\n\n\ndef helper():\n    return 1\n")
    (folder / "README.md").write_text("# Demo\n")
    (folder / "LICENSE").write_text("MIT\n")
    (folder / ".github" / "workflows").mkdir(parents=True)
    (folder / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "Start")
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("untouched\n")
    return folder


def edit_block(path: str, *pairs: tuple[str, str]) -> str:
    body = "".join(
        f"<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n" for search, replace in pairs
    )
    return f"{FENCE}python edit={path}\n{body}{FENCE}\n"


def apply(worktree: Path, text: str, **options: object) -> tuple[list[str], list[Refusal]]:
    result = apply_changes(worktree, parse_changes(text), **options)  # type: ignore[arg-type]
    return [*result.written, *result.deleted], result.refused


# Parsing


def test_the_three_kinds_of_block_are_parsed_and_other_blocks_ignored() -> None:
    text = (
        "Here is the change.\n\n"
        f"{FENCE}python\nprint('an example, not a file')\n{FENCE}\n"
        f"{FENCE}python file=src/new.py\nx = 1\n{FENCE}\n"
        + edit_block("src/app.py", ("    return 1\n", "    return 2\n"))
        + f"{FENCE}text delete=README.md\n{FENCE}\n"
    )
    assert parse_changes(text) == [
        FileChange("file", "src/new.py", content="x = 1\n"),
        FileChange("edit", "src/app.py", edits=(SearchReplace(("    return 1",), ("    return 2",)),)),
        FileChange("delete", "README.md"),
    ]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("just prose\n", "outside a SEARCH/REPLACE pair"),
        ("<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n", "has no ======= line"),
        ("<<<<<<< SEARCH\nx\n=======\ny\n", "no >>>>>>> REPLACE line"),
        ("", "holds no SEARCH/REPLACE pair"),
        ("<<<<<<< SEARCH\n\n=======\ny\n>>>>>>> REPLACE\n", "a SEARCH text is empty"),
    ],
)
def test_a_malformed_edit_block_is_kept_with_its_problem(body: str, problem: str) -> None:
    [change] = parse_changes(f"{FENCE} edit=a.py\n{body}{FENCE}\n")
    assert change.problem is not None
    assert problem in change.problem


def test_a_block_naming_two_kinds_or_a_delete_with_a_body_is_refused(worktree: Path) -> None:
    text = f"{FENCE} file=a.py edit=a.py\nx\n{FENCE}\n{FENCE} delete=README.md\nsome text\n{FENCE}\n"
    written, refused = apply(worktree, text)
    assert written == []
    assert [refusal.path for refusal in refused] == ["a.py", "README.md"]
    assert "both file= and edit=" in refused[0].reason
    assert "a delete block must be empty" in refused[1].reason
    assert (worktree / "README.md").exists()


def test_the_help_names_every_kind_of_block() -> None:
    for word in ("file=", "edit=", "delete=", "<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE"):
        assert word in CHANGE_BLOCKS_HELP
    for word in ("file=", "edit=", "delete="):
        assert word in NO_CHANGES_FEEDBACK


def test_an_answer_without_change_blocks_changes_nothing(worktree: Path) -> None:
    result = apply_changes(worktree, parse_changes(f"I would add a test.\n{FENCE}python\nx = 1\n{FENCE}\n"))
    assert not result.applied
    assert result.refused == []
    assert result.feedback() == ""


# Applying


def test_whole_files_edits_and_deletions_apply(worktree: Path) -> None:
    text = (
        f"{FENCE}python file=src/pkg/new.py\nVALUE = 1\n{FENCE}\n"
        + edit_block("src/app.py", ("def main():\n    return 1\n", "def main():\n    return 42\n"))
        + f"{FENCE} delete=README.md\n{FENCE}\n"
    )
    result = apply_changes(worktree, parse_changes(text))
    assert result.applied
    assert result.refused == []
    assert result.feedback() == ""
    assert result.written == ["src/pkg/new.py", "src/app.py"]
    assert result.deleted == ["README.md"]
    assert (worktree / "src/pkg/new.py").read_text() == "VALUE = 1\n"
    assert (
        worktree / "src/app.py"
    ).read_text() == "def main():\n    return 42\n\n\ndef helper():\n    return 1\n"
    assert not (worktree / "README.md").exists()
    status = git(worktree, "status", "--porcelain")
    assert sorted(status.splitlines()) == [" D README.md", " M src/app.py", "?? src/pkg/"]
    assert not list(worktree.rglob(".orkestra-*.tmp"))


def test_several_pairs_and_blocks_for_one_file_apply_in_order(worktree: Path) -> None:
    text = edit_block(
        "src/app.py",
        ("def main():\n    return 1\n", "def main():\n    return 2\n"),
        ("def helper():\n    return 1\n", "def helper():\n    return 3\n"),
    ) + edit_block("src/app.py", ("    return 2\n", "    return 4\n"))
    written, refused = apply(worktree, text)
    assert refused == []
    assert written == ["src/app.py"]
    assert (
        worktree / "src/app.py"
    ).read_text() == "def main():\n    return 4\n\n\ndef helper():\n    return 3\n"


def test_a_search_matching_twice_is_refused_and_never_applied(worktree: Path) -> None:
    before = (worktree / "src/app.py").read_text()
    written, refused = apply(worktree, edit_block("src/app.py", ("    return 1\n", "    return 9\n")))
    assert written == []
    [refusal] = refused
    assert refusal.path == "src/app.py"
    assert "'return 1' matches 2 places" in refusal.reason
    assert "src/app.py" in refusal.reason
    assert (worktree / "src/app.py").read_text() == before


def test_a_search_not_found_is_refused_even_when_nearly_right(worktree: Path) -> None:
    before = (worktree / "src/app.py").read_text()
    # Only the indentation differs: a fuzzy matcher would take it, an exact one must not.
    written, refused = apply(worktree, edit_block("src/app.py", ("def main():\n  return 1\n", "x\n")))
    assert written == []
    [refusal] = refused
    assert refusal.reason == (
        "in 'src/app.py', the SEARCH text starting 'def main():' was not found; it must match exactly"
    )
    assert (worktree / "src/app.py").read_text() == before


def test_a_failing_pair_refuses_all_of_that_files_edits_but_not_other_files(worktree: Path) -> None:
    text = (
        edit_block("src/app.py", ("def main():\n", "def start():\n"))
        + edit_block("src/app.py", ("no such line\n", "x\n"))
        + f"{FENCE} file=notes.txt\nkept\n{FENCE}\n"
    )
    result = apply_changes(worktree, parse_changes(text))
    assert result.written == ["notes.txt"]
    [refusal] = result.refused
    assert "none of this file's edits were applied" in refusal.reason
    assert (worktree / "src/app.py").read_text().startswith("def main():")
    feedback = result.feedback()
    assert "\n" not in feedback
    assert "src/app.py: in 'src/app.py', the SEARCH text starting 'no such line' was not found" in feedback
    assert "The other changes were applied (notes.txt)" in feedback


def test_all_or_nothing_leaves_the_worktree_untouched_when_one_change_is_refused(worktree: Path) -> None:
    text = f"{FENCE} file=notes.txt\nx\n{FENCE}\n" + edit_block("src/app.py", ("missing\n", "x\n"))
    result = apply_changes(worktree, parse_changes(text), all_or_nothing=True)
    assert not result.applied
    assert result.withheld == ["notes.txt"]
    assert not (worktree / "notes.txt").exists()
    assert "Nothing was applied, not even the acceptable changes (notes.txt)" in result.feedback()
    assert git(worktree, "status", "--porcelain") == ""


def test_crlf_files_keep_their_line_endings_and_a_missing_final_newline_stays_missing(worktree: Path) -> None:
    (worktree / "win.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    (worktree / "open.txt").write_bytes(b"alpha\nomega")
    text = edit_block("win.txt", ("two\n", "2\nII\n")) + edit_block("open.txt", ("omega\n", "OMEGA\n"))
    written, refused = apply(worktree, text.replace("\n", "\r\n"))  # the answer itself came with CRLF
    assert refused == []
    assert written == ["win.txt", "open.txt"]
    assert (worktree / "win.txt").read_bytes() == b"one\r\n2\r\nII\r\nthree\r\n"
    assert (worktree / "open.txt").read_bytes() == b"alpha\nOMEGA"


def test_an_edit_to_a_missing_or_binary_file_is_refused(worktree: Path) -> None:
    (worktree / "image.bin").write_bytes(b"\xff\xfe\x00binary")
    text = edit_block("missing.py", ("x\n", "y\n")) + edit_block("image.bin", ("x\n", "y\n"))
    _, refused = apply(worktree, text)
    assert [refusal.reason for refusal in refused] == [
        "'missing.py' does not exist",
        "'image.bin' is not UTF-8 text, so it cannot be edited; replace it whole",
    ]


def test_a_file_block_then_an_edit_of_the_same_file_is_refused(worktree: Path) -> None:
    text = f"{FENCE} file=README.md\n# New\n{FENCE}\n" + edit_block("readme.md", ("# New\n", "# Newer\n"))
    written, refused = apply(worktree, text)
    assert written == ["README.md"]
    assert "already has a file= block" in refused[0].reason
    assert (worktree / "README.md").read_text() == "# New\n"


def test_a_file_over_the_size_limit_is_refused(worktree: Path) -> None:
    _, refused = apply(worktree, f"{FENCE} file=big.txt\n{'x' * 200}\n{FENCE}\n", max_bytes=100)
    assert "over the limit of 100" in refused[0].reason


def test_a_missing_worktree_refuses_everything(tmp_path: Path) -> None:
    result = apply_changes(tmp_path / "gone", parse_changes(f"{FENCE} file=a.txt\nx\n{FENCE}\n"))
    assert result.refused == [Refusal("a.txt", "the workspace folder does not exist")]


# Malicious model text


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../outside/secret.txt", "the path contains '..', which could leave the workspace"),
        ("src/../../outside/secret.txt", "the path contains '..', which could leave the workspace"),
        ("/etc/passwd", "the path is absolute; it must be relative to the workspace"),
        (".git/config", "the path leads into .git"),
        ("src/.GIT/hooks/pre-commit", "the path leads into .git"),
        ("src/app\x1b[31m.py", "the path contains a control or invisible character"),
        ("src/a\u202epy.txt", "the path contains a control or invisible character"),
        ("LICENSE", "'LICENSE' is protected (by 'LICENSE' in .orkestra.toml); agents must not change it"),
        (".github/workflows/ci.yml", "is protected (by '.github/**' in .orkestra.toml)"),
        (".orkestra.toml", "is protected (by '.orkestra.toml' in .orkestra.toml)"),
    ],
)
@pytest.mark.parametrize("kind", ["file", "edit", "delete"])
def test_unsafe_or_protected_paths_are_refused_for_every_kind_of_change(
    worktree: Path, outside: Path, path: str, reason: str, kind: str
) -> None:
    (worktree / ".orkestra.toml").write_text('gates = ["true"]\n')
    blocks = {
        "file": f"{FENCE} file={path}\nowned\n{FENCE}\n",
        "edit": edit_block(path, ("on: push\n", "owned\n")),
        "delete": f"{FENCE} delete={path}\n{FENCE}\n",
    }
    before = git(worktree, "status", "--porcelain")
    written, refused = apply(worktree, blocks[kind], protect=["LICENSE", ".github/**"])
    assert written == []
    [refusal] = refused
    assert refusal.path == path
    assert reason in refusal.reason
    assert git(worktree, "status", "--porcelain") == before
    assert (outside / "secret.txt").read_text() == "untouched\n"
    assert (worktree / ".git" / "config").read_text().startswith("[core]")


def test_a_symlink_leading_outside_is_refused_for_writes_edits_and_new_files_under_it(
    worktree: Path, outside: Path
) -> None:
    (worktree / "escape").symlink_to(outside, target_is_directory=True)
    (worktree / "secret-link.txt").symlink_to(outside / "secret.txt")
    text = (
        f"{FENCE} file=escape/new.txt\nowned\n{FENCE}\n"
        f"{FENCE} file=secret-link.txt\nowned\n{FENCE}\n"
        + edit_block("secret-link.txt", ("untouched\n", "owned\n"))
        + edit_block("escape/secret.txt", ("untouched\n", "owned\n"))
    )
    written, refused = apply(worktree, text)
    assert written == []
    assert [refusal.path for refusal in refused] == [
        "escape/new.txt",
        "secret-link.txt",
        "secret-link.txt",
        "escape/secret.txt",
    ]
    assert all("outside the workspace" in refusal.reason for refusal in refused)
    assert sorted(path.name for path in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "untouched\n"


def test_a_symlink_inside_the_worktree_cannot_reach_a_protected_file(worktree: Path) -> None:
    (worktree / "docs").mkdir()
    (worktree / "docs" / "licence").symlink_to("../LICENSE")
    (worktree / "ci").symlink_to(".github", target_is_directory=True)
    text = (
        f"{FENCE} file=docs/licence\nowned\n{FENCE}\n"
        + edit_block("docs/licence", ("MIT\n", "owned\n"))
        + f"{FENCE} file=ci/workflows/new.yml\nowned\n{FENCE}\n"
    )
    written, refused = apply(worktree, text, protect=["LICENSE", ".github/**"])
    assert written == []
    assert [refusal.reason.split(" (by")[0] for refusal in refused] == [
        "'LICENSE' is protected",
        "'LICENSE' is protected",
        "'.github/workflows/new.yml' is protected",
    ]
    assert (worktree / "LICENSE").read_text() == "MIT\n"


def test_deleting_a_symlink_removes_the_link_not_its_target(worktree: Path, outside: Path) -> None:
    (worktree / "link.txt").symlink_to(outside / "secret.txt")
    written, refused = apply(worktree, f"{FENCE} delete=link.txt\n{FENCE}\n")
    assert refused == []
    assert written == ["link.txt"]
    assert not (worktree / "link.txt").is_symlink()
    assert (outside / "secret.txt").read_text() == "untouched\n"


# Protect globs and command agents


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("LICENSE", ["LICENSE"], "LICENSE"),
        ("license", ["LICENSE"], "LICENSE"),
        ("docs/LICENSE", ["LICENSE"], None),
        ("docs/LICENSE", ["**/LICENSE"], "**/LICENSE"),
        ("LICENSE", ["**/LICENSE"], "**/LICENSE"),
        (".github/workflows/ci.yml", [".github/**"], ".github/**"),
        (".github/workflows/ci.yml", [".github"], ".github"),
        (".githubx/a", [".github"], None),
        ("src/secrets.json", ["src/*.json"], "src/*.json"),
        ("src/deep/secrets.json", ["src/*.json"], None),
        ("src/a1.txt", ["src/a[0-9].txt"], "src/a[0-9].txt"),
        ("src/ab.txt", ["src/a[!0-9].txt"], "src/a[!0-9].txt"),
        ("src/app.py", ["LICENSE", ".github/**"], None),
        ("./.orkestra.toml", [], ".orkestra.toml"),
    ],
)
def test_protect_globs(path: str, patterns: list[str], expected: str | None) -> None:
    assert protecting_pattern(path, patterns) == expected


def test_changed_paths_of_a_command_agent_are_checked(worktree: Path, outside: Path) -> None:
    (worktree / "escape").symlink_to(outside, target_is_directory=True)
    (worktree / "inner").symlink_to("src", target_is_directory=True)
    changed = [
        "src/app.py",
        ".github/workflows/ci.yml",
        ".git/config",
        "escape",
        "inner",
        "LICENSE",
        "weird\x07name",
        ".orkestra.toml",
    ]
    refused = check_changed_paths(changed, ["LICENSE", ".github/**"], worktree=worktree)
    assert [refusal.path for refusal in refused] == [
        ".github/workflows/ci.yml",
        ".git/config",
        "escape",
        "LICENSE",
        "weird\x07name",
        ".orkestra.toml",
    ]
    assert "leads outside the workspace" in refused[2].reason
    # Without the worktree, paths are judged by name only.
    assert [refusal.path for refusal in check_changed_paths(["escape", "../x"])] == ["../x"]


def test_a_whole_file_over_a_folder_is_refused_before_anything_is_written(worktree: Path) -> None:
    text = f"{FENCE} file=notes.txt\nx\n{FENCE}\n{FENCE} file=src\nx\n{FENCE}\n"
    result = apply_changes(worktree, parse_changes(text), all_or_nothing=True)
    assert result.refused == [Refusal("src", "'src' is a folder, not a file")]
    assert not (worktree / "notes.txt").exists()
