"""Simulated agents in a repository project: real, deterministic changes in the edit format.

The answers are read here by a small parser of the agreed format (whole files
`file=`, exact `edit=` SEARCH/REPLACE pairs) and applied by hand, an exact
edit only where its search lines occur exactly once; the gate and the merge
are the real `python -m compileall` and the real git.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from orkestra_tui.providers.base import Message, ProviderRequest
from orkestra_tui.providers.simulated import SimulatedProvider
from orkestra_tui.providers.simulated_repo import (
    CHANGES_PATH,
    GATE_BREAK_SHARE,
    MISQUOTE_SHARE,
    SHARED_FILE_SHARE,
    repository_task,
    task_traits,
)

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}
APP_PY = 'def main() -> int:\n    """Run."""\n    return 0\n'
README = "Demo\n====\n\nA demo project.\n"
UNDERLINED_README = "A demo project\n=======\n"
SAMPLES = 1200

# ------------------------------------------------------------ the format, read and applied by hand

_OPENING = re.compile(r"(?P<fence>`{3,})(?P<info>[^`]*)")
_ATTRIBUTE = re.compile(r"(?:^|\s)(file|edit|delete)=(\S+)")


@dataclass
class Change:
    kind: str
    path: str
    content: str = ""
    pairs: list[tuple[list[str], list[str]]] = field(default_factory=list)


def parse(answer: str) -> list[Change]:
    """The change blocks of an answer; a malformed edit block fails the test."""
    lines = answer.split("\n")
    changes: list[Change] = []
    index = 0
    while index < len(lines):
        opening = _OPENING.fullmatch(lines[index])
        attribute = _ATTRIBUTE.search(opening["info"]) if opening else None
        if opening is None:
            index += 1
            continue
        fence = opening["fence"]
        end = next(later for later in range(index + 1, len(lines)) if lines[later].startswith(fence))
        body = lines[index + 1 : end]
        index = end + 1
        if attribute is None:
            continue
        kind, path = attribute.groups()
        if kind == "file":
            changes.append(Change(kind, path, content="\n".join(body) + "\n"))
        elif kind == "edit":
            changes.append(Change(kind, path, pairs=edit_pairs(body)))
        else:
            changes.append(Change(kind, path))
    return changes


def edit_pairs(body: list[str]) -> list[tuple[list[str], list[str]]]:
    pairs: list[tuple[list[str], list[str]]] = []
    position = 0
    while position < len(body):
        assert body[position] == "<<<<<<< SEARCH", body
        divider = body.index("=======", position)
        closing = body.index(">>>>>>> REPLACE", divider)
        search, replace = body[position + 1 : divider], body[divider + 1 : closing]
        assert not {"<<<<<<< SEARCH", "======="} & set(replace)
        pairs.append((search, replace))
        position = closing + 1
    return pairs


def apply(root: Path, changes: Sequence[Change]) -> list[str]:
    """Apply the changes under root; the paths whose edit did not match exactly once."""
    refused: list[str] = []
    for change in changes:
        target = root / change.path
        assert target.resolve().is_relative_to(root.resolve())
        if change.kind == "file":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(change.content)
            continue
        lines = target.read_text().split("\n")
        for search, replace in change.pairs:
            starts = [
                start
                for start in range(len(lines) - len(search) + 1)
                if lines[start : start + len(search)] == search
            ]
            if len(starts) != 1:
                refused.append(change.path)
                break
            lines[starts[0] : starts[0] + len(search)] = replace
        else:
            target.write_text("\n".join(lines))
    return refused


# ------------------------------------------------------------ asking the agents


def context(
    key: str,
    title: str,
    *,
    files: Sequence[str] = (),
    named: Mapping[str, str] | None = None,
    category: str = "code",
    **repository: Any,
) -> dict[str, Any]:
    return {
        "title": title,
        "instructions": f"Deliver {title.lower()}.",
        "category": category,
        "repository": {
            "files": list(files),
            "named_files": dict(named or {}),
            "attempt": 1,
            "gate_feedback": None,
            "edit_feedback": None,
            "conflict": None,
            "task_key": key,
            **repository,
        },
    }


def ask(seed: int, task_context: Mapping[str, Any], agent: str = "claude") -> str:
    provider = SimulatedProvider(agent, vendor="anthropic", seed=seed)
    request = ProviderRequest(
        system="s", messages=(Message("user", "u"),), purpose="task", context=task_context
    )
    return asyncio.run(provider.complete(request)).text


def compiles(changes: Sequence[Change]) -> bool:
    try:
        for change in changes:
            if change.kind == "file" and change.path.endswith(".py"):
                compile(change.content, change.path, "exec")
    except SyntaxError:
        return False
    return True


def find_seed(predicate: Any, key: str = "t1", title: str = "Build: core workflow") -> int:
    return next(seed for seed in range(10_000) if predicate(task_traits(seed, "claude", key, title)))


# ------------------------------------------------------------ git


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, env=GIT_ENV, capture_output=True, text=True, check=check)


def make_repository(root: Path, files: Mapping[str, str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Start")


def tracked(root: Path) -> list[str]:
    return git(root, "ls-files").stdout.split()


def compile_gate(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "."], cwd=root, capture_output=True, text=True, check=False
    )


# ------------------------------------------------------------ tests


def test_outside_repository_projects_the_result_stays_a_markdown_report() -> None:
    provider = SimulatedProvider("claude", vendor="anthropic", seed=7)
    request = ProviderRequest(
        system="s", messages=(Message("user", "u"),), purpose="task", context={"title": "Write docs"}
    )
    text = asyncio.run(provider.complete(request)).text
    assert text.startswith("# Write docs\n\nApproach of a careful architect.\n\n1. Step 1 of ")
    assert "```" not in text
    # Not a mapping: not a repository project, whatever the key holds.
    garbage = {"title": "Write docs", "repository": "yes"}
    assert "```" not in ask(7, garbage)


def test_the_same_seed_gives_the_same_changes_and_the_answer_is_a_report() -> None:
    task_context = context("t2", "Build: search", files=["src/app.py"], named={"src/app.py": APP_PY})
    answer = ask(3, task_context)
    assert answer == ask(3, task_context)
    assert answer.startswith("# Build: search\n\nApproach of a careful architect: I added `src/")
    paths = [change.path for change in parse(answer)]
    assert paths[0] == "src/build_search_t2.py"


def test_over_many_tasks_the_shares_are_as_designed() -> None:
    broken = shared = misquoted = 0
    for number in range(SAMPLES):
        key, title = f"t{number % 40}", f"Build: feature {number // 40}"
        answer = ask(number % 7, context(key, title, files=["src/app.py"], named={"src/app.py": APP_PY}))
        changes = parse(answer)
        broken += not compiles(changes)
        shared += any(change.path == CHANGES_PATH for change in changes)
        misquoted += bool(apply_in_memory(changes, {"src/app.py": APP_PY}))
    assert abs(broken / SAMPLES - GATE_BREAK_SHARE) < 0.04
    assert abs(shared / SAMPLES - SHARED_FILE_SHARE) < 0.04
    # Misquotes: one in ten of the tasks that do not break, and only those that edit a file (half).
    expected = (1 - GATE_BREAK_SHARE) * MISQUOTE_SHARE / 2
    assert abs(misquoted / SAMPLES - expected) < 0.025


def apply_in_memory(changes: Sequence[Change], files: Mapping[str, str]) -> list[str]:
    refused: list[str] = []
    for change in changes:
        if change.kind != "edit":
            continue
        lines = files[change.path].split("\n")
        for search, _ in change.pairs:
            matches = sum(
                lines[start : start + len(search)] == search for start in range(len(lines) - len(search) + 1)
            )
            if matches != 1:
                refused.append(change.path)
    return refused


def test_a_retry_with_the_gate_output_fixes_the_syntax_error_and_keeps_the_change() -> None:
    title = "Build: core workflow"
    fixed = 0
    for seed in range(300):
        if not task_traits(seed, "claude", "t1", title).breaks_gate:
            continue
        first = parse(ask(seed, context("t1", title)))
        retry_answer = ask(seed, context("t1", title, attempt=2, gate_feedback="SyntaxError: expected ':'"))
        retry = parse(retry_answer)
        assert not compiles(first)
        assert compiles(retry)
        assert [change.path for change in retry] == [change.path for change in first]
        assert "SyntaxError" not in retry_answer  # feedback is never quoted back
        fixed += 1
    assert fixed >= 30


def test_a_retry_with_edit_feedback_quotes_the_search_text_exactly(tmp_path: Path) -> None:
    seeds = [
        seed
        for seed in range(2000)
        if (traits := task_traits(seed, "claude", "t1", "Build: core workflow")).misquotes_edit
        and traits.edit_draw < 0.5
    ]
    assert seeds
    files = {"src/app.py": APP_PY}
    for seed in seeds[:10]:
        task_context = context("t1", "Build: core workflow", files=list(files), named=files)
        first = parse(ask(seed, task_context))
        assert apply_in_memory(first, files) == ["src/app.py"]
        retry_context = context(
            "t1",
            "Build: core workflow",
            files=list(files),
            named=files,
            attempt=2,
            edit_feedback="src/app.py: the search text was not found (first line '    return 0')",
        )
        retry = parse(ask(seed, retry_context))
        assert apply_in_memory(retry, files) == []
    root = tmp_path / "repo"
    make_repository(root, files)
    assert apply(root, parse(ask(seeds[0], task_context))) == ["src/app.py"]
    assert apply(root, parse(ask(seeds[0], retry_context))) == []
    assert compile_gate(root).returncode == 0
    assert "def build_core_workflow_t1() -> str:" in (root / "src/app.py").read_text()


def test_a_broken_first_attempt_fails_the_real_gate_and_its_retry_passes(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    make_repository(root, {"src/app.py": APP_PY, "README.md": README})
    title = "Build: core workflow"
    seed = find_seed(lambda traits: traits.breaks_gate and traits.edit_draw < 0.5)
    first = parse(ask(seed, context("t1", title, files=tracked(root), named={"src/app.py": APP_PY})))
    assert [change.kind for change in first] == ["file", "edit"]
    assert apply(root, first) == []
    failed = compile_gate(root)
    assert failed.returncode != 0
    assert "SyntaxError" in failed.stdout + failed.stderr
    # Sent back with the gate's output, in the worktree as the first attempt left it.
    current = {"src/app.py": (root / "src/app.py").read_text()}
    retry_context = context(
        "t1", title, files=tracked(root), named=current, attempt=2, gate_feedback=failed.stdout
    )
    assert apply(root, parse(ask(seed, retry_context))) == []
    assert compile_gate(root).returncode == 0
    assert (root / "src/app.py").read_text().count("def build_core_workflow_t1()") == 1


def test_a_sound_task_passes_the_real_gate_and_commits(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    make_repository(root, {"src/app.py": APP_PY, "README.md": README})
    seed = find_seed(
        lambda traits: not traits.breaks_gate and not traits.misquotes_edit and traits.edit_draw < 0.5
    )
    named = {"src/app.py": APP_PY, "README.md": README}
    assert (
        apply(root, parse(ask(seed, context("t1", "Build: core workflow", files=tracked(root), named=named))))
        == []
    )
    assert compile_gate(root).returncode == 0
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Task t1")
    changed = git(root, "show", "--name-only", "--format=", "HEAD").stdout.split()
    assert "src/build_core_workflow_t1.py" in changed


def shared_seed(key: str, title: str) -> int:
    """A seed for which this task adds to the shared file and compiles at once."""
    return find_seed(lambda traits: traits.touches_shared_file and not traits.breaks_gate, key, title)


def test_two_tasks_on_the_shared_file_conflict_and_the_rerun_applies(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    make_repository(root, {"src/app.py": APP_PY})
    # First with the shared file missing (both tasks create it), then present (both insert into it).
    rounds = [
        (("t1", "Build: search"), ("t2", "Build: sharing")),
        (("t3", "Test: search"), ("t4", "Test: sharing")),
    ]
    for first, second in rounds:
        base = git(root, "rev-parse", "HEAD").stdout.strip()
        for key, title in (first, second):
            git(root, "switch", "-q", "-c", key, base)
            # Not named: the agent creates the file, or inserts under the introduction it knows it has.
            answer = ask(shared_seed(key, title), context(key, title, files=tracked(root)))
            assert apply(root, parse(answer)) == []
            git(root, "add", "-A")
            git(root, "commit", "-q", "-m", title)
        git(root, "switch", "-q", "main")
        git(root, "merge", "-q", "--ff-only", first[0])
        merged = git(root, "merge-tree", "--write-tree", "main", second[0], check=False)
        assert merged.returncode == 1
        assert CHANGES_PATH in merged.stdout
        # Run again on a fresh branch from the current head, with the conflict named.
        key, title = second
        git(root, "switch", "-q", "-c", f"{key}-again", "main")
        named = {CHANGES_PATH: (root / CHANGES_PATH).read_text()}
        rerun = ask(
            shared_seed(key, title),
            context(key, title, files=tracked(root), named=named, attempt=2, conflict=[CHANGES_PATH]),
        )
        assert apply(root, parse(rerun)) == []
        assert compile_gate(root).returncode == 0
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"{title} again")
        git(root, "switch", "-q", "main")
        git(root, "merge", "-q", "--ff-only", f"{key}-again")
    text = (root / CHANGES_PATH).read_text()
    entries = [line for line in text.splitlines() if line.startswith("- ")]
    assert [entry.split(" (task ")[1][:2] for entry in entries] == ["t4", "t3", "t2", "t1"]  # newest first
    assert "\n\n- " in text and "\n\n\n" not in text


def test_an_underlined_readme_is_never_quoted_into_an_edit() -> None:
    # Its last lines hold a `=======` underline, which the edit format reads as a divider.
    named = {"README.md": UNDERLINED_README, "guide.md": "# Guide\n\nRead me.\n"}
    edited: set[str] = set()
    for seed in range(200):
        changes = parse(ask(seed, context("t1", "Docs: guide", files=list(named), named=named)))
        assert changes
        edited |= {change.path for change in changes if change.kind == "edit"}
    assert edited == {"guide.md"}


def test_every_path_in_an_answer_stays_inside_the_repository() -> None:
    hostile_named = {
        "../outside.py": "x = 1\n",
        "/etc/passwd.md": "root\n",
        ".git/config.md": "[core]\n",
        "LICENSE.md": "MIT\n",
        ".github/workflows/ci.md": "on: push\n",
        "docs/ok.md": "# Fine\n",
    }
    for seed in range(200):
        task_context = context(
            "../t1",
            "Write ../../etc/evil.py and /abs/path.md and .git/hooks/x.py",
            files=["../up.py", "docs/ok.md"],
            named=hostile_named,
            gate_feedback="error in /home/user/.local/share/orkestra/worktrees/t1/src/x.py",
            conflict=["../up.py"],
        )
        answer = ask(seed, task_context)
        assert parse(answer)
        for change in parse(answer):
            parts = change.path.split("/")
            assert not change.path.startswith("/")
            assert ".." not in parts
            assert ".git" not in parts
            assert not parts[0].startswith(".")
            assert change.path in ("docs/ok.md", CHANGES_PATH) or change.kind == "file"
        assert "/home/user" not in answer


def test_the_context_is_read_tolerantly() -> None:
    task = repository_task(
        {"title": "T", "repository": {"files": "src/a.py", "named_files": ["x"], "attempt": "2"}}
    )
    assert task is not None
    assert task.files == ()
    assert dict(task.named_files) == {}
    assert task.attempt == 1
    assert not task.is_retry
    assert repository_task({"title": "T"}) is None
    answer = ask(1, {"title": "T", "repository": {"named_files": {"a.py": 3}, "task_key": None}})
    assert parse(answer)[0].path == "src/t_task.py"


def test_a_file_the_task_names_is_the_one_created() -> None:
    answer = ask(5, context("t4", "Add src/tools/report.py for the weekly report"))
    assert parse(answer)[0].path == "src/tools/report.py"
    docs = ask(5, context("t5", "Docs: user guide", category="docs"))
    assert parse(docs)[0].path == "docs/docs-user-guide-t5.md"


@pytest.mark.parametrize("agent", ["claude", "chatgpt", "gemini"])
def test_each_agent_draws_its_own_traits(agent: str) -> None:
    broken = sum(task_traits(seed, agent, "t1", "Build: x").breaks_gate for seed in range(1000))
    assert 150 < broken < 250
