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
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import InboxItem, RoundStatus
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.prompt import TextDialog
from orkestra_tui.tui.text import plain
from orkestra_tui.wording import percent

LEADERS_SHOWN = 5


class RoundFeedbackScreen(TextDialog[str]):
    """Returns the feedback sent, or '' when the human skipped."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Send feedback"),
        Binding("escape", "cancel", "Skip"),
    ]
    DEFAULT_CSS = """
    RoundFeedbackScreen {
        #round-feedback-round {
            margin: 1 0;
        }
    }
    """
    ID_PREFIX = "round-feedback"
    BUTTON_NAMES = ("skip", "send")

    def __init__(self, engine: Engine, item: InboxItem) -> None:
        next_round = int(item.payload.get("round", 0))
        super().__init__(
            f"Feedback before round {next_round}",
            str(item.payload.get("question", item.subject)),
            f"The agents read it from round {next_round} on · ctrl+s sends · Esc skips",
            "Send feedback",
            cancel_label="Skip",
        )
        self.engine = engine
        self.item = item
        self.next_round = next_round

    def compose_context(self) -> ComposeResult:
        yield Static(self._round_closed(), id="round-feedback-round")

    def _round_closed(self) -> RenderableType:
        """The round just closed: why it had no winner, and its leading options."""
        from orkestra_tui.engine.voting.committee import Committee

        decision = self.engine.decision(int(self.item.payload.get("decision_id", 0)))
        closed = next(
            (
                item
                for item in (self.engine.rounds(decision.id) if decision else [])
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
                Text("•", style="cyan"), plain(option), Text(f"{percent(share)} first choices", style="dim")
            )
        return Group(headline, table) if leaders else headline

    def submit_text(self, text: str) -> str:
        text = text.strip()
        if not text:
            raise OrkestraError("Write some feedback first, or press Esc to skip.")
        self.engine.answer_round_feedback(self.item.id, text)
        return text

    def cancel_result(self) -> str:
        with suppress(OrkestraError):  # answered or withdrawn meanwhile: nobody waits on it any more
            self.engine.answer_round_feedback(self.item.id, "")
        return ""
