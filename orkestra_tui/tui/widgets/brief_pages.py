"""The brief's later pages: the details (description, features), the committee (involvement, agents, method).

Built the first time the user reaches them, so that the brief's first page,
the app's first screen on a first run, draws with light fields only: the
heavier widgets here (a text area, lists, radio buttons, a select) and
their stylesheets load when they are needed, after the first frame.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Input, OptionList, RadioSet, Select, TextArea

from orkestra_tui.engine.models import AgentInfo, Involvement
from orkestra_tui.engine.voting.methods import METHODS
from orkestra_tui.tui.text import plain
from orkestra_tui.tui.widgets.brief_fields import FieldRow
from orkestra_tui.tui.widgets.toggles import MarkedRadioButton, MarkedSelectionList

INVOLVEMENT_LABELS = {
    Involvement.HANDS_OFF: "1 hands-off: the committee decides; the plan is approved for you",
    Involvement.CHECKPOINTS: "2 checkpoints: you approve the plan and break ties",
    Involvement.HANDS_ON: "3 hands-on: your feedback after every round; you approve every step",
}
FEATURE_LIMIT = 300
"""The longest feature line accepted, in characters."""


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


class BriefPage(Vertical):
    """A page of the brief after the first; the rules of its fields are parsed with it, not at start."""

    DEFAULT_CSS = """
    BriefPage {
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
            margin-bottom: 1;
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
    }
    """


def details_page() -> BriefPage:
    """Page 2: the description, and the features with their list."""
    description = TextArea(id="brief-description", classes="field", soft_wrap=True, compact=True)
    feature = FeatureInput(
        placeholder="a feature, then Enter (Delete in the empty field removes the last)",
        id="brief-feature",
        classes="field",
        max_length=FEATURE_LIMIT,
        compact=True,
    )
    features = OptionList(id="brief-features", compact=True)
    features.display = False  # until there is a feature
    repository = Input(
        placeholder="a git repository's folder for the work (optional)",
        id="brief-repository",
        classes="field",
        compact=True,
    )
    return BriefPage(
        FieldRow("Description", description),
        FieldRow("Features", feature),
        features,
        FieldRow("Repository", repository),
        id="brief-page-2",
        classes="brief-page",
    )


def committee_page(agents: list[AgentInfo], default_method: str) -> BriefPage:
    """Page 3: who takes part, how much the human does, and how the committee votes."""
    involvement = RadioSet(
        *[
            MarkedRadioButton(label, value=level is Involvement.CHECKPOINTS, name=str(int(level)))
            for level, label in INVOLVEMENT_LABELS.items()
        ],
        id="brief-involvement",
        compact=True,
        classes="field",
    )
    agent_list = MarkedSelectionList[str](
        *[(_agent_label(agent), agent.name, True) for agent in agents],
        id="brief-agents",
        classes="field",
        compact=True,
    )
    method = Select(
        [(method.replace("_", " "), method) for method in METHODS],
        value=default_method,
        allow_blank=False,
        id="brief-method",
        compact=True,
    )
    return BriefPage(
        FieldRow("Involvement", involvement),
        FieldRow("Agents", agent_list),
        FieldRow("Method", method),
        id="brief-page-3",
        classes="brief-page",
    )


def next_button() -> Button:
    """The button that ends the brief, on its last page."""
    return Button("Next: proposals", id="brief-next", variant="primary", compact=True)


def _agent_label(agent: AgentInfo) -> Text:
    label = plain(agent.name)
    label.append(f"  {agent.provider}" + (" (simulated)" if agent.simulated else ""), style="dim")
    return label
