"""Feedback for the committee: what the agents should consider from the next round on."""

from __future__ import annotations

from textual.binding import Binding

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Decision
from orkestra_tui.tui.screens.prompt import TextDialog


class FeedbackScreen(TextDialog[int | None]):
    """A text area; ctrl+s saves the feedback and returns the round it applies from."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Save feedback"),
        Binding("escape", "cancel", "Cancel"),
    ]
    ID_PREFIX = "feedback"
    BUTTON_NAMES = ("cancel", "save")

    def __init__(self, engine: Engine, decision: Decision) -> None:
        super().__init__(
            "Feedback for the next round",
            decision.question,
            "The agents read it from the next round on · ctrl+s saves · Esc cancels",
            "Save feedback",
        )
        self.engine = engine
        self.decision = decision

    def submit_text(self, text: str) -> int:
        return self.engine.add_feedback(self.decision.id, text)

    def cancel_result(self) -> None:
        return None
