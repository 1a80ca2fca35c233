"""Time as the engine sees it: injectable, so tests and snapshots can pin it."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for measuring durations."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.perf_counter()


class FixedClock:
    """A clock that moves only when told to.

    `now()` may step the wall time by `step` seconds, so that events get distinct
    times; durations (`monotonic()`) change only with `advance()`, so measured
    latencies stay fixed however many events happen during a call.
    """

    def __init__(self, start: float = 1_800_000_000.0, step: float = 0.0) -> None:
        self.current = start
        self.step = step
        self.elapsed = 0.0

    def now(self) -> float:
        value = self.current
        self.current += self.step
        return value

    def monotonic(self) -> float:
        return self.elapsed

    def advance(self, seconds: float) -> None:
        self.current += seconds
        self.elapsed += seconds
