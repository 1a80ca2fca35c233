"""The Plan screen: start a project and see the projects there are.

The full planning wizard (proposals, committee vote, review) builds on this.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from orkestra_tui.engine.engine import EngineError
from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.text import plain


class PlanScreen(EngineScreen):
    """Projects on the left, a new project's brief on the right."""

    BINDINGS = [
        Binding("ctrl+s", "create_project", "Create project"),
        Binding("ctrl+n", "new_project", "New project"),
        Binding("escape", "leave_field", "Leave field"),
    ]
    CSS_PATH = "plan.tcss"

    MODE = "plan"
    TITLE = "Plan"
    WATCHES = ("project", "task")

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        with Horizontal(id="plan-body"):
            with Vertical(id="projects"):
                yield Label("Projects", classes="section-title")
                yield OptionList(id="project-list")
                yield Static("No projects yet.", id="projects-empty")
            with Vertical(id="new-project"):
                yield Label("Start a project", classes="section-title")
                yield Static(self._agents_banner(), id="agents-banner")
                yield Label("Name")
                yield Input(placeholder="e.g. Inventory service", id="project-name", max_length=80)
                yield Static("", id="name-error", classes="field-error")
                yield Label("Description")
                yield TextArea(id="project-description", soft_wrap=True, show_line_numbers=False)
                yield Button("Create project", id="create", variant="primary")
        yield from self.compose_bottom()

    def _agents_banner(self) -> str:
        agents = [agent for agent in self.engine.agents() if agent.enabled]
        simulated = [agent.name for agent in agents if agent.simulated]
        if not simulated:
            return f"{len(agents)} live agents will work on it."
        if len(simulated) == len(agents):
            return "No API keys found: every agent is simulated. README says how to add keys."
        return f"Simulated: {', '.join(simulated)}. The others are live."

    def on_mount(self) -> None:
        super().on_mount()
        if not self.engine.projects():
            self.query_one("#project-name", Input).focus()

    def reload(self) -> None:
        projects = self.engine.projects()
        options = self.query_one("#project-list", OptionList)
        prompts = []
        for project in reversed(projects):
            counts = self.engine.task_counts(project.id)
            total = sum(counts.values())
            prompt = plain(project.name, style="bold")
            prompt.append(f"\n  {project.status.value} · {counts[TaskStatus.DONE]}/{total} done", style="dim")
            prompts.append(Option(prompt, id=f"project-{project.id}"))
        options.set_options(prompts)
        options.display = bool(projects)
        self.query_one("#projects-empty", Static).display = not projects

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self.action_create_project()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "project-name":
            self.query_one("#project-description", TextArea).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "project-name":
            self.query_one("#name-error", Static).update("")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_field":
            return isinstance(self.focused, Input | TextArea)
        return True

    def action_leave_field(self) -> None:
        """Leave the text field, so that keys such as 1 to 5 switch screens again."""
        projects = self.query_one("#project-list", OptionList)
        if projects.display:
            projects.focus()
        else:
            self.query_one("#create", Button).focus()

    def action_new_project(self) -> None:
        self.query_one("#project-name", Input).focus()

    def action_create_project(self) -> None:
        name_input = self.query_one("#project-name", Input)
        description = self.query_one("#project-description", TextArea)
        error = self.query_one("#name-error", Static)
        try:
            project = self.engine.create_project(name_input.value, description.text)
        except EngineError as problem:
            error.update(plain(str(problem)))
            name_input.focus()
            return
        error.update("")
        name_input.value = ""
        description.text = ""
        self.notify(f"Project {project.name!r} created.", title="Plan", markup=False)
        self.query_one("#project-list", OptionList).focus()
