"""A contest task's entries side by side, for the Board's task detail.

One row per entry: its letter, its agent, where it is, its gates, the size of its change
and its cost; the winner marked once decided, the vote's decision named with the key
that opens it. Entries' notes are a model's or a gate's words: shown with `plain`.
"""

from __future__ import annotations

from rich.text import Text

from orkestra_tui.engine.execution.contest.view import (
    ContestEntryView,
    ContestEstimate,
    ContestState,
    ContestView,
    EntryState,
)
from orkestra_tui.tui.text import plain

AGENT_WIDTH = 12
"""The agent column; longer names are cut with an ellipsis."""
ENTRY_STYLES = {
    EntryState.RUNNING: "cyan",
    EntryState.PASSED: "green",
    EntryState.DROPPED: "red",
    EntryState.FAILED: "red",
}
CONTEST_STYLES = {
    ContestState.SET: "bold",
    ContestState.RUNNING: "bold cyan",
    ContestState.VOTING: "bold magenta",
    ContestState.AWAITING_HUMAN: "bold yellow",
    ContestState.WON: "bold green",
    ContestState.FAILED: "bold red",
}
WINNER_MARK = "★"


def money(amount: float) -> str:
    """Dollars to three decimals under one dollar (runs cost cents), two above."""
    return f"${amount:,.3f}" if amount < 1 else f"${amount:,.2f}"


def cell(value: str, width: int) -> str:
    """VALUE cut to WIDTH (an ellipsis where cut) and padded to it."""
    return (value if len(value) <= width else value[: width - 1] + "…").ljust(width)


def change_size(entry: ContestEntryView) -> str:
    """`3 files +40 −2`, or a dash while nothing is known of the change."""
    if entry.state is EntryState.RUNNING or not (entry.files or entry.added or entry.removed):
        return "—"
    files = f"{entry.files} file{'s' * (entry.files != 1)}"
    return f"{files} +{entry.added} −{entry.removed}"


def gates_cell(entry: ContestEntryView) -> tuple[str, str]:
    """What the entry's last gate run says, and its style."""
    gates = entry.gates
    if entry.state is EntryState.RUNNING:
        return "…", "dim"
    if not gates.names:
        return "no gates", "dim"
    return f"{gates.passed}/{gates.passed + gates.failed} pass", "green" if not gates.failed else "red"


def contest_heading(view: ContestView) -> Text:
    """`Contest of 3 agents · voting`, then where its vote is."""
    text = Text("\n\n")
    text.append("Contest", style="bold underline")
    text.append(f"\n{view.agents} agents · ")
    text.append(view.state.label, style=CONTEST_STYLES[view.state])
    if view.winner:
        winner = view.entry(view.winner)
        text.append(f" · {WINNER_MARK} Entry {view.winner}", style="bold green")
        if winner is not None:
            text.append_text(plain(f" ({winner.agent})", style="green"))
    if view.decision_id is not None:
        text.append(f"\nVote: decision {view.decision_id}", style="dim")
        text.append(" · v opens it on the Voting screen", style="dim")
    if view.note:
        text.append("\n")
        text.append_text(plain(view.note, style="yellow"))
    return text


def contest_text(view: ContestView) -> Text:
    """The contest's heading, then its entries as aligned rows (or what starts them)."""
    text = contest_heading(view)
    if not view.entries:
        text.append("\n")
        text.append(
            "The entries start with the task: each agent in its own worktree, then the committee votes."
            if view.state is ContestState.SET
            else "No entries yet.",
            style="dim",
        )
        return text
    text.append("\n")
    header = f"  {cell('Entry', 8)}{cell('Agent', AGENT_WIDTH)} {cell('State', 8)}"
    header += f"{cell('Gates', 9)}{cell('Change', 16)}Cost"
    text.append(header, style="dim")
    for entry in view.entries:
        won = entry.letter == view.winner
        text.append("\n")
        text.append(WINNER_MARK + " " if won else "  ", style="bold green")
        text.append(cell(f"Entry {entry.letter}", 8), style="bold green" if won else "bold")
        text.append_text(plain(cell(entry.agent, AGENT_WIDTH), style="cyan"))
        text.append(" ")
        text.append(cell(entry.state.value, 8), style=ENTRY_STYLES[entry.state])
        gates, gates_style = gates_cell(entry)
        text.append(cell(gates, 9), style=gates_style)
        text.append(cell(change_size(entry), 16))
        text.append(money(entry.cost) if entry.state is not EntryState.RUNNING else "…", style="dim")
    notes = [entry for entry in view.entries if entry.note and entry.state is not EntryState.PASSED]
    for entry in notes:
        text.append(f"\nEntry {entry.letter}: ", style="dim")
        text.append_text(plain(entry.note.strip().splitlines()[0] if entry.note.strip() else "", style="red"))
    text.append("\nd opens each entry in full (e goes to the next)", style="dim")
    return text


def estimate_text(estimate: ContestEstimate) -> str:
    """`3 entries × ~$0.012 + one round ~$0.004 = ~$0.040`."""
    count = len(estimate.per_entry)
    each = sum(estimate.per_entry) / count if count else 0.0
    return f"{count} entries × ~{money(each)} + one round ~{money(estimate.round)} = ~{money(estimate.total)}"
