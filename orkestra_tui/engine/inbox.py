"""Questions to the human as durable futures.

Every question (a tie-break, a plan approval, feedback between rounds, a task
review, a budget stop) is a row in the inbox table and an awaitable here. The
TUI answers from the keyboard, headless commands by policy; after a restart
the open rows are still there, and whoever resumes the work waits on them
again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from orkestra_tui.engine.models import InboxItem, InboxKind, InboxStatus
from orkestra_tui.engine.store.store import Store, Transaction, dumps
from orkestra_tui.errors import OrkestraError

ANSWER_POLL_S = 1.0
"""How often a wait looks in the store for an answer another process gave."""


class InboxError(OrkestraError):
    """An inbox request cannot be answered as asked."""


class Inbox:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._waiters: dict[int, list[asyncio.Future[Any]]] = {}

    def ask(
        self,
        kind: InboxKind,
        subject: str,
        payload: dict[str, Any],
        *,
        project_id: int | None = None,
        actor: str = "engine",
    ) -> InboxItem:
        with self.store.transaction() as tx:
            item_id = self.ask_in(tx, kind, subject, payload, project_id=project_id, actor=actor)
        item = self.store.inbox_item(item_id)
        assert item is not None
        return item

    def ask_in(
        self,
        tx: Transaction,
        kind: InboxKind,
        subject: str,
        payload: dict[str, Any],
        *,
        project_id: int | None = None,
        actor: str = "engine",
    ) -> int:
        """`ask` inside the caller's transaction, with the change that prompts it; the new item's id."""
        cursor = tx.execute(
            "INSERT INTO inbox (project_id, kind, subject, payload, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (project_id, kind.value, subject, dumps(payload), InboxStatus.OPEN.value, tx.clock.now()),
        )
        item_id = int(cursor.lastrowid or 0)
        tx.audit(
            actor,
            "inbox.opened",
            f"Asked the human: {subject}",
            subject=f"inbox:{item_id}",
            project_id=project_id,
            data={"kind": kind.value, "payload": payload},
        )
        return item_id

    def answer(self, item_id: int, answer: Any, *, actor: str = "human") -> InboxItem:
        """Record the answer and wake whoever waits for it."""
        with self.store.transaction() as tx:
            self.answer_in(tx, item_id, answer, actor=actor)
        self.wake(item_id, answer)
        answered = self.store.inbox_item(item_id)
        assert answered is not None
        return answered

    def answer_in(self, tx: Transaction, item_id: int, answer: Any, *, actor: str = "human") -> InboxItem:
        """`answer` inside the caller's transaction; call `wake` once it has committed."""
        item = self.store.inbox_item(item_id)
        if item is None:
            raise InboxError(f"there is no inbox request {item_id}")
        if item.status is not InboxStatus.OPEN:
            raise InboxError(f"inbox request {item_id} is already {item.status.value}")
        tx.execute(
            "UPDATE inbox SET status = ?, answer = ?, answered_at = ? WHERE id = ?",
            (InboxStatus.ANSWERED.value, dumps(answer), tx.clock.now(), item_id),
        )
        tx.audit(
            actor,
            "inbox.answered",
            f"Answered: {item.subject}",
            subject=f"inbox:{item_id}",
            project_id=item.project_id,
            data={"kind": item.kind.value, "answer": answer},
        )
        return item

    def wake(self, item_id: int, answer: Any) -> None:
        """Hand an answer, committed, to whoever waits for it."""
        for waiter in self._waiters.pop(item_id, []):
            if not waiter.done():
                waiter.set_result(answer)

    def cancel(self, item_id: int, reason: str, *, actor: str = "engine") -> None:
        with self.store.transaction() as tx:
            item = self.store.inbox_item(item_id)
            if item is None or item.status is not InboxStatus.OPEN:
                return
            tx.execute(
                "UPDATE inbox SET status = ?, answered_at = ? WHERE id = ?",
                (InboxStatus.CANCELLED.value, tx.clock.now(), item_id),
            )
            tx.audit(
                actor,
                "inbox.cancelled",
                f"Withdrawn: {item.subject} ({reason})",
                subject=f"inbox:{item_id}",
                project_id=item.project_id,
            )
        for waiter in self._waiters.pop(item_id, []):
            if not waiter.done():
                waiter.cancel()

    async def wait(self, item_id: int) -> Any:
        """The answer to a request, waiting for it if it is still open."""
        item = self.store.inbox_item(item_id)
        if item is None:
            raise InboxError(f"there is no inbox request {item_id}")
        if item.status is InboxStatus.ANSWERED:
            return item.answer
        if item.status is InboxStatus.CANCELLED:
            raise asyncio.CancelledError(f"inbox request {item_id} was withdrawn")
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(item_id, []).append(waiter)
        try:
            while True:
                # Answered here, `wake` settles the waiter; answered by another process on the same
                # data dir (the app in another terminal or browser tab), only the store says so.
                done, _pending = await asyncio.wait({waiter}, timeout=ANSWER_POLL_S)
                if done:
                    return waiter.result()
                item = self.store.inbox_item(item_id)
                if item is not None and item.status is InboxStatus.ANSWERED:
                    return item.answer
                if item is None or item.status is InboxStatus.CANCELLED:
                    raise asyncio.CancelledError(f"inbox request {item_id} was withdrawn")
        finally:
            waiters = self._waiters.get(item_id, [])
            if waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[item_id]
            waiter.cancel()

    def open_items(self) -> list[InboxItem]:
        return self.store.inbox(InboxStatus.OPEN)
