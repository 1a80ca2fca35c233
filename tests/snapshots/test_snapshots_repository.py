"""The Board of a project linked to a repository: a task's change and gates, its diff, the link dialog.

A real repository and a real run of scripted agents make the data: one task, "Add calc",
whose first change fails its gate (a syntax error) and whose second passes and merges.
What a real run leaves that differs from run to run is pinned before the shot: the
commits' hashes (their dates are the wall clock's) and the gates' durations.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from repos import make_repository
from test_scheduler import active_project, cast, scripted_engine, spec
from test_snapshots import board_mid_run
from test_snapshots_80x24 import LARGE, SIZE, body_ready, screen_named, until
from textual.pilot import Pilot
from textual.widgets import Static

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.providers.base import ProviderRequest
from orkestra_tui.tui.app import OrkestraApp

CALC = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
CALC_TEST = "from src.calc import add, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def file_block(path: str, text: str) -> str:
    return f"```python file={path}\n{text}```\n"


def answer(request: ProviderRequest, _index: int) -> str:
    if request.purpose == "review":
        return json.dumps({"verdict": "approve", "comments": "Small and tested."})
    if request.context["repository"]["gate_feedback"]:
        return (
            "Fixed the colon.\n\n"
            + file_block("src/calc.py", CALC)
            + file_block("tests/test_calc.py", CALC_TEST)
        )
    return "Added calc.\n\n" + file_block("src/calc.py", CALC.replace("(a, b):", "(a, b)", 1))


@pytest.fixture
def scripted(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = scripted_engine(paths, settings, clock, max_attempts=3, concurrency=1)
    yield engine
    engine.close()


def linked_run(engine: Engine, tmp_path: Path) -> int:
    """The project Shop, linked and run to the end: its one task's id."""
    files = {"README.md": "# Shop\n", ".orkestra.toml": 'gates = ["python -m compileall -q ."]\n'}
    repo = make_repository(tmp_path / "shop", {**files, "src/__init__.py": ""})
    cast(engine, dict.fromkeys(("claude", "chatgpt", "gemini"), answer))
    project_id, (task_id,) = active_project(engine, spec("Add calc", instructions="Add src/calc.py."))

    async def run() -> None:
        await engine.link_repository(project_id, repo)
        await Scheduler(engine).run()

    asyncio.run(run())
    return task_id


def pin_commits(engine: Engine, task_id: int) -> None:
    """Fixed hashes and durations for the shot (the diff is read from git before this: not after)."""
    with engine.store.transaction() as tx:
        tx.execute(
            "UPDATE task_change SET commit_sha = ?, merged_commit = ? WHERE task_id = ?",
            ("c0ffee1234" + "0" * 30, "5eed5eed12" + "0" * 30, task_id),
        )
        tx.execute("UPDATE gate_run SET duration_s = 0.4 WHERE task_id = ?", (task_id,))
        tx.audit("engine", "snapshot.state", "Fixed commits and gate durations for the shot")


def with_detail(engine: Engine, task_id: int) -> tuple[OrkestraApp, Callable[[Pilot[None]], object]]:
    """The Board with the task's detail open, scrolled to its Repository part."""
    pin_commits(engine, task_id)
    app = OrkestraApp(engine)

    async def open_detail(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))
        board = app.screen
        board.show_task(task_id)  # type: ignore[attr-defined]
        change = board.query_one("#task-detail-change", Static)
        await until(pilot, lambda: change.display and "merged" in str(change.render()))
        await until(pilot, lambda: board.repository_status is not None)  # type: ignore[attr-defined]
        board.query_one("#task-detail-scroll").scroll_to_widget(change, top=True, animate=False)
        await pilot.pause(0.1)

    return app, open_detail


def with_diff(engine: Engine, task_id: int) -> tuple[OrkestraApp, Callable[[Pilot[None]], object]]:
    app = OrkestraApp(engine)

    async def open_diff(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))
        app.screen.show_task(task_id)  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("d")
        await until(pilot, lambda: screen_named(pilot, "DiffScreen") and app.screen.loaded)  # type: ignore[attr-defined]
        await pilot.press("n", "n")
        await pilot.pause(0.1)

    return app, open_diff


@pytest.mark.parametrize("size", [SIZE, LARGE], ids=["80x24", "120x40"])
def test_task_detail_with_its_change_and_gates(
    snap_compare: Callable[..., bool], scripted: Engine, tmp_path: Path, size: tuple[int, int]
) -> None:
    """Merged on its second try: the branch, the commits, the failed gate's output, then the passes."""
    app, run_before = with_detail(scripted, linked_run(scripted, tmp_path))
    assert snap_compare(app, run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", [SIZE, LARGE], ids=["80x24", "120x40"])
def test_diff_screen(
    snap_compare: Callable[..., bool], scripted: Engine, tmp_path: Path, size: tuple[int, int]
) -> None:
    """The task's two files, the second one gone to with n: coloured, with the files listed when wide."""
    app, run_before = with_diff(scripted, linked_run(scripted, tmp_path))
    assert snap_compare(app, run_before=run_before, terminal_size=size)


def test_link_dialog(snap_compare: Callable[..., bool], engine: Engine, clock: FixedClock) -> None:
    """L on the Board of a project not linked yet: the folder, and what linking does."""
    board_mid_run(engine, clock)

    async def ask(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: body_ready(pilot))
        await pilot.press("L")
        await until(pilot, lambda: screen_named(pilot, "LinkRepositoryScreen"))

    assert snap_compare(OrkestraApp(engine), run_before=ask, terminal_size=SIZE)
