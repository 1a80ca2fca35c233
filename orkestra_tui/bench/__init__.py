"""`orkestra bench` scenarios: measurements printed beside a same-run baseline, never tests.

Each scenario module exposes `DESCRIPTION` (or `describe(quick=...)`, a title
naming the workload measured) and `run(*, quick: bool = False)`,
returning a flat dict of figures. `quick` shrinks the workload for a smoke
run (the test suite uses it to check the scenarios work, never their speed).
"""

from __future__ import annotations

SCENARIOS: dict[str, str] = {
    "store": "orkestra_tui.bench.store",
    "round": "orkestra_tui.bench.round",
    "call_overhead": "orkestra_tui.bench.call_overhead",
    "startup": "orkestra_tui.bench.startup",
    "idle": "orkestra_tui.bench.idle",
    "tally": "orkestra_tui.bench.tally",
    "voting": "orkestra_tui.bench.voting",
    "plan": "orkestra_tui.bench.plan",
    "run": "orkestra_tui.bench.run",
    "board": "orkestra_tui.bench.board",
    "audit": "orkestra_tui.bench.audit",
    "repo": "orkestra_tui.bench.repo",
    "contest": "orkestra_tui.bench.contest",
}
"""Scenario name to module, in the order they run by default."""
