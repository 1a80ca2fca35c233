"""In-process publish/subscribe of engine events.

Stored events are the audit events of a committed transaction: the bus tells
subscribers what is already in the store, so a subscriber that misses one can
re-read the store. Live events (an agent started drafting, a call is under way)
are not stored and carry `audit_id = None`.

Subscribers are plain callables run in the engine's thread right after the
commit; they must be quick (the TUI posts a message and returns). A subscriber
that raises is logged and dropped from that delivery, never breaking the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from orkestra_tui.engine.models import AuditEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineEvent:
    kind: str
    summary: str = ""
    subject: str = ""
    project_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    audit_id: int | None = None
    actor: str = "engine"
    external: bool = False
    """Committed by another process (see `watch.py`): news here, though this engine did not do it."""

    @classmethod
    def from_audit(cls, event: AuditEvent, *, external: bool = False) -> EngineEvent:
        return cls(
            kind=event.kind,
            summary=event.summary,
            subject=event.subject,
            project_id=event.project_id,
            data=event.data,
            audit_id=event.id,
            actor=event.actor,
            external=external,
        )

    def is_kind(self, *prefixes: str) -> bool:
        """Whether this event's kind is one of `prefixes` or below one (`task` matches `task.done`)."""
        return any(self.kind == prefix or self.kind.startswith(prefix + ".") for prefix in prefixes)


Subscriber = Callable[[EngineEvent], None]


class Subscription:
    def __init__(self, bus: EventBus, callback: Subscriber) -> None:
        self._bus = bus
        self.callback = callback

    def close(self) -> None:
        self._bus.unsubscribe(self.callback)


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Subscription:
        self._subscribers.append(callback)
        return Subscription(self, callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def publish(self, event: EngineEvent) -> None:
        for callback in tuple(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("event subscriber failed on %s", event.kind)

    def publish_stored(self, events: list[AuditEvent]) -> None:
        if not self._subscribers:
            return
        for event in events:
            self.publish(EngineEvent.from_audit(event))

    async def stream(self) -> AsyncIterator[EngineEvent]:
        """Every event from now on, as an async iterator (for headless commands and tests)."""
        queue: asyncio.Queue[EngineEvent] = asyncio.Queue()
        subscription = self.subscribe(queue.put_nowait)
        try:
            while True:
                yield await queue.get()
        finally:
            subscription.close()
