"""The Board: a project's tasks in columns by status."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Project, TaskStatus
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.text import plain
from orkestra_tui.tui.widgets.task_list import TaskList

COLUMNS: tuple[tuple[str, str, tuple[TaskStatus, ...]], ...] = (
    ("ready", "Ready", (TaskStatus.READY, TaskStatus.PENDING)),
    ("running", "Running", (TaskStatus.RUNNING,)),
    ("review", "Review", (TaskStatus.REVIEW,)),
    ("human", "Human", (TaskStatus.AWAITING_HUMAN,)),
    ("done", "Done", (TaskStatus.DONE,)),
    ("failed", "Failed", (TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.CANCELLED)),
)
"""Column id, title and the statuses it shows; pending tasks show dimmed under Ready."""


class BoardScreen(EngineScreen):
    """Columns Ready, Running, Review, Human, Done and Failed for the chosen project."""

    BINDINGS = [
        Binding("left", "move_column(-1)", "Previous column", show=False),
        Binding("right", "move_column(1)", "Next column", show=False),
        Binding("left_square_bracket", "cycle_project(-1)", "Prev project"),
        Binding("right_square_bracket", "cycle_project(1)", "Next project"),
    ]

    MODE = "board"
    TITLE = "Board"
    WATCHES = ("task", "project")

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.project_id: int | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="board-title")
        with Horizontal(id="columns"):
            for column_id, title, _statuses in COLUMNS:
                yield TaskList(title, id=f"column-{column_id}")

    def body_mounted(self) -> None:
        self.query_one("#column-ready", TaskList).focus()

    def current_project(self) -> Project | None:
        projects = self.engine.projects()
        if not projects:
            return None
        chosen = next((project for project in projects if project.id == self.project_id), None)
        return chosen or projects[-1]

    def reload(self) -> None:
        project = self.current_project()
        title = self.query_one("#board-title", Static)
        if project is None:
            title.update(Text("No project yet: press 1 to start one on the Plan screen.", style="dim"))
            for column in self.query(TaskList):
                column.set_tasks([])
            return
        self.project_id = project.id
        tasks = self.engine.tasks(project.id)
        done = sum(task.status is TaskStatus.DONE for task in tasks)
        heading = plain(project.name, style="bold")
        heading.append(f"  {done}/{len(tasks)} done", style="dim")
        if len(self.engine.projects()) > 1:
            heading.append("   [ ] switch project", style="dim")
        title.update(heading)
        for column_id, _title, statuses in COLUMNS:
            self.query_one(f"#column-{column_id}", TaskList).set_tasks(
                [task for task in tasks if task.status in statuses]
            )

    def action_move_column(self, step: int) -> None:
        lists = list(self.query(TaskList))
        focused = self.focused
        index = lists.index(focused) if focused in lists else -1
        lists[(index + step) % len(lists)].focus()

    def action_cycle_project(self, step: int) -> None:
        projects = self.engine.projects()
        if len(projects) < 2:
            return
        ids = [project.id for project in projects]
        current = ids.index(self.project_id) if self.project_id in ids else len(ids) - 1
        self.project_id = ids[(current + step) % len(ids)]
        self.reload()
