"""Recording calls to agents: the call row and the audit event that describes it.

Kept apart from `calls.py`, which imports the provider layer, so that opening
the engine does not.
"""

from __future__ import annotations

from orkestra_tui.engine.models import CallRecord
from orkestra_tui.engine.store import Transaction


def record_call(
    tx: Transaction,
    record: CallRecord,
    project_id: int | None = None,
    *,
    decision_id: int | None = None,
    task_id: int | None = None,
) -> None:
    """Store a call record, tied to the decision or task it served, with its audit event."""
    tx.execute(
        "INSERT INTO call (agent, model, purpose, started_at, latency_ms, tokens_in, tokens_out,"
        " cost, error_class, error, decision_id, task_id, project_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        ),
    )
    outcome = f"failed ({record.error_class})" if record.error_class else "answered"
    tx.audit(
        record.agent,
        "call.failed" if record.error_class else "call.ok",
        f"{record.agent} {outcome} a {record.purpose or 'request'} in {record.latency_ms:.0f} ms",
        subject=f"agent:{record.agent}",
        project_id=project_id,
        data={
            "model": record.model,
            "tokens_in": record.tokens_in,
            "tokens_out": record.tokens_out,
            "cost": record.cost,
            "error": record.error,
        },
    )
