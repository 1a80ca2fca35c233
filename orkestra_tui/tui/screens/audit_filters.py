"""The Audit screen's filters: actor, kind, project and time range (key f).

Times are typed as text (`2026-11-23 10:00`, `10:00` for today, `2h` for two
hours ago); a time that does not read, or a range that ends before it starts,
is refused with one line beside its field and the dialog stays open.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from orkestra_tui.engine.models import AgentInfo, Project
from orkestra_tui.engine.store.audit_export import parse_time
from orkestra_tui.engine.store.audit_search import AuditFilter
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.widgets.field_errors import show_field_errors

FIELDS = ("since", "until")
"""The fields that can be refused, in the order the form shows them."""
FOCUS = {"since": "#filter-since", "until": "#filter-until"}
ACTOR_GROUPS = (("human (you)", "human"), ("engine", "engine"), ("any agent", "agent"))
TIME_HINT = "2026-11-23 10:00 or 2h"


@dataclass(frozen=True)
class AuditView:
    """What the Audit screen shows: its filter, and the times as the user typed them."""

    filter: AuditFilter = field(default_factory=AuditFilter)
    since_text: str = ""
    until_text: str = ""


class AuditFiltersScreen(DialogScreen[AuditView | None]):
    """Actor, kind, project, since and until; ctrl+s or Enter applies, Esc keeps the filters as they were."""

    BINDINGS = [
        Binding("ctrl+s", "apply", "Apply"),
        Binding("ctrl+r", "clear", "Clear all"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    AuditFiltersScreen {
        & > Vertical { width: 76; }
        .row { height: auto; }
        .field-label { width: 9; color: $text-muted; }
        .field { width: 26; }
        Input.field { background: $boost; }
        .field-error { width: 1fr; color: $error; padding-left: 1; display: none; }
        .field-error.-shown { display: block; }
        #filter-hint { color: $text-muted; margin: 1 0; }
        #filter-buttons { height: auto; align-horizontal: right; }
        #filter-buttons Button { margin-left: 2; }
    }
    """

    def __init__(self, view: AuditView, agents: list[AgentInfo], projects: list[Project], now: float) -> None:
        super().__init__()
        self.view = view
        self.agents = agents
        self.projects = projects
        self.now = now
        """The time `2h` counts back from."""

    def compose(self) -> ComposeResult:
        chosen = self.view.filter
        actors = [*ACTOR_GROUPS, *((agent.name, agent.name) for agent in self.agents)]
        if chosen.actor and chosen.actor not in {value for _label, value in actors}:
            actors.append((chosen.actor, chosen.actor))
        project_ids = {project.id for project in self.projects}
        with Vertical(classes="dialog") as box:
            box.border_title = "Filter the audit log"
            with Horizontal(classes="row"):
                yield Label("Actor", classes="field-label")
                yield Select(
                    actors,
                    prompt="any actor",
                    value=chosen.actor or Select.NULL,
                    id="filter-actor",
                    classes="field",
                    compact=True,
                )
            with Horizontal(classes="row"):
                yield Label("Kind", classes="field-label")
                yield Input(
                    chosen.kind or "",
                    placeholder="task, vote, call.failed…",
                    id="filter-kind",
                    classes="field",
                    compact=True,
                )
            with Horizontal(classes="row"):
                yield Label("Project", classes="field-label")
                yield Select(
                    [(project.name, project.id) for project in self.projects],
                    prompt="any project",
                    value=chosen.project_id if chosen.project_id in project_ids else Select.NULL,
                    id="filter-project",
                    classes="field",
                    compact=True,
                )
            with Horizontal(classes="row"):
                yield Label("Since", classes="field-label")
                yield Input(
                    self.view.since_text,
                    placeholder=TIME_HINT,
                    id="filter-since",
                    classes="field",
                    compact=True,
                )
                yield Static(id="since-error", classes="field-error")
            with Horizontal(classes="row"):
                yield Label("Until", classes="field-label")
                yield Input(
                    self.view.until_text,
                    placeholder=TIME_HINT,
                    id="filter-until",
                    classes="field",
                    compact=True,
                )
                yield Static(id="until-error", classes="field-error")
            yield Static(
                "A kind matches the kinds below it too (task: task.done). Times are local:"
                " 2026-11-23 10:00, 10:00 (today) or 2h (two hours ago).",
                id="filter-hint",
            )
            with Horizontal(id="filter-buttons"):
                yield Button("Clear all (ctrl+r)", id="filter-clear", compact=True)
                yield Button("Cancel", id="filter-cancel", compact=True)
                yield Button("Apply", id="filter-apply", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#filter-actor", Select).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#filter-apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#filter-clear")
    def _clear_pressed(self) -> None:
        self.action_clear()

    @on(Button.Pressed, "#filter-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_clear(self) -> None:
        """Every filter but the search, off."""
        self.dismiss(AuditView(AuditFilter(text=self.view.filter.text)))

    def action_apply(self) -> None:
        errors: dict[str, str] = {}
        times: dict[str, float | None] = {}
        texts: dict[str, str] = {}
        for name in FIELDS:
            texts[name] = self.query_one(f"#filter-{name}", Input).value.strip()
            try:
                times[name] = parse_time(texts[name], self.now)
            except OrkestraError as problem:
                errors[name] = str(problem)
        since, until = times.get("since"), times.get("until")
        if since is not None and until is not None and until <= since:
            errors["until"] = "until must be after since"
        show_field_errors(self, FIELDS, errors, FOCUS)
        if errors:
            return
        actor = self.query_one("#filter-actor", Select).value
        project = self.query_one("#filter-project", Select).value
        kind = self.query_one("#filter-kind", Input).value.strip()
        chosen = replace(
            self.view.filter,
            actor=actor if isinstance(actor, str) else None,
            kind=kind or None,
            project_id=project if isinstance(project, int) else None,
            since=since,
            until=until,
        )
        self.dismiss(AuditView(chosen, texts["since"], texts["until"]))
