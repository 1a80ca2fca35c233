"""A circuit breaker per agent: stop calling an agent that keeps failing, then probe it.

Closed: calls go through. After `failures_to_open` consecutive failures it
opens: the agent counts as unavailable. After `cooldown_s` it is half-open: one
probe call goes through; success closes it, failure opens it again.
"""

from __future__ import annotations

from enum import StrEnum

from orkestra_tui.engine.clock import Clock


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    def __init__(self, clock: Clock, *, failures_to_open: int = 3, cooldown_s: float = 30.0) -> None:
        self.clock = clock
        self.failures_to_open = failures_to_open
        self.cooldown_s = cooldown_s
        self.consecutive_failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self.clock.monotonic() - self._opened_at >= self.cooldown_s:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    @property
    def available(self) -> bool:
        """Whether a call may be made now (without taking the half-open probe)."""
        state = self.state
        return state is CircuitState.CLOSED or (state is CircuitState.HALF_OPEN and not self._probe_in_flight)

    def seconds_until_probe(self) -> float:
        """How long until a probe call may go through: 0 when closed or half-open and free."""
        if self._opened_at is None:
            return 0.0
        if self._probe_in_flight:
            return self.cooldown_s  # the probe's outcome decides; look again after a cooldown at most
        return max(0.0, self._opened_at + self.cooldown_s - self.clock.monotonic())

    def acquire(self) -> bool:
        """Take permission for one call; in half-open state only one caller gets it."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def record(self, ok: bool) -> CircuitState | None:
        """Count a call's outcome; returns the new state when it changed."""
        before = self.state
        self._probe_in_flight = False
        if ok:
            self.consecutive_failures = 0
            self._opened_at = None
        else:
            self.consecutive_failures += 1
            if before is CircuitState.HALF_OPEN or self.consecutive_failures >= self.failures_to_open:
                self._opened_at = self.clock.monotonic()
        after = self.state
        return after if after is not before else None
