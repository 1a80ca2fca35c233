"""Writing decisions and ballots: opening a question, each ballot as it arrives, the outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orkestra_tui.engine.errors import VoteRunElsewhere
from orkestra_tui.engine.models import Ballot, Decision, DecisionStatus, RoundStatus
from orkestra_tui.engine.owners import live_other_owner, owner_pid
from orkestra_tui.engine.store.store import Store, Transaction, dumps

MAX_OPTIONS = 26
"""The most options a question to the committee takes: one letter each on every ballot."""


def insert_decision(
    tx: Transaction,
    *,
    question: str,
    options: list[str],
    method: str,
    rules: Mapping[str, Any],
    voters: list[str],
    max_rounds: int,
    category: str,
    project_id: int | None,
    actor: str,
    authors: Mapping[str, str] | None = None,
    details: Mapping[str, str] | None = None,
) -> int:
    """A new decision; DETAILS (option to text) is what each option holds, shown on every ballot."""
    cursor = tx.execute(
        "INSERT INTO decision (project_id, question, options, method, rules, voters, max_rounds,"
        " category, status, created_at, authors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            project_id,
            question.strip(),
            dumps(options),
            method,
            dumps(dict(rules)),
            dumps(voters),
            max_rounds,
            category,
            DecisionStatus.OPEN.value,
            tx.clock.now(),
            dumps(dict(authors or {})),
        ),
    )
    decision_id = int(cursor.lastrowid or 0)
    for option, detail in (details or {}).items():
        tx.execute(
            "INSERT INTO decision_option (decision_id, option, detail) VALUES (?, ?, ?)",
            (decision_id, option, detail),
        )
    tx.audit(
        actor,
        "decision.opened",
        f"Question put to the committee: {question.strip()}",
        subject=f"decision:{decision_id}",
        project_id=project_id,
        data={"options": options, "method": method, "voters": voters},
    )
    return decision_id


def option_details(store: Store, decision_id: int) -> dict[str, str]:
    """What each option of a decision holds beyond its name (a contest entry's diff), by option."""
    return dict(
        store.query("SELECT option, detail FROM decision_option WHERE decision_id = ?", (decision_id,))
    )


def insert_ballot(tx: Transaction, ballot: Ballot, *, project_id: int | None) -> None:
    """Store one ballot (a retried round replaces the voter's earlier one in that round)."""
    tx.execute(
        "INSERT OR REPLACE INTO ballot (decision_id, round, voter, ranking, confidence,"
        " reasoning, abstain_reason, cast_at, excluded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ballot.decision_id,
            ballot.round,
            ballot.voter,
            dumps(list(ballot.ranking)),
            ballot.confidence,
            ballot.reasoning,
            ballot.abstain_reason,
            ballot.cast_at,
            dumps(list(ballot.excluded)),
        ),
    )
    tx.execute(
        "UPDATE decision SET status = ?, current_round = max(current_round, ?) WHERE id = ?",
        (DecisionStatus.VOTING.value, ballot.round, ballot.decision_id),
    )
    what = "abstained" if ballot.is_abstention else f"ranked {' > '.join(ballot.ranking)}"
    tx.audit(
        ballot.voter,
        "ballot.cast",
        f"{ballot.voter} {what} in round {ballot.round}",
        subject=f"decision:{ballot.decision_id}",
        project_id=project_id,
        data={
            "round": ballot.round,
            "ranking": list(ballot.ranking),
            "confidence": ballot.confidence,
            "abstain_reason": ballot.abstain_reason,
        },
    )


def close(
    tx: Transaction, decision: Decision, outcome: Mapping[str, Any], *, status: DecisionStatus, actor: str
) -> None:
    tx.execute(
        "UPDATE decision SET status = ?, outcome = ?, decided_at = ? WHERE id = ?",
        (status.value, dumps(dict(outcome)), tx.clock.now(), decision.id),
    )
    tx.audit(
        actor,
        f"decision.{status.value}",
        str(outcome.get("reason") or f"Decision {decision.id} is {status.value}"),
        subject=f"decision:{decision.id}",
        project_id=decision.project_id,
        data={"winner": outcome.get("winner"), "consensus": outcome.get("consensus")},
    )


def open_round(
    tx: Transaction, decision: Decision, round_number: int, *, estimate: float, note: str = ""
) -> None:
    """Start a round over the decision's current options, with its cost estimate."""
    tx.execute(
        "INSERT INTO decision_round (decision_id, round, options, status, estimate, note, started_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            decision.id,
            round_number,
            dumps(list(decision.options)),
            RoundStatus.OPEN.value,
            estimate,
            note,
            tx.clock.now(),
        ),
    )
    tx.execute(
        "UPDATE decision SET status = ?, current_round = ? WHERE id = ?",
        (DecisionStatus.VOTING.value, round_number, decision.id),
    )
    label = (
        f"Round {round_number} of {decision.max_rounds}"
        if round_number <= decision.max_rounds
        else (f"Extra round {round_number}")
    )
    tx.audit(
        "engine",
        "round.started",
        f"{label} started: {decision.question}" + (f" ({note})" if note else ""),
        subject=f"decision:{decision.id}",
        project_id=decision.project_id,
        data={"round": round_number, "options": list(decision.options), "estimate": estimate, "note": note},
    )


def close_round(tx: Transaction, decision: Decision, round_number: int, tally: Mapping[str, Any]) -> None:
    tx.execute(
        "UPDATE decision_round SET status = ?, tally = ?, closed_at = ? WHERE decision_id = ? AND round = ?",
        (RoundStatus.CLOSED.value, dumps(dict(tally)), tx.clock.now(), decision.id, round_number),
    )
    tx.audit(
        "engine",
        "round.closed",
        f"Round {round_number}: {tally.get('reason', '')}",
        subject=f"decision:{decision.id}",
        project_id=decision.project_id,
        data={"round": round_number, "winner": tally.get("winner"), "tied": tally.get("tied", [])},
    )


def set_status(
    tx: Transaction,
    decision: Decision,
    status: DecisionStatus,
    summary: str,
    *,
    kind: str,
    data: Mapping[str, Any],
) -> None:
    """Move a decision to a working status (deadlocked, awaiting the human) with its audit event."""
    tx.execute("UPDATE decision SET status = ? WHERE id = ?", (status.value, decision.id))
    tx.audit(
        "engine",
        kind,
        summary,
        subject=f"decision:{decision.id}",
        project_id=decision.project_id,
        data=dict(data),
    )


def add_resolution_step(tx: Transaction, decision: Decision, step: str) -> None:
    steps = [*decision.resolution, step]
    tx.execute("UPDATE decision SET resolution = ? WHERE id = ?", (dumps(steps), decision.id))


def add_option(tx: Transaction, decision: Decision, option: str, *, author: str, rationale: str) -> None:
    """Add a compromise option, proposed by `author` (who may not vote for it)."""
    options = [*decision.options, option]
    authors = {**decision.authors, option: author}
    tx.execute(
        "UPDATE decision SET options = ?, authors = ? WHERE id = ?",
        (dumps(options), dumps(authors), decision.id),
    )
    tx.audit(
        author,
        "decision.compromise",
        f"{author} proposed a compromise: {option}",
        subject=f"decision:{decision.id}",
        project_id=decision.project_id,
        data={"option": option, "rationale": rationale},
    )


def add_feedback(tx: Transaction, decision: Decision, round_number: int, text: str) -> None:
    tx.execute(
        "INSERT INTO feedback (decision_id, round, text, created_at) VALUES (?, ?, ?, ?)",
        (decision.id, round_number, text, tx.clock.now()),
    )
    tx.audit(
        "human",
        "decision.feedback",
        f"Feedback for round {round_number}: {text}",
        subject=f"decision:{decision.id}",
        project_id=decision.project_id,
        data={"round": round_number, "text": text},
    )


# ---------------------------------------------------------------- who runs a vote
#
# Several processes may open one data dir: the app in a terminal and in browser tabs
# (`orkestra serve` starts one app per tab), `orkestra vote`, `orkestra mcp`. Each app resumes
# the votes under way when it starts, and the human may break a tie in any of them. The
# process running a vote names itself in `decision.runner` (a lease owner's name: host, pid,
# nonce); another takes the vote over only once that process is gone, so two never pay for
# the same ballots.


def take_vote(store: Store, decision_id: int, me: str) -> None:
    """Name `me` the decision's runner; VoteRunElsewhere if another live process runs it."""
    while True:
        rows = store.query("SELECT runner FROM decision WHERE id = ?", (decision_id,))
        if not rows:
            return  # no such decision: the committee says so
        current = str(rows[0][0]) if rows[0][0] else None
        holder = live_other_owner(current, me)
        if holder is not None:
            raise VoteRunElsewhere(
                f"decision {decision_id} is being voted on by another process (pid {owner_pid(holder)})"
            )
        if current == me or store.swap_decision_runner(decision_id, current, me):
            return
        # Another process took it between the read and the write: look again at who it was.


def leave_vote(store: Store, decision_id: int, me: str) -> None:
    """`me` no longer runs the vote (it ended, waits for the human elsewhere, or was stopped)."""
    store.swap_decision_runner(decision_id, me, None)


def vote_runner(store: Store, decision_id: int, me: str) -> str | None:
    """The other live process running the decision's vote, if one is."""
    runner = store.scalar("SELECT runner FROM decision WHERE id = ?", (decision_id,))
    return live_other_owner(str(runner) if runner else None, me)
