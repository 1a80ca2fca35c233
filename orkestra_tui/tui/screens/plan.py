"""The Plan screen: start a project and see the projects there are.

Widgets are reached through `textual.widgets`, which imports each widget's
module on first use: when this is the first screen, they load after the
first frame, with the body.

The full planning wizard (proposals, committee vote, review) builds on this.
"""

from __future__ import annotations

from textual import widgets
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical

from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.text import clean, plain


class PlanScreen(EngineScreen):
    """Projects on the left, a new project's brief on the right."""

    BINDINGS = [
        Binding("ctrl+s", "create_project", "Create project"),
        Binding("ctrl+n", "new_project", "New project"),
        Binding("escape", "leave_field", "Leave field"),
    ]

    MODE = "plan"
    TITLE = "Plan"
    WATCHES = ("project", "task")

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="plan-body"):
            with Vertical(id="projects"):
                yield widgets.Label("Projects", classes="section-title")
                yield widgets.OptionList(id="project-list")
                yield widgets.Static("No projects yet.", id="projects-empty")
            with Vertical(id="new-project"):
                yield widgets.Label("Start a project", classes="section-title")
                yield widgets.Static(self._agents_banner(), id="agents-banner")
                yield widgets.Label("Name")
                yield widgets.Input(placeholder="e.g. Inventory service", id="project-name", max_length=80)
                yield widgets.Static("", id="name-error", classes="field-error")
                yield widgets.Label("Description")
                yield widgets.TextArea(id="project-description", soft_wrap=True, show_line_numbers=False)
                yield widgets.Button("Create project", id="create", variant="primary")

    def _agents_banner(self) -> str:
        agents = [agent for agent in self.engine.agents() if agent.enabled]
        simulated = [agent.name for agent in agents if agent.simulated]
        if not simulated:
            return f"{len(agents)} live agents will work on it."
        if len(simulated) == len(agents):
            return "No API keys found: every agent is simulated. README says how to add keys."
        return f"Simulated: {', '.join(simulated)}. The others are live."

    def body_mounted(self) -> None:
        if not self.engine.projects():
            self.query_one("#project-name", widgets.Input).focus()

    def reload(self) -> None:
        from textual.widgets.option_list import Option

        projects = self.engine.projects()
        options = self.query_one("#project-list", widgets.OptionList)
        prompts = []
        for project in reversed(projects):
            counts = self.engine.task_counts(project.id)
            total = sum(counts.values())
            prompt = plain(project.name, style="bold")
            prompt.append(f"\n  {project.status.value} · {counts[TaskStatus.DONE]}/{total} done", style="dim")
            prompts.append(Option(prompt, id=f"project-{project.id}"))
        options.set_options(prompts)
        options.display = bool(projects)
        self.query_one("#projects-empty", widgets.Static).display = not projects

    def on_button_pressed(self, event: widgets.Button.Pressed) -> None:
        if event.button.id == "create":
            self.action_create_project()

    def on_input_submitted(self, event: widgets.Input.Submitted) -> None:
        if event.input.id == "project-name":
            self.query_one("#project-description", widgets.TextArea).focus()

    def on_input_changed(self, event: widgets.Input.Changed) -> None:
        if event.input.id == "project-name":
            self.query_one("#name-error", widgets.Static).update("")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_field":
            return self.body_ready and isinstance(self.focused, widgets.Input | widgets.TextArea)
        return super().check_action(action, parameters)

    def action_leave_field(self) -> None:
        """Leave the text field, so that keys such as 1 to 5 switch screens again."""
        projects = self.query_one("#project-list", widgets.OptionList)
        if projects.display:
            projects.focus()
        else:
            self.query_one("#create", widgets.Button).focus()

    def action_new_project(self) -> None:
        self.query_one("#project-name", widgets.Input).focus()

    def action_create_project(self) -> None:
        name_input = self.query_one("#project-name", widgets.Input)
        description = self.query_one("#project-description", widgets.TextArea)
        error = self.query_one("#name-error", widgets.Static)
        try:
            project = self.engine.create_project(name_input.value, description.text)
        except EngineError as problem:
            error.update(plain(str(problem)))
            name_input.focus()
            return
        error.update("")
        name_input.value = ""
        description.text = ""
        self.notify(clean(f"Project {project.name!r} created."), title="Plan", markup=False)
        self.query_one("#project-list", widgets.OptionList).focus()
