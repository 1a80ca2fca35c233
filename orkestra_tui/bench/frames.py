"""Timing a key to the frame that shows its effect, for the screen benchmarks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orkestra_tui.tui.app import OrkestraApp


class FrameProbe:
    """Notes the first frame, after a key, at which a condition holds."""

    def __init__(self, app: OrkestraApp) -> None:
        self._app = app
        self._condition: Callable[[], bool] | None = None
        self._painted: asyncio.Future[float] | None = None
        display = app._display

        def display_and_check(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            future, condition = self._painted, self._condition
            if renderable is None or future is None or future.done() or condition is None:
                return
            if condition():
                future.set_result(time.perf_counter())

        setattr(app, "_display", display_and_check)  # noqa: B010 (an instance attribute over a method)

    def expect(self, condition: Callable[[], bool]) -> asyncio.Future[float]:
        self._condition = condition
        self._painted = asyncio.get_running_loop().create_future()
        return self._painted

    async def press(self, key: str, shown: Callable[[], bool], timeout_s: float) -> float:
        """Milliseconds from posting `key` to the first frame at which `shown()` holds."""
        from textual import events

        painted = self.expect(shown)
        started = time.perf_counter()
        self._app.post_message(events.Key(key, None))
        return (await asyncio.wait_for(painted, timeout_s) - started) * 1000.0


def percentile(values: list[float], share: float) -> float:
    """The value at `share` (0 to 1) of the way through `values`, sorted: the nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
