"""An agent's latest refused answers in full (Enter on the Health screen): what it said, and why not.

Each answer is shown as kept with its call (keys redacted, cut at 16 KB with a
marker), literally: markup as typed, control characters as visible escapes.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from orkestra_tui.engine.agents.raw_answers import RefusedAnswer
from orkestra_tui.tui.screens.dialog import DialogScreen
from orkestra_tui.tui.text import clock_time, plain


def refused_heading(answer: RefusedAnswer) -> str:
    """What was asked and when: `ballot, round 2, at 12:03:04`."""
    asked = answer.purpose or "request"
    if answer.round is not None:
        asked += f", round {answer.round}"
    return f"{asked}, at {clock_time(answer.started_at)}"


def refused_answers_text(answers: Sequence[RefusedAnswer]) -> Text:
    """Each answer, newest first: what was asked, why it was refused, then the answer itself."""
    text = Text()
    for number, answer in enumerate(reversed(answers)):
        if number:
            text.append("\n\n")
        text.append(refused_heading(answer), style="bold")
        text.append("\nrefused: ", style="yellow")
        text.append_text(plain(answer.problem, style="yellow"))
        text.append("\n")
        text.append_text(plain(answer.text or "(empty)"))
    return text


class RefusedAnswersScreen(DialogScreen[None]):
    """An agent's refused answers, newest first; Esc or Enter closes it."""

    BINDINGS = [Binding("escape,enter", "close", "Close")]
    DEFAULT_CSS = """
    RefusedAnswersScreen {
        & > .dialog { width: 100; }
    }
    """

    def __init__(self, agent: str, answers: Sequence[RefusedAnswer]) -> None:
        super().__init__()
        self.agent = agent
        self.answers = tuple(answers)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = plain(f"{self.agent}'s refused answers").plain
            yield Static(refused_answers_text(self.answers), id="refused-answers")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
