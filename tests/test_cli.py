"""The headless commands: --version, --help, status, audit, bench, and their bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orkestra_tui import __version__
from orkestra_tui.cli import main
from orkestra_tui.config import Paths


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    try:
        status = main(list(arguments))
    except SystemExit as exit_:  # argparse's own exits (--help, --version, usage errors)
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, f"orkestra {__version__}\n", "")


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in ("status", "audit", "tally", "bench", "--data-dir", "--demo"):
        assert command in out


def test_python_dash_m_runs_the_same_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, f"orkestra {__version__}\n")


def test_status_json_is_one_document(
    sample_engine: object, paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "--data-dir", str(paths.config_dir), "status", "--json")
    assert (status, err) == (0, "")
    document = json.loads(out)
    (project,) = document["projects"]
    assert project["name"] == "Inventory service"
    assert project["tasks"]["done"] == 3
    assert project["total_tasks"] == 8
    assert [agent["name"] for agent in document["agents"]] == [
        "claude",
        "chatgpt",
        "gemini",
        "copilot",
        "grok",
    ]
    assert all(agent["simulated"] for agent in document["agents"])


def test_status_prints_tables(
    sample_engine: object, paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "status", "--data-dir", str(paths.config_dir))
    assert status == 0
    assert "Inventory service" in out
    claude_row = next(line for line in out.splitlines() if "claude" in line)
    assert "simulated" in claude_row
    assert "ANTHROPIC_API_KEY" in out


def test_audit_json_newest_first_with_limit(
    sample_engine: object, paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "--data-dir", str(paths.config_dir), "audit", "--json", "--limit", "3")
    assert status == 0
    events = json.loads(out)["events"]
    assert len(events) == 3
    assert [event["id"] for event in events] == sorted((event["id"] for event in events), reverse=True)
    assert events[0]["kind"] == "ballot.cast"
    assert events[0]["time"].endswith("Z")


def test_audit_prints_a_table(
    sample_engine: object, paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "--data-dir", str(paths.config_dir), "audit", "--limit", "5")
    assert status == 0
    assert "ballot.cast" in out


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("audit", "--limit", "-1"), "orkestra audit: argument --limit: '-1' must be from 0 to 1000000000"),
        (
            ("audit", "--limit", "ten"),
            "orkestra audit: argument --limit: 'ten' is not a whole number",
        ),
        (("launch",), "orkestra: argument COMMAND: invalid choice: 'launch'"),
        (("status", "--colour"), "orkestra: unrecognized arguments: --colour"),
        (
            ("bench", "--scenario", "nope"),
            "orkestra: unknown scenario 'nope'; choose from store, round, call_overhead, startup, idle,"
            " tally, voting, plan, run, board, audit",
        ),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...], expected: str
) -> None:
    status, out, err = run(capsys, "--data-dir", str(tmp_path), *arguments)
    assert status == 2
    assert out == ""
    assert err.startswith(expected)
    assert len(err.splitlines()) == 1


def test_a_database_that_is_not_sqlite_gets_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "data" / "orkestra.db"
    database.parent.mkdir(parents=True)
    database.write_text("not a database")
    status, _, err = run(capsys, "--data-dir", str(tmp_path), "status")
    assert status == 2
    assert (
        err == f"orkestra: {database} is not a SQLite database; it was left untouched"
        " (move it away, or choose another --data-dir)\n"
    )
    assert database.read_text() == "not a database"


def test_commands_never_print_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[[agents]]\nname = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "--data-dir", str(tmp_path), "status"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_bench_quick_runs_every_scenario_and_prints_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "bench", "--quick", "--json", "--scenario", "store", "--scenario", "tally")
    assert status == 0
    figures = json.loads(out)
    assert set(figures) == {"store", "tally"}
    assert set(figures["store"]) == {"tasks", "engine_tasks_per_s", "raw_sqlite_per_s", "ratio"}
    assert {"ballots", "options", "ranked_choice_ms", "condorcet_ms"} <= set(figures["tally"])


def test_bench_startup_and_idle_measure_both_apps(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "bench", "--quick", "--json", "--scenario", "startup", "--scenario", "idle")
    assert status == 0
    idle = json.loads(out)["idle"]
    assert set(idle) == {"seconds", "orkestra_cpu_percent", "bare_textual_cpu_percent"}
    assert idle["orkestra_cpu_percent"] >= 0 and idle["bare_textual_cpu_percent"] >= 0
    startup = json.loads(out)["startup"]
    assert {
        "bare_textual_ms",
        "fresh_home_ms",
        "fresh_home_ratio",
        "second_launch_ms",
        "second_launch_ratio",
    } <= set(startup)
    assert startup["fresh_home_ms"] > 0 and startup["second_launch_ms"] > 0 and startup["bare_textual_ms"] > 0


def test_bench_call_overhead_runs_against_the_local_fake(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    status, out, _ = run(capsys, "bench", "--quick", "--json", "--scenario", "call_overhead")
    assert status == 0
    figures = json.loads(out)["call_overhead"]
    assert set(figures) == {"calls", "orkestra_call_ms", "raw_sdk_call_ms", "overhead_ms"}
    assert figures["calls"] == 50 and figures["raw_sdk_call_ms"] > 0
