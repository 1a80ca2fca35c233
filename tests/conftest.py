"""Shared fixtures: a throwaway data dir, pinned settings, a fixed clock, an engine."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

os.environ["TEXTUAL_ANIMATIONS"] = "none"
os.environ["TZ"] = "UTC"
time.tzset()

import pytest  # noqa: E402

from orkestra_tui.config import Paths, Settings, SimulationSettings, resolve_paths  # noqa: E402
from orkestra_tui.engine.clock import FixedClock  # noqa: E402
from orkestra_tui.engine.engine import Engine  # noqa: E402

KEY_VARIABLES = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "XAI_API_KEY",
    "GITHUB_TOKEN",
    "CLAUDE_API_KEY",
    "CHATGPT_API_KEY",
    "GROK_API_KEY",
    "COPILOT_API_KEY",
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the host's data dir, API keys or OpenTelemetry settings."""
    monkeypatch.delenv("ORKESTRA_HOME", raising=False)
    for variable in KEY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    # A developer's shell may export to a collector: telemetry is on only where a test turns it on.
    for variable in [name for name in os.environ if name.startswith("OTEL_")]:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return resolve_paths(tmp_path / "home")


@pytest.fixture
def settings() -> Settings:
    """Defaults, with simulated agents that answer at once."""
    return replace(Settings(), simulation=SimulationSettings(seed=7, latency_ms=0, failure_rate=0.0))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(start=1_800_000_000.0, step=1.0)


@pytest.fixture
def engine(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = Engine(paths, settings, clock=clock, env={})
    yield engine
    engine.close()


@pytest.fixture
def sample_engine(engine: Engine) -> Engine:
    """An engine holding the sample project, decisions and calls."""
    from orkestra_tui.demo.sample import populate

    asyncio.run(populate(engine))
    return engine
