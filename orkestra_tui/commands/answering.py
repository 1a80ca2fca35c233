"""Answering the engine's questions to the human from a headless command.

The committee asks through the inbox (a tie-break, feedback between rounds)
and waits for the answer. A headless command runs the work as one task and,
whenever the inbox opens a request it wants to answer, answers it beside that
task: on the terminal, or by rule. Requests an interrupted run left open are
answered before the work starts, since the engine only waits for them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.events import EngineEvent
    from orkestra_tui.engine.models import InboxItem

T = TypeVar("T")

LEAVE = "leave"
"""The tie-break mode with nobody to ask: the request stays in the inbox for the app."""
WAITING_FOR_YOU = 3
"""Exit status of `vote` and `plan` when a tie was left in the inbox for the app."""

TieBreakAsker = Callable[[str, list[tuple[str, float]]], Awaitable[str | None]]
"""Given the question and the tied options with their support, the option chosen, or None."""


class TieLeftForTheApp(Exception):
    """A tie-break request stays in the inbox, for the app: no terminal to ask on and no policy given."""

    def __init__(self, item: InboxItem) -> None:
        super().__init__(f"tie-break request {item.id} left in the inbox")
        self.item = item


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def chosen_tie_break(flag: str | None, *, reads_stdin: bool = False) -> str:
    """The tie-break mode: the `--tie-break` given, else `ask` on a terminal, else `leave`.

    An explicit `ask` with nothing to ask on is refused; the default never is, so a
    script gets an answer in the end instead of waiting for input that cannot come.
    """
    from orkestra_tui.errors import UsageError

    can_ask = stdin_is_terminal() and not reads_stdin
    if flag is None:
        return "ask" if can_ask else LEAVE
    if flag == "ask" and reads_stdin:
        raise UsageError(
            "--description - reads stdin, so --tie-break ask cannot prompt on it; pass first, random or fail"
        )
    if flag == "ask" and not can_ask:
        raise UsageError("--tie-break ask needs a terminal to ask on; pass --tie-break first, random or fail")
    return flag


async def leave_tie_for_the_app(item: InboxItem) -> None:
    """An `answer_while` answer that stops the work, leaving the tie-break request open."""
    raise TieLeftForTheApp(item)


async def answer_while(
    engine: Engine,
    work: Coroutine[Any, Any, T],
    wanted: Callable[[InboxItem], bool],
    answer: Callable[[InboxItem], Awaitable[None]] | None,
) -> T:
    """Run `work` to its end; each open inbox request `wanted` picks is given to `answer` meanwhile.

    With no `answer` the work simply runs (its own policies answer the inbox).
    """
    if answer is None:
        return await work

    def open_requests() -> list[InboxItem]:
        return [item for item in engine.inbox.open_items() if wanted(item)]

    try:
        for item in open_requests():
            await answer(item)
    except BaseException:
        work.close()  # never started: nothing to cancel, and no "never awaited" warning
        raise
    asked = asyncio.Event()

    def note_request(event: EngineEvent) -> None:
        if event.kind == "inbox.opened":
            asked.set()

    subscription = engine.bus.subscribe(note_request)
    working = asyncio.ensure_future(work)
    try:
        while True:
            waiting = asyncio.ensure_future(asked.wait())
            await asyncio.wait({working, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if working.done():
                return working.result()
            asked.clear()
            for item in open_requests():
                await answer(item)
    finally:
        working.cancel()
        subscription.close()


async def break_tie_on_terminal(engine: Engine, item: InboxItem, ask: TieBreakAsker) -> None:
    """Answer one tie-break request with the human's choice; no choice leaves it to the fallback.

    The tied options come in the order of the decision's stable letters, as the app lists them.
    """
    decision_id = item.payload.get("decision_id")
    order = list(engine.stable_labels(decision_id)) if isinstance(decision_id, int) else []
    tied = [
        (str(entry["option"]), float(entry.get("support", 0.0))) for entry in item.payload.get("tied", [])
    ]
    tied.sort(key=lambda entry: order.index(entry[0]) if entry[0] in order else len(order))
    choice = await ask(str(item.payload.get("question", "")), tied)
    if choice is None:
        engine.inbox.answer(item.id, {"declined": True})
    else:
        engine.answer_tie_break(item.id, choice)
