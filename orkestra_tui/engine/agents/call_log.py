"""Recording calls to agents: the call row and the audit event that describes it.

A call is recorded twice. Before its request goes out, a row in state
`started` (the agent, the purpose, the process making it and an estimated
cost: `CallStart`); after the answer (or the failure), the same row is
completed with its latency, tokens, cost and error, and the call's audit event.
A process stopped in between leaves its row `started`: a graceful stop marks
it `interrupted` at once (`interrupt_call`), recovery at the next start after
a kill (`recovery.interrupt_dead_calls`). An interrupted call keeps its
estimated cost, so what a project cost never counts less than what was asked.

Kept apart from `calls.py`, which imports the provider layer, so that opening
the engine does not.
"""

from __future__ import annotations

from orkestra_tui.engine.models import CallRecord, CallStart
from orkestra_tui.engine.store.rows import CALL_START_INSERT, call_start
from orkestra_tui.engine.store.store import Transaction

INTERRUPTED_CALL_NOTE = "the process stopped before the answer came"
"""The error of a call interrupted by a stop, its cost the estimate made before it."""


def start_call(tx: Transaction, start: CallStart) -> int:
    """Record a call as started in the caller's transaction (`Store.start_call` outside one); its id."""
    cursor = tx.execute(CALL_START_INSERT, call_start(start))
    return int(cursor.lastrowid or 0)


def record_call(
    tx: Transaction,
    record: CallRecord,
    project_id: int | None = None,
    *,
    decision_id: int | None = None,
    task_id: int | None = None,
) -> None:
    """Store a call record, tied to the decision or task it served, with its audit event.

    A record with a `call_id` completes the row written when the call started.
    """
    if record.call_id is not None:
        # Only what the answer brought: the indexed columns (agent, its work) were written at the start.
        tx.execute(
            "UPDATE call SET model = ?, started_at = ?, latency_ms = ?, tokens_in = ?, tokens_out = ?,"
            " cost = ?, error_class = ?, error = ?, output_mode = ?, state = 'complete' WHERE id = ?",
            (
                record.model,
                record.started_at,
                record.latency_ms,
                record.tokens_in,
                record.tokens_out,
                record.cost,
                record.error_class,
                record.error,
                record.output_mode,
                record.call_id,
            ),
        )
    else:
        tx.execute(
            "INSERT INTO call (agent, model, purpose, started_at, latency_ms, tokens_in, tokens_out,"
            " cost, error_class, error, decision_id, task_id, project_id, output_mode)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.agent,
                record.model,
                record.purpose,
                record.started_at,
                record.latency_ms,
                record.tokens_in,
                record.tokens_out,
                record.cost,
                record.error_class,
                record.error,
                decision_id,
                task_id,
                project_id,
                record.output_mode,
            ),
        )
    outcome = f"failed ({record.error_class})" if record.error_class else "answered"
    data: dict[str, object] = {
        "model": record.model,
        "tokens_in": record.tokens_in,
        "tokens_out": record.tokens_out,
        "cost": record.cost,
        "error": record.error,
    }
    if record.output_mode:
        data["output_mode"] = record.output_mode
    tx.audit(
        record.agent,
        "call.failed" if record.error_class else "call.ok",
        f"{record.agent} {outcome} a {record.purpose or 'request'} in {record.latency_ms:.0f} ms",
        subject=f"agent:{record.agent}",
        project_id=project_id,
        data=data,
    )


def interrupt_call(tx: Transaction, call_id: int, start: CallStart, latency_ms: float) -> bool:
    """Mark a started call interrupted (its estimated cost kept), with its audit event; whether it was."""
    cursor = tx.execute(
        "UPDATE call SET state = 'interrupted', error_class = 'interrupted', error = ?, latency_ms = ?"
        " WHERE id = ? AND state = 'started'",
        (INTERRUPTED_CALL_NOTE, latency_ms, call_id),
    )
    if not cursor.rowcount:
        return False
    tx.audit(
        start.agent,
        "call.interrupted",
        f"{start.agent}'s {start.purpose or 'request'} was interrupted: {INTERRUPTED_CALL_NOTE}",
        subject=f"agent:{start.agent}",
        project_id=start.project_id,
        data={"call": call_id, "estimated_cost": start.estimated_cost},
    )
    return True
