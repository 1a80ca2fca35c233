"""Setting a task's contest, reading it back, its entries' diffs and its cost before it is spent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_scheduler import active_project, scripted_engine, spec

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine, EngineError
from orkestra_tui.engine.execution.contest import records as contests
from orkestra_tui.engine.execution.contest.view import ContestState, EntryState
from orkestra_tui.engine.models import TaskStatus


@pytest.fixture
def priced(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = scripted_engine(paths, settings, clock, price=2.0)
    yield engine
    engine.close()


def test_a_task_becomes_a_contest_and_reads_back(priced: Engine) -> None:
    _project, (task_id,) = active_project(priced, spec("Write the intro"))

    view = priced.set_task_contest(task_id, 3)

    assert view is not None and view.agents == 3 and view.state is ContestState.SET
    assert view.source == "task" and view.entries == () and view.winner is None
    assert priced.contest(task_id) == view
    set_events = priced.audit_events(10, kind="contest.set")
    assert set_events[0].subject == f"task:{task_id}" and set_events[0].data["agents"] == 3
    assert priced.set_task_contest(task_id, None) is None
    assert priced.contest(task_id) is None


@pytest.mark.parametrize(
    ("agents", "message"),
    [
        (0, "a contest needs at least 2 agents, not 0"),
        (1, "a contest needs at least 2 agents, not 1"),
        (4, "a contest of 4 needs 4 agents, and 3 can be called"),
    ],
)
def test_a_bad_number_of_agents_gets_one_clear_line(priced: Engine, agents: int, message: str) -> None:
    _project, (task_id,) = active_project(priced, spec("Write the intro"))

    with pytest.raises(EngineError) as raised:
        priced.set_task_contest(task_id, agents)

    assert str(raised.value) == message
    assert priced.contest(task_id) is None


def test_a_contest_is_set_only_before_the_task_starts(priced: Engine) -> None:
    _project, (task_id,) = active_project(priced, spec("Write the intro"))
    priced.set_task_status(task_id, TaskStatus.CANCELLED)

    with pytest.raises(EngineError, match="only before the task starts"):
        priced.set_task_contest(task_id, 2)


def test_entries_read_back_with_their_gates_size_cost_and_result(priced: Engine) -> None:
    _project, (task_id,) = active_project(priced, spec("Write the intro"))
    priced.set_task_contest(task_id, 2)
    with priced.store.transaction() as tx:
        letters = contests.start_entries(tx, task_id, ["claude", "gemini"], title="Write the intro")
        contests.finish_entry(
            tx,
            task_id,
            "A",
            EntryState.PASSED,
            result="# Intro by claude\n",
            cost=0.25,
            files=["README.md"],
            added=3,
            removed=1,
            gates=[("pytest -q", True), ("ruff check .", True)],
        )
        contests.finish_entry(
            tx, task_id, "B", EntryState.DROPPED, result="# Intro by gemini\n", gates=[("pytest -q", False)]
        )

    view = priced.contest(task_id)

    assert letters == ["A", "B"]
    assert view is not None and view.state is ContestState.RUNNING
    first, second = view.entries
    assert (first.option, first.agent, first.provider, first.state) == (
        "Entry A",
        "claude",
        "anthropic",
        EntryState.PASSED,
    )
    assert (first.files, first.added, first.removed, first.cost) == (1, 3, 1, 0.25)
    assert first.gates.text == "2/2 gates passed" and first.gates.names == ("pytest -q", "ruff check .")
    assert second.state is EntryState.DROPPED and (second.gates.passed, second.gates.failed) == (0, 1)
    assert view.line == "contest of 2, running: 2/2 entries finished, 1 passed"
    assert [event.kind for event in reversed(priced.audit_events(10, kind="contest.started"))] == [
        "contest.started"
    ]
    assert len(priced.audit_events(10, kind="contest.entry_dropped")) == 1


async def test_an_entrys_diff_without_a_repository_is_its_markdown_result(priced: Engine) -> None:
    _project, (task_id,) = active_project(priced, spec("Write the intro"))
    priced.set_task_contest(task_id, 2)
    with priced.store.transaction() as tx:
        contests.start_entries(tx, task_id, ["claude", "gemini"], title="Write the intro")
        contests.finish_entry(tx, task_id, "B", EntryState.PASSED, result="# Intro by gemini\n")

    assert await priced.contest_entry_diff(task_id, "b") == "# Intro by gemini\n"
    with pytest.raises(EngineError, match="has no contest entry 'Z'"):
        await priced.contest_entry_diff(task_id, "Z")


def test_the_estimate_is_n_runs_and_one_round_of_ballots(priced: Engine) -> None:
    _project, (task_id,) = active_project(priced, spec("Write the intro"))

    two = priced.contest_estimate(task_id, 2)
    three = priced.contest_estimate(task_id, 3)

    assert len(two.agents) == 2 and len(set(three.agents)) == 3
    assert all(cost > 0 for cost in three.per_entry) and three.round > 0
    assert three.total == pytest.approx(sum(three.per_entry) + three.round)
    assert three.total > two.total
    with pytest.raises(EngineError, match="at least 2 agents"):
        priced.contest_estimate(task_id, 1)


def test_contestants_are_of_different_providers_where_possible(engine: Engine) -> None:
    from orkestra_tui.engine.execution.contest.desk import choose_contestants

    chosen = choose_contestants(engine.pool, "code", 3, first="gemini")
    providers = [engine.runtimes[name].settings.provider for name in chosen]

    assert chosen[0] == "gemini" and len(set(chosen)) == 3 and len(set(providers)) == 3
    assert len(choose_contestants(engine.pool, "code", 9)) == len(engine.runtimes)


def test_contest_rules_read_from_config_toml_and_write_back(tmp_path: Path) -> None:
    from orkestra_tui.config import parse_settings, render_config
    from orkestra_tui.contest_rules import ContestRule

    path = tmp_path / "config.toml"
    one = parse_settings('contest = { priority = "critical", agents = 3 }\n', path)
    several = parse_settings(
        'contest = [{ category = "code", priority = "high", agents = 2 },'
        ' { category = "research", agents = 3 }]\n',
        path,
    )

    assert one.contest == (ContestRule(3, None, "critical"),)
    assert several.contest == (ContestRule(2, "code", "high"), ContestRule(3, "research", None))
    assert parse_settings(render_config(several), path).contest == several.contest


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "contest = { agents = 1 }\n",
            "line 1: agents in contest must be a whole number from 2 to 26, not 1",
        ),
        ('contest = { priority = "urgent", agents = 2 }\n', "line 1: priority in contest must be one of"),
        (
            'contest = [{ agents = 2 }, { categroy = "code", agents = 2 }]\n',
            "contest item 2 has an unknown key",
        ),
        ('contest = { category = "code" }\n', "line 1: contest needs an agents key"),
    ],
)
def test_a_bad_contest_rule_gets_one_line(tmp_path: Path, text: str, problem: str) -> None:
    from orkestra_tui.config import parse_settings
    from orkestra_tui.engine.repo.repo_settings import RepoSettingsError, parse_repo_settings
    from orkestra_tui.settings import ConfigError

    with pytest.raises(ConfigError) as raised:
        parse_settings(text, tmp_path / "config.toml")
    with pytest.raises(RepoSettingsError) as repo_raised:
        parse_repo_settings(text, tmp_path / ".orkestra.toml")

    for message in (str(raised.value), str(repo_raised.value)):
        assert "\n" not in message and problem in message
