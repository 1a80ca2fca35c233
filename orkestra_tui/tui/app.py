"""OrkestraApp: five modes over one engine, with keys, help and the command palette.

The app also runs the committee: each vote (put from the Voting screen, or
under way when the app last closed) runs in a worker of the `committee` group
until it ends; closing the app cancels them, and the store keeps where they
were. What to resume, recovery and the scheduler's life are the engine's
`Supervisor`, shared with `orkestra run`; the app runs them in workers and shows
what they did. When a vote needs the human to break a tie, the app opens the tie-break
modal wherever the user is, and the top bar reminds until it is answered; a
task whose review was escalated to the human gets a badge too (`ctrl+r` opens it).
The app opens where the user left off (`opening_mode`).

Once the first screen is painted with its content, the app cleans up what an interrupted
run left (`Supervisor.recover`), checks the database in a thread, and takes a snapshot
every `snapshot_interval_minutes`. Restoring one is left to the shell
(`orkestra snapshot restore`): it replaces the database under the running engine.
A damaged database, found by that check or by any read, stops the app's work and
is shown on a screen of its own (`damage_guard.py`), never as a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from orkestra_tui.errors import DiskFullError, OrkestraError
from orkestra_tui.tui.engine_opening import EngineOpening, EngineOpeningApp
from orkestra_tui.tui.messages import DatabaseChanged
from orkestra_tui.tui.screens.base import EngineScreen, ScreenBody
from orkestra_tui.tui.text import clean
from orkestra_tui.tui.widgets.mode_bar import MODES

if TYPE_CHECKING:
    from textual.command import Provider

    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.events import EngineEvent, Subscription
    from orkestra_tui.engine.execution.scheduler import Scheduler
    from orkestra_tui.engine.models import Decision
    from orkestra_tui.engine.supervisor import Supervisor
    from orkestra_tui.tui.screens.voting import VotingScreen

COMMITTEE_GROUP = "committee"
PLANNING_GROUP = "planning"
SCHEDULER_GROUP = "scheduler"
UPKEEP_GROUP = "upkeep"
"""Snapshots and the integrity check: thread workers with connections of their own."""
STYLESHEETS = Path(__file__).parent / "screens"
"""Where each mode screen's stylesheet is: `<mode>.tcss`."""
WATCH_INTERVAL_S = 0.5
"""How often the app looks for what other processes committed (one pragma while nothing was)."""


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


def _screen_actions_provider() -> type[Provider]:
    """The palette's screen actions, imported when the palette first opens (not at start)."""
    from orkestra_tui.tui.palette import ScreenActions

    return ScreenActions


class OrkestraApp(EngineOpeningApp, App[None]):
    """The full-screen app. It owns no state of its own: the engine is the truth."""

    TITLE = "Orkestra"
    WRITING_GROUPS = (COMMITTEE_GROUP, PLANNING_GROUP, SCHEDULER_GROUP)
    # Each screen's stylesheet sits beside it, every rule nested under the screen's class.
    # The app reads the first screen's with its own, and each other one just before its screen
    # is built (`_screen_factory`): one parse of each file, and none of them on the way to the
    # first frame but the one it shows. A screen's own CSS_PATH would instead make Textual
    # re-parse every stylesheet when the screen is first shown.
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {_screen_actions_provider}
    BINDINGS = [
        *(Binding(key, f"switch_mode('{mode}')", name, show=False) for key, mode, name in MODES),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+t", "tie_break", "Tie-break"),
        Binding("ctrl+t", "nothing_waiting('tie-break')", "Tie-break", show=False),
        Binding("ctrl+r", "review", "Review"),
        Binding("ctrl+r", "nothing_waiting('review')", "Review", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    tie_breaks_waiting: reactive[int] = reactive(0)
    """Tie-breaks the committee is waiting for the human to answer (the top bar shows them)."""
    reviews_waiting: reactive[int] = reactive(0)
    """Tasks the reviewers escalated to the human (the top bar shows them; ctrl+r goes to the first)."""

    class InboxChanged(Message):
        """A question to the human was asked, answered or withdrawn."""

        def __init__(self, event: EngineEvent) -> None:
            super().__init__()
            self.event = event

    supervisor: Supervisor
    """Recovery, what to resume and the scheduler's life, as `orkestra run` has them too."""

    def __init__(
        self,
        engine: Engine | EngineOpening,
        *,
        first_mode: str | None = None,
        on_ready: Callable[[OrkestraApp], None] | None = None,
    ) -> None:
        """Over `engine`, or over one built once the first screen is drawn (`EngineOpening`)."""
        # Start straight in the first mode: no default screen is built and thrown away.
        opening = first_mode or ("plan" if isinstance(engine, EngineOpening) else opening_mode(engine))
        self.DEFAULT_MODE = opening  # type: ignore[misc]
        super().__init__()
        self.hold_engine(engine)
        self.ready_callback = on_ready
        self._subscription: Subscription | None = None
        if not isinstance(engine, EngineOpening):
            from orkestra_tui.engine.supervisor import Supervisor

            self.supervisor = Supervisor(engine)
        self._tie_break_mode: str | None = None
        """The mode whose screen stack holds the tie-break modal, while it is open."""
        self._round_feedback_item: int | None = None
        """The request for round feedback whose modal is open, if one is."""
        self.database_checked = False
        """Whether the check of the database begun after the first frame has ended (and been reported)."""
        self._first_frame_painted = False
        self._body_painted = False
        self._started = False
        """Whether the work after the first screen (`_start_after_first_screen`) has begun."""
        for _key, mode, _name in MODES:
            self.add_mode(mode, self._screen_factory(mode))
        self.add_stylesheet(opening, read_now=False)  # Textual reads `css_path` as it starts

    def add_stylesheet(self, name: str, *, read_now: bool = True) -> None:
        """Add a stylesheet beside the screens, `<name>.tcss`, once; read now unless `read_now` is False.

        Each mode screen has one named after its mode, and a screen may keep the rules of
        widgets it builds later in another (the Plan screen's `plan_panes`). Their rules are
        all nested under a screen's class and style only what is built after they are read,
        so the widgets already styled are not affected and need no restyle.
        """
        path = STYLESHEETS / f"{name}.tcss"
        if path in self.css_path:
            return
        self.css_path.append(path)
        if self.css_monitor is not None:  # `textual run --dev` reloads it when it changes
            self.css_monitor.add_paths([path])
        if read_now:
            self.stylesheet.read(path)
            # Parsed at once: Textual matches the first node it styles after a read against
            # its index of the rules from before it (the new ones are indexed a node later).
            self.stylesheet.parse()

    def screen_class(self, mode: str) -> type[EngineScreen]:
        """The screen class of a mode (the command palette lists each screen's keys)."""
        return _screen_class(mode)

    def _screen_factory(self, mode: str) -> Callable[[], Screen[Any]]:
        def build() -> Screen[Any]:
            self.add_stylesheet(mode)
            # Only the first screen is built before the engine (then given it in `engine_opened`).
            screen = _screen_class(mode)(self.opened_engine)
            # A new screen is styled as it mounts, with the CSS as it is now. Marked up to date,
            # it spares Textual's full re-parse of every stylesheet (no cache) on each mode's
            # first showing, which it does for a screen that may have missed a change of CSS.
            screen._css_update_count = self._css_update_count
            return screen

        return build

    def on_mount(self) -> None:
        if self.engine_open:
            self._subscribe(self.engine)
        theme = self.settings.ui.theme
        if theme == self.theme:
            pass  # setting a theme restyles every widget: skip it when nothing changes
        elif theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(f"Unknown theme {theme!r} in config.toml; using the default.", severity="warning")

    def _subscribe(self, engine: Engine) -> None:
        self._subscription = engine.bus.subscribe(self._engine_event)
        engine.external_changes()  # from now on, what other processes commit is news

    def engine_opened(self, engine: Engine) -> None:
        """The engine built after the first screen: the app and its screens take it, then start up."""
        from orkestra_tui.engine.supervisor import Supervisor

        self.supervisor = Supervisor(engine)
        self._subscribe(engine)
        for screen in self.screen_stack:
            if isinstance(screen, EngineScreen):
                screen.engine_opened(engine)
        self._start_after_first_screen()

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    def on_ready(self) -> None:
        """Textual has painted the first frame (the bars): the rest waits for the screen's content."""
        self._first_frame_painted = True
        self._start_after_first_screen()

    def on_screen_body_mounted(self, _message: ScreenBody.Mounted) -> None:
        """The first screen's content is mounted: once it is painted, the rest of the start-up runs."""
        if not self._body_painted:
            self.call_after_refresh(self._first_body_painted)

    def _first_body_painted(self) -> None:
        self._body_painted = True
        self._start_after_first_screen()

    def _start_after_first_screen(self) -> None:
        """Recovery, resuming votes and plans, upkeep: after the first screen is on show with its content.

        None of it changes what the first screen shows, and done before, it would keep
        the user waiting for the content of the screen (a Plan screen's brief) that much longer.
        """
        if not (self._first_frame_painted and self._body_painted) or self._started:
            return
        if not self.engine_open:
            self.open_engine()  # then this again, from `engine_opened`
            return
        self._started = True
        self._recover()
        self.tie_breaks_waiting = self._count_tie_breaks()
        self.reviews_waiting = len(self._reviews())
        self._show_round_feedback()
        for decision_id in self.supervisor.votes_to_resume():
            self.run_committee(decision_id)
        for project_id in self.supervisor.plans_to_resume():
            self.run_planning(project_id)
        self._start_upkeep()
        if self.ready_callback is not None:
            self.ready_callback(self)

    # ------------------------------------------------------------ recovery and snapshots

    def _recover(self) -> None:
        """Clean up what an interrupted run left (stale leases, attempts) before resuming; say so once."""
        import sqlite3

        from orkestra_tui.engine.store.store import damage_in

        try:
            report = self.supervisor.recover()
        except sqlite3.DatabaseError as error:
            damage = damage_in(self.engine.paths.database, error)
            if damage is not None:
                self.show_damage(str(damage))
            else:
                self.notify(clean(f"Recovery could not run: {error}"), severity="error", markup=False)
            return
        except OrkestraError as error:  # a full disk: the app goes on, and recovery runs at the next start
            line = _stopped_line("Recovery waits", error, "reopen the app")
            self.notify(clean(line), title="Database", severity="error", timeout=60, markup=False)
            return
        if report.recovered:
            self.notify(clean(report.summary()), title="Recovered", timeout=10, markup=False)
        self.run_worker(
            self._tidy_worktrees(), name="tidy-worktrees", group=UPKEEP_GROUP, exit_on_error=False
        )

    async def _tidy_worktrees(self) -> None:
        """Remove the leftover worktrees of linked projects; say what was kept, and why."""
        try:
            lines = await self.supervisor.tidy_worktrees()
        except OrkestraError as error:
            self.notify(
                clean(f"Leftover worktrees were not tidied: {error}"), severity="warning", markup=False
            )
            return
        if lines:
            self.notify(clean("\n".join(lines[:5])), title="Worktrees", timeout=10, markup=False)

    def _start_upkeep(self) -> None:
        """Check the database in the background, and take a snapshot every few minutes."""
        from orkestra_tui.engine.store.snapshots import integrity_problem

        database = self.engine.paths.database
        self.run_worker(
            lambda: integrity_problem(database),
            name="integrity",
            group=UPKEEP_GROUP,
            description="Checking the database",
            exit_on_error=False,
            thread=True,
        )
        minutes = self.engine.settings.engine.snapshot_interval_minutes
        if minutes > 0:
            self.set_interval(minutes * 60, self.take_snapshot, name="snapshots")
        self.set_interval(WATCH_INTERVAL_S, self._look_for_changes, name="database-watch")

    # ------------------------------------------------------------ other processes

    def _look_for_changes(self) -> None:
        """Post what another process (`orkestra run`, a vote, a plan) committed since the last look."""
        import sqlite3

        try:
            changes = self.engine.external_changes()
        except sqlite3.Error:
            return  # the database is busy or being replaced: the next look tells
        if changes is not None:
            self.post_message(DatabaseChanged(changes))

    def on_database_changed(self, message: DatabaseChanged) -> None:
        """Tell every screen, as the engine tells its own changes: each re-reads what it shows."""
        self.supervisor.publish_changes(message.changes)

    def take_snapshot(self, *, actor: str = "engine", reason: str = "automatic") -> None:
        """Take a snapshot in a thread (at most one at a time), then keep only the newest few."""
        from orkestra_tui.engine.store import snapshots

        if any(worker.name == "snapshot" and not worker.is_finished for worker in self.workers):
            return
        paths, clock, keep = self.engine.paths, self.engine.clock, self.engine.settings.engine.snapshot_keep

        def take() -> tuple[str, snapshots.Snapshot]:
            snapshot = snapshots.create(paths, reason, clock=clock, actor=actor)
            snapshots.prune(paths, keep)
            return actor, snapshot

        self.run_worker(
            take,
            name="snapshot",
            group=UPKEEP_GROUP,
            description="Taking a snapshot of the database",
            exit_on_error=False,
            thread=True,
        )

    def _upkeep_done(self, worker: Worker[Any]) -> None:
        problem = str(worker.error) if worker.state is WorkerState.ERROR else ""
        if isinstance(worker.error, DiskFullError):
            problem = _stopped_line("No snapshot was taken", worker.error, "take one again")
        if worker.name == "integrity" and worker.state is WorkerState.SUCCESS:
            problem = str(worker.result or "")
        if worker.name == "integrity":
            self.database_checked = True
            if problem:
                self.show_damage(problem)
                return
        if problem:
            self.notify(clean(problem), title="Database", severity="error", timeout=60, markup=False)
        elif worker.name == "snapshot" and worker.state is WorkerState.SUCCESS and worker.result:
            actor, snapshot = worker.result
            self.supervisor.snapshot_taken()  # written by the worker's own connection
            if actor == "human":
                self.notify(f"Snapshot {snapshot.id} taken", title="Snapshot", markup=False)

    def action_snapshot(self) -> None:
        self.take_snapshot(actor="human", reason="taken from the app")

    def action_restore_help(self) -> None:
        """A restore replaces the database under the running engine: say how to do it from a shell."""
        from orkestra_tui.engine.store.snapshots import list_snapshots, restore_command

        newest = list_snapshots(self.engine.paths)
        command = restore_command(self.engine.paths.database, newest[0].id if newest else "ID")
        self.notify(
            clean(
                "A restore replaces the database this app is using, so it is done with the app closed: "
                f"quit (ctrl+q), then run orkestra snapshot list, and {command}"
            ),
            title="Restore a snapshot",
            timeout=30,
            markup=False,
        )

    # ------------------------------------------------------------ the committee

    def run_committee(self, decision_id: int) -> None:
        """Have the committee vote on a decision (or resume its vote) in a worker, once."""
        name = f"decision-{decision_id}"
        if any(worker.name == name and not worker.is_finished for worker in self.workers):
            return
        self.run_worker(
            self._vote(decision_id),
            name=name,
            group=COMMITTEE_GROUP,
            description=f"The committee's vote on decision {decision_id}",
            exit_on_error=False,
        )

    async def _vote(self, decision_id: int) -> None:
        import contextlib

        from orkestra_tui.engine.errors import VoteRunElsewhere

        with contextlib.suppress(VoteRunElsewhere):  # another app or command took it up meanwhile
            await self.engine.decide(decision_id)

    def on_voting_screen_question_put(self, message: VotingScreen.QuestionPut) -> None:
        self.run_committee(message.decision_id)

    # ------------------------------------------------------------ the scheduler

    @property
    def scheduler(self) -> Scheduler | None:
        """The scheduler carrying out tasks in this app, once started (key r on the Board)."""
        return self.supervisor.scheduler

    @property
    def scheduler_state(self) -> str:
        """idle (not started, or stopped), running or paused."""
        from orkestra_tui.engine.supervisor import IDLE

        if not any(worker.group == SCHEDULER_GROUP and not worker.is_finished for worker in self.workers):
            return IDLE  # its worker was cancelled, perhaps before its run began
        return self.supervisor.scheduler_state

    def run_scheduler(self) -> None:
        """Start carrying out the active projects' tasks, or resume after a pause."""
        run = self.supervisor.start_scheduler()
        if run is not None:
            self.run_worker(
                run,
                name="scheduler",
                group=SCHEDULER_GROUP,
                description="Carrying out the tasks",
                exit_on_error=False,
            )

    def pause_scheduler(self) -> None:
        """Start no new task; the running ones finish."""
        self.supervisor.pause_scheduler()

    # ------------------------------------------------------------ planning

    def run_planning(self, project_id: int) -> None:
        """Run a plan's steps that need no one (proposals, vote, synthesis) in a worker, once.

        Hands-on, one step at a time: the human looks at each before going on.
        """
        if self.planning_running(project_id):
            return
        self.run_worker(
            self.supervisor.advance_plan(project_id),
            name=f"plan-{project_id}",
            group=PLANNING_GROUP,
            description=f"Planning project {project_id}",
            exit_on_error=False,
        )

    def planning_running(self, project_id: int) -> bool:
        name = f"plan-{project_id}"
        return any(worker.name == name and not worker.is_finished for worker in self.workers)

    def stop_planning(self, project_id: int) -> None:
        for worker in self.workers:
            if worker.name == f"plan-{project_id}":
                worker.cancel()

    def _planning_stopped(self, worker: Worker[Any]) -> None:
        project_id = int(worker.name.removeprefix("plan-"))
        if worker.state is WorkerState.ERROR:
            line = _stopped_line("Planning stopped", worker.error, "go on from the Plan screen")
            self.notify(clean(line), title="Plan", severity="error", markup=False)
        # The step's own events came while the worker still ran: tell the screens it has stopped.
        self.supervisor.plan_stopped(project_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        damage = None
        if worker.error is not None and self.engine_open:
            from orkestra_tui.engine.store.store import damage_in

            damage = damage_in(self.engine.paths.database, worker.error)
        if damage is not None and event.state is WorkerState.ERROR:
            self.show_damage(str(damage))
            return
        if worker.group == UPKEEP_GROUP:
            if worker.is_finished:
                self._upkeep_done(worker)
            return
        if worker.group == SCHEDULER_GROUP:
            if event.state is WorkerState.ERROR:
                self.notify(
                    clean(_stopped_line("The scheduler stopped", worker.error, "press r on the Board")),
                    title="Board",
                    severity="error",
                    markup=False,
                )
            self.supervisor.scheduler_changed()
            return
        if worker.group == PLANNING_GROUP:
            if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
                self._planning_stopped(worker)
            return
        if worker.group != COMMITTEE_GROUP:
            return
        from orkestra_tui.engine.models import Decision

        if event.state is WorkerState.ERROR:
            line = _stopped_line("The vote stopped", worker.error, "reopen the app to resume it")
            self.notify(clean(line), title="Committee", severity="error", markup=False)
        elif event.state is WorkerState.SUCCESS and isinstance(worker.result, Decision):
            self._announce(worker.result)

    def _announce(self, decision: Decision) -> None:
        from orkestra_tui.engine.models import DecisionStatus

        outcome = decision.outcome or {}
        if decision.status is DecisionStatus.DECIDED:
            message = f"Decided: {outcome.get('winner')}\n{decision.question}"
            self.notify(clean(message), title="Committee", markup=False)
        elif decision.status is DecisionStatus.NO_DECISION:
            message = f"{outcome.get('reason', 'No decision')}\n{decision.question}"
            self.notify(clean(message), title="Committee", severity="warning", markup=False)

    # ------------------------------------------------------------ tie-breaks

    def _engine_event(self, event: EngineEvent) -> None:
        from orkestra_tui.engine.store.watch import EVERYTHING

        if event.is_kind("inbox", EVERYTHING):
            self.post_message(self.InboxChanged(event))

    def _count_tie_breaks(self) -> int:
        from orkestra_tui.engine.models import InboxKind

        return sum(item.kind is InboxKind.TIE_BREAK for item in self.engine.inbox.open_items())

    def _reviews(self) -> list[int]:
        """The tasks whose review was escalated to the human, oldest question first."""
        from orkestra_tui.engine.models import InboxKind

        return [
            int(item.payload["task_id"])
            for item in self.engine.inbox.open_items()
            if item.kind is InboxKind.TASK_REVIEW and "task_id" in item.payload
        ]

    def on_orkestra_app_inbox_changed(self, message: InboxChanged) -> None:
        from orkestra_tui.engine.models import InboxKind

        self.tie_breaks_waiting = self._count_tie_breaks()
        self.reviews_waiting = len(self._reviews())
        event = message.event
        if event.external:
            return  # another process asked: the badge says so; whoever runs that vote waits for the answer
        if event.kind == "inbox.opened" and event.data.get("kind") == InboxKind.TIE_BREAK.value:
            self.action_tie_break()
        elif event.kind == "inbox.opened" and event.data.get("kind") == InboxKind.ROUND_FEEDBACK.value:
            self._show_round_feedback()

    def watch_tie_breaks_waiting(self) -> None:
        self.refresh_bindings()

    def watch_reviews_waiting(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.damage is not None:  # the damage screen stays in front until the app quits
            return action == "quit"
        if action == "tie_break":
            return self.tie_breaks_waiting > 0
        if action == "review":
            return self.reviews_waiting > 0
        return super().check_action(action, parameters)

    def action_tie_break(self) -> None:
        """Show the first tie-break waiting; if its modal is already open, go to it."""
        from orkestra_tui.engine.voting.committee import open_tie_break
        from orkestra_tui.tui.screens.tie_break import TieBreakScreen

        if self._tie_break_mode is not None:
            if self._tie_break_mode != self.current_mode:
                self.switch_mode(self._tie_break_mode)
            return
        item = open_tie_break(self.engine.inbox.open_items())
        if item is None:
            return
        self._tie_break_mode = self.current_mode
        found = item.payload.get("decision_id")
        decision_id = found if isinstance(found, int) else None
        self.push_screen(
            TieBreakScreen(self.engine, item), lambda choice: self._tie_break_closed(choice, decision_id)
        )

    def action_nothing_waiting(self, what: str) -> None:
        """ctrl+t or ctrl+r with nothing of the kind waiting: say so rather than do nothing."""
        self.notify(f"No {what} is waiting for you.", title="Nothing waiting")

    def action_review(self) -> None:
        """Go to the first task whose review waits for the human: the Board, its detail open."""
        from orkestra_tui.tui.screens.board import BoardScreen

        waiting = self._reviews()
        if not waiting:
            self.action_nothing_waiting("review")
            return
        self.switch_mode("board")
        board = next((screen for screen in self.screen_stack if isinstance(screen, BoardScreen)), None)
        if board is not None:
            board.show_task(waiting[0])

    def _tie_break_closed(self, choice: str | None, decision_id: int | None) -> None:
        self._tie_break_mode = None
        self.tie_breaks_waiting = self._count_tie_breaks()
        if choice is not None and decision_id in self.supervisor.votes_to_resume():
            # A vote that another process left for the human (`orkestra vote` with no terminal,
            # `orkestra mcp`, an app since closed) ends here; one that another process runs is its own.
            self.run_committee(decision_id)
        if choice is not None and self.tie_breaks_waiting:
            self.action_tie_break()

    def _show_round_feedback(self) -> None:
        """Ask for the first feedback between rounds a vote waits on, wherever the user is; one at a time."""
        from orkestra_tui.engine.models import InboxKind

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
        yield SystemCommand("Help", "List every key (key ?)", self.action_help)
        yield SystemCommand("Snapshot now", "Take a snapshot of the database", self.action_snapshot)
        yield SystemCommand("Quit", "Quit Orkestra (key ctrl+q)", self.action_quit)
        yield SystemCommand(
            "Restore a snapshot…", "How to go back to a snapshot (from a shell)", self.action_restore_help
        )
        if self.tie_breaks_waiting:
            yield SystemCommand(
                "Tie-break", "Break the tie the committee is waiting on (key ctrl+t)", self.action_tie_break
            )
        # Textual's own, but for its Quit: the one above names the key.
        yield from (command for command in super().get_system_commands(screen) if command.title != "Quit")

    def _switcher(self, mode: str) -> Callable[[], None]:
        def switch() -> None:
            self.switch_mode(mode)

        return switch


def opening_mode(engine: Engine) -> str:
    """Where the app opens: where the user left off.

    The Plan screen while a plan is under way (it shows that plan at its step);
    otherwise the Board once there are projects;
    the Plan screen's empty brief for a first run.
    """
    if engine.plans_under_way() or not engine.projects():
        return "plan"
    return "board"


def _stopped_line(what: str, error: BaseException | None, then: str) -> str:
    """`what: error`; for a full disk, what to do in the app (not the command line's advice)."""
    if isinstance(error, DiskFullError):
        return f"{what}: {error.situation}; free some space, then {then} — nothing recorded was lost"
    return f"{what}: {error}"
