"""The text dialog the others build on, its simplest use, and a yes-or-no question."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static, TextArea

from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.dialog import DialogScreen, ResultType
from orkestra_tui.tui.text import plain


class TextDialog(DialogScreen[ResultType]):
    """A bold heading, a hint, a text area, an error line, and a cancel and a submit button.

    ctrl+s (or the submit button) hands the text to `submit_text`: the dialog
    returns what it returns, or shows the message of the `OrkestraError` it
    raises and stays open. Esc (or the cancel button) returns `cancel_result()`.
    `compose_context` adds what a subclass shows between heading and hint.
    """

    BINDINGS = [
        Binding("ctrl+s", "submit", "Send"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    TextDialog {
        & > Vertical { width: 72; }
        .text-dialog--text { height: 6; background: $boost; }
        .text-dialog--hint { color: $text-muted; }
        .text-dialog--error { color: $error; height: auto; }
        .text-dialog--buttons { height: auto; align-horizontal: right; margin-top: 1; }
        .text-dialog--buttons Button { margin-left: 2; }
    }
    """
    ID_PREFIX: ClassVar[str] = "text-dialog"
    """Starts the parts' ids: `{prefix}-text`, `-hint`, `-error`, `-buttons`."""
    BUTTON_NAMES: ClassVar[tuple[str, str]] = ("cancel", "submit")
    """End the buttons' ids, `{prefix}-{name}`: the cancel button's, then the submit button's."""

    def __init__(
        self, title: str, heading: str, hint: str, submit_label: str, cancel_label: str = "Cancel"
    ) -> None:
        super().__init__()
        self.title_text = title
        self.heading = heading
        self.hint = hint
        self.submit_label = submit_label
        self.cancel_label = cancel_label

    def compose(self) -> ComposeResult:
        prefix = self.ID_PREFIX
        cancel, submit = self.BUTTON_NAMES
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            yield Static(plain(self.heading, style="bold"))
            yield from self.compose_context()
            yield Static(self.hint, id=f"{prefix}-hint", classes="text-dialog--hint")
            yield TextArea(id=f"{prefix}-text", classes="text-dialog--text", soft_wrap=True, compact=True)
            yield Static(id=f"{prefix}-error", classes="text-dialog--error")
            with Horizontal(id=f"{prefix}-buttons", classes="text-dialog--buttons"):
                yield Button(
                    self.cancel_label, id=f"{prefix}-{cancel}", classes="text-dialog--cancel", compact=True
                )
                yield Button(
                    self.submit_label,
                    id=f"{prefix}-{submit}",
                    classes="text-dialog--submit",
                    variant="primary",
                    compact=True,
                )

    def compose_context(self) -> ComposeResult:
        """What shows between the heading and the hint: nothing, unless a subclass says otherwise."""
        yield from ()

    def submit_text(self, text: str) -> ResultType:
        """What the dialog returns for `text`; an `OrkestraError` keeps it open and shows why."""
        raise NotImplementedError

    def cancel_result(self) -> ResultType:
        """What the dialog returns when Esc or the cancel button closes it."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self.query_one(f"#{self.ID_PREFIX}-text", TextArea).focus()

    @on(Button.Pressed, ".text-dialog--submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, ".text-dialog--cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(self.cancel_result())

    def action_submit(self) -> None:
        try:
            result = self.submit_text(self.query_one(f"#{self.ID_PREFIX}-text", TextArea).text)
        except OrkestraError as problem:
            self.query_one(f"#{self.ID_PREFIX}-error", Static).update(plain(str(problem)))
            return
        self.dismiss(result)


class TextPromptScreen(TextDialog[str | None]):
    """A text area; ctrl+s returns its text (which must not be empty), Esc returns None."""

    ID_PREFIX = "prompt"

    def __init__(self, title: str, heading: str, hint: str, submit_label: str, empty_problem: str) -> None:
        super().__init__(title, heading, f"{hint} · ctrl+s sends · Esc cancels", submit_label)
        self.empty_problem = empty_problem

    def submit_text(self, text: str) -> str:
        if not text.strip():
            raise OrkestraError(self.empty_problem)
        return text.strip()

    def cancel_result(self) -> None:
        return None


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
