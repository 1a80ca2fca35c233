"""Which process owns a lease, a call or a plan run: a name for this process, and whether another is dead.

An owner is named by host, pid and a nonce. Leases, recovery, snapshots and plan runs all ask
the same question of an owner, so it is answered here, below every group.
"""

from __future__ import annotations

import os
import socket
import uuid


def lease_owner_name() -> str:
    """This process: its host, pid and a nonce (a pid can be reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """Whether a lease owner is a process on this machine that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
