"""What screens and commands see of a contest: plain frozen data, no storage rows, no widgets.

A contest is one task done by several agents at once, each entry in its own worktree
(or as its own Markdown result in a project without a repository); the entries that pass
their gates go to a committee vote, and the winner goes on like any task's result.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ContestState(StrEnum):
    """Where a contest is."""

    SET = "set"
    """Asked for; the task has not started."""
    RUNNING = "running"
    """Its entries are being made."""
    VOTING = "voting"
    """The committee votes between the entries that passed."""
    AWAITING_HUMAN = "awaiting_human"
    """The vote waits for the human's tie-break."""
    WON = "won"
    """An entry won (by the vote, or as the only one left); it goes on as the task's result."""
    FAILED = "failed"
    """No entry passed: the task failed, or went to the human, like a single task would."""

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def in_progress(self) -> bool:
        return self in (ContestState.RUNNING, ContestState.VOTING, ContestState.AWAITING_HUMAN)


class EntryState(StrEnum):
    """Where one entry is."""

    RUNNING = "running"
    PASSED = "passed"
    """Made, and its gates passed (or there are none): it goes to the vote."""
    DROPPED = "dropped"
    """Its gates still failed after its retries: out of the contest."""
    FAILED = "failed"
    """Its agent gave no usable answer: out of the contest."""


@dataclass(frozen=True)
class GateSummary:
    """An entry's last gate run: how many passed and failed, and their commands in order."""

    passed: int = 0
    failed: int = 0
    names: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if not self.names:
            return "no gates"
        return f"{self.passed}/{self.passed + self.failed} gates passed"


@dataclass(frozen=True)
class ContestEntryView:
    """One agent's entry."""

    letter: str
    """A, B, C...: the entry's name everywhere the human looks ("Entry A")."""
    agent: str
    provider: str
    state: EntryState
    gates: GateSummary
    files: int
    added: int
    removed: int
    cost: float
    note: str
    branch: str | None = None
    commit: str | None = None
    artifact: str | None = None
    """Its Markdown result's file, relative to the data directory (a project without a repository)."""

    @property
    def option(self) -> str:
        """The entry's option in the contest's decision."""
        return f"Entry {self.letter}"


@dataclass(frozen=True)
class ContestView:
    """A task's contest: how many agents, where it is, its vote and its entries."""

    task_id: int
    agents: int
    state: ContestState
    source: str
    """Who asked for it: `task` (set on the task), `rule` (config), or `run` (`orkestra run --contest`)."""
    decision_id: int | None
    winner: str | None
    """The winning entry's letter, once there is one."""
    note: str
    entries: tuple[ContestEntryView, ...]

    def entry(self, letter: str) -> ContestEntryView | None:
        return next((entry for entry in self.entries if entry.letter == letter.upper()), None)

    @property
    def line(self) -> str:
        """One line for `orkestra status`: state, entries and the winner."""
        done = sum(1 for entry in self.entries if entry.state is not EntryState.RUNNING)
        passed = sum(1 for entry in self.entries if entry.state is EntryState.PASSED)
        text = f"contest of {self.agents}, {self.state.label}"
        if self.entries:
            text += f": {done}/{len(self.entries)} entries finished, {passed} passed"
        if self.winner:
            winner = self.entry(self.winner)
            text += f"; Entry {self.winner}" + (f" ({winner.agent})" if winner else "") + " won"
        return text


@dataclass(frozen=True)
class ContestEstimate:
    """What a contest should cost before it is run: N runs of the task and one round of ballots."""

    agents: tuple[str, ...]
    """The agents that would make the entries, best first."""
    per_entry: tuple[float, ...]
    round: float
    """One round of the committee's ballots on the entries."""

    @property
    def total(self) -> float:
        return sum(self.per_entry) + self.round
