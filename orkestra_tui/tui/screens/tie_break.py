"""The committee is deadlocked and asks the human: pick one of the tied options (1 to 9), Enter confirms.

Esc defers: the request stays open in the inbox, the top bar keeps reminding,
and ctrl+t (or a click on the reminder) brings this back.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Static

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import InboxItem
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.text import plain
from orkestra_tui.tui.widgets.key_bar import KeyBar
from orkestra_tui.wording import percent

MAX_CHOICES = 9
KEYS_HINT = "1-9 or ↑↓ pick · Enter confirm · Esc decide later (ctrl+t reopens)"


def tied_options(item: InboxItem, labels: dict[str, str] | None = None) -> list[tuple[str, float]]:
    """The tied options of a tie-break request, with their share of first choices.

    Given the decision's stable letters, they come in the order of those letters,
    as the Voting screen lists them.
    """
    tied = [
        (str(entry.get("option", "")), float(entry.get("support", 0.0)))
        for entry in item.payload.get("tied", [])
    ]
    if labels:
        order = list(labels)
        tied.sort(key=lambda entry: order.index(entry[0]) if entry[0] in labels else len(order))
    return tied[:MAX_CHOICES]


class TieBreakScreen(ModalScreen[str | None]):
    """Returns the option chosen (and already sent to the engine), or None if deferred."""

    BINDINGS = [
        *(
            Binding(str(number), f"pick({number - 1})", f"Pick {number}", show=False)
            for number in range(1, 10)
        ),
        Binding("up", "step(-1)", "Previous", show=False),
        Binding("down", "step(1)", "Next", show=False),
        Binding("enter", "confirm", "Confirm"),
        Binding("escape", "defer", "Decide later"),
    ]
    DEFAULT_CSS = """
    TieBreakScreen {
        align: center middle;
        & > Vertical {
            width: 72;
            max-width: 100%;
            height: auto;
            max-height: 100%;
            border: thick $warning;
            border-title-style: bold;
            border-title-color: $warning;
            background: $surface;
            padding: 0 1;
        }
        #tie-question {
            margin-bottom: 1;
        }
        #tie-options {
            margin: 1 0;
        }
        #tie-details {
            margin-bottom: 1;
            max-height: 12;
        }
        #tie-hint {
            color: $text-muted;
        }
        #tie-error {
            color: $error;
            height: auto;
        }
    }
    """

    picked: reactive[int | None] = reactive(None)
    """The index of the option chosen so far, if any."""

    def __init__(self, engine: Engine, item: InboxItem) -> None:
        super().__init__()
        self.engine = engine
        self.item = item
        decision_id = item.payload.get("decision_id")
        self.labels = engine.stable_labels(decision_id) if isinstance(decision_id, int) else {}
        """Each option's stable letter, as the Voting screen shows it."""
        self.options = tied_options(item, self.labels)
        self.details = self._details(decision_id)
        """What the tied options hold (a contest's entries: author and first lines), if they hold anything."""

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Break the tie"
            yield Static(
                plain(str(self.item.payload.get("question", self.item.subject)), style="bold"),
                id="tie-question",
            )
            yield Static(
                Text(f"The committee is deadlocked between {len(self.options)} options. Which one wins?")
            )
            yield Static(self._options_table(), id="tie-options")
            if self.details is not None:
                yield Static(self.details, id="tie-details")
            yield Static(KEYS_HINT, id="tie-hint")
            yield Static(id="tie-error")
        yield KeyBar()  # the modal's own keys, over those of the screen below

    def _details(self, decision_id: object) -> Text | None:
        from orkestra_tui.tui.widgets.option_details import options_text

        if not isinstance(decision_id, int):
            return None
        details = self.engine.option_details(decision_id)
        if not details:
            return None
        view = self.engine.decision_view(decision_id)
        authors = view.decision.authors if view is not None else {}
        tied = {option: self.labels.get(option, "") for option, _support in self.options}
        contest = view is not None and view.decision.category == "contest"
        return options_text(tied, details, authors, contest=contest, lines_shown=2, compact=True)

    def _options_table(self) -> Table:
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        table.add_column(justify="right", no_wrap=True)
        for index, (option, support) in enumerate(self.options):
            chosen = index == self.picked
            table.add_row(
                Text("›" if chosen else " ", style="bold green"),
                Text(f"{index + 1}", style="bold reverse green" if chosen else "bold cyan"),
                Text(self.labels.get(option, ""), style="bold"),
                plain(option, style="bold green" if chosen else ""),
                Text(f"{percent(support)} first choices", style="dim"),
            )
        return table

    def watch_picked(self) -> None:
        if self.is_mounted:
            self.query_one("#tie-options", Static).update(self._options_table())
            self.query_one("#tie-error", Static).update("")

    def action_pick(self, index: int) -> None:
        if 0 <= index < len(self.options):
            self.picked = index

    def action_step(self, step: int) -> None:
        if self.options:
            current = self.picked if self.picked is not None else (-1 if step > 0 else len(self.options))
            self.picked = max(0, min(len(self.options) - 1, current + step))

    def action_confirm(self) -> None:
        if self.picked is None:
            self.query_one("#tie-error", Static).update(f"Pick an option first: 1 to {len(self.options)}.")
            return
        choice = self.options[self.picked][0]
        try:
            self.engine.answer_tie_break(self.item.id, choice)
        except OrkestraError as problem:
            self.query_one("#tie-error", Static).update(plain(str(problem)))
            return
        self.dismiss(choice)

    def action_defer(self) -> None:
        self.dismiss(None)
