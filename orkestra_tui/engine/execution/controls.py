"""The task desk: the human's controls over tasks, and tasks added to a plan.

Approve, send back, cancel, retry and reassign: each checks the task as the
caller read it, then moves it through `tasks` (the only writer of task.status),
answers its review request and audits it, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from orkestra_tui.engine.agents.answers import CATEGORIES, PRIORITY_NAMES, is_placeholder
from orkestra_tui.engine.agents.pool import AgentPool
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.execution.tasks import (
    block_dependents,
    control_task,
    insert_tasks,
    move_task,
    note_milestone,
    pin_task,
    release_dependents,
)
from orkestra_tui.engine.inbox import Inbox
from orkestra_tui.engine.models import InboxKind, Priority, Task, TaskSpec, TaskStatus
from orkestra_tui.engine.repo.changes import approved_change_status
from orkestra_tui.engine.store.store import Store

if TYPE_CHECKING:
    from orkestra_tui.engine.execution.selection import Standing

APPROVED_OVER = "Approved over the review's concern:"
"""How an approved task's note begins when the reviewers had raised something: their text follows."""


ADDED_PHASE = "Extra"
"""The phase of a task added to a project after its plan (as the plan review names a new one)."""


def added_task_problem(
    store: Store,
    project_id: int,
    *,
    title: str,
    instructions: str,
    category: str,
    priority: str,
    depends_on: Sequence[int],
) -> str:
    """What is wrong with a task to add to a project, in one line; '' when nothing is."""
    if store.project(project_id) is None:
        return f"there is no project {project_id}"
    for name, text in (("title", title), ("instructions", instructions)):
        if is_placeholder(text):
            return f"the task's {name} is {'empty' if not text.strip() else 'a placeholder, not real text'}"
    if category not in CATEGORIES:
        return f"category must be one of {', '.join(CATEGORIES)}"
    if priority not in PRIORITY_NAMES:
        return f"priority must be one of {', '.join(PRIORITY_NAMES)}"
    for task_id in depends_on:
        task = store.task(task_id)
        if task is None or task.project_id != project_id:
            return f"the project has no task {task_id} to depend on"
        if task.status is TaskStatus.CANCELLED:
            return f"task {task_id} is cancelled: nothing can wait for it"
    return ""


class TaskDesk:
    """The tasks of one store as the human controls them; every method takes the task as read."""

    def __init__(self, store: Store, inbox: Inbox, pool: AgentPool) -> None:
        self.store = store
        self.inbox = inbox
        self.pool = pool

    def task(self, task_id: int) -> Task:
        task = self.store.task(task_id)
        if task is None:
            raise EngineError(f"there is no task {task_id}")
        return task

    def add_tasks(self, project_id: int, specs: Sequence[TaskSpec], *, actor: str = "engine") -> list[Task]:
        """Create tasks in one transaction (see `tasks.insert_tasks` for the rules)."""
        if self.store.project(project_id) is None:
            raise EngineError(f"there is no project {project_id}")
        with self.store.transaction() as tx:
            ids = insert_tasks(tx, self.store, project_id, specs, actor=actor)
        return self.store.tasks_with_ids(ids.start, ids.stop - 1) if specs else []

    def add_task(
        self,
        project_id: int,
        title: str,
        instructions: str,
        *,
        category: str = "code",
        priority: str = "normal",
        depends_on: Sequence[int] = (),
        actor: str = "human",
    ) -> Task:
        """One task added to a project's Board, checked as the plan review checks a task it adds.

        `depends_on` names tasks of the same project (by id) that it waits for: it is
        pending until they are done. Any problem is one EngineError line, before anything is written.
        """
        problem = added_task_problem(
            self.store,
            project_id,
            title=title,
            instructions=instructions,
            category=category,
            priority=priority,
            depends_on=depends_on,
        )
        if problem:
            raise EngineError(problem)
        keys = {task.key for task in self.store.tasks(project_id)}
        key = next(f"t{number}" for number in range(1, len(keys) + 2) if f"t{number}" not in keys)
        spec = TaskSpec(
            title=" ".join(title.split()),
            instructions=instructions.strip(),
            category=category,
            priority=Priority[priority.upper()],
            phase=ADDED_PHASE,
            key=key,
        )
        with self.store.transaction() as tx:
            ids = insert_tasks(tx, self.store, project_id, [spec], actor=actor, waits_for={key: depends_on})
        return self.task(ids.start)

    def set_task_status(
        self,
        task: Task,
        status: TaskStatus,
        *,
        actor: str = "human",
        note: str = "",
        assigned_to: str | None = None,
    ) -> Task:
        with self.store.transaction() as tx:
            move_task(tx, self.store, task, status, actor=actor, note=note, assigned_to=assigned_to)
        return self.task(task.id)

    def _control_task(
        self,
        task: Task,
        status: TaskStatus,
        *,
        allowed: Sequence[TaskStatus],
        note: str,
        kind: str,
        why: str,
        unpin: bool = False,
        advice: str = "",
    ) -> Task:
        """Move a task for the human, answer its review request, and clear its lease; the task after."""
        task_id = task.id
        if task.status not in allowed:
            raise EngineError(f"task {task_id} is {task.status.label}: it cannot be {why}")
        if status is not TaskStatus.CANCELLED and self.store.scalar(
            "SELECT count(*) FROM contest WHERE task_id = ? AND state = 'awaiting_human'", (task_id,)
        ):  # nothing to approve or redo yet: the entries wait for the vote to end
            raise EngineError(f"task {task_id}'s contest waits for your tie-break: break the tie first")
        with self.store.transaction() as tx:
            if status is TaskStatus.READY and self.store.scalar(
                "SELECT count(*) FROM task_dependency d JOIN task o ON o.id = d.depends_on"
                " WHERE d.task_id = ? AND o.status != 'done'",
                (task_id,),
            ):
                status = TaskStatus.PENDING
            control_task(  # an attempt under way ends here; its scheduler finds its lease gone
                tx,
                task,
                status,
                note=note,
                outcome="cancelled" if status is TaskStatus.CANCELLED else "retry",
                error=note or f"{why} by the human",
                unpin=unpin,
            )
            tx.audit(
                "human",
                kind,
                f"Task {task.title!r} {why}"
                + (f": {note}" if note else "")
                + (f"; {advice}" if advice else ""),
                subject=f"task:{task_id}",
                project_id=task.project_id,
                data={"from": task.status.value, "to": status.value, "note": note}
                | ({"advice": advice} if advice else {})
                | ({"unpinned": task.pinned_agent} if unpin else {}),
            )
            for item in self.store.inbox():
                if item.kind is InboxKind.TASK_REVIEW and item.payload.get("task_id") == task_id:
                    self.inbox.answer_in(tx, item.id, {"status": status.value, "note": note})
            if status is TaskStatus.DONE:
                release_dependents(tx, self.store, task)
                note_milestone(tx, self.store, task)
            if status is TaskStatus.CANCELLED:
                block_dependents(tx, self.store, task, f"it depends on {task.title!r}, which was cancelled")
        return self.task(task_id)

    def approve_task(self, task: Task) -> Task:
        """The human approves a task the reviewers sent to them: it is done (in a repository, once merged).

        The reviewers' concern stays in the note, as what the approval went over.
        """
        concern = task.note.strip()
        status = TaskStatus.DONE
        if task.status is TaskStatus.AWAITING_HUMAN:  # in a repository project, done once merged
            status = approved_change_status(self.store, task.id)
        return self._control_task(
            task,
            status,
            allowed=(TaskStatus.AWAITING_HUMAN,),
            note=f"{APPROVED_OVER} {concern}" if concern else "",
            kind="task.approved",
            why="approved",
        )

    def reject_task(self, task: Task, note: str) -> Task:
        """The human sends a task back to be redone, with a note the agent reads."""
        if not note.strip():
            raise EngineError("say what should change: the agent reads it before it tries again")
        return self._control_task(
            task,
            TaskStatus.READY,
            allowed=(TaskStatus.AWAITING_HUMAN, TaskStatus.REVIEW),
            note=f"You asked: {note.strip()}",
            kind="task.rejected",
            why="sent back",
        )

    def cancel_task(self, task: Task) -> Task:
        return self._control_task(
            task,
            TaskStatus.CANCELLED,
            allowed=[
                status for status in TaskStatus if status not in (TaskStatus.DONE, TaskStatus.CANCELLED)
            ],
            note="",
            kind="task.cancelled",
            why="cancelled",
        )

    def retry_task(self, task: Task) -> Task:
        """A failed or blocked task goes back to ready (or pending, if its dependencies are not done).

        When the agent it last went to (or is pinned to) cannot be called now, a
        pin to it is dropped, so the retry does not go straight back to a broken
        agent; `retry_advice` says so beforehand.
        """
        advice, other_agents = self._retry_advice(task)
        return self._control_task(
            task,
            TaskStatus.READY,
            allowed=(TaskStatus.FAILED, TaskStatus.BLOCKED),
            note="",
            kind="task.retried",
            why="retried",
            unpin=bool(advice and other_agents and task.pinned_agent),
            advice=advice,
        )

    def agent_standings(self, task: Task) -> list[Standing]:
        """Every agent's score, load and availability for the task, as the scheduler's selection sees them."""
        from orkestra_tui.engine.execution.selection import standings

        return standings(self.pool, self.store, task.category)

    def retry_advice(self, task: Task) -> str:
        """What a retry of the task will do about an agent that cannot be called now ('' if nothing)."""
        return self._retry_advice(task)[0]

    def _retry_advice(self, task: Task) -> tuple[str, list[str]]:
        from orkestra_tui.engine.execution.selection import UNAVAILABLE_PHRASES, unavailable_reason

        last_agent = task.pinned_agent or task.assigned_to
        if last_agent not in self.pool.runtimes or self.pool.agent_available(last_agent):
            return "", []
        enabled = last_agent in {runtime.name for runtime in self.pool.enabled_agents()}
        reason = unavailable_reason(self.pool, last_agent, enabled=enabled)
        phrase = UNAVAILABLE_PHRASES.get(reason, "{name} is unavailable").format(name=last_agent)
        others = sorted(
            name for name in self.pool.runtimes if name != last_agent and self.pool.agent_available(name)
        )
        if others:
            return f"{phrase}, so another agent takes it ({', '.join(others)} can)", others
        return f"{phrase}, so it waits until an agent can take it", []

    def reassign_task(self, task: Task, agent: str | None) -> Task:
        """Pin a task to an agent (None: let the scheduler choose again); not while it runs."""
        task_id = task.id
        if agent is not None and agent not in self.pool.runtimes:
            raise EngineError(f"there is no agent named {agent!r} (agents: {', '.join(self.pool.runtimes)})")
        if task.status in (TaskStatus.RUNNING, TaskStatus.REVIEW, TaskStatus.DONE, TaskStatus.CANCELLED):
            raise EngineError(f"task {task_id} is {task.status.label}: it cannot be reassigned now")
        with self.store.transaction() as tx:
            pin_task(tx, task, agent)
            tx.audit(
                "human",
                "task.reassigned",
                f"Task {task.title!r} " + (f"pinned to {agent}" if agent else "left to the scheduler"),
                subject=f"task:{task_id}",
                project_id=task.project_id,
                data={"agent": agent},
            )
        return self.task(task_id)
