"""`orkestra plan`: the committee plans a project headless; approval, review, tie-breaks, bad input."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orkestra_tui.bench.fake_api import Reply, WireFake, serving
from orkestra_tui.cli import main
from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Task
from orkestra_tui.engine.planning.graph import find_cycle
from orkestra_tui.engine.voting.methods import METHODS

NAME = "Shop"
DESCRIPTION = "A small online shop."
AGENTS = ("claude", "chatgpt", "gemini", "copilot", "grok")
DOCUMENT_KEYS = {
    "project",
    "step",
    "approved",
    "phases",
    "proposals",
    "vote",
    "changes",
    "cost_usd",
    "calls",
    "tokens",
    "warnings",
    "error",
    "repository",
}
TASK_KEYS = {"key", "title", "instructions", "category", "priority", "depends_on", "acceptance"}
TIED = ("--method", "plurality")
"""With seed 0 and one round at most (see `tied_home`), plurality ties between plans."""
FAKE_KEY = "sk-ant-plan-SECRET-0123456789"


class TerminalInput(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data dir whose simulated agents answer at once, with the seed the cases here were found with."""
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8")
    return folder


@pytest.fixture
def tied_home(home: Path) -> Path:
    (home / "config.toml").write_text(
        "[engine]\nmax_rounds = 1\n\n[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8"
    )
    return home


def run(capsys: pytest.CaptureFixture[str], home: Path, *arguments: str) -> tuple[int, str, str]:
    try:
        status = main(["plan", "--data-dir", str(home), *arguments])
    except SystemExit as exit_:  # argparse's own exits
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def plan(capsys: pytest.CaptureFixture[str], home: Path, *arguments: str) -> tuple[int, str, str]:
    return run(capsys, home, "--name", NAME, "--description", DESCRIPTION, *arguments)


def stored_tasks(home: Path, project_id: int) -> list[Task]:
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        return engine.tasks(project_id)
    finally:
        engine.close()


def stored_brief(home: Path, project_id: int) -> str:
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.store.project(project_id)
        assert project is not None
        return project.brief
    finally:
        engine.close()


def all_tasks(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [task for phase in document["phases"] for task in phase["tasks"]]


# ------------------------------------------------------------------ results


def test_hands_off_plans_and_approves_an_acyclic_task_graph(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    # Hands-off nobody is asked, so the default --tie-break ask needs no terminal.
    status, out, err = plan(
        capsys, home, "--involvement", "1", "--feature", "cart", "--feature", "search", "--json"
    )
    assert status == 0
    document = json.loads(out)
    assert set(document) == DOCUMENT_KEYS
    assert document["project"] == {"id": 1, "name": NAME, "status": "active"}
    assert (document["step"], document["approved"], document["error"]) == ("done", True, None)
    tasks = all_tasks(document)
    assert tasks and all(set(task) == TASK_KEYS | {"task_id"} for task in tasks)
    keys = {task["key"] for task in tasks}
    graph = {task["key"]: tuple(d for d in task["depends_on"] if d in keys) for task in tasks}
    assert find_cycle(graph) is None
    assert {task.id for task in stored_tasks(home, 1)} == {task["task_id"] for task in tasks}
    assert [proposal["agent"] for proposal in document["proposals"]] == list(AGENTS)
    assert all(proposal["ok"] and proposal["tasks"] > 0 for proposal in document["proposals"])
    vote = document["vote"]
    assert vote["method"] == "majority" and vote["status"] == "decided" and vote["rounds"] >= 1
    assert vote["winner"].startswith("Plan ") and vote["author"] in AGENTS
    assert document["cost_usd"] == 0.0
    assert document["warnings"] == []
    assert "5 of 5 agents proposed a plan" in err
    assert "Round 1 of 5 started" in err
    assert err.splitlines()[-1].startswith("Plan approved: ")


def test_checkpoints_without_yes_wait_at_review(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    status, out, _ = plan(capsys, home, "--tie-break", "first")
    assert status == 0
    assert out.startswith(f'Project 1 "{NAME}": waiting for review, ')
    assert "Phase 1: " in out and "Vote: majority, " in out and "'s plan won after " in out
    assert (
        "Not approved: the plan waits for your review. Open orkestra and review it on the Plan screen, "
        "where you can edit, reject or approve it." in " ".join(out.split())
    )
    assert "Cost: $0.0000" in out
    assert stored_tasks(home, 1) == []


def test_checkpoints_with_yes_create_the_tasks(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    status, out, _ = plan(capsys, home, "--tie-break", "first", "--yes", "--json")
    assert status == 0
    document = json.loads(out)
    assert (document["step"], document["approved"], document["project"]["status"]) == ("done", True, "active")
    tasks = all_tasks(document)
    assert tasks and all("task_id" in task for task in tasks)
    assert len(stored_tasks(home, 1)) == len(tasks)


def test_review_json_has_the_plan_without_task_ids(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    status, out, _ = plan(capsys, home, "--tie-break", "random", "--json")
    assert status == 0
    document = json.loads(out)
    assert (document["step"], document["approved"], document["project"]["status"]) == (
        "review",
        False,
        "planning",
    )
    assert all(set(task) == TASK_KEYS for task in all_tasks(document))
    assert document["changes"] and document["changes"][0].startswith("added: ")


def test_a_tie_left_unbroken_is_no_plan(capsys: pytest.CaptureFixture[str], tied_home: Path) -> None:
    status, out, err = plan(capsys, tied_home, *TIED, "--tie-break", "fail", "--json")
    assert status == 1
    document = json.loads(out)
    assert document["vote"]["status"] == "no_decision" and document["vote"]["winner"] is None
    assert document["step"] == "vote" and document["phases"] == []
    assert document["error"].startswith("the committee chose no plan")
    assert err.splitlines()[-1] == (f'orkestra: {document["error"]}; project "{NAME}" stays at the vote step')


def test_ask_breaks_the_tie_on_the_terminal(
    capsys: pytest.CaptureFixture[str], tied_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An out-of-range answer is asked again; then the second tied plan is chosen.
    monkeypatch.setattr(sys, "stdin", TerminalInput("9\n2\n"))
    status, out, err = plan(capsys, tied_home, *TIED, "--json")
    assert status == 0
    document = json.loads(out)
    assert "The committee is tied on: Which plan should Shop follow?" in err
    assert "Type a number from 1 to " in err
    engine = Engine(resolve_paths(tied_home), load_settings(tied_home / "config.toml"), env={})
    try:
        (only,) = engine.store.rounds(document["vote"]["decision_id"])
    finally:
        engine.close()
    assert only.tally is not None
    assert document["vote"]["winner"] == only.tally["tied"][1]
    assert f"Tie broken by the human: {document['vote']['winner']}" in err


@pytest.mark.parametrize(
    ("typed", "stored"), [("Prefer the leanest plan.\n", ["Prefer the leanest plan."]), ("\n", [])]
)
def test_hands_on_asks_for_feedback_between_rounds(
    capsys: pytest.CaptureFixture[str],
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    typed: str,
    stored: list[str],
) -> None:
    # With seed 0 round 1 has no majority, so the committee asks before round 2; Enter skips.
    monkeypatch.setattr(sys, "stdin", TerminalInput(typed))
    status, out, err = plan(capsys, home, "--involvement", "3", "--json")
    assert status == 0
    document = json.loads(out)
    assert document["step"] == "review" and document["vote"]["rounds"] >= 2
    assert "The committee asks for your feedback: Feedback for round 2: Which plan should Shop follow?" in err
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        feedback = engine.store.feedback(document["vote"]["decision_id"])
    finally:
        engine.close()
    assert [(item.round, item.text) for item in feedback] == [(2, text) for text in stored]


def one_command_agent(home: Path, folder: Path, *tasks: dict[str, object]) -> None:
    """A committee of one agent, a program that answers every request with a plan of `tasks`."""
    agent = folder / "agent.py"
    answer = json.dumps({"summary": "[link]One phase", "phases": [{"name": "Build", "tasks": list(tasks)}]})
    agent.write_text(f"import sys\nsys.stdin.read()\nprint({answer!r})\n", encoding="utf-8")
    command = json.dumps([sys.executable, str(agent)])
    (home / "config.toml").write_text(
        f'[[agents]]\nname = "local"\nprovider = "command"\ncommand = {command}\n', encoding="utf-8"
    )


def task(key: str, title: str, *depends_on: str) -> dict[str, object]:
    return {
        "key": key,
        "title": title,
        "instructions": "Do it.",
        "category": "code",
        "priority": "high",
        "depends_on": list(depends_on),
        "acceptance": ["done"],
    }


def test_one_agent_needs_no_vote_and_its_text_is_escaped(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    one_command_agent(home, tmp_path, task("pay", "[bold red]Pay\x1b[2J now", "ghost"))
    status, out, err = plan(capsys, home, "--involvement", "1")
    assert status == 0
    assert "\x1b" not in out + err
    assert "[bold red]Pay\\x1b[2J now" in out
    assert "Vote: none needed, only one valid plan (local's)" in out
    assert 'Warning: task "pay" depends on unknown task "ghost"; that dependency was dropped' in out
    assert "Approved: 1 task is on the Board." in out


def test_a_dependency_cycle_stops_the_approval(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    one_command_agent(home, tmp_path, task("a", "First", "b"), task("b", "Second", "a"))
    status, out, err = plan(capsys, home, "--tie-break", "first", "--yes", "--json")
    assert status == 1
    document = json.loads(out)
    assert (document["step"], document["approved"]) == ("review", False)
    assert document["error"].startswith("tasks depend on each other in a cycle: ")
    assert err.splitlines()[-1] == (
        f'orkestra: {document["error"]}; project "{NAME}" waits at review: '
        "open orkestra and review it on the Plan screen"
    )
    assert stored_tasks(home, 1) == []


def test_a_description_from_a_file(capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("# Shop\n\nA small shop, from a file.\n", encoding="utf-8")
    status, _, _ = run(capsys, home, "--name", NAME, "--description", f"@{brief}", "--tie-break", "first")
    assert status == 0
    assert stored_brief(home, 1) == "# Shop\n\nA small shop, from a file."


def test_a_description_from_stdin(
    capsys: pytest.CaptureFixture[str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("A small shop, from stdin.\n"))
    status, _, _ = run(capsys, home, "--name", NAME, "--description", "-", "--tie-break", "first")
    assert status == 0
    assert stored_brief(home, 1) == "A small shop, from stdin."


# ------------------------------------------------------------------ failures


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as server:
        yield server


def test_when_every_agent_fails_there_is_no_plan_and_no_key_shown(
    capsys: pytest.CaptureFixture[str], home: Path, fake: WireFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.default = Reply(status=401, body={"error": {"message": f"invalid x-api-key {FAKE_KEY}"}})
    agents = "".join(
        f'[[agents]]\nname = "{name}"\nprovider = "anthropic"\nmodel = "claude-test"\n'
        f'base_url = "{fake.url}"\n\n'
        for name in ("claude", "opus")
    )
    (home / "config.toml").write_text(f"[engine]\nmax_attempts = 1\n\n{agents}", encoding="utf-8")
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    status, out, err = plan(capsys, home, "--tie-break", "first", "--json")
    assert status == 1
    assert FAKE_KEY not in out + err
    document = json.loads(out)
    assert [(p["agent"], p["ok"]) for p in document["proposals"]] == [("claude", False), ("opus", False)]
    assert all(p["reason"].startswith("auth: ") for p in document["proposals"])
    assert (document["step"], document["approved"], document["phases"], document["vote"]) == (
        "proposals",
        False,
        [],
        None,
    )
    last = err.splitlines()[-1]
    assert last.startswith("orkestra: no agent produced a valid plan (claude: auth: ")
    assert last.endswith(f'; project "{NAME}" stays at the proposals step')
    assert stored_tasks(home, 1) == []


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ("--name", "  ", "--description", DESCRIPTION),
            'a plan needs a project name: orkestra plan --name NAME --description "TEXT"',
        ),
        (
            ("--name", NAME),
            'a plan needs a description: --description "TEXT" (or - for stdin, @PATH for a file)',
        ),
        (("--name", NAME, "--description", " \n "), "the description is empty; say what the project is"),
        (("--name", "x" * 81, "--description", DESCRIPTION), "a project name is at most 80 characters"),
        (
            ("--name", NAME, "--description", DESCRIPTION, "--involvement", "4"),
            '--involvement must be 1, 2 or 3, not "4"',
        ),
        (
            ("--name", NAME, "--description", DESCRIPTION, "--method", "dictator"),
            f'unknown method "dictator"; valid methods: {", ".join(METHODS)}',
        ),
        (
            ("--name", NAME, "--description", DESCRIPTION, "--agents", "claude,bob"),
            f'unknown agent "bob"; agents: {", ".join(AGENTS)}',
        ),
        (
            ("--name", NAME, "--description", DESCRIPTION, "--agents", "claude,,grok"),
            '--agents takes names separated by commas, not "claude,,grok"',
        ),
        (
            ("--name", NAME, "--description", DESCRIPTION, "--agents", "grok,grok"),
            'agent "grok" is given twice',
        ),
        (("--name", NAME, "--description", DESCRIPTION, "--feature", " "), "--feature cannot be empty"),
        (
            ("--name", NAME, "--description", "@/no/such/brief.md"),
            'description file "/no/such/brief.md" cannot be read: No such file or directory',
        ),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], home: Path, arguments: tuple[str, ...], expected: str
) -> None:
    status, out, err = run(capsys, home, *arguments, "--tie-break", "first")
    assert (status, out) == (2, "")
    assert err == f"orkestra: {expected}\n"


def test_a_description_file_that_is_not_text(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    binary = tmp_path / "brief.bin"
    binary.write_bytes(b"\xff\xfe\x00 not UTF-8")
    status, out, err = run(
        capsys, home, "--name", NAME, "--description", f"@{binary}", "--tie-break", "first"
    )
    assert (status, out) == (2, "")
    assert err == f'orkestra: description file "{binary}" is not UTF-8 text\n'


def test_no_enabled_agent(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    (home / "config.toml").write_text(
        '[[agents]]\nname = "solo"\nprovider = "simulated"\nenabled = false\n', encoding="utf-8"
    )
    status, out, err = plan(capsys, home, "--tie-break", "first")
    assert (status, out) == (2, "")
    assert err == "orkestra: no agent is enabled; enable one in config.toml or in the app\n"
    status, _, err = plan(capsys, home, "--tie-break", "first", "--agents", "solo")
    assert (status, err) == (2, 'orkestra: agent "solo" is disabled in config.toml\n')


def test_a_project_name_already_taken(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    assert plan(capsys, home, "--tie-break", "first")[0] == 0
    # Its plan waits at review: the same command again resumes it (here, approving it with --yes).
    status, _out, err = plan(capsys, home, "--tie-break", "first", "--yes")
    assert status == 0
    assert err.startswith(f'orkestra: resuming the plan for "{NAME}" at the review step: ')
    status, out, err = plan(capsys, home, "--tie-break", "first")
    assert (status, out) == (2, "")
    assert err == (
        f'orkestra: project "{NAME}" already exists and its plan was approved; choose another --name '
        "(orkestra status shows it)\n"
    )


def test_ask_without_a_terminal_is_refused_up_front(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    status, out, err = plan(capsys, home, "--tie-break", "ask")
    assert (status, out) == (2, "")
    assert (
        err
        == "orkestra: --tie-break ask needs a terminal to ask on; pass --tie-break first, random or fail\n"
    )
    assert not (home / "data" / "orkestra.db").exists()


def test_ask_cannot_prompt_on_a_description_read_from_stdin(
    capsys: pytest.CaptureFixture[str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", TerminalInput("A shop.\n"))
    status, out, err = run(capsys, home, "--name", NAME, "--description", "-", "--tie-break", "ask")
    assert (status, out) == (2, "")
    assert err.startswith("orkestra: --description - reads stdin, so --tie-break ask cannot prompt on it")


# -------------------------------------------------------------------- bench


def test_the_plan_bench_gives_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--json", "--scenario", "plan"]) == 0
    figures = json.loads(capsys.readouterr().out)["plan"]
    assert set(figures) == {
        "agents",
        "agent_latency_ms",
        "plan_ms",
        "calls",
        "sequential_ms",
        "critical_path_ms",
        "ratio",
    }
    latency = figures["agent_latency_ms"]
    assert figures["agents"] == 5
    # Five drafts, five ballots a round, one synthesis.
    assert figures["calls"] > 2 * figures["agents"] and (figures["calls"] - 1) % figures["agents"] == 0
    assert figures["sequential_ms"] == figures["calls"] * latency
    assert figures["critical_path_ms"] == ((figures["calls"] - 1) // figures["agents"] + 1) * latency
