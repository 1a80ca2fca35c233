"""`orkestra run --until-done` waits while another run holds tasks of its projects.

Two runs may work on one project at once: each claims ready tasks under a
lease, so no task is done twice. A run that finds nothing ready while the other
still holds tasks does not end there: it says so in one line and waits, since
the other's results free the tasks that depend on them. If the other run dies,
its tasks are released at once (its pid is gone from this machine), or when
their leases expire (another machine, or a hung process), and this run takes
them over.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orkestra_tui.commands.run_display import RunProgress
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.execution.scheduler import Scheduler

WAIT_POLL_S = 0.5
"""How often a waiting run looks at the tasks the others hold (and releases those of dead runs)."""


async def wait_for_other_runs(
    engine: Engine, scheduler: Scheduler, project_ids: Collection[int], progress: RunProgress
) -> bool:
    """While other runs hold tasks of these projects and none is ready here, wait (saying so once).

    A holder that dies loses its tasks at once (its pid is gone), one that hangs when its
    leases expire: they come back ready, for this run to take. Returns whether it waited:
    False when no other run holds anything, so the run is over.
    """
    said = ""
    waited = False
    while True:
        scheduler.release_stale()
        holders = engine.tasks_held_elsewhere(project_ids, scheduler.owner)
        if not holders or (waited and engine.has_ready_task(project_ids)):
            return waited
        line = waiting_line(holders)
        if line != said:
            progress.say(line, "yellow")
            said = line
        waited = True
        await asyncio.sleep(WAIT_POLL_S)
        progress.recount()


def waiting_line(holders: Counter[str]) -> str:
    """`waiting: 3 tasks held by another run (pid 1234)`, from the lease owners (host:pid:nonce)."""
    count = sum(holders.values())
    here = socket.gethostname()
    names = []
    for owner in sorted(holders):
        host, _, rest = owner.partition(":")
        pid = rest.partition(":")[0] or "?"
        name = f"pid {pid}" if host == here else f"pid {pid} on {host}"
        if name not in names:
            names.append(name)
    runs = "another run" if len(names) == 1 else f"{len(names)} other runs"
    tasks = "task" if count == 1 else "tasks"
    return f"waiting: {count} {tasks} held by {runs} ({', '.join(names)})"
