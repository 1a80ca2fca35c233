"""The contest desk: setting a task's contest, reading it, its entries' diffs and its cost beforehand.

The Engine's public face passes `set_task_contest`, `contest`, `contest_entry_diff` and
`contest_estimate` here. The running of a contest is the scheduler's (`contest_run`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.execution.contest import records as contests
from orkestra_tui.engine.execution.contest.view import ContestEstimate, ContestState, ContestView
from orkestra_tui.engine.models import Task, TaskStatus

if TYPE_CHECKING:
    from orkestra_tui.config import Settings
    from orkestra_tui.engine.agents.pool import AgentPool
    from orkestra_tui.engine.store.store import Store

DETAIL_TOKENS = 3_000
"""The room each entry's detail (its diff, gates and files, or its Markdown) takes in a ballot."""
TASK_OUTPUT_TOKENS = 1_500
"""The answer a task's run is expected to take, for estimates (as the budget check assumes)."""
NOT_STARTED = (TaskStatus.PENDING, TaskStatus.READY, TaskStatus.BLOCKED)


def contest_problem(agents: int, available: int) -> str | None:
    """Why a contest of AGENTS cannot be asked for with AVAILABLE agents; None when it can."""
    if agents < 2:
        return f"a contest needs at least 2 agents, not {agents}"
    if agents > available:
        return f"a contest of {agents} needs {agents} agents, and {available} can be called"
    return None


def choose_contestants(
    pool: AgentPool, category: str, count: int, *, first: str | None = None, strategy: str = "balanced"
) -> list[str]:
    """COUNT available agents for a contest, best first, each of a different provider where possible.

    FIRST (the agent the claim chose) comes first when given and available.
    """
    from orkestra_tui.engine.execution.selection import candidates, choose

    every = [candidate for candidate in candidates(pool, {}) if candidate.available]
    provider_of = {candidate.name: candidate.provider for candidate in every}
    chosen: list[str] = [first] if first in provider_of else []
    for distinct in (True, False):
        while len(chosen) < count:
            used = {provider_of[name] for name in chosen}
            exclude = [
                candidate.name
                for candidate in every
                if candidate.name in chosen or (distinct and candidate.provider in used)
            ]
            # Room does not matter here: a contest's entries are one task's, under its one lease.
            roomy = [replace(candidate, running=0) for candidate in every]
            choice = choose(category, roomy, strategy=strategy, exclude=exclude)
            if choice is None:
                break
            chosen.append(choice.agent)
    return chosen[:count]


class ContestDesk:
    """Contests over one store: set, read, diffed and estimated."""

    def __init__(self, store: Store, pool: AgentPool, settings: Settings) -> None:
        self.store = store
        self.pool = pool
        self.settings = settings

    def _task(self, task_id: int) -> Task:
        task = self.store.task(task_id)
        if task is None:
            raise EngineError(f"there is no task {task_id}")
        return task

    def available_agents(self) -> int:
        return sum(1 for name in self.pool.runtimes if self.pool.agent_available(name))

    def contest_problem(self, agents: int) -> str | None:
        """Why a contest of AGENTS cannot be asked for now (one line); None when it can."""
        return contest_problem(agents, self.available_agents())

    def check_agents(self, agents: int) -> None:
        """EngineError in one line when a contest of AGENTS cannot be asked for now."""
        problem = self.contest_problem(agents)
        if problem:
            raise EngineError(problem)

    def set_task_contest(
        self, task_id: int, agents: int | None, *, actor: str = "human"
    ) -> ContestView | None:
        """Run the task as a contest of AGENTS agents (None: with one agent); only before it starts."""
        task = self._task(task_id)
        existing = contests.contest(self.store, task_id)
        started = existing is not None and existing.state is not ContestState.SET
        if task.status not in NOT_STARTED or started:
            raise EngineError(
                f"task {task_id} is {task.status.label}: a contest is set only before the task starts"
            )
        if agents is not None:
            self.check_agents(agents)
        with self.store.transaction() as tx:
            contests.set_contest(tx, task_id, agents, source="task", actor=actor, title=task.title)
        return self.contest(task_id)

    def contest(self, task_id: int) -> ContestView | None:
        record = contests.contest(self.store, task_id)
        return record.view(self._providers()) if record is not None else None

    def contests_in_progress(self, project_id: int | None = None) -> list[ContestView]:
        views = [self.contest(task_id) for task_id in contests.contests_in_progress(self.store, project_id)]
        return [view for view in views if view is not None]

    def _providers(self) -> dict[str, str]:
        return {name: runtime.settings.provider for name, runtime in self.pool.runtimes.items()}

    async def contest_entry_diff(self, task_id: int, letter: str) -> str:
        """An entry's change as a unified diff (its Markdown result in a project without a repository)."""
        from orkestra_tui.engine.execution.contest.entries import entry_diff

        record = contests.contest(self.store, task_id)
        entry = record.entry(letter.strip().upper()) if record is not None else None
        if record is None or entry is None:
            raise EngineError(f"task {task_id} has no contest entry {letter!r}")
        return await entry_diff(self.store, task_id, entry, limit=None)

    def contest_estimate(self, task_id: int, agents: int) -> ContestEstimate:
        """What a contest of AGENTS would cost: a run of the task per entry, and one round of ballots."""
        from orkestra_tui.engine.agents.calls import cost_of
        from orkestra_tui.engine.agents.prompts import estimate_tokens, task_request

        task = self._task(task_id)
        self.check_agents(agents)
        project = self.store.project(task.project_id)
        brief = project.brief if project is not None else ""
        names = choose_contestants(self.pool, task.category, agents, strategy=self.settings.engine.routing)
        request = task_request(task, brief, self._dependency_results(task), workspace=False)
        tokens_in, _ = estimate_tokens(request)
        per_entry = tuple(cost_of(self.pool.runtimes[name], tokens_in, TASK_OUTPUT_TOKENS) for name in names)
        return ContestEstimate(tuple(names), per_entry, self._round_estimate(task, names))

    def _round_estimate(self, task: Task, entrants: Sequence[str]) -> float:
        """One round of the committee's ballots on the entries, each voter's own left off its ballot."""
        from orkestra_tui.engine.agents.calls import cost_of
        from orkestra_tui.engine.agents.prompts import (
            Presentation,
            RoundContext,
            ballot_request,
            estimate_tokens,
        )
        from orkestra_tui.engine.voting.committee import option_labels

        options = [f"Entry {letter}" for letter in option_labels(len(entrants))]
        detail = "x" * (DETAIL_TOKENS * 4)
        context = RoundContext(
            question=contest_question(task),
            round=1,
            max_rounds=1,
            previous_shares={},
            excerpts=(),
            feedback=(),
        )
        total = 0.0
        for runtime in self.pool.enabled_agents():
            shown = [
                option for option, author in zip(options, entrants, strict=True) if author != runtime.name
            ]
            presentation = Presentation(
                labels=dict(zip(option_labels(len(shown)), shown, strict=True)),
                excluded=(),
                details=dict.fromkeys(option_labels(len(shown)), detail),
            )
            tokens_in, tokens_out = estimate_tokens(ballot_request(presentation, context))
            total += cost_of(runtime, tokens_in, tokens_out)
        return total

    def _dependency_results(self, task: Task) -> list[tuple[str, str]]:
        return [
            (str(title), str(result))
            for title, result in self.store.query(
                "SELECT t.title, coalesce(t.result, '') FROM task_dependency d JOIN task t"
                " ON t.id = d.depends_on WHERE d.task_id = ? ORDER BY t.id",
                (task.id,),
            )
        ]


def contest_question(task: Task) -> str:
    """The question the committee votes on: which entry does the task best."""
    return f"Which entry does task {task.title!r} best?"
