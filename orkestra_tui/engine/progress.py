"""A project's progress, defined once: every screen and command counts tasks the same way.

- Progress is tasks done out of `total`, the tasks not cancelled; the
  cancelled ones are counted apart (shown as "1 cancelled" beside).
- `STATUS_GROUPS` says which group (the Board's column, the `status` table's
  column) each task status belongs to, and names the group by every status in it.
- `scheduler_state` is what a project's run is doing: running only while its
  tasks run or can be claimed, done once it is finished, else idle or paused.
- Status names are the statuses' own words (`TaskStatus.label`), in text as in JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from orkestra_tui.engine.models import TaskStatus


@dataclass(frozen=True)
class ProjectProgress:
    """How many tasks of a project are in each status, and what that makes of its progress."""

    counts: Mapping[TaskStatus, int]

    @classmethod
    def of(cls, statuses: Iterable[TaskStatus]) -> ProjectProgress:
        """The progress of tasks with these statuses."""
        counts = dict.fromkeys(TaskStatus, 0)
        for status in statuses:
            counts[status] += 1
        return cls(counts)

    def count(self, *statuses: TaskStatus) -> int:
        return sum(self.counts.get(status, 0) for status in statuses)

    @property
    def done(self) -> int:
        return self.count(TaskStatus.DONE)

    @property
    def cancelled(self) -> int:
        return self.count(TaskStatus.CANCELLED)

    @property
    def total(self) -> int:
        """The tasks that count towards progress: all but the cancelled ones."""
        return sum(self.counts.values()) - self.cancelled

    @property
    def finished(self) -> bool:
        """Every task not cancelled is done (and there is at least one)."""
        return self.total > 0 and self.done == self.total

    @property
    def under_way(self) -> bool:
        """Tasks are running (or in review), or ready to be claimed."""
        return self.count(TaskStatus.RUNNING, TaskStatus.REVIEW, TaskStatus.READY) > 0

    def summary(self) -> str:
        """`6/6 done`, with `· 1 cancelled` when tasks were cancelled."""
        text = f"{self.done}/{self.total} done"
        if self.cancelled:
            text += f" · {self.cancelled} cancelled"
        return text


@dataclass(frozen=True)
class StatusGroup:
    id: str
    statuses: tuple[TaskStatus, ...]
    """The statuses it counts."""
    dimmed: tuple[TaskStatus, ...] = ()
    """Statuses it holds after those, shown dimmed and not counted."""


STATUS_GROUPS = (
    StatusGroup("ready", (TaskStatus.READY,), (TaskStatus.PENDING,)),
    StatusGroup("running", (TaskStatus.RUNNING,)),
    StatusGroup("review", (TaskStatus.REVIEW,)),
    StatusGroup("human", (TaskStatus.AWAITING_HUMAN,)),
    StatusGroup("done", (TaskStatus.DONE,)),
    StatusGroup("failed", (TaskStatus.FAILED, TaskStatus.BLOCKED), (TaskStatus.CANCELLED,)),
)
"""The Board's columns, in order: each status is in exactly one."""

GROUP_OF: dict[TaskStatus, tuple[str, bool]] = {
    status: (group.id, dimmed)
    for group in STATUS_GROUPS
    for dimmed, statuses in ((False, group.statuses), (True, group.dimmed))
    for status in statuses
}
"""Each status's group, and whether it shows dimmed there."""

STATUS_ORDER = (
    TaskStatus.PENDING,
    TaskStatus.READY,
    TaskStatus.RUNNING,
    TaskStatus.REVIEW,
    TaskStatus.AWAITING_HUMAN,
    TaskStatus.DONE,
    TaskStatus.FAILED,
    TaskStatus.BLOCKED,
    TaskStatus.CANCELLED,
)
"""The statuses in the order of a task's life, for lists of counts."""


def scheduler_state(progress: ProjectProgress, *, started: bool, paused: bool) -> str:
    """What the run of a project is doing: `running`, `paused`, `done` or `idle`.

    `started`: the scheduler works; `paused`: it starts no new task. A project
    whose tasks are all done (or cancelled) is `done` whatever the scheduler
    does; a scheduler at work shows `running` only while the project has tasks
    running or ready to claim.
    """
    if progress.finished:
        return "done"
    if started and paused:
        return "paused"
    if started and progress.under_way:
        return "running"
    return "idle"
