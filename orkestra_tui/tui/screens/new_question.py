"""The form that puts a new question to the committee.

Every field is checked on submit and each problem is shown beside its field:
the form only reads its fields (a number that is no number), and the engine
judges the decision, each of its problems naming the field it concerns. On
success the decision is opened and the form returns it; the caller has the
committee vote on it.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, SelectionList, Static, TextArea

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.errors import RequestRejected, problems_by_field
from orkestra_tui.engine.models import HUMAN_VOTER, Decision
from orkestra_tui.engine.voting.methods import METHODS
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.text import plain
from orkestra_tui.tui.widgets.field_errors import show_field_errors
from orkestra_tui.tui.widgets.toggles import MarkedSelectionList

FIELDS = ("question", "options", "method", "rules", "rounds", "voters", "form")
"""The fields with an error line of their own; `form` is for anything else."""
DEFAULT_THRESHOLD = "0.75"


FOCUS = {
    "question": "#question-text",
    "options": "#question-options",
    "method": "#question-method",
    "rules": "#question-threshold",
    "rounds": "#question-rounds",
    "voters": "#question-voters",
}
"""The widget that takes the focus when a field has a problem."""


class NewQuestionScreen(DialogScreen[Decision | None]):
    """Question, options, method, rules, rounds, voters and category; ctrl+s puts it to the vote."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Put to the committee"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    NewQuestionScreen {
        & > VerticalScroll {
            width: 84;
        }
        .row {
            height: auto;
        }
        .field-label {
            width: 11;
            padding-top: 0;
            color: $text-muted;
        }
        .short-label {
            width: auto;
            padding: 0 1 0 2;
            color: $text-muted;
        }
        .field {
            width: 1fr;
        }
        #question-options {
            height: 4;
            background: $boost;
        }
        #question-threshold, #question-rounds {
            width: 8;
        }
        #question-quorum {
            width: 10;
        }
        #question-method {
            width: 22;
        }
        #question-voters {
            height: auto;
            max-height: 7;
            border: none;
            padding: 0;
        }
        .field-error {
            height: auto;
            color: $error;
            padding-left: 11;
            display: none;
        }
        .field-error.-shown {
            display: block;
        }
        #question-buttons {
            height: auto;
            align-horizontal: right;
            margin-top: 1;
        }
        #question-buttons Button {
            margin-left: 2;
        }
        #question-hint {
            width: 1fr;
            color: $text-muted;
        }
    }
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    def compose(self) -> ComposeResult:
        settings = self.engine.settings.engine
        agents = [agent for agent in self.engine.agents() if agent.enabled]
        with VerticalScroll(classes="dialog") as form:
            form.border_title = "Put a question to the committee"
            with Horizontal(classes="row"):
                yield Label("Question", classes="field-label")
                yield Input(
                    placeholder="What should the committee decide?",
                    id="question-text",
                    classes="field",
                    compact=True,
                )
            yield Static(id="question-error", classes="field-error")
            with Horizontal(classes="row"):
                yield Label("Options\none a line", classes="field-label")
                yield TextArea(id="question-options", classes="field", compact=True, soft_wrap=True)
            yield Static(id="options-error", classes="field-error")
            with Horizontal(classes="row"):
                yield Label("Method", classes="field-label")
                yield Select(
                    [(method.replace("_", " "), method) for method in METHODS],
                    value=settings.default_method if settings.default_method in METHODS else METHODS[2],
                    allow_blank=False,
                    id="question-method",
                    compact=True,
                )
                yield Label("Max rounds", classes="short-label")
                yield Input(str(settings.max_rounds), id="question-rounds", compact=True, type="integer")
            yield Static(id="method-error", classes="field-error")
            yield Static(id="rounds-error", classes="field-error")
            with Horizontal(classes="row"):
                yield Label("Threshold", classes="field-label")
                yield Input(DEFAULT_THRESHOLD, id="question-threshold", compact=True)
                yield Label("Quorum", classes="short-label")
                yield Input(str(settings.quorum), id="question-quorum", compact=True)
                yield Label("Category", classes="short-label")
                yield Input(placeholder="optional", id="question-category", classes="field", compact=True)
            yield Static(id="rules-error", classes="field-error")
            with Horizontal(classes="row"):
                yield Label("Voters", classes="field-label")
                yield MarkedSelectionList[str](
                    *[(self._agent_label(agent.name, agent.simulated), agent.name, True) for agent in agents],
                    (Text("me (you vote too)", style="bold"), HUMAN_VOTER, False),
                    id="question-voters",
                    classes="field",
                )
            yield Static(id="voters-error", classes="field-error")
            yield Static(id="form-error", classes="field-error")
            with Horizontal(id="question-buttons"):
                yield Static("ctrl+s puts it to the vote · Esc cancels", id="question-hint")
                yield Button("Cancel", id="question-cancel", compact=True)
                yield Button("Put to the committee", id="question-submit", variant="primary", compact=True)

    @staticmethod
    def _agent_label(name: str, simulated: bool) -> Text:
        label = plain(name)
        if simulated:
            label.append(" (simulated)", style="dim")
        return label

    def on_mount(self) -> None:
        self.query_one("#question-text", Input).focus()

    @on(Input.Submitted)
    def _next_field(self, _event: Input.Submitted) -> None:
        self.focus_next()

    @on(Button.Pressed, "#question-submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#question-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        question = self.query_one("#question-text", Input).value
        options = [
            line for line in self.query_one("#question-options", TextArea).text.splitlines() if line.strip()
        ]
        method = str(self.query_one("#question-method", Select).value)
        voters = list(self.query_one("#question-voters", SelectionList).selected)
        category = self.query_one("#question-category", Input).value.strip()
        errors: dict[str, str] = {}
        rules = self._rules(errors)
        max_rounds = self._max_rounds(errors)
        problems = self.engine.decision_problems(
            question, options, method=method, rules=rules, voters=voters, max_rounds=max_rounds
        )
        for field, message in problems_by_field(problems).items():
            errors.setdefault(field, message)  # a field the form could not read keeps that problem
        decision = None
        if not errors:
            try:
                decision = self.engine.open_decision(
                    question,
                    options,
                    method=method,
                    rules=rules,
                    voters=voters,
                    max_rounds=max_rounds,
                    category=category,
                )
            except RequestRejected as rejected:
                errors.update(rejected.by_field())
            except OrkestraError as problem:
                errors["form"] = str(problem)
        show_field_errors(self, FIELDS, errors, FOCUS)
        if decision is not None:
            self.dismiss(decision)

    def _rules(self, errors: dict[str, str]) -> dict[str, float | str]:
        """The threshold and quorum as numbers (or "majority"); the engine judges their range."""
        from orkestra_tui.engine.voting.consensus import QUORUM_MAJORITY

        rules: dict[str, float | str] = {}
        problems = []
        for name in ("threshold", "quorum"):
            text = self.query_one(f"#question-{name}", Input).value.strip()
            if name == "quorum" and text.casefold() == QUORUM_MAJORITY:
                rules[name] = QUORUM_MAJORITY
                continue
            try:
                rules[name] = float(text)
            except ValueError:
                words = f"{QUORUM_MAJORITY} or a number" if name == "quorum" else "a number"
                problems.append(f"{name} must be {words} from 0 to 1, not {text!r}")
        if problems:
            errors["rules"] = "; ".join(problems)
        return rules

    def _max_rounds(self, errors: dict[str, str]) -> int | None:
        """The number typed in Max rounds; the engine judges its range."""
        text = self.query_one("#question-rounds", Input).value.strip()
        try:
            return int(text)
        except ValueError:
            errors["rounds"] = f"max rounds must be a whole number, not {text!r}"
            return None
