"""The Plan screen: the planning wizard, from a brief to an approved task graph.

Projects are listed on the left; the wizard on the right shows the selected
project's plan at the step it has reached: brief, proposals, vote, synthesis,
review, generated. The app runs the steps that need no one (in a worker that
outlives this screen); this screen starts them, shows them live and takes the
human's part: the brief, the go-ahead at hands-on level, the review's edits,
rejection with feedback, approval and cancelling.

Widgets are reached through `textual.widgets`, which imports each widget's
module on first use: when this is the first screen, they load after the
first frame, with the body.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import widgets
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll

from orkestra_tui.engine.errors import EngineError
from orkestra_tui.tui.messages import EngineUpdated
from orkestra_tui.tui.screens.base import EngineScreen, ScreenBody
from orkestra_tui.tui.text import clean, plain
from orkestra_tui.wording import plural

if TYPE_CHECKING:
    from textual.widget import Widget
    from textual.widgets.option_list import Option

    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.planning.planning import Planner, PlanSession
    from orkestra_tui.tui.app import OrkestraApp
    from orkestra_tui.tui.widgets.plan_brief import BriefForm

STEPS = (
    ("brief", "Brief"),
    ("proposals", "Proposals"),
    ("vote", "Vote"),
    ("synthesis", "Synthesis"),
    ("review", "Review"),
    ("done", "Generate"),
)
NEW_PLAN = "new-plan"
"""The project list's first entry: a new brief."""


def pane_for(session: PlanSession | None, running: bool) -> str:
    """The wizard pane that shows a plan at its step: the last one done, while it waits for a go-ahead."""
    from orkestra_tui.engine.planning.planning import PlanStep

    if session is None or session.step.finished:
        return "done"
    if session.step is PlanStep.VOTE and session.decision_id is None and not running:
        return "proposals"
    return {
        PlanStep.PROPOSALS: "proposals",
        PlanStep.VOTE: "vote",
        PlanStep.SYNTHESIS: "synthesis",
        PlanStep.REVIEW: "review",
    }[session.step]


def _takes_text(widget: Widget | None) -> bool:
    """Whether `widget` is a text field: an Input, or a TextArea (its module is not loaded before one is)."""
    if isinstance(widget, widgets.Input):
        return True
    text_area = sys.modules.get("textual.widgets._text_area")
    return text_area is not None and isinstance(widget, text_area.TextArea)


class PlanScreen(EngineScreen):
    """Projects on the left; the selected project's plan, step by step, on the right."""

    BINDINGS = [
        Binding("ctrl+n", "new_plan", "New plan"),
        Binding("ctrl+s", "start_plan", "Start planning"),
        Binding("enter", "continue", "Continue"),
        Binding("enter", "approve", "Approve"),
        Binding("e", "edit_task", "Edit"),
        Binding("a", "add_task", "Add"),
        Binding("d,delete", "delete_task", "Delete"),
        Binding("o", "keep_original", "Keep original"),
        Binding("r", "reject", "Reject"),
        Binding("x", "cancel_plan", "Cancel plan"),
        Binding("escape", "leave_field", "Leave field"),
    ]

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    MODE = "plan"
    TITLE = "Plan"
    WATCHES = ("project", "task", "plan", "decision", "ballot", "round")

    def __init__(self, engine: Engine | None) -> None:
        super().__init__(engine)
        self.project_id: int | None = None
        """The project whose plan is on show; None for a new brief."""
        self.session: PlanSession | None = None
        self.pane = "brief"
        self._drafting: dict[int, set[str]] = {}
        self._editing = False
        self._listing = False
        self._projects_stale = True
        self._planner: Planner | None = None
        self._panes_built: set[str] = set()
        """The wizard's panes after the brief that are built and mounted."""
        self._panes_building: set[str] = set()
        self._first_focus_pending = False
        """Whether the pane shown first is still to be built, and focused then."""

    @property
    def planner(self) -> Planner:
        if self._planner is None:
            from orkestra_tui.engine.planning.planning import Planner

            self._planner = Planner(self.engine)
        return self._planner

    @property
    def orkestra(self) -> OrkestraApp:
        return cast("OrkestraApp", self.app)

    # ------------------------------------------------------------ layout

    def compose_beside_body(self) -> ComposeResult:
        # The screen itself lays the projects' column and the wizard side by side between the
        # bars (plan.tcss), and the wizard is the body: no row of their own, one level of
        # full-size containers fewer to style, lay out and paint on the first frame.
        # The projects' column only once there are projects: a first run shows the brief alone
        # (drawn before the engine is built, when the home has no project). Built with the bars,
        # it is there when the wizard arrives, which looks for its list (`body_mounted`).
        if self.engine_open and self.engine.projects():
            yield self._projects_column()

    def build_body(self) -> ScreenBody:
        return ScreenBody(self.compose_body, id="wizard")

    def compose_body(self) -> ComposeResult:
        from orkestra_tui.tui.widgets.plan_brief import BriefForm
        from orkestra_tui.tui.widgets.step_bar import StepBar

        yield StepBar(STEPS, id="step-bar")
        # One pane per step under the step bar, the current one shown (`_switch_to`). Only the
        # brief is built with the screen; the other steps (and their heavier widgets and imports)
        # are built the first time a plan reaches them.
        method = self.orkestra.settings.engine.default_method
        agents = self.engine.agents() if self.engine_open else None
        yield BriefForm(agents, method, id="brief")

    @staticmethod
    def _projects_column(options: Sequence[Option] = ()) -> Vertical:
        return Vertical(
            widgets.Label("Projects", classes="section-title"),
            widgets.OptionList(*options, id="project-list"),
            id="projects",
        )

    def _project_options(self, projects: list[Any]) -> list[Option]:
        """`+ New plan`, then each project with its status and progress, the newest first."""
        from textual.widgets.option_list import Option

        prompts = [Option(Text("+ New plan", style="bold green"), id=NEW_PLAN)]
        for project in reversed(projects):
            progress = self.engine.project_progress(project.id)
            prompt = plain(project.name, style="bold")
            prompt.append(f"\n  {project.status.value} · {progress.summary()}", style="dim")
            prompts.append(Option(prompt, id=f"project-{project.id}"))
        return prompts

    def _project_list(self) -> widgets.OptionList | None:
        """The list of projects, if its column is built."""
        return next(iter(self.query("#project-list").results(widgets.OptionList)), None)

    def _build_pane(self, pane: str) -> Widget:
        """The wizard's pane for a step after the brief, with its widgets."""
        if pane == "proposals":
            from orkestra_tui.tui.widgets.plan_proposals import ProposalCards

            return VerticalScroll(
                widgets.Static(id="proposals-intro"),
                ProposalCards(id="proposal-cards"),
                widgets.Static(id="proposals-footer", classes="wizard-footer"),
                id="proposals",
            )
        if pane == "vote":
            from orkestra_tui.tui.widgets.decision_detail import DecisionDetail

            return Vertical(widgets.Static(id="vote-intro"), DecisionDetail(id="plan-decision"), id="vote")
        if pane == "synthesis":
            return VerticalScroll(widgets.Static(id="synthesis-text"), id="synthesis")
        if pane == "review":
            from orkestra_tui.tui.widgets.plan_review import PlanTree, TaskEditor

            editor = TaskEditor(id="task-editor")
            editor.display = False
            task_side = Vertical(
                VerticalScroll(widgets.Static(id="task-detail"), id="task-detail-scroll"),
                editor,
                id="task-side",
            )
            return Vertical(
                widgets.Static(id="review-changes"),
                widgets.Static(id="review-problems"),
                Horizontal(PlanTree(id="plan-tree"), task_side, id="review-body"),
                id="review",
            )
        return VerticalScroll(widgets.Static(id="done-text"), id="done")

    def _pane_ready(self, pane: str) -> bool:
        """Whether the pane is built and mounted; if not, build it, and show the plan again once it is."""
        if pane == "brief" or pane in self._panes_built:
            return True
        if pane not in self._panes_building:
            self._panes_building.add(pane)
            wizard = self.query_one("#wizard")
            self.orkestra.add_stylesheet("plan_panes")  # the panes' rules: not parsed for the brief
            built = self._build_pane(pane)
            built.display = False  # until `_switch_to` shows it
            mounted = wizard.mount(built)

            async def show_when_mounted() -> None:
                await mounted
                self._panes_building.discard(pane)
                if not wizard.query_children(f"#{pane}"):
                    return  # the app closed meanwhile: the pane never joined the screen
                self._panes_built.add(pane)
                self._reload_or_report()

            self.call_next(show_when_mounted)
        return False

    @property
    def brief_form(self) -> BriefForm:
        from orkestra_tui.tui.widgets.plan_brief import BriefForm

        return self.query_one(BriefForm)

    def engine_arrived(self) -> None:
        if self.body_ready:
            self.brief_form.set_agents(self.engine.agents())

    def body_mounted(self) -> None:
        project_list = self._project_list()
        if project_list is not None:
            self.watch(project_list, "highlighted", self._project_highlighted)
        if self.project_id is None:
            # The form, not its first field: screen keys (1-5, ?) work on arrival; Enter or Tab
            # starts typing.
            self.brief_form.focus()
        elif self.pane == "brief":
            self._first_focus_pending = True  # the plan's pane is being built: it takes the focus

    # ------------------------------------------------------------ reading

    def on_engine_updated(self, message: EngineUpdated) -> None:
        """Keep track of who is drafting; `EngineScreen` schedules the refresh."""
        from orkestra_tui.engine.store.watch import EVERYTHING

        event = message.event
        if event.is_kind("project", "task", EVERYTHING) or event.kind in ("plan.approved", "plan.cancelled"):
            self._projects_stale = True
        if event.project_id is None:
            return
        drafting = self._drafting.setdefault(event.project_id, set())
        if event.kind == "plan.drafting":
            drafting.add(str(event.data.get("agent")))
        elif event.kind == "plan.drafted":
            drafting.discard(str(event.data.get("agent")))

    def reload(self) -> None:
        if not self._projects_stale and self.project_id is not None:
            self._show_plan()  # a vote's ballots and rounds change the plan, not the list of projects
            return
        self._projects_stale = False
        projects = self.engine.projects()
        if self.project_id is None and projects and not self._listing and self.pane == "brief":
            # First arrival with projects: show the one most recently planned, not an empty brief.
            under_way = [session.project_id for session in self.planner.under_way()]
            self.project_id = under_way[-1] if under_way else projects[-1].id
        self._list_projects(projects)
        self._show_plan()

    def _list_projects(self, projects: list[Any], *, listed: bool = False) -> None:
        """List `projects` in their column (`listed`: built with them) and highlight the one on show."""
        from textual.widgets.option_list import OptionDoesNotExist

        options = self._project_list()
        if options is None:
            if projects:  # the first project: build the column, then list it
                self.call_next(self._add_projects_column)
            return
        self._listing = True
        try:
            if not listed:
                options.set_options(self._project_options(projects))
            wanted = NEW_PLAN if self.project_id is None else f"project-{self.project_id}"
            try:
                options.highlighted = options.get_option_index(wanted)
            except OptionDoesNotExist:
                options.highlighted = 0
        finally:
            self._listing = False
        self.query_one("#projects").display = bool(projects)

    async def _add_projects_column(self) -> None:
        if self._project_list() is not None:
            return
        # Built with its projects listed: a frame painted while it is being mounted shows them.
        projects = self.engine.projects()
        await self.mount(self._projects_column(self._project_options(projects)), before="#wizard")
        project_list = self.query_one("#project-list", widgets.OptionList)
        self.watch(project_list, "highlighted", self._project_highlighted)
        self._list_projects(projects, listed=True)

    def _project_highlighted(self, highlighted: int | None) -> None:
        if self._listing or highlighted is None:
            return
        option = self.query_one("#project-list", widgets.OptionList).get_option_at_index(highlighted)
        chosen = None if option.id == NEW_PLAN else int(str(option.id).removeprefix("project-"))
        if chosen != self.project_id:
            self.project_id = chosen
            self._editing = False
            self._show_plan()

    def _read_session(self) -> PlanSession | None:
        if self.project_id is None:
            return None
        try:
            return self.planner.session(self.project_id)
        except EngineError:
            return None  # a project made before the wizard, or elsewhere: shown as it is

    def _switch_to(self, pane: str) -> None:
        """Show the wizard's pane for `pane`, and no other (the step bar above them stays)."""
        for child in self.query_one("#wizard").children:
            if child.id != "step-bar":
                child.display = child.id == pane

    def _show_plan(self) -> None:
        running = self.project_id is not None and self.orkestra.planning_running(self.project_id)
        from orkestra_tui.tui.widgets.step_bar import StepBar

        self.session = self._read_session()
        before = self.pane
        pane = "brief" if self.project_id is None else pane_for(self.session, running)
        if not self._pane_ready(pane):
            return  # shown again once the pane is mounted
        self.pane = pane
        self.query_one(StepBar).pane = self.pane
        self._switch_to(self.pane)
        show: dict[str, Callable[[bool], None]] = {
            "proposals": self._show_proposals,
            "vote": self._show_vote,
            "synthesis": self._show_synthesis,
            "review": self._show_review,
            "done": self._show_done,
        }
        if self.pane in show:
            show[self.pane](running)
        if self.pane != before:
            self._focus_pane()
        self.refresh_bindings()

    def _focus_pane(self) -> None:
        """Focus the pane's main widget, unless the user is going through the projects."""
        first_focus, self._first_focus_pending = self._first_focus_pending, False
        if self.focused is not None and self.focused is self._project_list() and not first_focus:
            return
        if self.pane == "brief":
            self.brief_form.focus()
        else:
            self.query_one(
                {"review": "#plan-tree", "vote": "#plan-decision"}.get(self.pane, f"#{self.pane}")
            ).focus()

    # ------------------------------------------------------------ the steps

    def _show_proposals(self, running: bool) -> None:
        from orkestra_tui.engine.planning.planning import PlanStep
        from orkestra_tui.tui.widgets.plan_proposals import ProposalCards, proposal_cards

        session = self.session
        assert session is not None and self.project_id is not None
        costs = self.engine.project_costs(self.project_id, ["plan"])
        cards = proposal_cards(session, self._drafting.get(self.project_id, set()), running, costs)
        self.query_one(ProposalCards).set_cards(cards)
        brief = session.brief
        intro = plain(brief.name, style="bold")
        intro.append(
            f" · {plural(len(brief.agents), 'agent')} draft{'s' if len(brief.agents) == 1 else ''}"
            " a plan each, at once"
            f" · involvement {int(brief.involvement)}",
            style="dim",
        )
        if session.feedback:
            intro.append("\nYour feedback for this attempt: ", style="bold")
            intro.append_text(plain(session.feedback[-1], style="italic"))
        self.query_one("#proposals-intro", widgets.Static).update(intro)
        valid = sum(card.state == "done" for card in cards)
        if running:
            footer = Text("The agents are drafting; the slowest sets the pace.", style="dim")
        elif session.step is PlanStep.VOTE:
            footer = Text().append(f"{valid} of {len(cards)} agents proposed a plan. ", style="bold")
            footer.append("Enter puts them to the committee's vote.", style="bold green")
            footer.append("\nTab to a card, then Enter, shows its phases and tasks.", style="dim")
        elif any(card.state == "failed" for card in cards) and not valid:
            footer = Text().append(
                "No agent produced a valid plan; nothing was made from them. ", style="bold red"
            )
            footer.append("Enter asks them again · x cancels the plan", style="bold")
        else:
            footer = Text("Enter asks the agents for their plans.", style="bold")
        self.query_one("#proposals-footer", widgets.Static).update(footer)

    def _show_vote(self, running: bool) -> None:
        from orkestra_tui.engine.models import Involvement
        from orkestra_tui.engine.voting.decision_view import method_name
        from orkestra_tui.tui.widgets.decision_detail import DecisionDetail

        session = self.session
        assert session is not None
        plans = sum(proposal.ok for proposal in session.proposals)
        method = method_name(session.brief.method)
        intro = Text().append(f"The committee votes on {plans} plans by {method}.", style="bold")
        intro.append(" The plans are anonymised, and no agent votes for its own.", style="dim")
        if session.brief.involvement is not Involvement.HANDS_OFF:
            intro.append(" A tie comes to you (ctrl+t).", style="dim")
        if not running and session.decision_id is not None:
            intro.append("\nThe vote is paused. Enter goes on with it.", style="bold yellow")
        self.query_one("#vote-intro", widgets.Static).update(intro)
        detail = self.query_one(DecisionDetail)
        decision_id = session.decision_id
        detail.view = self.engine.decision_view(decision_id) if decision_id is not None else None

    def _show_synthesis(self, running: bool) -> None:
        session = self.session
        assert session is not None and session.plan is not None
        plan = session.plan
        chair = next((p.agent for p in session.proposals if p.plan == plan), "the author")
        others = sum(proposal.ok for proposal in session.proposals) - 1
        text = Text().append("The committee chose a plan", style="bold green")
        decision = self.engine.decision(session.decision_id) if session.decision_id else None
        if decision is not None and decision.outcome:
            text.append_text(plain(f": {decision.outcome.get('winner', '')}", style="bold"))
            text.append("\n")
            text.append_text(plain(str(decision.outcome.get("reason", "")), style="dim"))
        else:
            text.append(" (it was the only valid one).", style="bold")
        text.append("\n\n")
        text.append_text(plain(chair, style="bold"))
        text.append(
            f", its author, chairs the synthesis: it may adopt improvements from the other {others}"
            f" plan{'s' * (others != 1)}, and every change will be listed for you.\n"
        )
        if running:
            text.append("The chair is refining the plan…", style="bold yellow")
        else:
            text.append("Enter asks the chair to refine it.", style="bold green")
        for phase in plan["phases"]:
            text.append("\n\n")
            text.append_text(plain(phase["name"], style="bold"))
            for task in phase["tasks"]:
                text.append("\n  • ")
                text.append_text(plain(task["title"]))
        self.query_one("#synthesis-text", widgets.Static).update(text)

    def _show_review(self, _running: bool) -> None:
        from orkestra_tui.engine.planning.planning import dependency_problems
        from orkestra_tui.tui.widgets.plan_review import PlanTree, changes_text

        session = self.session
        assert session is not None and session.plan is not None
        changes = self.query_one("#review-changes", widgets.Static)
        changes.display = bool(session.changes)
        if session.changes:
            chair = next((p.agent for p in session.proposals if p.ok), "the chair")
            decision = self.engine.decision(session.decision_id) if session.decision_id else None
            if decision is not None and decision.outcome:
                chair = decision.authors.get(str(decision.outcome.get("winner")), chair)
            changes.update(changes_text(session.changes, chair))
        unknown, cycle = dependency_problems(session.plan)
        problems = Text()
        if cycle:
            problems.append("✘ Tasks depend on each other in a cycle: ", style="bold red")
            problems.append_text(plain(" → ".join(cycle), style="red"))
            problems.append(". Fix it (e) before approving.", style="bold red")
        if unknown:
            if problems:
                problems.append("\n")
            problems.append("⚠ Unknown dependencies will be dropped: ", style="yellow")
            problems.append_text(plain(", ".join(unknown), style="yellow"))
        review_problems = self.query_one("#review-problems", widgets.Static)
        review_problems.display = bool(problems)
        review_problems.update(problems)
        tree = self.query_one(PlanTree)
        tree.show_plan(session.plan)
        self._show_task_detail()

    def _show_task_detail(self) -> None:
        from orkestra_tui.tui.widgets.plan_review import PlanTree, task_detail

        detail = self.query_one("#task-detail", widgets.Static)
        found = self._task_under_cursor()
        if found is None:
            phase = self.query_one(PlanTree).phase_name
            hint = Text().append(
                "Enter approves the plan · e edits a task · a adds one · d deletes one", style="dim"
            )
            hint.append("\nr rejects it with feedback for a new round of plans · x cancels", style="dim")
            if phase:
                detail.update(Text.assemble(plain(phase, style="bold"), "\n\n", hint))
            else:
                detail.update(hint)
        else:
            detail.update(task_detail(*found))

    def _task_under_cursor(self) -> tuple[str, dict[str, Any]] | None:
        from orkestra_tui.tui.widgets.plan_review import PlanTree

        if self.session is None or self.session.plan is None:
            return None
        key = self.query_one(PlanTree).task_key
        for phase in self.session.plan["phases"]:
            for task in phase["tasks"]:
                if task["key"] == key:
                    return phase["name"], task
        return None

    def on_tree_node_highlighted(self, event: widgets.Tree.NodeHighlighted[Any]) -> None:
        """The cursor moved in the plan's tree (matched by name, so the Tree module loads with the pane)."""
        if event.control.id == "plan-tree" and self.pane == "review" and not self._editing:
            self._show_task_detail()

    def _show_done(self, _running: bool) -> None:
        from orkestra_tui.engine.planning.planning import PlanStep, dependency_problems
        from orkestra_tui.engine.progress import ProjectProgress

        assert self.project_id is not None
        project = self.engine.project(self.project_id)
        tasks = self.engine.tasks(self.project_id)
        session = self.session
        if session is not None and session.step is PlanStep.CANCELLED:
            text = Text().append("✘ This plan was cancelled. ", style="bold red")
            text.append("ctrl+n starts a new one.", style="bold")
        else:
            tasks.sort(key=lambda task: task.id)
            phases = list(dict.fromkeys(task.phase for task in tasks))
            text = Text().append(
                f"✔ {plural(len(tasks), 'task')} in {plural(len(phases), 'phase')} "
                f"{'is' if len(tasks) == 1 else 'are'} on the Board",
                style="bold green",
            )
            text.append(" (key 2). The phases are the project's milestones.", style="bold")
            if session is not None and session.plan is not None:
                unknown, _cycle = dependency_problems(session.plan)
                if unknown:
                    text.append("\n⚠ Dropped unknown dependencies: ", style="yellow")
                    text.append_text(plain(", ".join(unknown), style="yellow"))
            for phase in phases:
                in_phase = [task for task in tasks if task.phase == phase]
                phase_progress = ProjectProgress.of(task.status for task in in_phase)
                text.append("\n\n")
                text.append_text(plain(phase or "(no phase)", style="bold"))
                text.append(f"  {phase_progress.summary()}", style="dim")
                for task in in_phase:
                    text.append(f"\n  {task.status.value:<8} ", style="dim")
                    text.append_text(plain(task.title))
        if project is not None:
            text = Text.assemble(plain(project.name, style="bold"), f" · {project.status.value}\n\n", text)
        self.query_one("#done-text", widgets.Static).update(text)

    # ------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.body_ready:
            return False
        session = self.session
        running = self.project_id is not None and self.orkestra.planning_running(self.project_id)
        reviewing = self.pane == "review" and not self._editing
        if action == "leave_field":
            return _takes_text(self.focused) and not self._editing
        if action == "start_plan":
            return self.pane == "brief"
        if action == "continue":
            if session is None or running:
                return False
            from orkestra_tui.engine.planning.planning import PlanStep

            return session.step in (PlanStep.PROPOSALS, PlanStep.VOTE, PlanStep.SYNTHESIS)
        if action in ("approve", "edit_task", "add_task", "reject"):
            return reviewing
        if action == "delete_task":
            return reviewing and self._task_under_cursor() is not None
        if action == "keep_original":
            return reviewing and session is not None and bool(session.changes)
        if action == "cancel_plan":
            return session is not None and not session.step.finished and not self._editing
        return True

    def action_new_plan(self) -> None:
        self.project_id = None
        self._editing = False
        project_list = self._project_list()
        if project_list is not None:
            project_list.highlighted = 0
        self._show_plan()
        self.brief_form.focus_first()

    def action_leave_field(self) -> None:
        """Leave the text field, so that keys such as 1 to 5 switch screens again."""
        projects = self._project_list()
        if projects is not None and projects.parent is not None and cast(Vertical, projects.parent).display:
            projects.focus()
        else:
            self.brief_form.focus()

    def action_start_plan(self) -> None:
        self.brief_form.submit()

    async def on_brief_form_submitted(self, message: BriefForm.Submitted) -> None:
        from orkestra_tui.engine.errors import RequestRejected

        await self.orkestra.wait_for_engine()  # built just after the screen was drawn

        try:
            session = self.planner.start(message.brief)
        except RequestRejected as rejected:
            self.brief_form.show_errors(rejected.by_field())
            return
        except EngineError as problem:
            self.brief_form.show_errors({"form": str(problem)})
            return
        self.brief_form.clear()
        self.project_id = session.project_id
        self._projects_stale = True
        self.orkestra.run_planning(session.project_id)
        self.reload()
        if message.brief.repository:
            self._link_repository(session.project_id, message.brief.name, message.brief.repository)

    def _link_repository(self, project_id: int, name: str, folder: str) -> None:
        """Link the new project to the brief's repository (asking first to initialise one, if need be)."""
        from orkestra_tui.tui.screens.link_repository import LinkRepositoryScreen

        def linked(link: object) -> None:
            if link is None:
                self.notify(
                    "Not linked: press L on the Board to link the project to a repository.",
                    title="Repository",
                )

        self.app.push_screen(LinkRepositoryScreen(self.engine, project_id, name, folder=folder), linked)

    def action_continue(self) -> None:
        if self.project_id is None:
            return
        self.orkestra.run_planning(self.project_id)
        self._show_plan()

    def action_approve(self) -> None:
        assert self.project_id is not None
        try:
            tasks = self.planner.approve(self.project_id)
        except EngineError as problem:
            self.notify(clean(str(problem)), title="Plan", severity="error", markup=False)
            return
        self.notify(
            f"{plural(len(tasks), 'task')} {'is' if len(tasks) == 1 else 'are'} on the Board.",
            title="Plan approved",
        )
        self._show_plan()

    def action_edit_task(self) -> None:
        from orkestra_tui.tui.widgets.plan_review import TaskEditor

        found = self._task_under_cursor()
        if found is None:
            self.notify("Move to a task first, or press a to add one.", title="Plan")
            return
        self._open_editor()
        self.query_one(TaskEditor).edit(found[0], found[1], self._task_keys())

    def action_add_task(self) -> None:
        from orkestra_tui.tui.widgets.plan_review import PlanTree, TaskEditor

        phase = self.query_one(PlanTree).phase_name or "Extra"
        self._open_editor()
        self.query_one(TaskEditor).edit(phase, None, self._task_keys())

    def _task_keys(self) -> set[str]:
        assert self.session is not None and self.session.plan is not None
        return {task["key"] for phase in self.session.plan["phases"] for task in phase["tasks"]}

    def _open_editor(self) -> None:
        self._editing = True
        self.query_one("#review").add_class("-editing")
        self.query_one("#task-detail-scroll").display = False
        self.query_one("#task-editor").display = True
        self.refresh_bindings()

    def _close_editor(self, select: str | None = None) -> None:
        from orkestra_tui.tui.widgets.plan_review import PlanTree

        self._editing = False
        self.query_one("#review").remove_class("-editing")
        self.query_one("#task-editor").display = False
        self.query_one("#task-detail-scroll").display = True
        self._show_plan()
        tree = self.query_one(PlanTree)
        if select is not None and self.session is not None and self.session.plan is not None:
            tree.show_plan(self.session.plan, select=select)
        tree.focus()

    def on_task_editor_saved(self, message: Any) -> None:
        from orkestra_tui.tui.widgets.plan_review import TaskEditor

        assert self.project_id is not None
        saved = cast(TaskEditor.Saved, message)
        key = saved.key
        try:
            if key is None:
                keys = self._task_keys()
                key = next(f"t{number}" for number in range(1, len(keys) + 2) if f"t{number}" not in keys)
                self.planner.add_task(self.project_id, saved.phase, {"key": key, **saved.fields})
            else:
                self.planner.edit_task(self.project_id, key, **saved.fields)
        except EngineError as problem:
            self.query_one("#edit-error", widgets.Static).update(plain(str(problem)))
            return
        self._close_editor(select=key)

    def on_task_editor_cancelled(self, _message: Any) -> None:
        self._close_editor()

    def action_delete_task(self) -> None:
        """Delete the task under the cursor from the plan, once confirmed (as the Board cancels one)."""
        from orkestra_tui.tui.screens.prompt import ConfirmScreen

        project_id = self.project_id
        found = self._task_under_cursor()
        if project_id is None or found is None:
            return
        task = found[1]

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            self.planner.delete_task(project_id, task["key"])
            self.notify(clean(f"Deleted {task['key']}: {task['title']}"), title="Plan", markup=False)
            self._show_plan()

        self.app.push_screen(
            ConfirmScreen(
                "Delete task",
                f"Delete {task['key']} {task['title']!r} from the plan? Tasks that depend on it lose it.",
                "Delete it",
            ),
            confirmed,
        )

    def action_keep_original(self) -> None:
        assert self.project_id is not None
        self.planner.keep_original(self.project_id)
        self.notify("The plan is back as the committee chose it.", title="Plan")
        self._show_plan()

    def action_reject(self) -> None:
        from orkestra_tui.tui.screens.prompt import TextPromptScreen

        project_id = self.project_id
        assert project_id is not None

        def rejected(feedback: str | None) -> None:
            if feedback is None:
                return
            self.planner.reject(project_id, feedback)
            self.orkestra.run_planning(project_id)
            self._show_plan()

        self.app.push_screen(
            TextPromptScreen(
                "Reject the plan",
                "What should the new plans do differently?",
                "Every agent reads it and drafts again",
                "Reject and re-plan",
                "say what should change: the agents read it before they plan again",
            ),
            rejected,
        )

    def action_cancel_plan(self) -> None:
        from orkestra_tui.tui.screens.prompt import ConfirmScreen

        project_id = self.project_id
        assert project_id is not None

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            self.orkestra.stop_planning(project_id)
            try:
                self.planner.cancel(project_id)
            except EngineError as problem:
                self.notify(clean(str(problem)), title="Plan", severity="error", markup=False)
            self._show_plan()

        self.app.push_screen(
            ConfirmScreen(
                "Cancel the plan",
                "Cancel this plan? The project is archived; what was spent stays on record.",
                "Cancel the plan",
            ),
            confirmed,
        )
