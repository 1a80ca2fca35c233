"""A ranking built from the keyboard: move the cursor, move options up and down, drop or restore them.

Ranked options come first, best first; dropped options sit below them, dimmed,
and are left off the ballot.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget

from orkestra_tui.tui.text import plain


class RankingEditor(Widget, can_focus=True):
    """Options as (label, text) pairs; `ranking` is the options kept, in order."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Cursor up", show=False),
        Binding("down,j", "cursor(1)", "Cursor down", show=False),
        Binding("shift+up,K,minus", "move(-1)", "Move up"),
        Binding("shift+down,J,plus", "move(1)", "Move down"),
        Binding("space,d,delete", "toggle_drop", "Drop / restore"),
    ]
    DEFAULT_CSS = """
    RankingEditor {
        height: auto;
        padding: 0 1;
    }
    """

    entries: reactive[tuple[tuple[str, str], ...]] = reactive((), layout=True)
    """Every option as (label, text): the ranked ones first, in order, then the dropped ones."""
    dropped: reactive[frozenset[str]] = reactive(frozenset())
    """Labels of the options left off the ballot."""
    cursor: reactive[int] = reactive(0)
    """The row the keys act on."""

    def __init__(
        self,
        options: Sequence[tuple[str, str]],
        *,
        dropped: Sequence[str] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        kept = [entry for entry in options if entry[0] not in dropped]
        left_off = [entry for entry in options if entry[0] in dropped]
        self.set_reactive(RankingEditor.entries, tuple(kept + left_off))
        self.set_reactive(RankingEditor.dropped, frozenset(dropped))

    @property
    def ranking(self) -> tuple[str, ...]:
        """The texts of the ranked options, best first."""
        return tuple(text for label, text in self.entries if label not in self.dropped)

    @property
    def ranked_labels(self) -> tuple[str, ...]:
        return tuple(label for label, _text in self.entries if label not in self.dropped)

    def render(self) -> Text:
        lines = Text()
        rank = 0
        for row, (label, text) in enumerate(self.entries):
            if row:
                lines.append("\n")
            is_dropped = label in self.dropped
            cursor_style = " reverse" if row == self.cursor and self.has_focus else ""
            if row == self.cursor:
                lines.append("› ", style="bold")
            else:
                lines.append("  ")
            if is_dropped:
                line = Text(f" –  {label}  ", style="dim" + cursor_style)
                line.append_text(plain(text, style="dim strike" + cursor_style))
            else:
                rank += 1
                line = Text(f"{rank:>2}. ", style="bold" + cursor_style)
                line.append(f"{label}  ", style="bold cyan" + cursor_style)
                line.append_text(plain(text, style=cursor_style.strip()))
            lines.append_text(line)
        return lines

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_cursor(self, step: int) -> None:
        if self.entries:
            self.cursor = max(0, min(len(self.entries) - 1, self.cursor + step))

    def action_move(self, step: int) -> None:
        """Move the option under the cursor up or down among the ranked options."""
        ranked = len(self.ranked_labels)
        row = self.cursor
        target = row + step
        if row >= ranked or not 0 <= target < ranked:
            return
        entries = list(self.entries)
        entries[row], entries[target] = entries[target], entries[row]
        self.entries = tuple(entries)
        self.cursor = target

    def action_toggle_drop(self) -> None:
        """Drop the option under the cursor to the bottom, or restore it as the last ranked one."""
        if not self.entries:
            return
        entries = list(self.entries)
        label, text = entries.pop(self.cursor)
        if label in self.dropped:
            dropped = self.dropped - {label}
            ranked = sum(1 for other, _text in entries if other not in dropped)
            entries.insert(ranked, (label, text))
        else:
            dropped = self.dropped | {label}
            entries.append((label, text))
        self.dropped = dropped
        self.entries = tuple(entries)
