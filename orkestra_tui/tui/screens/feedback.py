"""Feedback for the committee: what the agents should consider from the next round on."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static, TextArea

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import Decision
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.text import plain


class FeedbackScreen(DialogScreen[int | None]):
    """A text area; ctrl+s saves the feedback and returns the round it applies from."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save feedback"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    FeedbackScreen {
        & > Vertical {
            width: 72;
        }
        #feedback-text {
            height: 6;
            background: $boost;
        }
        #feedback-hint {
            color: $text-muted;
        }
        #feedback-error {
            color: $error;
            height: auto;
        }
        #feedback-buttons {
            height: auto;
            align-horizontal: right;
            margin-top: 1;
        }
        #feedback-buttons Button {
            margin-left: 2;
        }
    }
    """

    def __init__(self, engine: Engine, decision: Decision) -> None:
        super().__init__()
        self.engine = engine
        self.decision = decision

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Feedback for the next round"
            yield Static(plain(self.decision.question, style="bold"))
            yield Static(
                "The agents read it from the next round on · ctrl+s saves · Esc cancels", id="feedback-hint"
            )
            yield TextArea(id="feedback-text", soft_wrap=True, compact=True)
            yield Static(id="feedback-error")
            with Horizontal(id="feedback-buttons"):
                yield Button("Cancel", id="feedback-cancel", compact=True)
                yield Button("Save feedback", id="feedback-save", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#feedback-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#feedback-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        try:
            round_number = self.engine.add_feedback(self.decision.id, text)
        except OrkestraError as problem:
            self.query_one("#feedback-error", Static).update(plain(str(problem)))
            return
        self.dismiss(round_number)
