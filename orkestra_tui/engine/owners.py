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


def owner_pid(owner: str) -> str:
    """The pid in a lease owner's name (host:pid:nonce)."""
    return owner.split(":")[1] if owner.count(":") >= 2 else "?"


def live_other_owner(owner: str | None, me: str) -> str | None:
    """`owner`, if it names another process on this machine that still runs (not `me`, not this pid)."""
    if not owner or owner == me or not owner.startswith(f"{socket.gethostname()}:"):
        return None
    if owner_pid(owner) == str(os.getpid()):
        return None  # this process, under another name (another of its workers)
    return None if owner_is_dead(owner) else owner
