"""Which process is carrying a plan forward, so that two never pay for the same steps.

A process that runs a plan's steps (`orkestra plan`, or the app) records a
`plan.run` audit event naming itself as a lease owner does (host, pid, nonce).
Another process about to run the same plan first asks whether that owner is
still alive on this machine: if it is, the plan is left to it. A killed run's
pid is gone, so its plan can be resumed at once.
"""

from __future__ import annotations

import json

from orkestra_tui.engine.owners import live_other_owner
from orkestra_tui.engine.store.store import Store


def note_plan_run(store: Store, project_id: int, owner: str, *, resumed: bool) -> None:
    """Record that `owner` now runs the plan of `project_id`."""
    with store.transaction() as tx:
        tx.audit(
            "engine",
            "plan.run",
            "Planning resumed" if resumed else "Planning runs",
            subject=f"project:{project_id}",
            project_id=project_id,
            data={"owner": owner, "resumed": resumed},
        )


def live_plan_holder(store: Store, project_id: int, me: str) -> str | None:
    """The other live process on this machine running the plan of `project_id`, if one is."""
    row = store.query(
        "SELECT data FROM audit WHERE kind = 'plan.run' AND project_id = ? ORDER BY id DESC LIMIT 1",
        (project_id,),
    )
    if not row:
        return None
    return live_other_owner(str(json.loads(str(row[0][0])).get("owner", "")), me)
