"""`orkestra run`: a project carried out headless; review and budget policies, interruption, bad input."""

from __future__ import annotations

import io
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orkestra_tui.cli import main
from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import InboxItem, InboxKind, ProjectStatus, TaskSpec

NAME = "Shop"
DOCUMENT_KEYS = {
    "projects",
    "counts",
    "run",
    "tasks",
    "cost_usd",
    "calls",
    "tokens",
    "seconds",
    "until_done",
    "stopped",
}
TASK_KEYS = {"id", "project_id", "key", "title", "status", "agent", "attempts", "note"}
JUDGE = """\
import sys
prompt = sys.stdin.read()
if "<<<RESULT" in prompt:  # a review request: always a blocker, with control characters and markup
    print('{"verdict": "blocker", "comments": "[red]No tests\\\\u001b[2J at all."}')
else:
    print("# Done\\n\\nAll of it.")
"""


class TerminalInput(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data dir whose simulated agents answer at once."""
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8")
    return folder


def open_engine(home: Path) -> Engine:
    return Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})


def make_project(
    home: Path,
    count: int,
    *,
    name: str = NAME,
    status: ProjectStatus = ProjectStatus.ACTIVE,
    pinned: str | None = None,
    budget: float | None = None,
) -> int:
    """A project of `count` tasks in one chain (t1, then t2 after it, ...)."""
    engine = open_engine(home)
    try:
        project = engine.create_project(name)
        tasks = engine.add_tasks(
            project.id,
            [
                TaskSpec(
                    title=f"Part {number}",
                    instructions=f"Write part {number}.",
                    key=f"t{number}",
                    depends_on=(f"t{number - 1}",) if number > 1 else (),
                )
                for number in range(1, count + 1)
            ],
        )
        for task in tasks if pinned else []:
            engine.reassign_task(task.id, pinned)
        if budget is not None:
            engine.set_budget(project.id, budget)
        if status is not ProjectStatus.PLANNING:
            engine.set_project_status(project.id, status)
        return project.id
    finally:
        engine.close()


def command_agents(home: Path, folder: Path, *agents: str) -> None:
    """Agents in config.toml; `judge` and `paid` run the JUDGE program (paid has prices)."""
    program = folder / "judge.py"
    program.write_text(JUDGE, encoding="utf-8")
    command = json.dumps([sys.executable, str(program)])
    blocks = {
        "sim": '[[agents]]\nname = "sim"\nprovider = "simulated"\n',
        "judge": f'[[agents]]\nname = "judge"\nprovider = "command"\ncommand = {command}\n',
        "paid": f'[[agents]]\nname = "paid"\nprovider = "command"\ncommand = {command}\n'
        "price_input_per_mtok = 3.0\nprice_output_per_mtok = 15.0\n",
    }
    text = "[simulation]\nseed = 0\nlatency_ms = 0\n\n" + "\n".join(blocks[agent] for agent in agents)
    (home / "config.toml").write_text(text, encoding="utf-8")


def run(capsys: pytest.CaptureFixture[str], home: Path, *arguments: str) -> tuple[int, str, str]:
    try:
        status = main(["run", "--data-dir", str(home), *arguments])
    except SystemExit as exit_:  # argparse's own exits
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def open_inbox(home: Path) -> list[InboxItem]:
    engine = open_engine(home)
    try:
        return engine.inbox.open_items()
    finally:
        engine.close()


# ------------------------------------------------------------------ results


def test_a_run_to_done(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    make_project(home, 12)
    status, out, err = run(capsys, home, "--until-done", "--on-review", "approve", "--json")
    assert status == 0, err
    document = json.loads(out)
    assert set(document) == DOCUMENT_KEYS
    assert document["counts"]["done"] == 12
    assert sum(document["counts"].values()) == 12
    assert document["stopped"] == "done" and document["until_done"] is True
    (project,) = document["projects"]
    assert project.pop("calls") >= 24 and project.pop("tokens") > 0  # a task and a review each, at least
    assert project == {
        "id": 1,
        "name": NAME,
        "status": "active",
        "budget_usd": None,
        "cost_usd": 0.0,
        "tasks": 12,
    }
    assert all(set(task) == TASK_KEYS for task in document["tasks"])
    assert all(
        task["status"] == "done" and task["agent"] and task["attempts"] >= 1 for task in document["tasks"]
    )
    assert document["run"]["done"] + document["run"]["approved"] == 12
    finished = [line for line in err.splitlines() if line.startswith(("done  ", "approved  "))]
    assert len(finished) == 12
    assert any(line.startswith("done  t1  Part 1  (") and line.endswith(" s)") for line in finished)


def test_a_readable_summary(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    make_project(home, 3)
    status, out, _ = run(capsys, home, "--until-done", "--on-review", "approve")
    assert status == 0
    assert out.startswith(f'Project 1 "{NAME}" (active): 3 of 3 tasks done\n')
    assert "done 3 · failed 0 · awaiting you 0 · blocked 0" in out
    assert "This run: " in out and "cost $0.0000" in out


@pytest.fixture
def judged(home: Path, tmp_path: Path) -> Path:
    """Three chained tasks pinned to a simulated agent, reviewed by a judge that always finds a blocker."""
    command_agents(home, tmp_path, "sim", "judge")
    make_project(home, 3, pinned="sim")
    return home


def test_review_policy_approve(capsys: pytest.CaptureFixture[str], judged: Path) -> None:
    status, out, err = run(capsys, judged, "--until-done", "--on-review", "approve", "--json")
    assert status == 0, err
    document = json.loads(out)
    assert document["counts"]["done"] == 3
    assert (document["run"]["awaiting_human"], document["run"]["approved"]) == (3, 3)
    assert "\x1b" not in out + err
    assert "awaiting  t1  Part 1  (sim, " in err
    assert "judge found a blocker: - judge: [red]No tests\\x1b[2J at all." in err
    assert "approved  t1  Part 1" in err
    assert open_inbox(judged) == []


def test_without_until_done_it_runs_once(capsys: pytest.CaptureFixture[str], judged: Path) -> None:
    # t1 goes to review and is approved after the run; t2, ready now, waits for the next run.
    status, out, err = run(capsys, judged, "--on-review", "approve", "--json")
    assert status == 1
    document = json.loads(out)
    assert (document["counts"]["done"], document["counts"]["ready"], document["counts"]["pending"]) == (
        1,
        1,
        1,
    )
    assert document["stopped"] == "ready"
    assert err.splitlines()[-1] == (
        "orkestra: 1 task is ready: run again (with --until-done it goes on while it can)"
    )


def test_review_policy_fail_leaves_the_task_waiting(capsys: pytest.CaptureFixture[str], judged: Path) -> None:
    status, out, err = run(capsys, judged, "--until-done", "--on-review", "fail", "--json")
    assert status == 1
    document = json.loads(out)
    assert (document["counts"]["awaiting_human"], document["counts"]["pending"]) == (1, 2)
    assert document["stopped"] == "awaiting_human"
    assert err.splitlines()[-1] == (
        "orkestra: 1 task waits for your review: approve or redo it in the app, "
        "or run with --on-review approve or ask"
    )
    (item,) = open_inbox(judged)
    assert item.kind is InboxKind.TASK_REVIEW and item.payload["task_id"] == 1


def test_review_policy_ask_approves_sends_back_and_leaves(
    capsys: pytest.CaptureFixture[str], judged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # t1 approved; t2 sent back with a note, redone, then left for later.
    monkeypatch.setattr(sys, "stdin", TerminalInput("y\nAdd the tests.\nn\n"))
    status, out, err = run(capsys, judged, "--until-done")
    assert status == 1
    assert err.count('" waits for your review:') == 3
    assert 'Task t2 "Part 2" waits for your review:' in err
    assert "sent back  t2  Part 2: You asked: Add the tests." in err
    assert "\x1b" not in out + err
    engine = open_engine(judged)
    try:
        first, second, third = engine.tasks(1)
        assert (first.status.value, second.status.value, third.status.value) == (
            "done",
            "awaiting_human",
            "pending",
        )
        assert second.attempts == 2
    finally:
        engine.close()


def test_budget_stop_then_ask(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command_agents(home, tmp_path, "paid")
    make_project(home, 2, budget=0.0)
    status, out, err = run(capsys, home, "--until-done", "--json")
    assert status == 1
    document = json.loads(out)
    assert document["stopped"] == "budget"
    assert document["projects"][0]["status"] == "paused"
    assert err.splitlines()[-1] == (
        f'orkestra: project "{NAME}" is paused at its budget ($0.00): raise it in the app, '
        "or run with --on-budget ask"
    )
    (item,) = open_inbox(home)
    assert item.kind is InboxKind.BUDGET

    # The paused project is run again by default, since its budget request is open.
    monkeypatch.setattr(sys, "stdin", TerminalInput("lots\n0\n5\n"))
    status, out, err = run(capsys, home, "--until-done", "--on-review", "fail", "--json")
    assert status == 0, err
    document = json.loads(out)
    assert document["counts"]["done"] == 2
    assert document["run"]["budget_raised"] == 1
    assert document["projects"][0]["budget_usd"] == 5.0
    assert f'Project "{NAME}" reached its budget: the next calls' in err
    assert err.count("is not an amount above $0.00.") == 2


def test_ctrl_c_puts_running_tasks_back(home: Path) -> None:
    (home / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 2000\n", encoding="utf-8")
    make_project(home, 3)
    # Ctrl+c raises KeyboardInterrupt in the run even if this test was started with SIGINT ignored.
    start = (
        "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "runpy.run_module('orkestra_tui', run_name='__main__')"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", start, "--data-dir", str(home), "run", "--on-review", "fail"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    database = home / "data" / "orkestra.db"
    deadline = time.monotonic() + 30
    leased = 0
    while not leased and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
        with sqlite3.connect(database, timeout=10) as reader:
            leased = reader.execute("SELECT count(*) FROM task WHERE lease_owner IS NOT NULL").fetchone()[0]
    assert leased
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert out == ""
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        "orkestra: interrupted; 1 task under way went back to ready; run again to go on"
    )
    with sqlite3.connect(database) as reader:
        assert reader.execute("SELECT status, lease_owner FROM task WHERE id = 1").fetchone() == (
            "ready",
            None,
        )
        assert reader.execute("SELECT outcome FROM task_attempt").fetchall() == [("interrupted",)]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("--project", "Nope"), f'orkestra: there is no project named "Nope"; projects: "{NAME}", "Draft"'),
        (
            ("--project", "Draft"),
            'orkestra: project "Draft" is still being planned: approve its plan first, on the Plan screen',
        ),
        (
            ("--max-concurrent", "0"),
            "orkestra run: argument --max-concurrent: '0' must be from 1 to 1000 (see 'orkestra run --help')",
        ),
        (
            ("--on-review", "ask"),
            "orkestra: --on-review ask needs a terminal to ask on; pass --on-review approve or fail",
        ),
        (("--on-budget", "later"), "orkestra run: argument --on-budget: invalid choice: 'later'"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], home: Path, arguments: tuple[str, ...], expected: str
) -> None:
    make_project(home, 1)
    make_project(home, 1, name="Draft", status=ProjectStatus.PLANNING)
    status, out, err = run(capsys, home, *arguments)
    assert (status, out) == (2, "")
    assert err.startswith(expected)
    assert len(err.splitlines()) == 1


def test_no_active_project(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    make_project(home, 1, name="Draft", status=ProjectStatus.PLANNING)
    status, out, err = run(capsys, home)
    assert (status, out) == (2, "")
    assert err == (
        "orkestra: no project is active: approve a plan first (on the Plan screen, or orkestra plan --yes)\n"
    )


def test_bad_input_prints_no_traceback(home: Path) -> None:
    make_project(home, 1, name="Draft", status=ProjectStatus.PLANNING)
    result = subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), "run", "--project", "Draft"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


# -------------------------------------------------------------------- bench


def test_the_run_bench_gives_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--json", "--scenario", "run"]) == 0
    figures = json.loads(capsys.readouterr().out)["run"]
    assert set(figures) == {"tasks", "tasks_per_s", "raw_sqlite_per_s", "ratio"}
    assert figures["tasks"] == 500
    assert figures["tasks_per_s"] > 0 and figures["raw_sqlite_per_s"] > 0 and figures["ratio"] > 0
