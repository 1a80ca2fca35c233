"""The repository as a task's context: the tree, named files first, relevance, the budget, the skips."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from orkestra_tui.engine.repo.context import (
    CHARS_PER_TOKEN,
    FOOTER,
    HEADER,
    build_repository_context,
    estimate_tokens,
    file_block,
    named_paths,
    relevance_scores,
    words,
)
from orkestra_tui.engine.repo.edits import parse_changes


def make_repository(root: Path, files: dict[str, bytes | str]) -> list[str]:
    """A real repository holding `files`, committed; its `git ls-files`, as the caller passes it."""
    root.mkdir()
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "config", "user.name", "Test"],
        ["git", "config", "user.email", "test@example.invalid"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", "Start"],
    ):
        subprocess.run(command, cwd=root, check=True, env=env, capture_output=True)
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, check=True, env=env, capture_output=True
    ).stdout.decode()
    return [name for name in listing.split("\0") if name]


def reader(root: Path) -> Callable[[str], bytes]:
    def read(path: str) -> bytes:
        return (root / path).read_bytes()

    return read


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "repo"
    files: dict[str, bytes | str] = {
        "README.md": "# Shop\nA small shop.\n",
        "src/shop/cart.py": "class Cart:\n    def add_item(self, item):\n        self.items.append(item)\n",
        "src/shop/checkout.py": "from shop.cart import Cart\n\ndef checkout(cart):\n    return total(cart)\n",
        "src/shop/payment.py": "def charge_card(sum):\n    '''Charge a card by the payment gateway.'''\n",
        "src/shop/invoice.py": "def invoice_pdf(order):\n    return render(order)\n",
        "docs/payment-gateway.md": "The payment gateway takes a card token and an amount.\n",
        "assets/logo.png": b"\x89PNG\r\n\x1a\n\0\0\0binary",
        "data/dump.sql": "INSERT INTO t VALUES (1);\n" * 20_000,
        "tests/test_cart.py": "from shop.cart import Cart\n\ndef test_add_item():\n    Cart().add_item(1)\n",
    }
    return root, make_repository(root, files)


def test_the_tree_then_named_files_then_dependencies_then_relevant_ones(
    repository: tuple[Path, list[str]],
) -> None:
    root, paths = repository
    context = build_repository_context(
        paths,
        reader(root),
        task_text="Fix Cart.add_item in cart.py: charging the card must go through the payment gateway.",
        changed_by_dependencies=["src/shop/invoice.py", "src/shop/deleted_since.py"],
        budget_tokens=4_000,
    )
    assert context.text.startswith(HEADER + "\n")
    assert context.text.endswith(FOOTER + "\n")
    for path in paths:
        assert f"\n{path}\n" in context.text  # the whole tree is listed
    assert not context.tree_cut
    # Named first, then what the dependencies changed, then by relevance (the gateway words).
    assert context.files[:2] == ("src/shop/cart.py", "src/shop/invoice.py")
    assert set(context.files[2:4]) == {"src/shop/payment.py", "docs/payment-gateway.md"}
    assert "assets/logo.png" not in context.files
    assert "data/dump.sql" not in context.files
    assert context.tokens == estimate_tokens(context.text) <= 4_000
    # Each file is in the answer format, so the parser reads it back exactly.
    blocks = {change.path: change.content for change in parse_changes(context.text)}
    assert blocks["src/shop/cart.py"] == (root / "src/shop/cart.py").read_text()
    assert list(blocks) == list(context.files)


def test_named_binary_or_huge_files_are_never_shown_and_the_text_says_why(
    repository: tuple[Path, list[str]],
) -> None:
    root, paths = repository
    context = build_repository_context(
        paths,
        reader(root),
        task_text="Update assets/logo.png and data/dump.sql",
        budget_tokens=4_000,
    )
    assert dict(context.skipped) == {
        "assets/logo.png": "it is a binary file",
        "data/dump.sql": "it is 520,000 bytes, over the limit of 200,000",
    }
    assert "(assets/logo.png is not shown: it is a binary file.)" in context.text
    assert "INSERT INTO" not in context.text


def test_the_budget_is_kept_cutting_named_files_and_leaving_out_ranked_ones(tmp_path: Path) -> None:
    files: dict[str, bytes | str] = {
        f"src/module_{index:03d}.py": f"value_{index} = {index}\n" for index in range(400)
    }
    files["src/big_payment.py"] = "".join(f"payment_line_{number} = {number}\n" for number in range(3_000))
    files["src/payment_helpers.py"] = "def payment():\n    pass\n" * 200
    root = tmp_path / "repo"
    paths = make_repository(root, files)
    budget = 1_500
    context = build_repository_context(
        paths,
        reader(root),
        task_text="Split src/big_payment.py; payment helpers too.",
        budget_tokens=budget,
    )
    assert context.tokens <= budget
    assert len(context.text) <= budget * CHARS_PER_TOKEN
    assert context.tree_cut
    assert "more files, not listed for the token budget." in context.text
    assert context.cut_files == ("src/big_payment.py",)
    assert "(Only the first " in context.text
    assert "of 3,000 lines of src/big_payment.py are shown, cut for the token budget.)" in context.text
    assert "src/payment_helpers.py" in context.left_out
    assert "Also relevant but not shown, for the token budget: src/payment_helpers.py" in context.text


def test_unreadable_files_and_names_with_control_characters_are_skipped() -> None:
    def read(path: str) -> bytes:
        if path == "gone.py":
            raise FileNotFoundError(2, "No such file or directory")
        return b"gone = 1\n"

    context = build_repository_context(
        ["ok.py", "gone.py", "evil\n```file=x"], read, task_text="see gone.py and ok.py", budget_tokens=2_000
    )
    assert context.files == ("ok.py",)
    assert dict(context.skipped) == {
        "evil\n```file=x": "its name holds a control character",
        "gone.py": "it could not be read (No such file or directory)",
    }
    assert "evil" not in context.text


def test_named_paths_take_whole_paths_tails_and_file_names() -> None:
    paths = ["src/app/main.py", "tools/main.py", "src/app/util.py", "Makefile", "docs/guide.md"]
    text = "Edit app/util.py (see ./docs/guide.md), then main.py, and the Makefile. Not utilities."
    assert named_paths(text, paths) == [
        "src/app/util.py",
        "docs/guide.md",
        "src/app/main.py",
        "tools/main.py",
        "Makefile",
    ]


def test_words_split_identifiers_and_drop_common_ones() -> None:
    assert words("parseHTTPRequest in the user_profile.py file, v2") == [
        "parse",
        "http",
        "request",
        "user",
        "profile",
    ]


def test_relevance_prefers_rare_words_in_paths() -> None:
    contents = {
        "src/payment.py": Counter({"card": 1, "amount": 2}),
        "src/cart.py": Counter({"amount": 5}),
        "src/other.py": Counter(),
    }
    scores = relevance_scores(list(contents), "payment by card for the amount", lambda path: contents[path])
    assert sorted(scores, key=lambda path: -scores[path]) == ["src/payment.py", "src/cart.py"]
    assert "src/other.py" not in scores
    assert relevance_scores(list(contents), "the and", lambda path: contents[path]) == {}


def test_a_file_holding_fences_gets_a_longer_fence() -> None:
    text = "Example:\n```python\nprint(1)\n```\n"
    block = file_block("docs/a b.md", text)
    assert block.startswith('````file="docs/a b.md"\n')
    [change] = parse_changes(block)
    assert change.path == "docs/a b.md"
    assert change.content == text
