"""OrkestraApp: five modes over one engine, with keys, help and the command palette.

The app also runs the committee: each vote (put from the Voting screen, or
under way when the app last closed) runs in a worker of the `committee` group
until it ends; closing the app cancels them, and the store keeps where they
were. When a vote needs the human to break a tie, the app opens the tie-break
modal wherever the user is, and the top bar reminds until it is answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.events import EngineEvent, Subscription
from orkestra_tui.engine.models import Decision, DecisionStatus, InboxKind
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.text import clean
from orkestra_tui.tui.widgets.mode_bar import MODES

if TYPE_CHECKING:
    from orkestra_tui.engine.scheduler import Scheduler
    from orkestra_tui.tui.screens.voting import VotingScreen

COMMITTEE_GROUP = "committee"
PLANNING_GROUP = "planning"
SCHEDULER_GROUP = "scheduler"


def _screen_class(mode: str) -> type[EngineScreen]:
    """The screen class of a mode, imported when the mode is first shown."""
    if mode == "plan":
        from orkestra_tui.tui.screens.plan import PlanScreen

        return PlanScreen
    if mode == "board":
        from orkestra_tui.tui.screens.board import BoardScreen

        return BoardScreen
    if mode == "voting":
        from orkestra_tui.tui.screens.voting import VotingScreen

        return VotingScreen
    if mode == "health":
        from orkestra_tui.tui.screens.health import HealthScreen

        return HealthScreen
    from orkestra_tui.tui.screens.audit import AuditScreen

    return AuditScreen


class OrkestraApp(App[None]):
    """The full-screen app. It owns no state of its own: the engine is the truth."""

    TITLE = "Orkestra"
    # Each screen's stylesheet sits beside it, every rule nested under the screen's class;
    # loading them all here parses them once, where a screen's own CSS_PATH would make
    # Textual re-parse every stylesheet when the screen is first shown.
    CSS_PATH = [
        "app.tcss",
        "screens/plan.tcss",
        "screens/board.tcss",
        "screens/voting.tcss",
        "screens/health.tcss",
        "screens/audit.tcss",
    ]
    BINDINGS = [
        *(Binding(key, f"switch_mode('{mode}')", name, show=False) for key, mode, name in MODES),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+t", "tie_break", "Tie-break"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    tie_breaks_waiting: reactive[int] = reactive(0)
    """Tie-breaks the committee is waiting for the human to answer (the top bar shows them)."""

    class InboxChanged(Message):
        """A question to the human was asked, answered or withdrawn."""

        def __init__(self, event: EngineEvent) -> None:
            super().__init__()
            self.event = event

    def __init__(
        self,
        engine: Engine,
        *,
        first_mode: str | None = None,
        on_ready: Callable[[OrkestraApp], None] | None = None,
    ) -> None:
        # Start straight in the first mode: no default screen is built and thrown away.
        self.DEFAULT_MODE = first_mode or ("board" if engine.projects() else "plan")  # type: ignore[misc]
        super().__init__()
        self.engine = engine
        self.ready_callback = on_ready
        self._subscription: Subscription | None = None
        self.scheduler: Scheduler | None = None
        """The scheduler carrying out tasks in this app, once started (key r on the Board)."""
        self._tie_break_mode: str | None = None
        """The mode whose screen stack holds the tie-break modal, while it is open."""
        self._round_feedback_item: int | None = None
        """The request for round feedback whose modal is open, if one is."""
        for _key, mode, _name in MODES:
            self.add_mode(mode, self._screen_factory(mode))

    def _screen_factory(self, mode: str) -> Callable[[], Screen[Any]]:
        def build() -> Screen[Any]:
            return _screen_class(mode)(self.engine)

        return build

    def on_mount(self) -> None:
        self._subscription = self.engine.bus.subscribe(self._engine_event)
        theme = self.engine.settings.ui.theme
        if theme == self.theme:
            pass  # setting a theme restyles every widget: skip it when nothing changes
        elif theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(f"Unknown theme {theme!r} in config.toml; using the default.", severity="warning")

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    def on_ready(self) -> None:
        """Textual has painted the first frame and handled the work it left pending."""
        self.tie_breaks_waiting = self._count_tie_breaks()
        self._show_round_feedback()
        for decision in self.engine.decisions_under_way():
            self.run_committee(decision.id)
        self._resume_planning()
        if self.ready_callback is not None:
            self.ready_callback(self)

    # ------------------------------------------------------------ the committee

    def run_committee(self, decision_id: int) -> None:
        """Have the committee vote on a decision (or resume its vote) in a worker, once."""
        name = f"decision-{decision_id}"
        if any(worker.name == name and not worker.is_finished for worker in self.workers):
            return
        self.run_worker(
            self.engine.decide(decision_id),
            name=name,
            group=COMMITTEE_GROUP,
            description=f"The committee's vote on decision {decision_id}",
            exit_on_error=False,
        )

    def on_voting_screen_question_put(self, message: VotingScreen.QuestionPut) -> None:
        self.run_committee(message.decision_id)

    # ------------------------------------------------------------ the scheduler

    @property
    def scheduler_state(self) -> str:
        """idle (not started, or stopped), running or paused."""
        scheduler = self.scheduler
        if scheduler is None or not any(
            worker.group == SCHEDULER_GROUP and not worker.is_finished for worker in self.workers
        ):
            return "idle"
        return "paused" if scheduler.paused else "running"

    def run_scheduler(self) -> None:
        """Start carrying out the active projects' tasks, or resume after a pause."""
        from orkestra_tui.engine.scheduler import Scheduler

        if self.scheduler_state == "paused":
            assert self.scheduler is not None
            self.scheduler.resume()
        elif self.scheduler_state == "idle":
            self.scheduler = Scheduler(self.engine)
            self.run_worker(
                self.scheduler.run(until_done=False),
                name="scheduler",
                group=SCHEDULER_GROUP,
                description="Carrying out the tasks",
                exit_on_error=False,
            )
        self._scheduler_changed()

    def pause_scheduler(self) -> None:
        """Start no new task; the running ones finish."""
        if self.scheduler is not None:
            self.scheduler.pause()
        self._scheduler_changed()

    def _scheduler_changed(self) -> None:
        self.engine.bus.publish(EngineEvent("engine.scheduler", f"The scheduler is {self.scheduler_state}"))

    # ------------------------------------------------------------ planning

    def run_planning(self, project_id: int) -> None:
        """Run a plan's steps that need no one (proposals, vote, synthesis) in a worker, once.

        Hands-on, one step at a time: the human looks at each before going on.
        """
        if self.planning_running(project_id):
            return
        self.run_worker(
            self._advance_plan(project_id),
            name=f"plan-{project_id}",
            group=PLANNING_GROUP,
            description=f"Planning project {project_id}",
            exit_on_error=False,
        )

    async def _advance_plan(self, project_id: int) -> Any:
        from orkestra_tui.engine.models import Involvement
        from orkestra_tui.engine.planning import Planner

        planner = Planner(self.engine)
        hands_on = planner.session(project_id).brief.involvement is Involvement.HANDS_ON
        return await planner.advance(project_id, pause=hands_on)

    def planning_running(self, project_id: int) -> bool:
        name = f"plan-{project_id}"
        return any(worker.name == name and not worker.is_finished for worker in self.workers)

    def stop_planning(self, project_id: int) -> None:
        for worker in self.workers:
            if worker.name == f"plan-{project_id}":
                worker.cancel()

    def _resume_planning(self) -> None:
        """Go on with plans a worker was running when the app last closed.

        Hands-on plans that had stopped for the human's go-ahead stay stopped.
        """
        from orkestra_tui.engine.models import Involvement
        from orkestra_tui.engine.planning import Planner, PlanStep

        for session in Planner(self.engine).under_way():
            hands_on = session.brief.involvement is Involvement.HANDS_ON
            started = session.step is PlanStep.PROPOSALS or (
                session.step is PlanStep.VOTE and session.decision_id is not None
            )
            if session.step is not PlanStep.REVIEW and (started or not hands_on):
                self.run_planning(session.project_id)

    def _planning_stopped(self, worker: Worker[Any]) -> None:
        project_id = int(worker.name.removeprefix("plan-"))
        if worker.state is WorkerState.ERROR:
            self.notify(
                clean(f"Planning stopped: {worker.error}"), title="Plan", severity="error", markup=False
            )
        # The step's own events came while the worker still ran: tell the screens it has stopped.
        subject = f"project:{project_id}"
        self.engine.bus.publish(EngineEvent("plan.stopped", "Planning paused", subject, project_id))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == SCHEDULER_GROUP:
            if event.state is WorkerState.ERROR:
                self.notify(
                    clean(f"The scheduler stopped: {worker.error}"),
                    title="Board",
                    severity="error",
                    markup=False,
                )
            self._scheduler_changed()
            return
        if worker.group == PLANNING_GROUP:
            if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
                self._planning_stopped(worker)
            return
        if worker.group != COMMITTEE_GROUP:
            return
        if event.state is WorkerState.ERROR:
            self.notify(
                clean(f"The vote stopped: {worker.error}"), title="Committee", severity="error", markup=False
            )
        elif event.state is WorkerState.SUCCESS and isinstance(worker.result, Decision):
            self._announce(worker.result)

    def _announce(self, decision: Decision) -> None:
        outcome = decision.outcome or {}
        if decision.status is DecisionStatus.DECIDED:
            message = f"Decided: {outcome.get('winner')}\n{decision.question}"
            self.notify(clean(message), title="Committee", markup=False)
        elif decision.status is DecisionStatus.NO_DECISION:
            message = f"{outcome.get('reason', 'No decision')}\n{decision.question}"
            self.notify(clean(message), title="Committee", severity="warning", markup=False)

    # ------------------------------------------------------------ tie-breaks

    def _engine_event(self, event: EngineEvent) -> None:
        if event.is_kind("inbox"):
            self.post_message(self.InboxChanged(event))

    def _count_tie_breaks(self) -> int:
        return sum(item.kind is InboxKind.TIE_BREAK for item in self.engine.inbox.open_items())

    def on_orkestra_app_inbox_changed(self, message: InboxChanged) -> None:
        self.tie_breaks_waiting = self._count_tie_breaks()
        event = message.event
        if event.kind == "inbox.opened" and event.data.get("kind") == InboxKind.TIE_BREAK.value:
            self.action_tie_break()
        elif event.kind == "inbox.opened" and event.data.get("kind") == InboxKind.ROUND_FEEDBACK.value:
            self._show_round_feedback()

    def watch_tie_breaks_waiting(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "tie_break":
            return self.tie_breaks_waiting > 0
        return super().check_action(action, parameters)

    def action_tie_break(self) -> None:
        """Show the first tie-break waiting; if its modal is already open, go to it."""
        from orkestra_tui.engine.committee import open_tie_break
        from orkestra_tui.tui.screens.tie_break import TieBreakScreen

        if self._tie_break_mode is not None:
            if self._tie_break_mode != self.current_mode:
                self.switch_mode(self._tie_break_mode)
            return
        item = open_tie_break(self.engine.inbox.open_items())
        if item is None:
            return
        self._tie_break_mode = self.current_mode
        self.push_screen(TieBreakScreen(self.engine, item), self._tie_break_closed)

    def _tie_break_closed(self, choice: str | None) -> None:
        self._tie_break_mode = None
        self.tie_breaks_waiting = self._count_tie_breaks()
        if choice is not None and self.tie_breaks_waiting:
            self.action_tie_break()

    def _show_round_feedback(self) -> None:
        """Ask for the first feedback between rounds a vote waits on, wherever the user is; one at a time."""
        if self._round_feedback_item is not None:
            return
        waiting = [item for item in self.engine.inbox.open_items() if item.kind is InboxKind.ROUND_FEEDBACK]
        if not waiting:
            return
        from orkestra_tui.tui.screens.round_feedback import RoundFeedbackScreen

        item = waiting[0]
        self._round_feedback_item = item.id
        self.push_screen(RoundFeedbackScreen(self.engine, item), self._round_feedback_closed)

    def _round_feedback_closed(self, _feedback: str | None) -> None:
        self._round_feedback_item = None
        self._show_round_feedback()  # another vote may be asking too

    def action_help(self) -> None:
        from orkestra_tui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        everywhere: list[BindingType] = [
            *self.BINDINGS,
            Binding("ctrl+p", "command_palette", "Command palette"),
            Binding("tab,shift+tab", "focus_next", "Move focus"),
        ]
        sections: list[tuple[str, list[BindingType]]] = [("Everywhere", everywhere)]
        for _key, mode, name in MODES:
            # Only the keys a screen declares itself; Textual's own screen keys are listed above.
            sections.append((name, list(vars(_screen_class(mode)).get("BINDINGS", []))))
        self.push_screen(HelpScreen(sections))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for key, mode, name in MODES:
            yield SystemCommand(
                f"{name} screen", f"Go to the {name} screen (key {key})", self._switcher(mode)
            )
        yield SystemCommand("Help", "List every key (?)", self.action_help)
        if self.tie_breaks_waiting:
            yield SystemCommand(
                "Tie-break", "Break the tie the committee is waiting on (ctrl+t)", self.action_tie_break
            )
        yield from super().get_system_commands(screen)

    def _switcher(self, mode: str) -> Callable[[], None]:
        def switch() -> None:
            self.switch_mode(mode)

        return switch
