"""Per-agent health from the call records: latency, success, errors, tokens and cost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from orkestra_tui.engine.models import CallRecord


@dataclass(frozen=True)
class AgentHealth:
    agent: str
    calls: int = 0
    failures: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    tokens: int = 0
    cost: float = 0.0
    errors_by_class: dict[str, int] = field(default_factory=dict)
    recent_latencies_ms: tuple[float, ...] = ()
    last_errors: tuple[str, ...] = ()
    output_modes: dict[str, int] = field(default_factory=dict)
    """How many structured answers were asked for each way (schema, json, prompt)."""

    @property
    def success_rate(self) -> float | None:
        return None if not self.calls else (self.calls - self.failures) / self.calls


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def summarise(agent: str, records: Sequence[CallRecord], recent: int = 40) -> AgentHealth:
    """Health of one agent over `records` (oldest first)."""
    latencies = [record.latency_ms for record in records if record.ok]
    failures = [record for record in records if not record.ok]
    return AgentHealth(
        agent=agent,
        calls=len(records),
        failures=len(failures),
        p50_ms=percentile(latencies, 0.5),
        p95_ms=percentile(latencies, 0.95),
        tokens=sum(record.tokens_in + record.tokens_out for record in records),
        cost=sum(record.cost for record in records),
        errors_by_class=dict(Counter(record.error_class for record in failures)),
        recent_latencies_ms=tuple(latencies[-recent:]),
        last_errors=tuple(f"{record.error_class}: {record.error}" for record in failures[-5:]),
        output_modes=dict(Counter(record.output_mode for record in records if record.output_mode)),
    )


SPARK_LEVELS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 12) -> str:
    """The last `width` values as a one-line bar chart, scaled to their own range."""
    recent = list(values)[-width:]
    if not recent:
        return ""
    low, high = min(recent), max(recent)
    span = (high - low) or 1.0
    return "".join(SPARK_LEVELS[int((value - low) / span * (len(SPARK_LEVELS) - 1))] for value in recent)


def agent_status(*, enabled: bool, simulated: bool, bad_key: bool, circuit: str, health: AgentHealth) -> str:
    """healthy, degraded, down, bad key, simulated or disabled: what the Health screen shows first."""
    if not enabled:
        return "disabled"
    if bad_key:
        return "bad key"
    if circuit == "open":
        return "down"
    if simulated:
        return "simulated"
    if circuit == "half-open" or (health.success_rate is not None and health.success_rate < 0.9):
        return "degraded"
    return "healthy"
