"""The commands, as real processes: `vote` says how many abstained and whether the quorum was met,
`run --on-review approve` keeps the review's concern, `doctor` names the URL it could not reach, and
an error line is cut to a readable length without losing what to do next.
"""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stderr
from pathlib import Path

import pytest
from processes import orkestra

from orkestra_tui.cli import main
from orkestra_tui.commands.output import ERROR_LINE_CHARS, error_line
from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec
from orkestra_tui.errors import DiskFullError

MUTE = "import sys\nsys.stdin.read()\nprint('I would rather not say. ' * 40)\n"
"""An agent whose every answer holds no JSON: each of its ballots is an abstention."""
BAD_PLANNER = """\
import json, sys
sys.stdin.read()
task = {"title": "Build it " + "really " * 60, "category": "development " * 40, "priority": "medium " * 40}
print(json.dumps({"summary": "A plan", "phases": [{"name": "One", "tasks": [task]}]}))
"""
"""A planner whose plan breaks every rule at length: the problems make a very long error."""
JUDGE = """\
import sys
prompt = sys.stdin.read()
if "<<<RESULT" in prompt:
    print('{"verdict": "blocker", "comments": "No tests at all."}')
else:
    print("# Done\\n\\nAll of it.")
"""
VOTE = (
    "vote",
    "Which database?",
    "--option",
    "SQLite",
    "--option",
    "PostgreSQL",
    "--method",
    "ranked_choice",
)


def command_agent(home: Path, name: str, program: str) -> str:
    path = home / f"{name}.py"
    path.write_text(program, encoding="utf-8")
    command = json.dumps([sys.executable, str(path)])
    return f'[[agents]]\nname = "{name}"\nprovider = "command"\ncommand = {command}\n'


@pytest.fixture
def committee(tmp_path: Path) -> Path:
    """One simulated agent that votes, and two that never give a usable ballot."""
    home = tmp_path / "home"
    home.mkdir()
    agents = [
        '[[agents]]\nname = "sim"\nprovider = "simulated"\n',
        command_agent(home, "mute1", MUTE),
        command_agent(home, "mute2", MUTE),
    ]
    (home / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n\n" + "\n".join(agents))
    return home


# ------------------------------------------------------------------- vote


def test_one_ballot_of_three_meets_no_default_quorum(committee: Path) -> None:
    result = orkestra(committee, *VOTE, "--rounds", "1", "--tie-break", "fail", "--json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["rules"]["quorum"] == "majority"
    assert document["turnout"] == {
        "rule": "majority",
        "ballots": 3,
        "cast": 1,
        "abstained": 2,
        "quorum": 2,
        "quorum_met": False,
    }
    first = document["rounds"][0]["tally"]
    assert (first["winner"], first["cast"], first["abstained"], first["quorum_met"]) == (None, 1, 2, False)
    assert (
        "Round 1 closed: Participation 33.3% (1 of 3 ballots, 2 abstained) is below the quorum of a"
        " majority (2 of 3); no decision\n"
    ) in result.stderr


def test_without_a_quorum_the_line_says_how_many_abstained(committee: Path) -> None:
    result = orkestra(committee, *VOTE, "--rounds", "1", "--tie-break", "fail", "--quorum", "0")
    assert result.returncode == 0, result.stderr
    assert (
        "Round 1 closed: SQLite won on count 1 of the runoff with 1 of 1 cast ballot;"
        " 2 of the 3 ballots abstained\n"
    ) in result.stderr
    assert "Winner: SQLite\n" in result.stdout
    assert "Consensus: split · support 100%\n" in result.stdout  # not "unanimous": 1 ballot of 3
    assert "Ballots: 1 of 3 ballots counted, 2 abstained · no quorum\n" in result.stdout


def test_the_quorum_option_takes_majority_and_refuses_anything_else(committee: Path) -> None:
    result = orkestra(committee, *VOTE, "--rounds", "1", "--tie-break", "fail", "--quorum", "majority")
    assert (
        "Ballots: 1 of 3 ballots counted, 2 abstained · quorum a majority (2 of 3) not met" in result.stdout
    )
    refused = orkestra(committee, *VOTE, "--quorum", "most")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == 'orkestra: --quorum must be majority or a number from 0 to 1, not "most"\n'


def test_a_bad_quorum_in_config_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[engine]\nquorum = "most"\n')
    result = orkestra(tmp_path, *VOTE)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"orkestra: {tmp_path / 'config.toml'}, line 2: quorum in [engine] must be "
        "\"majority\" or a number from 0 to 1, not 'most'\n"
    )


# -------------------------------------------------------------------- run


def test_approving_a_blocked_task_keeps_the_reviewers_concern(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    agents = ['[[agents]]\nname = "sim"\nprovider = "simulated"\n', command_agent(home, "judge", JUDGE)]
    (home / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n\n" + "\n".join(agents))
    engine = Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})
    try:
        project = engine.create_project("Shop")
        (task,) = engine.add_tasks(project.id, [TaskSpec(title="Part 1", instructions="Write it.", key="t1")])
        engine.reassign_task(task.id, "sim")
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    finally:
        engine.close()

    result = orkestra(home, "run", "--until-done", "--on-review", "approve", "--json")

    assert result.returncode == 0, result.stderr
    (done,) = json.loads(result.stdout)["tasks"]
    assert done["status"] == "done"
    assert done["note"] == (
        "Approved over the review's concern: judge found a blocker:\n- judge: No tests at all."
    )
    approved = [line for line in result.stderr.splitlines() if line.startswith("approved  t1  Part 1")]
    assert approved and approved[0].endswith(
        ": Approved over the review's concern: judge found a blocker: - judge: No tests at all."
    )


# ----------------------------------------------------------------- doctor


def test_doctor_names_the_url_it_could_not_reach_and_never_its_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "sk-doctor-SECRET-0123456789"
    (tmp_path / "config.toml").write_text(
        "[engine]\nmax_attempts = 1\n\n"
        '[[agents]]\nname = "gpt"\nprovider = "openai"\nmodel = "gpt-test"\n'
        'base_url = "http://someone:hunter2@127.0.0.1:9/v1?key=abc"\n'
    )
    monkeypatch.setenv("OPENAI_API_KEY", key)
    assert main(["doctor", "--data-dir", str(tmp_path), "--json"]) == 1
    out = capsys.readouterr().out
    (agent,) = json.loads(out)["agents"]
    assert agent["error_class"] == "connection"
    assert agent["error"].endswith(" (tried http://127.0.0.1:9/v1)")
    assert key not in out and "hunter2" not in agent["error"] and "abc" not in agent["error"]


# ------------------------------------------------------------ error lines


def test_a_long_error_line_is_cut_and_what_to_do_next_is_kept() -> None:
    stream = io.StringIO()
    with redirect_stderr(stream):
        error_line("no plan: " + "why " * 400 + "\nand a second line")
        error_line("a vote is tied: " + "x" * 500, then=" run: orkestra vote --resume 1")
        error_line(DiskFullError("/data/" + "d" * 400, then="resume with: orkestra run"))
    long, tied, full = stream.getvalue().splitlines()
    assert len("orkestra: ") + ERROR_LINE_CHARS - 40 < len(long) <= len("orkestra: ") + ERROR_LINE_CHARS
    assert long.endswith(" why why…") and "second line" not in long
    assert tied.endswith("x… run: orkestra vote --resume 1")
    assert full.endswith("d… free some space and resume with: orkestra run — nothing recorded was lost")


def test_the_plan_error_line_stays_readable(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    agents = [command_agent(home, f"planner{number}", BAD_PLANNER) for number in (1, 2, 3)]
    (home / "config.toml").write_text("\n".join(agents))
    result = orkestra(home, "plan", "--name", "Shop", "--description", "A small web shop", "--yes")
    assert result.returncode == 1, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("orkestra: no agent produced a valid plan (planner1: invalid plan twice")
    assert '…; project "Shop" stays at the proposals step' in last
    assert len(last) < 400
