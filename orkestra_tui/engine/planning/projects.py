"""The project desk: the only writer of project rows.

A project is created (its name checked once, by `brief_rules`), moved between
planning, active, paused and archived, and given a budget and a workspace here;
the planner and the task controls come here for it, each with its audit event.
"""

from __future__ import annotations

from pathlib import Path

from orkestra_tui.engine.errors import EngineError, RequestRejected
from orkestra_tui.engine.inbox import Inbox
from orkestra_tui.engine.models import InboxKind, InboxStatus, Involvement, Project, ProjectStatus
from orkestra_tui.engine.planning.brief_rules import fold_name, name_problems
from orkestra_tui.engine.store.store import Store, Transaction


def write_status(tx: Transaction, project_id: int, status: ProjectStatus) -> None:
    """The one statement that moves a project; its caller audits it in the same transaction."""
    tx.execute("UPDATE project SET status = ? WHERE id = ?", (status.value, project_id))


class ProjectDesk:
    """The projects of one store: create, find, and change their status, budget and workspace."""

    def __init__(self, store: Store, inbox: Inbox) -> None:
        self.store = store
        self.inbox = inbox

    def create_project(
        self,
        name: str,
        brief: str = "",
        *,
        involvement: Involvement = Involvement.CHECKPOINTS,
        actor: str = "human",
    ) -> Project:
        clean_name = fold_name(name)
        problems = name_problems(name, taken=self.store.project_by_name(clean_name) is not None)
        if problems:
            raise RequestRejected(problems)
        with self.store.transaction() as tx:
            cursor = tx.execute(
                "INSERT INTO project (name, brief, involvement, status, created_at) VALUES (?, ?, ?, ?, ?)",
                (clean_name, brief, int(involvement), ProjectStatus.PLANNING.value, tx.clock.now()),
            )
            project_id = int(cursor.lastrowid or 0)
            tx.audit(
                actor,
                "project.created",
                f"Project {clean_name!r} created",
                subject=f"project:{project_id}",
                project_id=project_id,
                data={"involvement": int(involvement), "brief_chars": len(brief)},
            )
        project = self.store.project(project_id)
        assert project is not None
        return project

    def set_project_status(self, project_id: int, status: ProjectStatus, *, actor: str = "engine") -> None:
        project = self.store.project(project_id)
        if project is None:
            raise EngineError(f"there is no project {project_id}")
        with self.store.transaction() as tx:
            write_status(tx, project_id, status)
            tx.audit(
                actor,
                f"project.{status.value}",
                f"Project {project.name!r} is {status.value}",
                subject=f"project:{project_id}",
                project_id=project_id,
            )

    def projects(self) -> list[Project]:
        return self.store.projects()

    def plans_under_way(self) -> list[int]:
        """The projects whose plan is neither approved nor cancelled yet, least recently touched first."""
        rows = self.store.query(
            "SELECT project_id FROM plan_session WHERE step NOT IN ('done', 'cancelled')"
            " ORDER BY updated_at, project_id"
        )
        return [int(project_id) for (project_id,) in rows]

    def project_named(self, name: str) -> Project:
        project = self.store.project_by_name(name)
        if project is None:
            names = ", ".join(repr(project.name) for project in self.store.projects()) or "none yet"
            raise EngineError(f"there is no project named {name!r} (projects: {names})")
        return project

    def set_budget(self, project_id: int, budget: float | None) -> None:
        """The most a project may spend on calls, in dollars (None: no cap)."""
        project = self.store.project(project_id)
        if project is None:
            raise EngineError(f"there is no project {project_id}")
        if budget is not None and not budget >= 0:
            raise EngineError("a budget is an amount of 0 or more")
        with self.store.transaction() as tx:
            tx.execute("UPDATE project SET budget = ? WHERE id = ?", (budget, project_id))
            tx.audit(
                "human",
                "project.budget",
                f"Budget of {project.name!r}: " + ("none" if budget is None else f"${budget:.2f}"),
                subject=f"project:{project_id}",
                project_id=project_id,
                data={"budget": budget},
            )

    def set_workspace(self, project_id: int, folder: str | None) -> None:
        """The folder the agents' files are written to (None: results stay artifacts only)."""
        project = self.store.project(project_id)
        if project is None:
            raise EngineError(f"there is no project {project_id}")
        path = str(Path(folder).expanduser().resolve()) if folder else None
        if path is not None and not Path(path).is_dir():
            raise EngineError(f"the workspace {path} is not a folder")
        with self.store.transaction() as tx:
            tx.execute("UPDATE project SET workspace = ? WHERE id = ?", (path, project_id))
            tx.audit(
                "human",
                "project.workspace",
                f"Workspace of {project.name!r}: {path or 'none'}",
                subject=f"project:{project_id}",
                project_id=project_id,
                data={"workspace": path},
            )

    def answer_budget(self, item_id: int, budget: float | None) -> None:
        """Answer a budget request: a higher budget resumes the project; None leaves it paused."""
        item = self.store.inbox_item(item_id)
        if item is None or item.kind is not InboxKind.BUDGET:
            raise EngineError(f"there is no budget request {item_id}")
        if item.status is not InboxStatus.OPEN:
            raise EngineError(f"the budget request {item_id} is already {item.status.value}")
        project_id = int(item.payload["project_id"])
        if budget is not None:
            self.set_budget(project_id, budget)
        self.inbox.answer(item_id, {"budget": budget})
        if budget is not None:
            self.set_project_status(project_id, ProjectStatus.ACTIVE, actor="human")
