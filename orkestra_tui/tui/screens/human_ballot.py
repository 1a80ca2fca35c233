"""The human's ballot for the round under way: rank the round's options from the keyboard, Enter casts.

Casting again in the same round changes the ballot. The human's own
proposals are left off, as they are for every agent.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import HUMAN_VOTER
from orkestra_tui.engine.voting.decision_view import DecisionView
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.text import plain
from orkestra_tui.tui.widgets.ranking_editor import RankingEditor

KEYS_HINT = "↑↓ cursor · shift+↑↓ move · space drop/restore · Enter cast · Esc cancel"


class HumanBallotScreen(DialogScreen[int | None]):
    """Returns the round the ballot was cast in, or None if the human backed out."""

    BINDINGS = [
        Binding("enter", "cast", "Cast ballot"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    HumanBallotScreen {
        & > Vertical {
            width: 76;
        }
        #ballot-question {
            margin-bottom: 1;
        }
        #ballot-hint {
            color: $text-muted;
            margin-top: 1;
        }
        #ballot-error {
            color: $error;
            height: auto;
        }
    }
    """

    def __init__(self, engine: Engine, view: DecisionView) -> None:
        super().__init__()
        self.engine = engine
        self.view = view

    def compose(self) -> ComposeResult:
        decision = self.view.decision
        own = {option for option, author in decision.authors.items() if author == HUMAN_VOTER}
        by_label = sorted((label, option) for option, label in self.view.labels.items() if option not in own)
        previous = self.view.human_ballot
        if previous is not None:
            ranked = [(self.view.labels[option], option) for option in previous.ranking if option not in own]
            rest = [entry for entry in by_label if entry[1] not in previous.ranking]
            options, dropped = ranked + rest, [label for label, _option in rest]
        else:
            options, dropped = by_label, []
        with Vertical(classes="dialog") as box:
            box.border_title = f"Your ballot · round {self.view.round_number}"
            yield Static(plain(decision.question, style="bold"), id="ballot-question")
            yield RankingEditor(options, dropped=dropped, id="ballot-ranking")
            if own:
                yield Static(Text("Your own proposals are left off your ballot.", style="dim"))
            yield Static(KEYS_HINT, id="ballot-hint")
            yield Static(id="ballot-error")

    def on_mount(self) -> None:
        self.query_one(RankingEditor).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_cast(self) -> None:
        ranking = self.query_one(RankingEditor).ranking
        try:
            ballot = self.engine.cast_human_ballot(self.view.decision.id, ranking)
        except OrkestraError as problem:
            self.query_one("#ballot-error", Static).update(plain(str(problem)))
            return
        self.dismiss(ballot.round)
