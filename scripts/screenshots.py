"""Regenerate screenshots/*.svg: every screen on the sample data, at 100x30.

The Plan screen is shown with a plan of its own at the review step (five
simulated agents, a tie broken by the first plan), as a new user first sees it.

Run it from the repository root: python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ["TZ"] = "UTC"
os.environ["TEXTUAL_ANIMATIONS"] = "none"
time.tzset()

from orkestra_tui.config import Settings, SimulationSettings, resolve_paths  # noqa: E402
from orkestra_tui.demo.sample import populate  # noqa: E402
from orkestra_tui.engine.clock import FixedClock  # noqa: E402
from orkestra_tui.engine.engine import Engine  # noqa: E402
from orkestra_tui.engine.planning.planning import Brief, Planner  # noqa: E402
from orkestra_tui.tui.app import OrkestraApp  # noqa: E402

SCREENS = (("2", "board"), ("3", "voting"), ("4", "health"), ("5", "audit"))
OUTPUT = Path(__file__).resolve().parent.parent / "screenshots"
SIZE = (100, 30)


async def capture(folder: Path) -> None:
    settings = replace(Settings(), simulation=SimulationSettings(seed=7, latency_ms=0))
    engine = Engine(resolve_paths(folder), settings, clock=FixedClock(step=1.0), env={})
    try:
        await populate(engine)
        OUTPUT.mkdir(exist_ok=True)
        for key, name in SCREENS:
            app = OrkestraApp(engine)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.press(key)
                await pilot.pause()
                app.save_screenshot(filename=f"{name}.svg", path=str(OUTPUT))
            print(f"wrote screenshots/{name}.svg")
    finally:
        engine.close()


async def capture_plan(folder: Path) -> None:
    settings = replace(Settings(), simulation=SimulationSettings(seed=7, latency_ms=0))
    engine = Engine(resolve_paths(folder), settings, clock=FixedClock(step=1.0), env={})
    try:
        planner = Planner(engine)
        brief = Brief(
            name="Inventory service",
            description="Track stock across three warehouses and alert before anything runs out.",
            features=("stock levels", "low-stock alerts", "CSV import"),
            agents=tuple(agent.name for agent in engine.agents()),
        )
        project_id = planner.start(brief).project_id
        await planner.advance(project_id, tie_break="first")
        app = OrkestraApp(engine, first_mode="plan")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.2)
            app.save_screenshot(filename="plan.svg", path=str(OUTPUT))
        print("wrote screenshots/plan.svg")
    finally:
        engine.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="orkestra-screenshots-") as home:
        asyncio.run(capture(Path(home) / "sample"))
        asyncio.run(capture_plan(Path(home) / "plan"))
