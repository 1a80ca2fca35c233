"""A new decision and a new project's brief are each checked once, in the engine.

Every rule is tried here once, at the engine, and must name the field it
concerns; the commands are then shown to print the engine's own line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.errors import FieldProblem, RequestRejected
from orkestra_tui.engine.models import HUMAN_VOTER
from orkestra_tui.engine.planning.brief_rules import FIELDS as BRIEF_FIELDS
from orkestra_tui.engine.planning.planning import Brief, Planner
from orkestra_tui.engine.voting.decision_rules import FIELDS as DECISION_FIELDS

OPTIONS = ("Postgres", "SQLite")


def problems_of(rejected: pytest.ExceptionInfo[RequestRejected]) -> list[FieldProblem]:
    return list(rejected.value.problems)


# ---------------------------------------------------------------- decisions


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"question": "  "}, "question", "a decision needs a question"),
        ({"options": ("Only",)}, "options", "a decision needs at least two non-empty options"),
        ({"options": ("A", " ")}, "options", "a decision needs at least two non-empty options"),
        (
            {"options": tuple(f"O{n}" for n in range(27))},
            "options",
            "a decision takes at most 26 options, not 27",
        ),
        ({"options": ("A  b", " A b ")}, "options", "two options are the same"),
        ({"method": "dictator"}, "method", "unknown method 'dictator'; choose one of "),
        ({"rules": {"threshold": 1.5}}, "rules", "threshold must be a number from 0 to 1, not 1.5"),
        ({"rules": {"threshold": True}}, "rules", "threshold must be a number from 0 to 1"),
        ({"rules": {"quorum": "most"}}, "rules", 'quorum must be "majority" or a number from 0 to 1'),
        ({"rules": {"human_weight": 101}}, "rules", "human_weight must be a number from 0 to 100, not 101"),
        ({"rules": {"round_feedback": "yes"}}, "rules", "round_feedback must be true or false"),
        ({"rules": {"majority": 0.5}}, "rules", "unknown rule 'majority'; the rules are threshold"),
        ({"max_rounds": 0}, "rounds", "a decision needs at least one round"),
        ({"max_rounds": 101}, "rounds", "a decision has at most 100 rounds, not 101"),
        ({"voters": ["hal"]}, "voters", "there is no agent named 'hal' (agents: "),
        ({"voters": []}, "voters", "a decision needs at least one voter"),
    ],
)
def test_each_decision_rule_names_its_field(
    engine: Engine, changes: dict[str, Any], field: str, message: str
) -> None:
    request: dict[str, Any] = {"question": "Which database?", "options": OPTIONS, **changes}
    question, options = request.pop("question"), request.pop("options")
    with pytest.raises(RequestRejected) as rejected:
        engine.open_decision(question, options, **request)
    assert [problem.field for problem in problems_of(rejected)] == [field]
    assert problems_of(rejected)[0].message.startswith(message)
    assert str(rejected.value) == problems_of(rejected)[0].message  # the one line a command prints
    assert field in DECISION_FIELDS
    assert engine.decisions() == []


def test_every_problem_of_a_decision_is_found_at_once(engine: Engine) -> None:
    problems = engine.decision_problems(
        "", ["Only"], method="dictator", rules={"threshold": 2}, voters=[], max_rounds=0
    )
    assert [problem.field for problem in problems] == [
        "question",
        "options",
        "method",
        "rules",
        "rounds",
        "voters",
    ]
    assert engine.decision_problems("Q?", OPTIONS, voters=[HUMAN_VOTER], max_rounds=100) == []


def test_a_decision_that_passes_is_opened_with_its_options_folded(engine: Engine) -> None:
    decision = engine.open_decision("Which?", [" Postgres ", "SQLite\n"], rules={"threshold": 1})
    assert decision.options == ("Postgres", "SQLite")


# ------------------------------------------------------------------- briefs


def brief(**changes: Any) -> Brief:
    values: dict[str, Any] = {"name": "Shop", "description": "A small shop.", "agents": ("claude",)}
    return Brief(**{**values, **changes})


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": " \t"}, "name", "a project needs a name"),
        ({"name": "x" * 81}, "name", "a project name is at most 80 characters"),
        ({"name": "Taken"}, "name", "a project named 'Taken' already exists"),
        ({"features": ("Cart", " ")}, "features", "a feature cannot be empty"),
        ({"agents": ()}, "agents", "choose at least one agent"),
        ({"agents": ("hal",)}, "agents", "there is no agent named 'hal'"),
        ({"agents": ("claude", "claude")}, "agents", "agent 'claude' is given twice"),
        ({"method": "dictator"}, "method", "unknown method 'dictator'; choose one of "),
    ],
)
def test_each_brief_rule_names_its_field(
    engine: Engine, changes: dict[str, Any], field: str, message: str
) -> None:
    engine.create_project("Taken")
    with pytest.raises(RequestRejected) as rejected:
        Planner(engine).start(brief(**changes))
    assert [problem.field for problem in problems_of(rejected)] == [field]
    assert problems_of(rejected)[0].message.startswith(message)
    assert field in BRIEF_FIELDS
    assert [project.name for project in engine.projects()] == ["Taken"]


def test_every_problem_of_a_brief_is_found_at_once(engine: Engine) -> None:
    with pytest.raises(RequestRejected) as rejected:
        Planner(engine).start(brief(name="", features=("",), agents=(), method="dictator"))
    assert [problem.field for problem in problems_of(rejected)] == ["name", "features", "agents", "method"]
    assert rejected.value.by_field()["agents"] == "choose at least one agent"


def test_create_project_keeps_the_same_name_rules(engine: Engine) -> None:
    with pytest.raises(RequestRejected) as rejected:
        engine.create_project("y" * 81)
    assert (rejected.value.field, str(rejected.value)) == ("name", "a project name is at most 80 characters")


# ----------------------------------------------------------------- commands


def orkestra(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "ORKESTRA_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "orkestra_tui", *arguments],
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_orkestra_vote_prints_the_engines_line(engine: Engine, tmp_path: Path) -> None:
    options = [f"Option {number}" for number in range(27)]
    expected = engine.decision_problems("Which?", options)[0].message
    result = orkestra(
        tmp_path, "vote", "Which?", *(f"--option={option}" for option in options), "--tie-break", "first"
    )
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"orkestra: {expected}\n")


def test_orkestra_plan_prints_the_engines_line_before_reading_the_description(
    engine: Engine, tmp_path: Path
) -> None:
    with pytest.raises(RequestRejected) as rejected:
        Planner(engine).start(brief(name="z" * 81))
    result = orkestra(tmp_path, "plan", "--name", "z" * 81, "--description", "-", "--tie-break", "first")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"orkestra: {rejected.value}\n")
