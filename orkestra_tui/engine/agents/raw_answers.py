"""The raw text of answers that could not be used, kept with their calls for a human to read.

When an agent's answer is refused (it is not the JSON asked for, or fails its
checks), the ballot, plan or review that comes of it holds only the reason.
`keep_refused_answer` keeps the answer itself beside its call row, in the
table `call_answer`: redacted once more (`secrets.redact`) and cut to
`RAW_ANSWER_CHARS` characters, with a marker saying how much was cut. The
Health screen shows an agent's latest ones, the Voting screen's ballot card
those behind a ballot that did not count or was repaired.

Only refused answers are kept. An accepted answer is already stored in the
form it was used in (a ballot's ranking and reasoning, a plan, a review, a
result), and keeping every raw answer too would add up to 16 KB to every call
in runs of hundreds of thousands of calls; refused ones are few (one repair at
most per question) and are the only ones whose text would otherwise be lost.

Nothing here imports the provider layer: the outcome and request are used only
for the values they carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orkestra_tui.secrets import redact

if TYPE_CHECKING:
    from orkestra_tui.engine.agents.calls import CallOutcome
    from orkestra_tui.engine.store.store import Store
    from orkestra_tui.providers.base import ProviderRequest

RAW_ANSWER_CHARS = 16_384
"""The most characters of one answer kept (16 KB of plain text); the rest is cut, and the cut marked."""
PROBLEM_CHARS = 500
"""The most characters of the reason an answer was refused kept beside it."""

_COLUMNS = "a.call_id, a.agent, c.purpose, c.started_at, a.problem, a.text, a.length, a.round"


@dataclass(frozen=True)
class RefusedAnswer:
    """An answer that could not be used, as kept: redacted, and cut to `RAW_ANSWER_CHARS`."""

    call_id: int
    agent: str
    purpose: str
    """What the call asked for: ballot, plan, review, compromise, synthesis…"""
    started_at: float
    problem: str
    """Why the answer was refused."""
    text: str
    """The answer as the agent gave it (keys redacted), ending with a marker if it was cut."""
    length: int
    """How many characters the whole answer had, before the cut."""
    round: int | None
    """The voting round a ballot was asked for; None for anything else."""

    @property
    def cut(self) -> int:
        """How many characters of the answer were not kept."""
        return max(0, self.length - RAW_ANSWER_CHARS)


def kept_text(answer: str) -> tuple[str, int]:
    """`answer` as it is kept, and its whole length: redacted, then cut, with a marker if it was.

    Redacted before the cut, so that no key survives in part at the cut. Lone
    surrogates (undecodable bytes) are kept as their escapes: SQLite takes only
    UTF-8.
    """
    text = redact(answer).encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) <= RAW_ANSWER_CHARS:
        return text, len(text)
    cut = len(text) - RAW_ANSWER_CHARS
    characters = "character" if cut == 1 else "characters"
    return f"{text[:RAW_ANSWER_CHARS]}\n[… {cut:,} more {characters} cut]", len(text)


def keep_refused_answer(
    store: Store, outcome: CallOutcome, problem: str, request: ProviderRequest | None = None
) -> None:
    """Keep a refused answer with the call that brought it, with its audit event.

    `request` is the one asked (a ballot's names its round). Nothing is kept
    for a call that has no row (a read-only store records none) or no answer.
    """
    call_id = outcome.record.call_id
    if outcome.response is None or call_id is None or store.read_only:
        return
    call = store.query("SELECT agent, purpose, project_id FROM call WHERE id = ?", (call_id,))
    if not call:
        return
    agent, purpose, project_id = call[0]
    text, length = kept_text(outcome.response.text)
    reason = redact(problem)[:PROBLEM_CHARS]
    round_asked = request.context.get("round") if request is not None and purpose == "ballot" else None
    with store.transaction() as tx:
        tx.execute(
            "INSERT OR REPLACE INTO call_answer (call_id, agent, problem, text, length, round)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (call_id, agent, reason, text, length, round_asked if isinstance(round_asked, int) else None),
        )
        tx.audit(
            agent,
            "call.answer_refused",
            f"{agent}'s {purpose or 'request'} answer was refused: {reason}",
            subject=f"agent:{agent}",
            project_id=project_id,
            data={"call": call_id, "characters": length, "cut": max(0, length - RAW_ANSWER_CHARS)},
        )


def refused_answers(store: Store, agent: str, limit: int = 3) -> list[RefusedAnswer]:
    """An agent's latest refused answers, oldest first."""
    rows = store.query(
        f"SELECT {_COLUMNS} FROM call_answer AS a JOIN call AS c ON c.id = a.call_id"
        " WHERE a.agent = ? ORDER BY a.call_id DESC LIMIT ?",
        (agent, limit),
    )
    return [_refused(row) for row in reversed(rows)]


def refused_ballot_answers(
    store: Store, decision_id: int, round_number: int
) -> dict[str, list[RefusedAnswer]]:
    """Each voter's refused answers for one round of a decision (its first, then its repair's)."""
    rows = store.query(
        f"SELECT {_COLUMNS} FROM call AS c JOIN call_answer AS a ON a.call_id = c.id"
        " WHERE c.decision_id = ? AND c.purpose = 'ballot' AND a.round = ? ORDER BY a.call_id",
        (decision_id, round_number),
    )
    by_voter: dict[str, list[RefusedAnswer]] = {}
    for row in rows:
        answer = _refused(row)
        by_voter.setdefault(answer.agent, []).append(answer)
    return by_voter


def _refused(row: tuple[Any, ...]) -> RefusedAnswer:
    call_id, agent, purpose, started_at, problem, text, length, round_asked = row
    return RefusedAnswer(
        call_id=int(call_id),
        agent=str(agent),
        purpose=str(purpose),
        started_at=float(started_at),
        problem=str(problem),
        text=str(text),
        length=int(length),
        round=None if round_asked is None else int(round_asked),
    )
