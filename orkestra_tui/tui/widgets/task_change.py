"""A task's change in its project's repository, as a section of the Board's task detail.

Its branch, its commit, how far it got (working, gated, approved, merged, kept, with the
note that says why), and every gate run: the command, passed or failed, how long it took,
and the end of a failed gate's output. Gate output is whatever the project's commands
printed over an agent's change: it is shown through `plain`, literally.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from orkestra_tui.engine.repo.changes import GateRecord, TaskChange
from orkestra_tui.tui.text import plain

SHORT_COMMIT = 10
FAILED_OUTPUT_LINES = 12
"""The most lines of a failed gate's output shown: its end, where the error usually is."""
FAILED_OUTPUT_LINE_CHARS = 160
STATE_LABELS = {
    "working": ("working", "bold cyan"),
    "gated": ("gated: waits for review", "bold magenta"),
    "approved": ("approved: it merges next", "bold yellow"),
    "merged": ("merged", "bold green"),
    "kept": ("kept", "bold red"),
}


def short_commit(commit: str | None) -> str:
    return commit[:SHORT_COMMIT] if commit else ""


def change_text(branch: str, change: TaskChange | None, gates: Sequence[GateRecord]) -> Text:
    """The "Repository" section of a task of a linked project (BRANCH: the integration branch)."""
    text = Text("\n")  # below the heading's part: one blank line, as between sections
    text.append("Repository", style="bold underline")
    text.append("\n")
    if change is None:
        text.append("No change yet: ", style="dim")
        text.append("the task gets a branch and a worktree when it starts, and merges into ", style="dim")
        text.append_text(plain(branch, style="bold"))
        return text
    label, style = STATE_LABELS.get(change.state, (change.state, "bold"))
    text.append("State   ", style="dim")
    text.append(label, style=style)
    if change.note:
        text.append(" · ", style="dim")
        text.append_text(plain(change.note))
    text.append("\nBranch  ", style="dim")
    text.append_text(plain(change.branch, style="bold"))
    text.append("\nCommit  ", style="dim")
    if change.commit:
        text.append(short_commit(change.commit), style="bold")
    else:
        text.append("none yet", style="dim")
    if change.merged_commit:
        text.append("  merged as ", style="dim")
        text.append(short_commit(change.merged_commit), style="bold green")
        text.append(" into ", style="dim")
        text.append_text(plain(branch))
    if change.reruns:
        text.append(f"  run again {change.reruns}×", style="yellow")
    if change.files:
        text.append("\nFiles   ", style="dim")
        text.append_text(plain(", ".join(change.files)))
        text.append("  d shows the diff", style="dim")
    text.append_text(gates_text(gates))
    return text


def gates_text(gates: Sequence[GateRecord]) -> Text:
    """Each gate run, in order, with the end of a failed one's output."""
    text = Text("\nGates   ", style="dim")
    if not gates:
        text.append("none run yet", style="dim")
        return text
    for gate in gates:
        text.append("\n  ")
        text.append("✔ " if gate.passed else "✘ ", style="green" if gate.passed else "bold red")
        text.append_text(plain(gate.command, style="bold"))
        outcome = "passed" if gate.passed else failure(gate)
        text.append(f"  {outcome}", style="green" if gate.passed else "red")
        where = f"try {gate.attempt}" if gate.stage == "task" else "after merging"
        text.append(f" · {gate.duration_s:.1f} s · {where}", style="dim")
        if not gate.passed and gate.output.strip():
            text.append_text(output_text(gate.output))
    return text


def failure(gate: GateRecord) -> str:
    if gate.exit_code is None:
        return "failed (timed out or did not start)"
    return f"failed, exit {gate.exit_code}"


def output_text(output: str) -> Text:
    """The last lines of a gate's output, indented, each cut to a readable width."""
    lines = output.rstrip().splitlines()
    shown = lines[-FAILED_OUTPUT_LINES:]
    text = Text()
    if len(lines) > len(shown):
        text.append(f"\n      … {len(lines) - len(shown)} lines before", style="dim")
    for line in shown:
        cut = line if len(line) <= FAILED_OUTPUT_LINE_CHARS else line[: FAILED_OUTPUT_LINE_CHARS - 1] + "…"
        text.append("\n      ")
        text.append_text(plain(cut, style="red"))
    return text
