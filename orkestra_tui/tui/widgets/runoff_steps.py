"""The counts of an instant runoff (ranked choice): who was eliminated after each one."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from orkestra_tui.engine.voting.decision_view import RunoffStep
from orkestra_tui.tui.text import plain


def runoff_lines(steps: tuple[RunoffStep, ...], winner: str | None) -> Text:
    """A line per count: the votes of each option still in the race, then what happened."""
    lines = Text()
    for step in steps:
        lines.append("\n")
        lines.append(f"{step.number:>2}  ", style="dim")
        for index, (label, count) in enumerate(step.counts):
            if index:
                lines.append(" · ", style="dim")
            lines.append(label, style="bold green" if label == winner else "bold")
            lines.append(f" {count:g}")
        if step.exhausted:
            lines.append(f" ({step.exhausted} exhausted)", style="dim")
        if step.eliminated:
            lines.append(f"  → {step.eliminated} out", style="red")
        elif winner and any(label == winner for label, _count in step.counts):
            lines.append(f"  → {winner} wins", style="bold green")
        else:
            lines.append("  → tied", style="yellow")
        if step.tie_break:
            lines.append("\n    ")
            lines.append_text(plain(step.tie_break, style="dim italic"))
    return lines


class RunoffSteps(Widget):
    """Ranked choice's elimination steps for the round on screen; hidden when there are none."""

    DEFAULT_CSS = """
    RunoffSteps {
        height: auto;
        margin-top: 1;
    }
    """

    steps: reactive[tuple[RunoffStep, ...]] = reactive((), layout=True)
    """The counts, first to last."""
    winner: reactive[str | None] = reactive(None)
    """The winner's label, if the runoff elected one."""

    def watch_steps(self, steps: tuple[RunoffStep, ...]) -> None:
        self.display = bool(steps)

    def render(self) -> Text:
        if not self.steps:
            return Text()
        return Text("Runoff counts", style="bold") + runoff_lines(self.steps, self.winner)
