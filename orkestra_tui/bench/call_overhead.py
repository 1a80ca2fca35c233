"""The provider layer's cost per call: Orkestra's call path vs the raw SDK, same fake server, same run.

Both make the same number of calls with the anthropic SDK to a local fake of
the Messages API that answers at once, alternating, best of two runs each.
Orkestra's path adds what every call gets: the circuit breaker, timing, cost,
redaction, and a stored call record with its audit event.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from orkestra_tui.bench.fake_api import serving
from orkestra_tui.config import AgentSettings, Settings, resolve_paths

DESCRIPTION = "one call through Orkestra's provider layer vs the raw SDK, against a local fake"
KEY = "sk-ant-bench-0000000000000000"


async def _orkestra(home: Path, url: str, calls: int) -> float:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.providers.base import Message, ProviderRequest

    agent = AgentSettings(name="claude", provider="anthropic", model="claude-bench", base_url=url)
    engine = Engine(resolve_paths(home), replace(Settings(), agents=(agent,)), env={"ANTHROPIC_API_KEY": KEY})
    request = ProviderRequest(system="Be brief.", messages=(Message("user", "Hello"),), max_tokens=64)
    try:
        await engine.call("claude", request)  # warm up: client, connection pool
        started = time.perf_counter()
        for _ in range(calls):
            outcome = await engine.call("claude", request)
            if not outcome.ok:
                raise RuntimeError(f"the call failed: {outcome.error}")
        return time.perf_counter() - started
    finally:
        await engine.aclose()


async def _raw(url: str, calls: int) -> float:
    import anthropic

    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0)

    async def one_call() -> None:
        await client.messages.create(
            model="claude-bench",
            max_tokens=64,
            system="Be brief.",
            messages=[{"role": "user", "content": "Hello"}],
        )

    await one_call()  # warm up
    started = time.perf_counter()
    for _ in range(calls):
        await one_call()
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


def run(*, quick: bool = False) -> dict[str, float | int]:
    calls = 50 if quick else 1000
    raw_runs: list[float] = []
    orkestra_runs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as home, serving() as fake:
        for attempt in range(2):  # alternate, so neither side gains from going second
            raw_runs.append(asyncio.run(_raw(fake.url, calls)))
            orkestra_runs.append(asyncio.run(_orkestra(Path(home) / f"data-{attempt}", fake.url, calls)))
    raw_s, orkestra_s = min(raw_runs), min(orkestra_runs)
    orkestra_ms = orkestra_s * 1000 / calls
    raw_ms = raw_s * 1000 / calls
    return {
        "calls": calls,
        "orkestra_call_ms": round(orkestra_ms, 3),
        "raw_sdk_call_ms": round(raw_ms, 3),
        "overhead_ms": round(orkestra_ms - raw_ms, 3),
    }
