"""A contest in a project linked to a repository, over real git: entries on their own branches,
gates, one dropped, a vote between the others, the winner merged and the losers' branches gone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import Script
from repos import assert_fsck_clean, git, make_repository
from test_contest import by_author, held
from test_scheduler import active_project, cast, scripted_engine, spec

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.contest.view import ContestState, EntryState
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.providers.base import ProviderRequest

GATES = 'gates = ["python -m compileall -q ."]\n'


def intro_file(agent: str, *, broken: bool = False) -> str:
    body = "def intro() -> str\n" if broken else "def intro() -> str:\n"
    return f"I wrote it.\n\n```python file=src/intro.py\n{body}    return 'by {agent},'\n```\n"


def coder(agent: str, prefers: tuple[str, ...], *, broken: bool = False) -> Script:
    def script(request: ProviderRequest, _index: int) -> str:
        if request.purpose == "review":
            return json.dumps({"verdict": "approve", "comments": "fine"})
        if request.purpose == "ballot":
            shown = held(request)
            rank = by_author(*prefers)
            return json.dumps(
                {
                    "ranking": sorted(shown, key=lambda label: rank(shown[label])),
                    "confidence": 0.9,
                    "reasoning": "ok",
                }
            )
        return intro_file(agent, broken=broken)

    return script


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repository(
        tmp_path / "project", {"README.md": "# Shop\n", ".orkestra.toml": GATES, "src/__init__.py": ""}
    )


@pytest.fixture
def scripted(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = scripted_engine(paths, settings, clock, max_attempts=2)
    yield engine
    engine.close()


async def test_entries_are_gated_on_their_branches_the_vote_picks_one_and_it_merges(
    scripted: Engine, repo: Path
) -> None:
    providers = cast(
        scripted,
        {
            "claude": coder("claude", ("chatgpt",)),
            "chatgpt": coder("chatgpt", ("claude",)),
            "gemini": coder("gemini", ("claude", "chatgpt"), broken=True),  # fails the gate every time
        },
    )
    project_id, (task_id,) = active_project(scripted, spec("Add the intro"))
    link = await scripted.link_repository(project_id, repo)
    scripted.set_task_contest(task_id, 3)

    await Scheduler(scripted).run()

    task = scripted.task(task_id)
    view = scripted.contest(task_id)
    assert task.status is TaskStatus.DONE, task.note
    assert view is not None and view.state is ContestState.WON
    states = {entry.agent: entry.state for entry in view.entries}
    assert states == {"claude": EntryState.PASSED, "chatgpt": EntryState.PASSED, "gemini": EntryState.DROPPED}
    gemini = next(entry for entry in view.entries if entry.agent == "gemini")
    assert gemini.gates.failed == 1 and "still fails after 2 tries" in gemini.note
    assert (
        len([r for r in providers["gemini"].requests if r.purpose == "task"]) == 2
    )  # retried once, then out
    winner = view.entry(view.winner or "")
    assert winner is not None and winner.agent == "claude"  # chatgpt and gemini chose it; claude could not
    assert (winner.files, winner.added, winner.removed) == (1, 2, 0)
    assert (
        git(repo, "show", f"{link.branch}:src/intro.py") == "def intro() -> str:\n    return 'by claude,'\n"
    )
    assert (
        git(repo, "branch", "--list", "orkestra-task/*") == ""
    )  # the winner's and the losers' branches are gone
    assert all(
        entry.branch and entry.branch.endswith(f"task-{task_id}-{entry.letter.lower()}")
        for entry in view.entries
    )
    assert (
        git(repo, "worktree", "list", "--porcelain").count("worktree ") == 2
    )  # the checkout and the integration's
    # The losers' diffs stay in the decision record.
    assert view.decision_id is not None
    record = scripted.write_decision_record(view.decision_id, repo.parent / "record.md").read_text()
    assert "return 'by chatgpt,'" in record and "return 'by claude,'" in record
    ballots = [r for r in providers["claude"].requests if r.purpose == "ballot"]
    assert ballots and "return 'by chatgpt,'" in ballots[0].messages[-1].content
    assert "python -m compileall -q ." in ballots[0].messages[-1].content
    assert await scripted.contest_entry_diff(task_id, gemini.letter) != ""
    assert_fsck_clean(repo)


async def test_a_rule_in_the_repositorys_settings_makes_a_contest(scripted: Engine, repo: Path) -> None:
    (repo / ".orkestra.toml").write_text(GATES + 'contest = { category = "code", agents = 2 }\n')
    git(repo, "commit", "--quiet", "-am", "contest rule")
    cast(
        scripted,
        {name: coder(name, ("claude", "chatgpt", "gemini")) for name in ("claude", "chatgpt", "gemini")},
    )
    project_id, (task_id,) = active_project(scripted, spec("Add the intro", category="code"))
    await scripted.link_repository(project_id, repo)

    await Scheduler(scripted).run()

    view = scripted.contest(task_id)
    assert view is not None and view.source == "rule" and len(view.entries) == 2
    assert scripted.task(task_id).status is TaskStatus.DONE


async def test_losers_left_by_a_run_stopped_after_the_merge_are_removed_by_the_next_tidy(
    scripted: Engine, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orkestra_tui.engine.execution import repo_steps

    async def stopped_before_removal(_store: object, _task: object) -> list[str]:
        return []

    cast(scripted, {"claude": coder("claude", ("chatgpt",)), "chatgpt": coder("chatgpt", ("claude",))})
    project_id, (task_id,) = active_project(scripted, spec("Add the intro"))
    await scripted.link_repository(project_id, repo)
    scripted.set_task_contest(task_id, 2)
    scripted.set_agent_enabled("gemini", False)
    monkeypatch.setattr(repo_steps, "remove_losers", stopped_before_removal)
    scheduler = Scheduler(scripted)
    scheduler.contest_tie_break = "first"  # each votes for the other: the tie is broken by rule

    await scheduler.run()

    view = scripted.contest(task_id)
    assert view is not None and scripted.task(task_id).status is TaskStatus.DONE
    loser = next(entry for entry in view.entries if entry.letter != view.winner)
    assert loser.branch is not None and loser.branch in git(repo, "branch", "--list", "orkestra-task/*")
    again = await scripted.tidy_worktrees(project_id)  # as the next run starts
    assert any(loser.branch in line for line in again), again
    assert git(repo, "branch", "--list", "orkestra-task/*") == ""
    assert await scripted.tidy_worktrees(project_id) == []
