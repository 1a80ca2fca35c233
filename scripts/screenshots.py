"""Regenerate screenshots/*.svg: every screen on the sample data, at 100x30.

The Plan screen is shown with a plan of its own at the review step (five
simulated agents, a tie broken by the first plan), as a new user first sees it.
The Board with a task's diff (board-diff.svg) is a project linked to a new git
repository, whose one task scripted agents carry out, gate, review and merge.
The Board with a contest (board-contest.svg) is the sample contest of `demo.contest`:
three agents write the same intro, the committee votes, the winner is reviewed.

Run it from the repository root: python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ["TZ"] = "UTC"
os.environ["TEXTUAL_ANIMATIONS"] = "none"
time.tzset()

from orkestra_tui.config import Settings, SimulationSettings, resolve_paths  # noqa: E402
from orkestra_tui.demo.contest import contest_project  # noqa: E402
from orkestra_tui.demo.sample import populate  # noqa: E402
from orkestra_tui.engine.clock import FixedClock  # noqa: E402
from orkestra_tui.engine.engine import Engine  # noqa: E402
from orkestra_tui.engine.execution.scheduler import Scheduler  # noqa: E402
from orkestra_tui.engine.models import ProjectStatus, TaskSpec  # noqa: E402
from orkestra_tui.engine.planning.planning import Brief, Planner  # noqa: E402
from orkestra_tui.providers.base import ProviderRequest, ProviderResponse  # noqa: E402
from orkestra_tui.tui.app import OrkestraApp  # noqa: E402
from orkestra_tui.tui.screens.board import BoardScreen  # noqa: E402
from orkestra_tui.tui.screens.diff import DiffScreen  # noqa: E402

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


STOCK = """def level(stock: dict[str, int], item: str) -> int:
    return stock.get(item, 0)
"""
ALERTS = """from inventory.stock import level


def low_items(stock: dict[str, int], minimum: dict[str, int]) -> list[str]:
    \"\"\"The items whose level fell below their minimum, in name order.\"\"\"
    return sorted(item for item, least in minimum.items() if level(stock, item) < least)
"""
ALERTS_TEST = """from inventory.alerts import low_items


def test_an_item_below_its_minimum_is_low():
    assert low_items({"bolts": 3, "nuts": 50}, {"bolts": 10, "nuts": 10}) == ["bolts"]
"""


class ScriptedAgent:
    """An agent that writes the alerts module and its test, and approves what it reviews."""

    vendor = "scripted"
    model = "scripted"

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        if request.purpose == "review":
            text = json.dumps({"verdict": "approve", "comments": "Small, sorted, tested."})
        else:
            text = (
                "Added the alerts and a docstring to `level`.\n\n"
                f"```python file=src/inventory/alerts.py\n{ALERTS}```\n\n"
                f"```python file=tests/test_alerts.py\n{ALERTS_TEST}```\n\n"
                "```text edit=src/inventory/stock.py\n<<<<<<< SEARCH\n"
                "    return stock.get(item, 0)\n=======\n"
                '    """How many of ITEM are in STOCK (none when it is not listed)."""\n'
                "    return stock.get(item, 0)\n>>>>>>> REPLACE\n```\n"
            )
        return ProviderResponse(text=text, tokens_in=900, tokens_out=300, model=self.model)

    async def aclose(self) -> None:
        """Nothing to close."""


def make_repository(folder: Path) -> Path:
    """A repository with one commit: a small package, and a gate that compiles it."""
    files = {
        "README.md": "# Inventory\n",
        ".orkestra.toml": 'gates = ["python -m compileall -q src tests"]\n',
        "src/inventory/__init__.py": "",
        "src/inventory/stock.py": STOCK,
    }
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    identity = ["-c", "user.name=Ada User", "-c", "user.email=ada@example.com"]
    commands = (["init", "--quiet", "--initial-branch=main"], ["add", "--all"], ["commit", "-qm", "Start"])
    for command in commands:
        subprocess.run(["git", *identity, *command], cwd=folder, check=True)
    return folder


async def capture_diff(folder: Path) -> None:
    settings = replace(Settings(), simulation=SimulationSettings(seed=7, latency_ms=0))
    engine = Engine(resolve_paths(folder / "home"), settings, clock=FixedClock(step=1.0), env={})
    try:
        for agent in engine.agents():
            engine.use_provider(agent.name, ScriptedAgent())
        repo = make_repository(folder / "inventory")
        project = engine.create_project("Inventory service", "Track stock and alert before it runs out.")
        instructions = "Add inventory.alerts.low_items, with a test."
        spec = TaskSpec("Low-stock alerts", instructions, "code", key="alerts")
        (task,) = engine.add_tasks(project.id, [spec])
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
        await engine.link_repository(project.id, repo)
        await Scheduler(engine).run()
        app = OrkestraApp(engine, first_mode="board")
        async with app.run_test(size=SIZE) as pilot:
            while not (isinstance(app.screen, BoardScreen) and app.screen.body_ready):
                await pilot.pause(0.05)
            app.screen.show_task(task.id)
            await pilot.pause(0.1)
            await pilot.press("d")
            while not (isinstance(app.screen, DiffScreen) and app.screen.loaded):
                await pilot.pause(0.05)
            await pilot.press("n")
            await pilot.pause(0.2)
            app.save_screenshot(filename="board-diff.svg", path=str(OUTPUT))
        print("wrote screenshots/board-diff.svg")
    finally:
        engine.close()


CONTEST_KEYS = {
    "ANTHROPIC_API_KEY": "sk-screenshot-anthropic-0000",
    "OPENAI_API_KEY": "sk-screenshot-openai-0000",
    "GEMINI_API_KEY": "screenshot-gemini-0000",
}
"""Keys make the agents real, so that the entries cost what those models cost; no call leaves:
scripted agents answer in their place."""


async def capture_contest(folder: Path) -> None:
    settings = replace(Settings(), simulation=SimulationSettings(seed=7, latency_ms=0))
    three = replace(settings, agents=settings.agents[:3])
    engine = Engine(resolve_paths(folder), three, clock=FixedClock(step=1.0), env=CONTEST_KEYS)
    try:
        _project, won, _later = await contest_project(engine)
        app = OrkestraApp(engine, first_mode="board")
        async with app.run_test(size=SIZE) as pilot:
            while not (isinstance(app.screen, BoardScreen) and app.screen.body_ready):
                await pilot.pause(0.05)
            app.screen.show_task(won)
            await pilot.pause(0.1)
            detail = app.screen.query_one("#task-detail-change")
            app.screen.query_one("#task-detail-scroll").scroll_to_widget(detail, top=True, animate=False)
            await pilot.pause(0.2)
            app.save_screenshot(filename="board-contest.svg", path=str(OUTPUT))
        print("wrote screenshots/board-contest.svg")
    finally:
        engine.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="orkestra-screenshots-") as home:
        asyncio.run(capture(Path(home) / "sample"))
        asyncio.run(capture_plan(Path(home) / "plan"))
        (Path(home) / "diff").mkdir()
        asyncio.run(capture_diff(Path(home) / "diff"))
        asyncio.run(capture_contest(Path(home) / "contest"))
