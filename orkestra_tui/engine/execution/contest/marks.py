"""A project's contests at a glance, for the Board's cards: one query, no entries read.

The Board marks a contest task's card ("⚔3") and needs that for every card it shows,
so it reads the marks of the whole project at once rather than each task's contest.
"""

from __future__ import annotations

from dataclasses import dataclass

from orkestra_tui.engine.execution.contest.view import ContestState
from orkestra_tui.engine.store.store import Store


@dataclass(frozen=True)
class ContestMark:
    """What a card says of its task's contest: how many agents, where it is, its winner."""

    task_id: int
    agents: int
    state: ContestState
    winner: str | None = None

    @property
    def text(self) -> str:
        """`⚔3`, with the winner's letter once there is one (`⚔3→B`)."""
        return f"⚔{self.agents}" + (f"→{self.winner}" if self.winner else "")


def contest_marks(store: Store, project_id: int) -> dict[int, ContestMark]:
    """The project's contest tasks, by task id (set, under way or decided)."""
    rows = store.query(
        "SELECT c.task_id, c.agents, c.state, c.winner FROM contest c JOIN task t ON t.id = c.task_id"
        " WHERE t.project_id = ?",
        (project_id,),
    )
    return {
        int(task_id): ContestMark(int(task_id), int(agents), ContestState(state), winner)
        for task_id, agents, state, winner in rows
    }
