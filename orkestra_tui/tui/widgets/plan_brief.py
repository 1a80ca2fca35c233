"""The planning wizard's first step: the project brief, checked field by field.

Name and agents are required; everything else has a sensible default. The
engine is the judge of a brief (planning's one check, engine/planning/brief_rules.py):
each of its problems names its field and is shown under it, and blocks Next.
"""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import (
    Button,
    Input,
    OptionList,
    RadioSet,
    Select,
    SelectionList,
    Static,
    TextArea,
)

from orkestra_tui.engine.models import AgentInfo, Involvement
from orkestra_tui.engine.planning.planning import Brief
from orkestra_tui.engine.voting.methods import METHODS
from orkestra_tui.tui.text import plain
from orkestra_tui.tui.widgets.field_errors import show_field_errors
from orkestra_tui.tui.widgets.toggles import MarkedRadioButton, MarkedSelectionList

FIELDS = ("name", "description", "features", "agents", "method", "form")
"""The fields with an error line of their own; `form` is for anything else."""
INVOLVEMENT_LABELS = {
    Involvement.HANDS_OFF: "1 hands-off: the committee decides; the plan is approved for you",
    Involvement.CHECKPOINTS: "2 checkpoints: you approve the plan and break ties",
    Involvement.HANDS_ON: "3 hands-on: your feedback after every round; you approve every step",
}
TYPING_HINT = "Enter or Tab starts typing · Esc leaves a field (then 1–5 and ? work)"
"""How to start filling in the form: on arrival no field has the focus, so screen keys work."""
FEATURE_LIMIT = 300
"""The longest feature line accepted, in characters."""


def agents_banner(agents: list[AgentInfo]) -> Text:
    """Whether the agents are real or simulated, and how to add keys."""
    enabled = [agent for agent in agents if agent.enabled]
    simulated = [agent.name for agent in enabled if agent.simulated]
    if not simulated:
        return Text(f"{len(enabled)} live agents will work on it.", style="green")
    if len(simulated) == len(enabled):
        return Text(
            "No API keys found: every agent is simulated. For real ones, set ANTHROPIC_API_KEY, "
            "OPENAI_API_KEY, GEMINI_API_KEY, XAI_API_KEY or GITHUB_TOKEN and restart "
            "(README: Agents and keys); `orkestra doctor` checks them.",
            style="yellow",
        )
    return Text(f"Simulated: {', '.join(simulated)}. The others are live.", style="yellow")


class FeatureInput(Input):
    """The features field: text pasted with several lines becomes one feature per line."""

    class Pasted(Message):
        """Lines were pasted into the field; the form adds each as a feature."""

        def __init__(self, lines: list[str]) -> None:
            super().__init__()
            self.lines = lines

    def _on_paste(self, event: events.Paste) -> None:
        lines = [line for line in event.text.splitlines() if line.strip()]
        if len(lines) < 2:
            return  # Input's own handler (called next) inserts it
        event.stop()
        event.prevent_default()
        self.post_message(self.Pasted(lines))


class FieldRow(Horizontal):
    """A field with its label to the left: the row draws the label itself, beside its one child.

    One widget fewer per field than a Label in the row, and the same to see.
    """

    COMPONENT_CLASSES = {"field-row--label"}

    DEFAULT_CSS = """
    FieldRow {
        height: auto;
        margin-bottom: 1;
        & > * {
            margin-left: 13;
        }
        & > .field-row--label {
            color: $text-muted;
        }
    }
    """

    def __init__(self, label: str, field: Widget) -> None:
        super().__init__(field)
        self._label = Content.styled(label, ".field-row--label")

    def render(self) -> RenderResult:
        return self._label


ERROR_AFTER = {
    "name": "#brief-name",
    "description": "#brief-description",
    "features": "#brief-features",
    "agents": "#brief-agents",
    "method": "#brief-method",
}
"""The field whose row each error line follows; the form's own line goes above the buttons."""


class BriefForm(VerticalScroll):
    """Name, description, goals, constraints, features, involvement, agents and method."""

    BINDINGS = [
        Binding("enter", "start_typing", "Fill in the brief"),
        Binding("delete,backspace", "remove_feature", "Remove feature", show=False),
        # Before the field's own delete keys, which do nothing in an empty field.
        Binding("delete,backspace", "remove_last_feature", "Remove feature", show=False, priority=True),
    ]

    DEFAULT_CSS = """
    BriefForm {
        height: 1fr;
        padding: 0 1;
        .field {
            width: 1fr;
        }
        #brief-banner {
            margin-bottom: 1;
        }
        #brief-how {
            color: $text-muted;
            margin-bottom: 1;
        }
        #brief-description {
            height: 5;
            background: $boost;
        }
        #brief-features {
            height: auto;
            max-height: 5;
            border: none;
            padding: 0;
            margin-left: 13;
            background: transparent;
        }
        #brief-involvement {
            border: none;
            padding: 0;
            background: transparent;
        }
        #brief-agents {
            height: auto;
            max-height: 8;
            border: none;
            padding: 0;
        }
        #brief-method {
            width: 26;
        }
        .field-error {
            height: auto;
            color: $error;
            padding-left: 13;
            margin-top: -1;
            margin-bottom: 1;
            display: none;
        }
        .field-error.-shown {
            display: block;
        }
        #brief-buttons {
            height: auto;
            align-horizontal: right;
        }
        #brief-hint {
            width: 1fr;
            color: $text-muted;
        }
    }
    """

    class Submitted(Message):
        """The brief passed the form's own checks; the screen starts the plan."""

        def __init__(self, brief: Brief) -> None:
            super().__init__()
            self.brief = brief

    def __init__(self, agents: list[AgentInfo], default_method: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._agents = [agent for agent in agents if agent.enabled]
        self._all_agents = agents
        self._default_method = default_method if default_method in METHODS else "majority"
        self._features: list[str] = []

    def compose(self) -> ComposeResult:
        # Error lines are added under their fields when there is an error (see `show_errors`).
        yield Static(agents_banner(self._all_agents), id="brief-banner")
        yield Static(TYPING_HINT, id="brief-how")
        name = Input(
            placeholder="e.g. Inventory service",
            id="brief-name",
            classes="field",
            max_length=80,
            compact=True,
        )
        yield FieldRow("Name", name)
        description = TextArea(id="brief-description", classes="field", soft_wrap=True, compact=True)
        yield FieldRow("Description", description)
        yield FieldRow(
            "Goals", Input(placeholder="optional", id="brief-goals", classes="field", compact=True)
        )
        yield FieldRow(
            "Constraints",
            Input(placeholder="optional", id="brief-constraints", classes="field", compact=True),
        )
        feature = FeatureInput(
            placeholder="a feature, then Enter (Delete in the empty field removes the last)",
            id="brief-feature",
            classes="field",
            max_length=FEATURE_LIMIT,
            compact=True,
        )
        yield FieldRow("Features", feature)
        features = OptionList(id="brief-features", compact=True)
        features.display = False  # until there is a feature
        yield features
        involvement = RadioSet(
            *[
                MarkedRadioButton(label, value=level is Involvement.CHECKPOINTS, name=str(int(level)))
                for level, label in INVOLVEMENT_LABELS.items()
            ],
            id="brief-involvement",
            compact=True,
            classes="field",
        )
        yield FieldRow("Involvement", involvement)
        agents = MarkedSelectionList[str](
            *[(self._agent_label(agent), agent.name, True) for agent in self._agents],
            id="brief-agents",
            classes="field",
            compact=True,
        )
        yield FieldRow("Agents", agents)
        method = Select(
            [(method.replace("_", " "), method) for method in METHODS],
            value=self._default_method,
            allow_blank=False,
            id="brief-method",
            compact=True,
        )
        yield FieldRow("Method", method)
        with Horizontal(id="brief-buttons"):
            yield Static("ctrl+s asks the agents for plans", id="brief-hint")
            yield Button("Next: proposals", id="brief-next", variant="primary", compact=True)

    @staticmethod
    def _agent_label(agent: AgentInfo) -> Text:
        label = plain(agent.name)
        label.append(f"  {agent.provider}" + (" (simulated)" if agent.simulated else ""), style="dim")
        return label

    def watch_has_focus(self, _has_focus: bool) -> None:
        """Restyle the form alone when it gains or loses the focus.

        Textual restyles a widget and all its descendants then, in case a rule
        depends on the focus of an ancestor; no rule here does, and the
        form's 45 widgets took longer to restyle than the first frame to paint.
        """
        self.app.stylesheet.update_nodes([self], animate=True)

    def focus_first(self) -> None:
        self.query_one("#brief-name", Input).focus()

    def action_start_typing(self) -> None:
        """Enter on the form itself: go to its first field."""
        self.focus_first()

    # ------------------------------------------------------------- features

    @on(Input.Submitted, "#brief-feature")
    def _add_feature(self, event: Input.Submitted) -> None:
        event.stop()
        feature = " ".join(event.value.split())
        if not feature:
            self.screen.focus_next()
            return
        if self._add_features([feature]):
            event.input.value = ""

    @on(FeatureInput.Pasted)
    def _features_pasted(self, event: FeatureInput.Pasted) -> None:
        event.stop()
        self._add_features([" ".join(line.split())[:FEATURE_LIMIT] for line in event.lines])

    def _add_features(self, features: list[str]) -> bool:
        """Add the features not on the list yet; say which ones were already. Whether all were new."""
        repeated = [feature for feature in features if feature in self._features]
        self._features.extend(dict.fromkeys(f for f in features if f not in self._features))
        self._show_features()
        if repeated:
            verb = "is" if len(repeated) == 1 else "are"
            self.show_errors({"features": f"{', '.join(map(repr, repeated))} {verb} on the list already"})
            self.query_one("#brief-feature", Input).focus()
        else:
            self.show_errors({})
        return not repeated

    @on(Input.Changed, "#brief-feature")
    def _feature_changed(self) -> None:
        self._clear_error("features")

    def _show_features(self) -> None:
        features = self.query_one("#brief-features", OptionList)
        features.set_options([plain(f"• {feature}") for feature in self._features])
        features.display = bool(self._features)

    def action_remove_feature(self) -> None:
        features = self.query_one("#brief-features", OptionList)
        if self.screen.focused is not features or features.highlighted is None:
            return
        del self._features[features.highlighted]
        self._after_removal()

    def action_remove_last_feature(self) -> None:
        """Delete or Backspace in the empty features field: the last feature goes."""
        if self._features:
            self._features.pop()
            self._after_removal()

    def _after_removal(self) -> None:
        self._show_features()
        self._clear_error("features")  # "already on the list" may no longer be true
        if not self._features:
            self.query_one("#brief-feature", Input).focus()

    def _clear_error(self, field: str) -> None:
        for error in self.query(f"#{field}-error").results(Static):
            error.update("")
            error.remove_class("-shown")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_feature":
            return self.screen.focused is self.query_one("#brief-features", OptionList)
        if action == "remove_last_feature":
            field = self.query_one("#brief-feature", Input)
            return self.screen.focused is field and not field.value and bool(self._features)
        if action == "start_typing":
            return self.screen.focused is self
        return True

    @on(Input.Submitted, "#brief-name, #brief-goals, #brief-constraints")
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()

    @on(Input.Changed, "#brief-name")
    def _name_changed(self) -> None:
        self.show_errors({})

    @on(Button.Pressed, "#brief-next")
    def _next_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    # --------------------------------------------------------------- submit

    def brief(self) -> Brief:
        pressed = self.query_one("#brief-involvement", RadioSet).pressed_button
        involvement = Involvement(int(pressed.name or 2)) if pressed is not None else Involvement.CHECKPOINTS
        return Brief(
            name=self.query_one("#brief-name", Input).value.strip(),
            description=self.query_one("#brief-description", TextArea).text,
            goals=self.query_one("#brief-goals", Input).value.strip(),
            constraints=self.query_one("#brief-constraints", Input).value.strip(),
            features=tuple(self._features),
            involvement=involvement,
            agents=tuple(self.query_one("#brief-agents", SelectionList).selected),
            method=str(self.query_one("#brief-method", Select).value),
        )

    def submit(self) -> None:
        """Post the brief for the screen to start the plan; the engine's problems come back by field."""
        self.show_errors({})
        self.post_message(self.Submitted(self.brief()))

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show each problem under its field (none clears them) and focus the first.

        A field the form has no error line for (the involvement, whose buttons cannot be wrong)
        shows its problem on the form's line.
        """
        errors = {field if field in FIELDS else "form": problem for field, problem in errors.items()}
        focus = {
            "name": "#brief-name",
            "description": "#brief-description",
            "features": "#brief-feature",
            "agents": "#brief-agents",
            "method": "#brief-method",
        }
        for field in errors:
            self._add_error_line(field)
        show_field_errors(self, FIELDS, errors, focus)

    def _add_error_line(self, field: str) -> None:
        """Add the field's error line, under its row, unless it is there already."""
        if self.query(f"#{field}-error"):
            return
        line = Static(id=f"{field}-error", classes="field-error")
        if field in ERROR_AFTER:
            field_widget = self.query_one(ERROR_AFTER[field])
            row = field_widget.parent
            self.mount(line, after=row if isinstance(row, FieldRow) else field_widget)
        else:
            self.mount(line, before="#brief-buttons")

    def clear(self) -> None:
        """An empty brief, for the next project."""
        for selector in ("#brief-name", "#brief-goals", "#brief-constraints", "#brief-feature"):
            self.query_one(selector, Input).value = ""
        self.query_one("#brief-description", TextArea).text = ""
        self._features.clear()
        self._show_features()
        self.show_errors({})
