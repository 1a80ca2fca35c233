"""Between two rounds the committee asks the human for feedback (a decision with the rule `round_feedback`).

ctrl+s sends the text, which the agents read from the next round on; Esc
skips and the committee goes on at once. Either way the request is answered:
the next round waits for nothing else.
"""

from __future__ import annotations

from contextlib import suppress

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static, TextArea

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import InboxItem, RoundStatus
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.text import plain

LEADERS_SHOWN = 5


class RoundFeedbackScreen(DialogScreen[str]):
    """Returns the feedback sent, or '' when the human skipped."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send feedback"),
        Binding("escape", "skip", "Skip"),
    ]
    DEFAULT_CSS = """
    RoundFeedbackScreen {
        & > Vertical {
            width: 72;
        }
        #round-feedback-round {
            margin: 1 0;
        }
        #round-feedback-text {
            height: 6;
            background: $boost;
        }
        #round-feedback-hint {
            color: $text-muted;
        }
        #round-feedback-error {
            color: $error;
            height: auto;
        }
        #round-feedback-buttons {
            height: auto;
            align-horizontal: right;
            margin-top: 1;
        }
        #round-feedback-buttons Button {
            margin-left: 2;
        }
    }
    """

    def __init__(self, engine: Engine, item: InboxItem) -> None:
        super().__init__()
        self.engine = engine
        self.item = item
        self.next_round = int(item.payload.get("round", 0))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = f"Feedback before round {self.next_round}"
            yield Static(plain(str(self.item.payload.get("question", self.item.subject)), style="bold"))
            yield Static(self._round_closed(), id="round-feedback-round")
            yield Static(
                f"The agents read it from round {self.next_round} on · ctrl+s sends · Esc skips",
                id="round-feedback-hint",
            )
            yield TextArea(id="round-feedback-text", soft_wrap=True, compact=True)
            yield Static(id="round-feedback-error")
            with Horizontal(id="round-feedback-buttons"):
                yield Button("Skip", id="round-feedback-skip", compact=True)
                yield Button("Send feedback", id="round-feedback-send", variant="primary", compact=True)

    def _round_closed(self) -> RenderableType:
        """The round just closed: why it had no winner, and its leading options."""
        from orkestra_tui.engine.committee import Committee

        decision = self.engine.store.decision(int(self.item.payload.get("decision_id", 0)))
        closed = next(
            (
                item
                for item in (self.engine.store.rounds(decision.id) if decision else [])
                if item.status is RoundStatus.CLOSED and item.round == self.next_round - 1
            ),
            None,
        )
        if decision is None or closed is None:
            return Text("The last round ended without a winner.")
        reason = str((closed.tally or {}).get("reason", ""))
        headline = Text(f"Round {closed.round} of {decision.max_rounds} ended without a winner")
        headline.append_text(plain(f": {reason}" if reason else "."))
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        table.add_column(justify="right", no_wrap=True)
        leaders = Committee(self.engine).leaders(decision)
        for option, share in list(leaders.items())[:LEADERS_SHOWN]:
            table.add_row(
                Text("•", style="cyan"), plain(option), Text(f"{100 * share:.0f}% first choices", style="dim")
            )
        return Group(headline, table) if leaders else headline

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#round-feedback-send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#round-feedback-skip")
    def _skip_pressed(self) -> None:
        self.action_skip()

    def action_send(self) -> None:
        text = self.query_one(TextArea).text.strip()
        error = self.query_one("#round-feedback-error", Static)
        if not text:
            error.update("Write some feedback first, or press Esc to skip.")
            return
        try:
            self.engine.answer_round_feedback(self.item.id, text)
        except OrkestraError as problem:
            error.update(plain(str(problem)))
            return
        self.dismiss(text)

    def action_skip(self) -> None:
        with suppress(OrkestraError):  # answered or withdrawn meanwhile: nobody waits on it any more
            self.engine.answer_round_feedback(self.item.id, "")
        self.dismiss("")
