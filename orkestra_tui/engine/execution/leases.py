"""Leases: which process holds a task, until when, and the cleanup of those a dead run left.

A lease names its owner as host, pid and a nonce. It is taken in the claim's
write transaction and extended while the work runs (`Store.renew_leases`); an
owner that stops renewing (it crashed, or was killed) loses its tasks when the
lease expires, or at once when its pid is gone from this machine: back to
ready, unless the agent had finished (the task is in review, its result
stored), when only the lease goes and the review waits for the next run.
"""

from __future__ import annotations

from orkestra_tui.engine.execution.tasks import give_back, keep_in_review
from orkestra_tui.engine.owners import owner_is_dead
from orkestra_tui.engine.store.store import Store


def release_stale(store: Store, me: str, now: float) -> int:
    """Release the leases (other than `me`'s) that expired or whose process here has died; how many."""
    rows = store.query(
        "SELECT id, title, project_id, status, lease_owner, lease_expires_at FROM task"
        " WHERE lease_owner IS NOT NULL AND lease_owner != ?",
        (me,),
    )
    stale = [row for row in rows if row[5] is None or row[5] < now or owner_is_dead(row[4])]
    if not stale:
        return 0
    released = 0
    with store.transaction() as tx:
        for task_id, title, project_id, status, owner, expires in stale:
            if not store.scalar(
                "SELECT count(*) FROM task WHERE id = ? AND lease_owner = ? AND lease_expires_at IS ?",
                (task_id, owner, expires),
            ):
                continue  # renewed or released since it was read (by its owner, or another cleanup)
            why = "its lease expired" if expires is None or expires < now else "its process is gone"
            if status == "review":
                # The agent's result is stored: it stays, and its review is what the next run resumes.
                keep_in_review(tx, task_id, owner=owner, now=now)
                summary = f"Task {title!r} keeps its result and waits for its review: {why}"
            else:
                give_back(tx, task_id, owner=owner, now=now)
                tx.execute(
                    "UPDATE task_attempt SET outcome = 'abandoned', finished_at = ?"
                    " WHERE task_id = ? AND outcome = 'running'",
                    (now, task_id),
                )
                summary = f"Task {title!r} is ready again: {why}"
            tx.audit(
                "engine",
                "task.lease_expired",
                summary,
                subject=f"task:{task_id}",
                project_id=project_id,
                data={"from": status, "to": "review" if status == "review" else "ready", "owner": owner},
            )
            released += 1
    return released
