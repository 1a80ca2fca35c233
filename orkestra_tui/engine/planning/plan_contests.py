"""Contests set on a plan's tasks in review: the size checked, then set when the plan is approved.

The review's task editor may give a task a contest size (`contest` in the plan's task, 2 or
more agents; none for one agent). When the plan becomes tasks, those tasks become contests
of that size through the contest desk (above planning: reached through `ContestSetter`),
with no more agents than can be called then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import Task
from orkestra_tui.engine.voting.decisions import MAX_OPTIONS


class ContestSetter(Protocol):
    """Where a task is made a contest (the contest desk, above planning)."""

    def available_agents(self) -> int: ...

    def set_task_contest(self, task_id: int, agents: int | None, *, actor: str = "human") -> object: ...


def contest_size(value: Any) -> int | None:
    """A task's contest size as the review gives it: None for one agent; EngineError if it cannot be."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise EngineError(f"a contest size is a number of agents, not {value!r}")
    if not 2 <= value <= MAX_OPTIONS:
        raise EngineError(f"a contest needs 2 to {MAX_OPTIONS} agents, not {value}")
    return value


def set_plan_contests(
    setter: ContestSetter, created: Sequence[Task], planned: Mapping[str, Mapping[str, Any]]
) -> None:
    """Make the tasks whose plan entry (by key) has a contest size contests of that size.

    A size above the agents that can be called now becomes that many; below two, no contest.
    """
    available = setter.available_agents()
    for task in created:
        agents = planned.get(task.key, {}).get("contest")
        if isinstance(agents, int) and min(agents, available) >= 2:
            setter.set_task_contest(task.id, min(agents, available), actor="human")
