"""The Board: a project's tasks in columns by status, its progress, and the controls of the run.

Columns Ready, Running, Review, Awaiting human, Done and Failed/Blocked, each
a virtualised list (`TaskList`), so 10,000 tasks cost six widgets. Pending
tasks, whose dependencies are not done, show dimmed under Ready (`w` hides
them); cancelled ones dimmed under Failed/Blocked. Above the columns, the
project's and its phases' progress, the scheduler's state and the cost.

The screen reads light task cards (`Engine.task_cards`: no instructions, no
results), all of them once, then only the tasks that events name; counts,
columns and progress are worked out from the cards in memory (`board_view`). The detail
(Enter) reads the one task it shows. The app runs the scheduler: `r` starts
or resumes it, `p` pauses it. The other keys act on the highlighted task.
What concerns a linked repository (the heading's branch, `d` for a diff, `L`
to link one) is in `BoardRepositoryScreen`, which this screen is built on; what
concerns contests (a card's mark, the entries, `c`, `v`) in `BoardContestScreen`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from textual import widgets
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import DescendantFocus, Key
from textual.timer import Timer

from orkestra_tui.engine.execution.board_view import CardKeeper, TaskCard, phase_progress, sort_cards
from orkestra_tui.engine.models import InboxItem, InboxKind, Project, ProjectStatus, TaskStatus
from orkestra_tui.engine.progress import scheduler_state
from orkestra_tui.engine.store.watch import EVERYTHING
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.messages import EngineUpdated
from orkestra_tui.tui.screens.board_contest import BoardContestScreen
from orkestra_tui.tui.screens.board_repository import REPOSITORY_EVENTS, approved_outcome
from orkestra_tui.tui.text import clean
from orkestra_tui.tui.widgets.board_progress import BoardProgress, BoardSummary
from orkestra_tui.tui.widgets.task_list import COLUMNS, TITLES_WITH_CANCELLED, TaskList

if TYPE_CHECKING:
    from textual.widgets import Input

    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.events import EngineEvent
    from orkestra_tui.tui.app import OrkestraApp
    from orkestra_tui.tui.screens.assign_agent import AgentChoice
    from orkestra_tui.tui.widgets.task_detail import TaskDetailPane


ELAPSED_TICK_S = 1.0
SCROLL_KEYS = ("up", "down", "pageup", "pagedown", "home", "end")
REASSIGNABLE_NOT = (TaskStatus.RUNNING, TaskStatus.REVIEW, TaskStatus.DONE, TaskStatus.CANCELLED)


class BoardScreen(BoardContestScreen):
    """The chosen project's tasks by status, with its progress and the run's controls."""

    BINDINGS = [
        Binding("enter", "detail", "Detail"),
        Binding("escape", "close_detail", "Close"),
        Binding("y", "approve", "Approve"),
        Binding("n", "reject", "Send back"),
        Binding("d", "diff", "Diff"),
        Binding("R", "retry", "Retry"),
        Binding("a", "reassign", "Reassign"),
        Binding("x", "cancel_task", "Cancel"),
        Binding("r", "run('start')", "Run"),
        Binding("r", "run('resume')", "Resume"),
        Binding("p", "pause", "Pause"),
        Binding("b", "budget", "Budget"),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter"),
        Binding("w", "toggle_waiting", "Waiting"),
        Binding("left", "move_column(-1)", "Previous column", show=False),
        Binding("right", "move_column(1)", "Next column", show=False),
        Binding("left_square_bracket", "cycle_project(-1)", "Prev project"),
        Binding("right_square_bracket", "cycle_project(1)", "Next project"),
        Binding("c", "contest", "Contest"),
        Binding("v", "contest_vote", "Contest vote"),
        Binding("L", "link_repository", "Link repo"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    MODE = "board"
    TITLE = "Board"
    WATCHES = ("task", "call", "project", "inbox", "engine.scheduler", "milestone", "contest")

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.project: Project | None = None
        self.show_waiting = True
        """Whether pending tasks show (dimmed) under Ready."""
        self.filter_text = ""
        self.keeper = CardKeeper(engine.task_cards)
        """The project's tasks as cards."""
        self._projects: list[Project] | None = None
        self._cost: float | None = None
        self._budget_item: InboxItem | None = None
        self._budget_stale = True
        self._column_id = "column-ready"
        self._ticker: Timer | None = None
        self.ticking = False
        """Whether the Running column's elapsed times are redrawn every second now."""
        self._ticked_at = engine.clock.monotonic()
        self._detail_pane: TaskDetailPane | None = None
        self._wanted_task: int | None = None
        """A task to show (its project, column and detail) once the body is ready (`show_task`)."""

    @property
    def orkestra(self) -> OrkestraApp:
        return cast("OrkestraApp", self.app)

    # ------------------------------------------------------------ layout

    def compose_body(self) -> ComposeResult:
        from orkestra_tui.tui.widgets.task_detail import TaskDetailPane

        yield BoardProgress(id="board-progress")
        yield widgets.Input(
            placeholder="Filter: words of the title · agent:NAME · phase:NAME (Enter keeps, Esc clears)",
            id="board-filter",
            compact=True,
        )
        with Horizontal(id="columns"):
            for column in COLUMNS:
                yield TaskList(*column.titles, id=f"column-{column.id}")
        yield TaskDetailPane(id="task-detail")

    def body_mounted(self) -> None:
        self.query_one("#board-filter").display = False
        self.query_one("#task-detail").display = False
        self._ticker = self.set_interval(ELAPSED_TICK_S, self._tick, pause=True)
        self._update_ticker()
        self.query_one("#column-ready", TaskList).focus()
        if self._wanted_task is not None:
            self._go_to_wanted_task()

    def column(self, column_id: str) -> TaskList:
        return self.query_one(f"#column-{column_id}", TaskList)

    @property
    def detail_pane(self) -> TaskDetailPane:
        if self._detail_pane is None:
            from orkestra_tui.tui.widgets.task_detail import TaskDetailPane

            self._detail_pane = self.query_one(TaskDetailPane)
        return self._detail_pane

    @property
    def detail_task_id(self) -> int | None:
        """The task whose detail is open, if one is."""
        if not self.body_ready or not self.detail_pane.display:
            return None
        return self.detail_pane.task_id

    @property
    def highlighted(self) -> TaskCard | None:
        """The task the keys act on: the one in detail, or the highlighted one of the column in use."""
        if not self.body_ready:
            return None
        detail_id = self.detail_task_id
        if detail_id is not None:
            return self.keeper.cards.get(detail_id)
        return self.query_one(f"#{self._column_id}", TaskList).highlighted_task

    # ------------------------------------------------------------ reading

    def watches(self, event: EngineEvent) -> bool:
        if event.is_kind("task", "call"):
            return event.project_id is not None and event.project_id == self.project_id
        return super().watches(event)

    def on_engine_updated(self, message: EngineUpdated) -> None:
        """Note what changed; `EngineScreen` then schedules the refresh."""
        event = message.event
        if event.kind == "milestone.reached" and event.project_id == self.project_id and self.is_current:
            self.notify(clean(event.summary), title="Milestone", markup=False)
        if event.kind == EVERYTHING:  # another process changed much: read it all again
            self.keeper.task_changed(None)
            self.repository_changed()
            self._projects = None
            self._cost = None
            self._budget_stale = True
        elif event.is_kind("task") and event.project_id == self.project_id:
            subject = event.subject.removeprefix("task:")
            named = int(subject) if subject.isdigit() and event.kind != "task.created" else None
            self.keeper.task_changed(named)
            if event.kind in REPOSITORY_EVENTS:
                self.repository_changed()
        elif event.is_kind("call"):
            self._cost = None
        elif event.is_kind("project"):
            self._projects = None
            self._cost = None
            if event.kind in REPOSITORY_EVENTS:
                self.repository_changed()
        elif event.is_kind("inbox"):
            self._budget_stale = True

    def reload(self) -> None:
        if self._projects is None:
            self._projects = self.engine.projects()
        projects = self._projects
        project = next((item for item in projects if item.id == self.project_id), None)
        project = project or (projects[-1] if projects else None)
        self.project = project
        self.project_id = project.id if project is not None else None
        changed = self.keeper.read(self.project_id)
        contests_changed = self.read_contests()
        self.read_repository()
        if changed is None:  # all read again (another project, or many changes): so are these
            self._cost = None
            self._budget_stale = True
        detail_id = self.detail_task_id
        stale = changed is None or detail_id in changed or detail_id in contests_changed
        if detail_id is not None and stale:
            self._show_detail(detail_id)
        self._show_columns()
        self._show_progress()
        self._update_ticker()
        if self._wanted_task is not None and self._ticker is not None:  # not before `body_mounted`
            self._go_to_wanted_task()
        self.refresh_bindings()

    def show_task(self, task_id: int) -> None:
        """Show a task: its project, the cursor on it in its column, its detail open."""
        self._wanted_task = task_id
        self.project_id = self.engine.task(task_id).project_id
        if self.body_ready:
            self.reload()

    def _go_to_wanted_task(self) -> None:
        task_id, self._wanted_task = self._wanted_task, None
        self.detail_pane.display = False  # another task's detail gives way
        self.query_one("#columns").display = True
        for column in COLUMNS:
            task_list = self.column(column.id)
            index = next((at for at, card in enumerate(task_list.tasks) if card.id == task_id), None)
            if index is not None:
                task_list.cursor = index
                task_list.scroll_to_card(index)
                self._column_id = f"column-{column.id}"
                task_list.focus()
                self.action_detail()
                return

    def _show_columns(self) -> None:
        sorted_cards = sort_cards(self.keeper.cards, self.filter_text, show_waiting=self.show_waiting)
        shown, dimmed, waiting = sorted_cards.shown, sorted_cards.dimmed, sorted_cards.waiting
        hidden_waiting = sorted_cards.hidden_waiting
        # The running cards' clock moves on only with the ticker, once a second, however many
        # changes come in between.
        now = (self.column("running").now or self.engine.clock.now()) if shown["running"] else 0.0
        contest_marks = self.contest_card_marks()
        for column in COLUMNS:
            task_list = self.column(column.id)
            extra = dimmed[column.id]
            if column.id == "failed":  # the header names the cancelled cards while it shows some
                task_list.titles = TITLES_WITH_CANCELLED if extra else column.titles
            task_list.set_tasks(
                shown[column.id] + extra,
                # The cancelled cards are counted in the column that names them; the waiting ones are not.
                count=len(shown[column.id]) + (len(extra) if column.id == "failed" else 0),
                waiting=waiting if column.id == "ready" else None,
                now=now if column.id == "running" else 0.0,
                contests=contest_marks,
            )
            if column.id == "ready" and hidden_waiting:
                task_list.set_note(f"{hidden_waiting} waiting hidden", f"{hidden_waiting} hidden")
            elif column.id == "ready" and extra:
                task_list.set_note(f"+{len(extra)} waiting", f"+{len(extra)}")
            elif column.id == "failed" and extra:
                task_list.set_note(f"{len(extra)} cancelled", f"{len(extra)}")
            else:
                task_list.set_note()

    def _show_progress(self) -> None:
        project = self.project
        progress = self.query_one(BoardProgress)
        if project is None:
            progress.summary = None
            return
        if self._cost is None:
            self._cost = self.engine.project_cost(project.id)
        if self._budget_stale:
            self._budget_stale = False
            self._budget_item = next(
                (
                    item
                    for item in self.engine.inbox.open_items()
                    if item.kind is InboxKind.BUDGET and item.project_id == project.id
                ),
                None,
            )
        counted, phases = phase_progress(self.keeper.cards.values())
        running = self.orkestra.scheduler_state
        progress.summary = BoardSummary(
            name=project.name,
            status=project.status,
            scheduler=scheduler_state(counted, started=running != "idle", paused=running == "paused"),
            done=counted.done,
            total=counted.total,
            cancelled=counted.cancelled,
            phases=phases,
            cost=self._cost,
            budget=project.budget,
            budget_asked=self._budget_item is not None,
            repository=self.repository_heading(),
        )

    def repository_shown(self) -> None:
        if self.body_ready:
            self._show_progress()
            detail_id = self.detail_task_id
            if detail_id is not None:
                self._show_detail(detail_id)
            self.refresh_bindings()

    # ------------------------------------------------------ elapsed time

    def _update_ticker(self) -> None:
        """Tick once a second only while tasks run and the Board shows: idle costs nothing."""
        if self._ticker is None:
            return
        self.ticking = self.is_current and self.body_ready and bool(self.column("running").tasks)
        if self.ticking:
            self._ticker.resume()
        else:
            self._ticker.pause()

    def _tick(self) -> None:
        clock = self.engine.clock
        moved_on = clock.monotonic()
        if moved_on == self._ticked_at:
            return  # a clock that stands still (a test's): nothing has run any longer
        self._ticked_at = moved_on
        self.column("running").set_now(clock.now())

    def on_screen_suspend(self) -> None:
        if self._ticker is not None:
            self._ticker.pause()
        self.ticking = False

    def on_screen_resume(self) -> None:
        self._update_ticker()

    # ------------------------------------------------------------ events

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        if isinstance(event.widget, TaskList) and event.widget.id:
            self._column_id = event.widget.id
            self.refresh_bindings()

    def on_task_list_task_highlighted(self, _message: TaskList.TaskHighlighted) -> None:
        self.refresh_bindings()

    def on_key(self, event: Key) -> None:
        """While the detail is open, the arrows and page keys scroll it (no widget has the focus then)."""
        if event.key in SCROLL_KEYS and self.detail_task_id is not None:
            event.stop()
            self.detail_pane.scroll_by_key(event.key)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "board-filter" and event.value != self.filter_text:
            self.filter_text = event.value
            self._show_columns()
            self.refresh_bindings()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "board-filter":
            event.input.display = bool(self.filter_text.strip())
            self.query_one(f"#{self._column_id}", TaskList).focus()

    # ------------------------------------------------------------ keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that do not apply to the highlighted task (or the run as it is) are hidden."""
        if not self.body_ready:
            return False
        card = self.highlighted
        status = card.status if card is not None else None
        detail_open = self.detail_task_id is not None
        if action == "detail":
            return card is not None and not detail_open
        if action == "close_detail":
            return detail_open
        if action in ("filter", "toggle_waiting", "move_column") and detail_open:
            return False
        if action in ("approve", "reject"):
            return status is TaskStatus.AWAITING_HUMAN
        if action == "diff":
            linked = self.repository_link is not None
            return card is not None and (linked or self.has_contest_entries(card.id))
        if action in ("contest", "contest_vote"):
            return self.contest_action_allowed(action, card)
        if action == "link_repository":
            return self.project is not None and not detail_open
        if action == "retry":
            return status in (TaskStatus.FAILED, TaskStatus.BLOCKED)
        if action == "reassign":
            return status is not None and status not in REASSIGNABLE_NOT
        if action == "cancel_task":
            return status is not None and not status.is_final
        if action == "run":
            wanted = "paused" if parameters == ("resume",) else "idle"
            return self.project is not None and self.orkestra.scheduler_state == wanted
        if action == "pause":
            return self.orkestra.scheduler_state == "running"
        if action == "budget":
            return self._budget_item is not None
        if action == "clear_filter":
            return not detail_open and (bool(self.filter_text) or self.query_one("#board-filter").display)
        if action == "cycle_project":
            return not detail_open and len(self._projects or ()) > 1
        return True

    def _act(
        self, card: TaskCard, control: Callable[[int], object], done: str | Callable[[object], str]
    ) -> None:
        """Apply a task control, show its outcome at once, or say why it could not be done.

        `done` says what was done, or works it out from what the control returned.
        """
        try:
            outcome = control(card.id)
        except OrkestraError as problem:
            self.notify(clean(str(problem)), title="Board", severity="error", markup=False)
            return
        said = done if isinstance(done, str) else done(outcome)
        self.notify(clean(f"{card.title}: {said}"), title="Board", markup=False)
        self.keeper.task_changed(card.id)
        self.reload()

    def action_detail(self) -> None:
        card = self.highlighted
        if card is None:
            return
        self._show_detail(card.id)
        pane = self.detail_pane
        pane.scroll_to_top()
        self.query_one("#columns").display = False
        pane.display = True
        # No widget keeps the focus: the Board scrolls the pane (`on_key`). Focusing a widget would
        # restyle everything inside it (the result's blocks), which costs more than the rest.
        self.set_focus(None)
        self.refresh_bindings()

    def _show_detail(self, task_id: int) -> None:
        self.detail_pane.show(task_id, self.engine.task_detail(task_id), self.change_section(task_id))

    def action_close_detail(self) -> None:
        self.detail_pane.display = False
        self.query_one("#columns").display = True
        self.query_one(f"#{self._column_id}", TaskList).focus()
        self.refresh_bindings()

    def action_approve(self) -> None:
        card = self.highlighted
        if card is not None:
            self._act(card, self.engine.approve_task, approved_outcome)

    def action_reject(self) -> None:
        from orkestra_tui.tui.screens.prompt import TextPromptScreen

        card = self.highlighted
        if card is None:
            return

        def rejected(note: str | None) -> None:
            if note is not None:
                self._act(card, lambda task_id: self.engine.reject_task(task_id, note), "sent back")

        self.app.push_screen(
            TextPromptScreen(
                "Send back",
                f"What should change in {card.title!r}?",
                "The agent reads your note before it tries again",
                "Send back",
                "Say what should change: the agent reads it before it tries again.",
            ),
            rejected,
        )

    def action_retry(self) -> None:
        card = self.highlighted
        if card is not None:
            retryable = card.status in (TaskStatus.FAILED, TaskStatus.BLOCKED)
            advice = self.engine.retry_advice(card.id) if retryable else ""
            self._act(card, self.engine.retry_task, "to be tried again" + (f": {advice}" if advice else ""))

    def action_cancel_task(self) -> None:
        from orkestra_tui.tui.screens.prompt import ConfirmScreen

        card = self.highlighted
        if card is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._act(card, self.engine.cancel_task, "cancelled")

        self.app.push_screen(
            ConfirmScreen("Cancel task", f"Cancel {card.title!r}? It will not run again.", "Cancel it"),
            confirmed,
        )

    def action_reassign(self) -> None:
        from orkestra_tui.tui.screens.assign_agent import AssignAgentScreen

        card = self.highlighted
        if card is None:
            return

        def chosen(choice: AgentChoice | None) -> None:
            if choice is None:
                return
            where = f"pinned to {choice.agent}" if choice.agent else "left to the scheduler"
            self._act(card, lambda task_id: self.engine.reassign_task(task_id, choice.agent), where)

        standings = self.engine.agent_standings(card.id)
        self.app.push_screen(
            AssignAgentScreen(card.title, self.engine.agents(), card.pinned_agent, standings), chosen
        )

    def action_run(self, _how: str) -> None:
        project = self.project
        self.orkestra.run_scheduler()
        if project is not None and project.status is not ProjectStatus.ACTIVE:
            self.notify(
                clean(
                    f"{project.name} is {project.status.value}: the scheduler carries out"
                    " the tasks of active projects only."
                ),
                title="Board",
                severity="warning",
                markup=False,
            )

    def action_pause(self) -> None:
        self.orkestra.pause_scheduler()

    def action_budget(self) -> None:
        from orkestra_tui.tui.screens.budget import BudgetScreen

        item, project = self._budget_item, self.project
        if item is None or project is None:
            return

        def answered(budget: float | None) -> None:
            if budget is None:
                return
            try:
                self.engine.answer_budget(item.id, budget)
            except OrkestraError as problem:
                self.notify(clean(str(problem)), title="Board", severity="error", markup=False)
                return
            self.notify(f"New budget ${budget:,.2f}: the project goes on.", title="Board")

        self.app.push_screen(
            BudgetScreen(
                project.name, self._cost or 0.0, project.budget, str(item.payload.get("reason", ""))
            ),
            answered,
        )

    def action_filter(self) -> None:
        field = self.query_one("#board-filter", widgets.Input)
        field.display = True
        field.focus()
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        field = self.query_one("#board-filter", widgets.Input)
        field.value = ""
        field.display = False
        self.filter_text = ""
        self._show_columns()
        self.query_one(f"#{self._column_id}", TaskList).focus()
        self.refresh_bindings()

    def action_toggle_waiting(self) -> None:
        self.show_waiting = not self.show_waiting
        self._show_columns()
        self.refresh_bindings()

    def action_move_column(self, step: int) -> None:
        lists = list(self.query(TaskList))
        current = next((index for index, item in enumerate(lists) if item.id == self._column_id), 0)
        lists[(current + step) % len(lists)].focus()

    def action_cycle_project(self, step: int) -> None:
        projects = self._projects or []
        if len(projects) < 2:
            return
        ids = [project.id for project in projects]
        current = ids.index(self.project_id) if self.project_id in ids else len(ids) - 1
        self.project_id = ids[(current + step) % len(ids)]
        self.reload()
