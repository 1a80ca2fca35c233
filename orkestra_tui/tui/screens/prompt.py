"""Two small dialogs: a few lines of text from the user, and a yes-or-no question."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static, TextArea

from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.text import plain


class TextPromptScreen(DialogScreen[str | None]):
    """A text area; ctrl+s returns its text (which must not be empty), Esc returns None."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Send"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    TextPromptScreen {
        & > Vertical { width: 72; }
        #prompt-text { height: 6; background: $boost; }
        #prompt-hint { color: $text-muted; }
        #prompt-error { color: $error; height: auto; }
        #prompt-buttons { height: auto; align-horizontal: right; margin-top: 1; }
        #prompt-buttons Button { margin-left: 2; }
    }
    """

    def __init__(self, title: str, heading: str, hint: str, submit_label: str, empty_problem: str) -> None:
        super().__init__()
        self.title_text = title
        self.heading = heading
        self.hint = hint
        self.submit_label = submit_label
        self.empty_problem = empty_problem

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            yield Static(plain(self.heading, style="bold"))
            yield Static(f"{self.hint} · ctrl+s sends · Esc cancels", id="prompt-hint")
            yield TextArea(id="prompt-text", soft_wrap=True, compact=True)
            yield Static(id="prompt-error")
            with Horizontal(id="prompt-buttons"):
                yield Button("Cancel", id="prompt-cancel", compact=True)
                yield Button(self.submit_label, id="prompt-submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#prompt-submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#prompt-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.query_one("#prompt-error", Static).update(self.empty_problem)
            return
        self.dismiss(text)


class ConfirmScreen(DialogScreen[bool]):
    """A question; y (or the button) says yes, n or Esc says no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen {
        & > Vertical { width: 60; }
        #confirm-buttons { height: auto; align-horizontal: right; margin-top: 1; }
        #confirm-buttons Button { margin-left: 2; }
    }
    """

    def __init__(self, title: str, question: str, yes_label: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            yield Static(plain(self.question))
            with Horizontal(id="confirm-buttons"):
                yield Button("No (n)", id="confirm-no", compact=True)
                yield Button(f"{self.yes_label} (y)", id="confirm-yes", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
