"""What other processes committed to the database since the last look.

Several processes may share one data dir (the app, `orkestra run`, any
command). SQLite's `PRAGMA data_version`, read on this process's own
connection, changes only when another connection commits, so looking costs one
pragma while nothing happens elsewhere. When it has changed, the audit events
written since the last look tell what changed: every change in the store is
committed with its audit event. This process's own events were already
published on its bus, so they are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from orkestra_tui.engine.events import EngineEvent, EventBus, Subscription
from orkestra_tui.engine.store import rows as convert
from orkestra_tui.engine.store.store import Store

MOST_EVENTS = 200
"""Past this many events since the last look, they are not read one by one: everything may have changed."""
EVERYTHING = "store.changed"
"""The kind of the one event that stands for more changes than `MOST_EVENTS`."""


@dataclass(frozen=True)
class ExternalChanges:
    """What other processes committed since the last look."""

    events: tuple[EngineEvent, ...]
    """Their audit events, oldest first, marked `external`; one `store.changed` event when there were many."""

    @property
    def everything(self) -> bool:
        """Whether too much changed to say what: re-read all."""
        return any(event.kind == EVERYTHING for event in self.events)

    def concern(self, *prefixes: str) -> bool:
        """Whether any change is of these kinds (or too much changed to say)."""
        return self.everything or any(event.is_kind(*prefixes) for event in self.events)


class ChangeWatch:
    """Tells what other connections committed to one store since it last looked."""

    def __init__(self, store: Store, bus: EventBus) -> None:
        self.store = store
        self._version = self._data_version()
        self._seen_id = store.newest_audit_id()
        """Every audit event up to this id has been accounted for."""
        self._own_ids: set[int] = set()
        """Events this process published since the last look (they are not news to it)."""
        self._subscription: Subscription = bus.subscribe(self._published)

    def _data_version(self) -> int:
        return int(self.store.scalar("PRAGMA data_version"))

    def _published(self, event: EngineEvent) -> None:
        if event.audit_id is not None and not event.external:
            self._own_ids.add(event.audit_id)

    def close(self) -> None:
        self._subscription.close()

    def changes(self) -> ExternalChanges | None:
        """What other processes committed since the last call; None when nothing was."""
        version = self._data_version()
        if version == self._version:
            # Nothing from elsewhere: whatever was written since is this process's own.
            if self._own_ids:
                self._seen_id = max(self._seen_id, *self._own_ids)
                self._own_ids.clear()
            return None
        self._version = version
        rows = [
            convert.audit(row)
            for row in self.store.query(
                f"SELECT {convert.AUDIT_COLUMNS} FROM audit WHERE id > ? ORDER BY id LIMIT ?",
                (self._seen_id, MOST_EVENTS + 1),
            )
        ]
        own, self._own_ids = self._own_ids, set()
        if len(rows) > MOST_EVENTS:
            newest = self.store.newest_audit_id()
            self._seen_id = newest
            return ExternalChanges(
                (
                    EngineEvent(
                        EVERYTHING, "Another process changed the store", audit_id=newest, external=True
                    ),
                )
            )
        if rows:
            self._seen_id = rows[-1].id
        foreign = [EngineEvent.from_audit(row, external=True) for row in rows if row.id not in own]
        return ExternalChanges(tuple(foreign)) if foreign else None
