"""Gates run as real processes: pass, fail and stop, time out with their children, keep no secret."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from orkestra_tui.engine.repo.gates import GateRun, gate_environment, run_gate, run_gates
from orkestra_tui.secrets import REDACTED, register_secret

KEY = "plain-key-7c1e9a5d3b8f2e6d0a4c9b7e1f3a5c8d"
"""A key of no vendor's shape: only its registration can redact it."""
BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "LANG": "C.UTF-8"}

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gates run under /bin/sh")


@pytest.fixture(autouse=True)
def _registered() -> None:
    register_secret(KEY)


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    folder = tmp_path / "worktree"
    folder.mkdir()
    return folder


def is_gone(pid: int) -> bool:
    """Whether a process has ended (a zombie waiting for a reaper counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


async def wait_until_gone(pid: int) -> bool:
    for _ in range(500):  # polled, at most about five seconds
        if is_gone(pid):
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_passing_gate_runs_in_the_worktree(worktree: Path) -> None:
    (worktree / "marker.txt").write_text("here\n")
    run = await run_gates(["cat marker.txt && echo to-stderr >&2"], worktree, timeout_s=60, env=BASE_ENV)
    assert run.passed
    assert run.failed is None
    [result] = run.results
    assert result.exit_code == 0
    assert result.output == "here\nto-stderr\n"
    assert not result.timed_out
    assert result.duration_s >= 0
    assert json.loads(json.dumps(run.as_json()))["results"][0]["passed"] is True


async def test_gates_stop_at_the_first_failure(worktree: Path) -> None:
    run = await run_gates(
        ["true", "echo broken; exit 3", "touch never-run"], worktree, timeout_s=60, env=BASE_ENV
    )
    assert not run.passed
    assert [result.exit_code for result in run.results] == [0, 3]
    assert run.failed is run.results[1]
    assert run.failed.output == "broken\n"
    assert run.skipped == ("touch never-run",)
    assert not (worktree / "never-run").exists()
    stored = json.loads(json.dumps(run.as_json()))
    assert stored["passed"] is False
    assert stored["skipped"] == ["touch never-run"]
    assert GateRun.from_json(stored) == run


async def test_a_missing_command_or_worktree_is_a_failed_gate_not_a_crash(tmp_path: Path) -> None:
    [missing_command] = (
        await run_gates(["no-such-command-4f2a"], tmp_path, timeout_s=60, env=BASE_ENV)
    ).results
    assert missing_command.exit_code == 127
    assert "not found" in missing_command.output
    [missing_folder] = (await run_gates(["true"], tmp_path / "gone", timeout_s=60, env=BASE_ENV)).results
    assert not missing_folder.passed
    assert missing_folder.exit_code is None
    assert missing_folder.error.startswith("it could not be started: ")


async def test_a_gate_that_times_out_is_killed_with_its_children(worktree: Path) -> None:
    # The shell starts a child that would outlive it, and waits for it.
    gate = "sleep 300 & echo $! > child.pid; echo started; wait"
    run = await run_gates([gate, "touch never-run"], worktree, timeout_s=0.5, env=BASE_ENV)
    [result] = run.results
    assert result.timed_out
    assert result.exit_code is None
    assert not run.passed
    assert run.skipped == ("touch never-run",)
    assert result.output.startswith("started\n")
    assert result.output.endswith("[the gate was stopped after 0.5 s]")
    child = int((worktree / "child.pid").read_text())
    assert await wait_until_gone(child)


async def test_a_cancelled_gate_takes_its_process_group_with_it(worktree: Path) -> None:
    running = asyncio.ensure_future(
        run_gate("sleep 300 & echo $! > child.pid; wait", worktree, timeout_s=600, env=BASE_ENV)
    )
    for _ in range(500):
        if (worktree / "child.pid").exists() and (worktree / "child.pid").read_text().strip():
            break
        await asyncio.sleep(0.01)
    child = int((worktree / "child.pid").read_text())
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert await wait_until_gone(child)


async def test_a_gate_printing_a_key_has_it_redacted(worktree: Path) -> None:
    gate = f"echo 'using {KEY}'; echo 'bearer token: Bearer abcdefghijklmnopqrstuvwx'"
    [result] = (await run_gates([gate], worktree, timeout_s=60, env=BASE_ENV)).results
    assert KEY not in result.output
    assert KEY[:20] not in result.output
    assert result.output == f"using {REDACTED}\nbearer token: {REDACTED}\n"


async def test_a_gate_cannot_read_the_agents_keys_or_anything_secret_looking(worktree: Path) -> None:
    env = {
        **BASE_ENV,
        "ANTHROPIC_API_KEY": "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
        "MY_AGENT_CREDS": "custom-value-1234",
        "SERVICE_TOKEN": "t0k3n",
        "DB_PASSWORD": "hunter2hunter2",
        "ODDLY_NAMED": KEY,
        "GIT_DIR": "/somewhere/else/.git",
        "VIRTUAL_ENV": "/opt/venv",
        "KEEP_ME": "yes",
    }
    gate = 'env | cut -d= -f1 | sort; echo "anthropic=[$ANTHROPIC_API_KEY]"'
    [result] = (
        await run_gates([gate], worktree, timeout_s=60, env=env, key_variables=["MY_AGENT_CREDS"])
    ).results
    names = set(result.output.split())
    assert {"KEEP_ME", "VIRTUAL_ENV", "PATH", "HOME"} <= names
    for hidden in (
        "ANTHROPIC_API_KEY",
        "MY_AGENT_CREDS",
        "SERVICE_TOKEN",
        "DB_PASSWORD",
        "ODDLY_NAMED",
        "GIT_DIR",
    ):
        assert hidden not in names
    assert "anthropic=[]" in result.output


def test_the_environment_keeps_what_builds_need() -> None:
    kept = {
        "PATH": "/bin",
        "PYTHONPATH": "src",
        "CI": "1",
        "GIT_AUTHOR_NAME": "Ada",
        "TOKENIZERS_PARALLELISM": "0",
    }
    removed = {
        "OPENAI_API_KEY": "sk-abcdefghijklmnopqrstu",
        "HTTP_AUTH": "x",
        "AUTH_HEADER": "y",
        "NPM_TOKEN": "z",
    }
    assert gate_environment({**kept, **removed}, ["OPENAI_API_KEY"]) == kept


async def test_long_output_keeps_its_head_and_tail_and_a_key_across_the_cut_stays_hidden(
    worktree: Path,
) -> None:
    # 'head', then filler, then the key so that it straddles where the tail starts, then 'tail'.
    cap = 1000
    script = worktree / "noisy.py"
    script.write_text(
        "import sys\n"
        "sys.stdout.write('HEAD-MARK\\n' + 'x' * 5000 + '\\n')\n"
        f"sys.stdout.write('{KEY}' + 'y' * {cap // 2 - 20} + '\\nTAIL-MARK\\n')\n"
    )
    [result] = (
        await run_gates(
            [f"{sys.executable} noisy.py"], worktree, timeout_s=60, env=BASE_ENV, output_cap_bytes=cap
        )
    ).results
    assert result.passed
    assert result.output.startswith("HEAD-MARK\n")
    assert result.output.endswith("TAIL-MARK\n")
    assert "bytes of output left out" in result.output
    assert result.output_bytes > 5000
    assert len(result.output) < cap + 100
    for start in range(len(KEY) - 8):
        assert KEY[start : start + 9] not in result.output


async def test_what_a_finished_gate_left_running_is_killed(worktree: Path) -> None:
    run = await run_gates(
        ["sleep 300 & echo $! > child.pid; echo done"], worktree, timeout_s=60, env=BASE_ENV
    )
    assert run.passed
    assert run.results[0].output == "done\n"
    assert await wait_until_gone(int((worktree / "child.pid").read_text()))


async def test_a_process_that_left_the_group_cannot_hold_the_result_back(worktree: Path) -> None:
    # It starts a session of its own (out of reach of the group kill) and keeps the output pipe open.
    escape = (
        f"{sys.executable} -c 'import os, time; os.setsid(); time.sleep(300)' & echo $! > child.pid; wait"
    )
    try:
        [result] = (await run_gates([escape], worktree, timeout_s=0.5, env=BASE_ENV)).results
        assert result.timed_out
    finally:
        os.kill(int((worktree / "child.pid").read_text()), 9)
