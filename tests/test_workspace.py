"""Task artifacts and file blocks: slugs, atomic writes, the parser, and every refusal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orkestra_tui.engine.agents.prompts import FILE_BLOCK_HELP
from orkestra_tui.engine.repo.workspace import (
    WORKSPACE_MISSING,
    FileBlock,
    artifact_path,
    file_blocks,
    title_slug,
    write_artifact,
    write_file_blocks,
)

FENCE = "```"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A sibling of the workspace that no write may ever touch."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("untouched\n")
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def symlink_or_skip(link: Path, target: Path) -> None:
    try:
        link.symlink_to(target, target_is_directory=target.is_dir())
    except OSError:
        pytest.skip("this platform does not let the tests create symlinks")


def refusal(workspace: Path, path: str, content: str = "x\n", **options: int) -> str:
    report = write_file_blocks(workspace, [FileBlock(path, content)], **options)
    assert report.written == []
    [(given, reason)] = report.refused
    assert given == path
    return reason


# Slugs and artifacts


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Build the cart", "build-the-cart"),
        ("  Add   OAuth2 (login) & sign-up!  ", "add-oauth2-login-sign-up"),
        ("Café Straße ﬁle", "cafe-strasse-file"),
        ("../../etc/passwd", "etc-passwd"),
        ("C:\\Windows\\system32", "c-windows-system32"),
        ("name\x00with\nnul", "name-with-nul"),
        ("..", "task"),
        (".", "task"),
        ("", "task"),
        ("日本語のタイトル", "task"),
        ("🚀🚀", "task"),
    ],
)
def test_title_slug_is_safe_ascii(title: str, slug: str) -> None:
    assert title_slug(title) == slug


def test_long_titles_are_cut_at_a_word_within_forty_chars() -> None:
    slug = title_slug("Implement the shopping cart with discounts and persistent storage")
    assert slug == "implement-the-shopping-cart-with"
    assert len(title_slug("x" * 200)) == 40
    assert not title_slug("a" * 39 + " b").endswith("-")


def test_artifact_path_is_under_the_projects_artifacts_folder(tmp_path: Path) -> None:
    path = artifact_path(tmp_path / "projects", 7, 42, "Write the README")
    assert path == tmp_path / "projects" / "7" / "artifacts" / "00042-write-the-readme.md"


def test_write_artifact_creates_folders_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = artifact_path(tmp_path, 1, 3, "Result")
    assert write_artifact(path, "# Done\n\nÜnïcode ✓\n") == path
    assert path.read_text(encoding="utf-8") == "# Done\n\nÜnïcode ✓\n"
    assert os.listdir(path.parent) == [path.name]


def test_write_artifact_replaces_an_existing_artifact(tmp_path: Path) -> None:
    path = artifact_path(tmp_path, 1, 3, "Result")
    write_artifact(path, "first attempt, much longer than the second\n")
    write_artifact(path, "second\n")
    assert path.read_text(encoding="utf-8") == "second\n"
    assert os.listdir(path.parent) == [path.name]


def test_write_artifact_replaces_lone_surrogates_and_keeps_pairs(tmp_path: Path) -> None:
    path = write_artifact(tmp_path / "a.md", "lone \udc80 pair \ud83d\ude80 crlf\r\n")
    assert path.read_bytes() == "lone \ufffd pair 🚀 crlf\r\n".encode()


# The file-block parser


def test_help_shows_the_format_the_parser_reads() -> None:
    example = f"{FENCE}python file=src/app/main.py"
    assert example in FILE_BLOCK_HELP
    assert file_blocks(f"{example}\nprint(1)\n{FENCE}\n") == [FileBlock("src/app/main.py", "print(1)\n")]


def test_several_blocks_are_found_in_order_with_prose_around_them() -> None:
    text = (
        "Here is the cart:\n\n"
        f"{FENCE}python file=src/shop/cart.py\nclass Cart:\n    pass\n{FENCE}\n\n"
        "And its test:\n"
        f"{FENCE}python path=tests/test_cart.py\ndef test() -> None:\n    assert True\n{FENCE}\n"
        "Done."
    )
    assert file_blocks(text) == [
        FileBlock("src/shop/cart.py", "class Cart:\n    pass\n"),
        FileBlock("tests/test_cart.py", "def test() -> None:\n    assert True\n"),
    ]


def test_tilde_fences_and_quoted_paths() -> None:
    text = (
        '~~~toml file="pyproject.toml"\n[project]\n~~~\n'
        "~~~~ path='docs/my notes.md'\nnotes\n~~~~\n"
        f'{FENCE}file = "spaced.txt"\nspaced\n{FENCE}\n'
    )
    assert file_blocks(text) == [
        FileBlock("pyproject.toml", "[project]\n"),
        FileBlock("docs/my notes.md", "notes\n"),
        FileBlock("spaced.txt", "spaced\n"),
    ]


def test_a_longer_fence_keeps_inner_fences_as_content() -> None:
    inner = f"# Readme\n\n{FENCE}bash\nmake test\n{FENCE}\n\n~~~\nraw\n~~~\n"
    text = f"````markdown file=README.md\n{inner}````\n"
    assert file_blocks(text) == [FileBlock("README.md", inner)]


def test_a_closing_fence_must_match_the_opening_character_and_length() -> None:
    text = f"~~~~ file=a.txt\n{FENCE}\n~~~\n~~~~~\n"
    assert file_blocks(text) == [FileBlock("a.txt", f"{FENCE}\n~~~\n")]


def test_a_fence_indented_four_spaces_does_not_close_the_block() -> None:
    content = f'def f() -> None:\n    """Example:\n\n    {FENCE}\n    f()\n    {FENCE}\n    """\n'
    assert file_blocks(f"{FENCE}python file=f.py\n{content}{FENCE}\n") == [FileBlock("f.py", content)]


def test_blocks_without_a_file_are_skipped_whole() -> None:
    text = (
        f"{FENCE}markdown\nUse this form:\n~~~python file=fake.py\nnot a file\n~~~\n{FENCE}\n"
        f"{FENCE}python\nprint('no file')\n{FENCE}\n"
        f"{FENCE}python filename_hint=x.py\nstill no file\n{FENCE}\n"
        f"{FENCE}python file=real.py\nreal\n{FENCE}\n"
    )
    assert file_blocks(text) == [FileBlock("real.py", "real\n")]


def test_an_unterminated_block_is_ignored() -> None:
    text = f"{FENCE}python file=kept.py\nkept\n{FENCE}\n{FENCE}python file=cut.py\nhalf an answer"
    assert file_blocks(text) == [FileBlock("kept.py", "kept\n")]
    assert file_blocks(f"{FENCE}python file=a.py\n{FENCE}python file=b.py\nb\n") == []


def test_inline_triple_backticks_are_not_a_fence() -> None:
    assert file_blocks(f"Write {FENCE}file=x.py{FENCE} inline.\n{FENCE}\n") == []


def test_content_is_kept_exactly_but_ends_with_one_newline() -> None:
    content = "\tindented with a tab\n\n  trailing spaces  \n\x0cform feed\u2028separator"
    text = f"{FENCE}text file=a.txt\n{content}\n\n\n{FENCE}\n{FENCE} file=empty.txt\n{FENCE}\n"
    assert file_blocks(text) == [FileBlock("a.txt", content + "\n"), FileBlock("empty.txt", "")]


def test_crlf_answers_keep_their_line_endings() -> None:
    text = f"{FENCE}bat file=run.bat\r\n@echo off\r\necho hi\r\n{FENCE}\r\n"
    assert file_blocks(text) == [FileBlock("run.bat", "@echo off\r\necho hi\r\n")]


def test_an_indented_fence_removes_its_indentation_from_the_content() -> None:
    text = f"1. Create it:\n\n   {FENCE}python file=a.py\n   if x:\n       y()\n  z\n   {FENCE}\n"
    assert file_blocks(text) == [FileBlock("a.py", "if x:\n    y()\nz\n")]


# Writing inside the workspace


def test_files_are_written_with_nested_folders(workspace: Path, outside: Path) -> None:
    blocks = [
        FileBlock("src/shop/cart.py", "class Cart: ...\n"),
        FileBlock("./README.md", "# Shop\n"),
        FileBlock("docs\\guide\\intro.md", "intro\n"),
        FileBlock(".gitignore", "*.pyc\n"),
    ]
    report = write_file_blocks(workspace, blocks)
    assert report.refused == []
    assert report.written == [
        Path("src/shop/cart.py"),
        Path("README.md"),
        Path("docs/guide/intro.md"),
        Path(".gitignore"),
    ]
    assert (workspace / "src" / "shop" / "cart.py").read_text() == "class Cart: ...\n"
    assert (workspace / "docs" / "guide" / "intro.md").read_text() == "intro\n"
    assert listing(workspace) == [
        ".gitignore",
        "README.md",
        "docs",
        "docs/guide",
        "docs/guide/intro.md",
        "src",
        "src/shop",
        "src/shop/cart.py",
    ]
    assert listing(outside) == ["secret.txt"]


def test_an_existing_file_is_replaced_and_keeps_its_permissions(workspace: Path) -> None:
    script = workspace / "run.sh"
    script.write_text("old\n")
    script.chmod(0o755)
    assert write_file_blocks(workspace, [FileBlock("run.sh", "new\n")]).written == [Path("run.sh")]
    assert script.read_text() == "new\n"
    assert script.stat().st_mode & 0o777 == 0o755
    assert listing(workspace) == ["run.sh"]


def test_symlinks_that_stay_inside_are_followed(workspace: Path) -> None:
    (workspace / "real").mkdir()
    (workspace / "real" / "target.txt").write_text("old\n")
    symlink_or_skip(workspace / "alias", workspace / "real")
    symlink_or_skip(workspace / "link.txt", workspace / "real" / "target.txt")
    report = write_file_blocks(
        workspace, [FileBlock("alias/new.txt", "new\n"), FileBlock("link.txt", "through\n")]
    )
    assert report.refused == []
    assert (workspace / "real" / "new.txt").read_text() == "new\n"
    assert (workspace / "real" / "target.txt").read_text() == "through\n"
    assert (workspace / "link.txt").is_symlink()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("/etc/passwd", "absolute"),
        ("/tmp/x", "absolute"),
        ("../x", "'..'"),
        ("a/../../x", "'..'"),
        ("a/..", "'..'"),
        ("..\\x", "'..'"),
        ("C:\\x", "drive letter"),
        ("c:/x", "drive letter"),
        ("C:x", "drive letter"),
        ("\\\\server\\share\\x", "absolute"),
        ("//server/share/x", "absolute"),
        ("\\x", "absolute"),
        ("a\x00b", "control"),
        ("a\nb", "control"),
        ("a\x1b[31mb", "control"),
        ("evil\u202etxt.py", "invisible"),
        (".git/config", ".git"),
        (".GIT/hooks/pre-commit", ".git"),
        ("vendor/lib/.git/HEAD", ".git"),
        (".git", ".git"),
        ("src/", "folder"),
        (".", "folder"),
        ("./", "folder"),
        ("~/x", "home"),
        ("~root/x", "home"),
        ("con", "device"),
        ("src/NUL.txt", "device"),
        ("file:stream", "Windows does not allow"),
        ('say"hi".txt', "Windows does not allow"),
        ("notes.", "dot or a space"),
        ("notes ", "dot or a space"),
    ],
)
def test_unsafe_paths_are_refused(workspace: Path, outside: Path, path: str, reason: str) -> None:
    assert reason in refusal(workspace, path)
    assert listing(workspace) == []
    assert listing(outside) == ["secret.txt"]


def test_a_symlinked_folder_leading_outside_is_refused(workspace: Path, outside: Path) -> None:
    symlink_or_skip(workspace / "escape", outside)
    reason = refusal(workspace, "escape/new/deeper.txt")
    assert reason == "'escape' leads outside the workspace"
    assert listing(outside) == ["secret.txt"]


def test_a_symlinked_folder_deeper_down_is_refused_before_anything_is_made(
    workspace: Path, outside: Path
) -> None:
    (workspace / "src").mkdir()
    symlink_or_skip(workspace / "src" / "escape", outside)
    assert "leads outside" in refusal(workspace, "src/escape/x.py")
    assert listing(workspace) == ["src", "src/escape"]
    assert listing(outside) == ["secret.txt"]


def test_a_symlinked_file_leading_outside_is_refused(workspace: Path, outside: Path) -> None:
    symlink_or_skip(workspace / "secret.txt", outside / "secret.txt")
    assert "symlink leading outside" in refusal(workspace, "secret.txt", "overwritten\n")
    assert (outside / "secret.txt").read_text() == "untouched\n"


def test_a_dangling_symlink_leading_outside_is_refused(workspace: Path, outside: Path) -> None:
    symlink_or_skip(workspace / "planted.txt", outside / "new.txt")
    assert "symlink leading outside" in refusal(workspace, "planted.txt")
    assert listing(outside) == ["secret.txt"]


def test_a_symlink_into_git_is_refused(workspace: Path) -> None:
    (workspace / ".git").mkdir()
    symlink_or_skip(workspace / "hooks", workspace / ".git")
    assert refusal(workspace, "hooks/pre-commit") == "the path leads into .git"
    assert listing(workspace / ".git") == []


def test_a_symlink_loop_is_refused(workspace: Path) -> None:
    symlink_or_skip(workspace / "loop", workspace / "loop")
    assert "loop" in refusal(workspace, "loop/x.txt")


def test_a_file_in_the_way_of_a_folder_is_refused(workspace: Path) -> None:
    (workspace / "src").write_text("a file\n")
    assert refusal(workspace, "src/app.py") == "'src' is not a folder"
    (workspace / "pkg").mkdir()
    assert refusal(workspace, "pkg") == "'pkg' is a folder, not a file"


def test_content_over_the_limit_is_refused(workspace: Path) -> None:
    assert "over the limit of 10" in refusal(workspace, "big.txt", "é" * 6, max_bytes=10)
    report = write_file_blocks(workspace, [FileBlock("ok.txt", "é" * 4 + "\n")], max_bytes=10)
    assert report.written == [Path("ok.txt")]


def test_the_same_path_twice_keeps_the_first(workspace: Path) -> None:
    blocks = [
        FileBlock("a.py", "first\n"),
        FileBlock("./a.py", "second\n"),
        FileBlock("A.PY", "third\n"),
    ]
    report = write_file_blocks(workspace, blocks)
    assert report.written == [Path("a.py")]
    assert [path for path, _ in report.refused] == ["./a.py", "A.PY"]
    assert all("earlier in this answer" in reason for _, reason in report.refused)
    assert (workspace / "a.py").read_text() == "first\n"


def test_a_missing_workspace_refuses_every_block(tmp_path: Path) -> None:
    report = write_file_blocks(tmp_path / "nowhere", [FileBlock("a.py", "a\n"), FileBlock("b.py", "b\n")])
    assert report.written == []
    assert report.refused == [("a.py", WORKSPACE_MISSING), ("b.py", WORKSPACE_MISSING)]
    assert listing(tmp_path) == []


def test_a_hostile_answer_writes_only_inside(tmp_path: Path, workspace: Path, outside: Path) -> None:
    (workspace / "src").mkdir()
    symlink_or_skip(workspace / "src" / "up", tmp_path)
    symlink_or_skip(workspace / "out.txt", outside / "out.txt")
    answer = "\n".join(
        f"{FENCE}text file={path}\npwned\n{FENCE}"
        for path in (
            "../outside/pwned.txt",
            "src/../../outside/pwned.txt",
            str(outside / "pwned.txt"),
            "src/up/outside/pwned.txt",
            "src/up/pwned.txt",
            "out.txt",
            ".git/hooks/post-checkout",
            "src/fine.py",
        )
    )
    report = write_file_blocks(workspace, file_blocks(answer))
    assert report.written == [Path("src/fine.py")]
    assert len(report.refused) == 7
    assert sorted(os.listdir(tmp_path)) == ["outside", "workspace"]
    assert listing(outside) == ["secret.txt"]
    assert listing(workspace) == ["out.txt", "src", "src/fine.py", "src/up"]


def test_a_write_error_is_reported_not_raised(workspace: Path) -> None:
    report = write_file_blocks(workspace, [FileBlock("n" * 300 + ".txt", "x\n"), FileBlock("ok.txt", "x\n")])
    assert report.written == [Path("ok.txt")]
    [(_, reason)] = report.refused
    assert reason.startswith("it could not be written: ")
