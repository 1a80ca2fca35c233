"""What the database knows of contests: the only writer of `contest` and `contest_entry` (migration 11).

A contest is one task done by several agents at once. Its row says how many agents were
asked for, by whom (`task`, `rule` or `run`), where it is (`ContestState`), its decision
and its winner; an entry's row says which agent made it, where its work is (branch and
commit, or a Markdown artifact), its gates, its cost and how it ended (`EntryState`).
Every change is written with the audit event that describes it, in one transaction, so
a run killed between two entries finds the finished one stored, and pays for it once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orkestra_tui.engine.execution.contest.view import (
    ContestEntryView,
    ContestState,
    ContestView,
    EntryState,
    GateSummary,
)
from orkestra_tui.engine.store.store import Store, Transaction
from orkestra_tui.engine.voting.committee import option_labels

_CONTEST_COLUMNS = "task_id, agents, source, state, decision_id, winner, note"
_ENTRY_COLUMNS = (
    "letter, agent, state, branch, commit_sha, files, added, removed, cost, gates, note, worktree,"
    " base_commit, result, artifact"
)


@dataclass(frozen=True)
class EntryRecord:
    """One entry as stored, with what the contest's own steps need beside the view."""

    letter: str
    agent: str
    state: EntryState
    branch: str | None = None
    commit: str | None = None
    files: tuple[str, ...] = ()
    added: int = 0
    removed: int = 0
    cost: float = 0.0
    gates: tuple[tuple[str, bool], ...] = ()
    """The last gate run: (command, passed) in order."""
    note: str = ""
    worktree: str | None = None
    base_commit: str | None = None
    result: str = ""
    artifact: str | None = None

    @property
    def option(self) -> str:
        return f"Entry {self.letter}"

    @property
    def finished(self) -> bool:
        return self.state is not EntryState.RUNNING

    def view(self, provider: str) -> ContestEntryView:
        passed = sum(1 for _command, ok in self.gates if ok)
        return ContestEntryView(
            letter=self.letter,
            agent=self.agent,
            provider=provider,
            state=self.state,
            gates=GateSummary(passed, len(self.gates) - passed, tuple(command for command, _ in self.gates)),
            files=len(self.files),
            added=self.added,
            removed=self.removed,
            cost=self.cost,
            note=self.note,
            branch=self.branch,
            commit=self.commit,
            artifact=self.artifact,
        )


@dataclass(frozen=True)
class ContestRecord:
    task_id: int
    agents: int
    source: str
    state: ContestState
    decision_id: int | None
    winner: str | None
    note: str
    entries: tuple[EntryRecord, ...] = field(default_factory=tuple)

    def view(self, providers: Mapping[str, str]) -> ContestView:
        return ContestView(
            task_id=self.task_id,
            agents=self.agents,
            state=self.state,
            source=self.source,
            decision_id=self.decision_id,
            winner=self.winner,
            note=self.note,
            entries=tuple(entry.view(providers.get(entry.agent, "")) for entry in self.entries),
        )

    def entry(self, letter: str) -> EntryRecord | None:
        return next((entry for entry in self.entries if entry.letter == letter), None)


# ------------------------------------------------------------------ reads


def _entry(row: Sequence[Any]) -> EntryRecord:
    return EntryRecord(
        letter=row[0],
        agent=row[1],
        state=EntryState(row[2]),
        branch=row[3],
        commit=row[4],
        files=tuple(json.loads(row[5] or "[]")),
        added=row[6],
        removed=row[7],
        cost=row[8],
        gates=tuple((str(command), bool(ok)) for command, ok in json.loads(row[9] or "[]")),
        note=row[10],
        worktree=row[11],
        base_commit=row[12],
        result=row[13],
        artifact=row[14],
    )


def contest(store: Store, task_id: int) -> ContestRecord | None:
    """A task's contest with its entries, or None when the task is no contest."""
    rows = store.query(f"SELECT {_CONTEST_COLUMNS} FROM contest WHERE task_id = ?", (task_id,))
    if not rows:
        return None
    row = rows[0]
    entries = store.query(
        f"SELECT {_ENTRY_COLUMNS} FROM contest_entry WHERE task_id = ? ORDER BY letter", (task_id,)
    )
    return ContestRecord(
        task_id=row[0],
        agents=row[1],
        source=row[2],
        state=ContestState(row[3]),
        decision_id=row[4],
        winner=row[5],
        note=row[6],
        entries=tuple(_entry(entry) for entry in entries),
    )


def contests_in_progress(store: Store, project_id: int | None = None) -> list[int]:
    """The tasks whose contest is under way (running, voting or waiting for the human), by id."""
    states = [state.value for state in ContestState if state.in_progress]
    marks = ", ".join("?" * len(states))
    query = f"SELECT c.task_id FROM contest c JOIN task t ON t.id = c.task_id WHERE c.state IN ({marks})"
    parameters: list[Any] = list(states)
    if project_id is not None:
        query += " AND t.project_id = ?"
        parameters.append(project_id)
    return [task_id for (task_id,) in store.query(query + " ORDER BY c.task_id", parameters)]


def contest_decisions(store: Store) -> set[int]:
    """Decisions that are contests' votes: their contest resumes them, not the supervisor."""
    return {
        decision_id
        for (decision_id,) in store.query("SELECT decision_id FROM contest WHERE decision_id IS NOT NULL")
    }


# ----------------------------------------------------------------- writes


def _audit(
    tx: Transaction, task_id: int, kind: str, summary: str, data: dict[str, Any], *, actor: str = "engine"
) -> None:
    project_id = tx.execute("SELECT project_id FROM task WHERE id = ?", (task_id,)).fetchone()
    tx.audit(
        actor,
        f"contest.{kind}",
        summary,
        subject=f"task:{task_id}",
        project_id=project_id[0] if project_id else None,
        data=data,
    )


def set_contest(
    tx: Transaction, task_id: int, agents: int | None, *, source: str, actor: str, title: str
) -> None:
    """Make the task a contest of AGENTS (None: a single agent again); only before it starts."""
    now = tx.clock.now()
    if agents is None:
        tx.execute("DELETE FROM contest WHERE task_id = ? AND state = 'set'", (task_id,))
        _audit(tx, task_id, "cleared", f"{title!r} runs with one agent", {}, actor=actor)
        return
    tx.execute(
        "INSERT INTO contest (task_id, agents, source, state, created_at, updated_at)"
        " VALUES (?, ?, ?, 'set', ?, ?) ON CONFLICT (task_id) DO UPDATE SET agents = excluded.agents,"
        " source = excluded.source, updated_at = excluded.updated_at",
        (task_id, agents, source, now, now),
    )
    _audit(
        tx,
        task_id,
        "set",
        f"{title!r} runs as a contest of {agents} agents",
        {"agents": agents, "source": source},
        actor=actor,
    )


def start_entries(tx: Transaction, task_id: int, agents: Sequence[str], *, title: str) -> list[str]:
    """The contest starts: an entry per agent, lettered A, B, C...; the letters given."""
    now = tx.clock.now()
    letters = option_labels(len(agents))
    for letter, agent in zip(letters, agents, strict=True):
        tx.execute(
            "INSERT INTO contest_entry (task_id, letter, agent, state, started_at)"
            " VALUES (?, ?, ?, 'running', ?)",
            (task_id, letter, agent, now),
        )
    tx.execute("UPDATE contest SET state = 'running', updated_at = ? WHERE task_id = ?", (now, task_id))
    _audit(
        tx,
        task_id,
        "started",
        f"{title!r} starts as a contest: "
        + ", ".join(f"Entry {letter} by {agent}" for letter, agent in zip(letters, agents, strict=True)),
        {"entries": dict(zip(letters, agents, strict=True))},
    )
    return letters


def restart_entry(tx: Transaction, task_id: int, letter: str, agent: str, *, why: str) -> None:
    """An unfinished entry goes to another agent (its own could not be called, for WHY)."""
    before = tx.execute(
        "SELECT agent FROM contest_entry WHERE task_id = ? AND letter = ?", (task_id, letter)
    ).fetchone()
    tx.execute(
        "UPDATE contest_entry SET agent = ? WHERE task_id = ? AND letter = ? AND state = 'running'",
        (agent, task_id, letter),
    )
    _audit(
        tx,
        task_id,
        "entry_reassigned",
        f"Entry {letter} goes to {agent}: {before[0] if before else '?'} {why}",
        {"letter": letter, "from": before[0] if before else None, "to": agent, "why": why},
    )


def note_worktree(
    tx: Transaction, task_id: int, letter: str, *, branch: str, worktree: str, base_commit: str
) -> None:
    """An entry's worktree and branch exist (made from the integration branch at BASE_COMMIT)."""
    tx.execute(
        "UPDATE contest_entry SET branch = ?, worktree = ?, base_commit = ? WHERE task_id = ? AND letter = ?",
        (branch, worktree, base_commit, task_id, letter),
    )
    _audit(
        tx,
        task_id,
        "entry_worktree",
        f"Entry {letter} works on {branch}, from {base_commit[:12]}",
        {"letter": letter, "branch": branch, "worktree": worktree, "base": base_commit},
    )


def note_calls(tx: Transaction, task_id: int, agents: dict[str, str]) -> None:
    """The entries' calls go out (each recorded as started in this transaction)."""
    _audit(
        tx,
        task_id,
        "entries_called",
        "Asked for " + ", ".join(f"Entry {letter} ({agent})" for letter, agent in agents.items()),
        {"entries": agents},
    )


def finish_entry(
    tx: Transaction,
    task_id: int,
    letter: str,
    state: EntryState,
    *,
    result: str = "",
    cost: float = 0.0,
    note: str = "",
    commit: str | None = None,
    files: Sequence[str] = (),
    added: int = 0,
    removed: int = 0,
    gates: Sequence[tuple[str, bool]] = (),
    artifact: str | None = None,
) -> None:
    """Store an entry the moment it is finished, with the audit event saying how it ended."""
    now = tx.clock.now()
    tx.execute(
        "UPDATE contest_entry SET state = ?, result = ?, cost = cost + ?, note = ?, commit_sha = ?,"
        " files = ?, added = ?, removed = ?, gates = ?, artifact = ?, finished_at = ?"
        " WHERE task_id = ? AND letter = ?",
        (
            state.value,
            result,
            cost,
            note,
            commit,
            json.dumps(list(files)),
            added,
            removed,
            json.dumps([[command, ok] for command, ok in gates]),
            artifact,
            now,
            task_id,
            letter,
        ),
    )
    agent = tx.execute(
        "SELECT agent FROM contest_entry WHERE task_id = ? AND letter = ?", (task_id, letter)
    ).fetchone()
    name = agent[0] if agent else "?"
    kind = "entry_finished" if state is EntryState.PASSED else "entry_dropped"
    how = {
        EntryState.PASSED: "is finished",
        EntryState.DROPPED: "drops out: its gates still fail",
        EntryState.FAILED: "drops out: no usable answer",
        EntryState.RUNNING: "runs",
    }[state]
    _audit(
        tx,
        task_id,
        kind,
        f"Entry {letter} by {name} {how}" + (f" ({note})" if note and state is not EntryState.PASSED else ""),
        {"letter": letter, "agent": name, "state": state.value, "cost": cost, "files": list(files)},
        actor=name,
    )


def set_state(
    tx: Transaction,
    task_id: int,
    state: ContestState,
    *,
    summary: str,
    kind: str,
    decision_id: int | None = None,
    winner: str | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Move the contest on (voting, waiting for the human, won, failed) with its audit event."""
    tx.execute(
        "UPDATE contest SET state = ?, decision_id = coalesce(?, decision_id), winner = coalesce(?, winner),"
        " note = ?, updated_at = ? WHERE task_id = ?",
        (state.value, decision_id, winner, note, tx.clock.now(), task_id),
    )
    _audit(
        tx,
        task_id,
        kind,
        summary,
        {"state": state.value, "decision": decision_id, "winner": winner, **(data or {})},
    )


def forget_worktree(tx: Transaction, task_id: int, letter: str, *, note: str) -> None:
    """A losing entry's worktree and branch are gone (the task merged); its diff stays in the record."""
    tx.execute("UPDATE contest_entry SET worktree = NULL WHERE task_id = ? AND letter = ?", (task_id, letter))
    _audit(tx, task_id, "entry_removed", f"Entry {letter}: {note}", {"letter": letter})
