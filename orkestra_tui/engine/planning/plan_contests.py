"""Contests set on a plan's tasks in review: the size checked, then set when the plan is approved.

The review's task editor may give a task a contest size (`contest` in the plan's task, 2 or
more agents; none for one agent). When the plan becomes tasks, those tasks become contests
of that size, all in one transaction, by the contests' own writer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import Task
from orkestra_tui.engine.store.store import Store
from orkestra_tui.engine.voting.decisions import MAX_OPTIONS


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
    store: Store, created: Sequence[Task], planned: Mapping[str, Mapping[str, Any]]
) -> None:
    """Make the tasks whose plan entry (by key) has a contest size contests of that size."""
    from orkestra_tui.engine.execution import contests

    wanted = [(task, planned.get(task.key, {}).get("contest")) for task in created]
    chosen = [(task, agents) for task, agents in wanted if isinstance(agents, int) and agents >= 2]
    if not chosen:
        return
    with store.transaction() as tx:
        for task, agents in chosen:
            contests.set_contest(tx, task.id, agents, source="task", actor="human", title=task.title)
