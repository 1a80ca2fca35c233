"""The Board with 10,000 tasks vs the same Board with ten: mount, cursor and detail, key to paint.

The app runs headless (`App.run_test`) on a fresh data dir, on the Board of
one project whose tasks are spread over the columns the way a run leaves them
(most done with a Markdown result, some running, in review, awaiting the
human, failed; the rest ready or waiting), in phases of a thousand. The
baseline is the same project with `BASELINE_TASKS` tasks, measured in the
same run.

`mount_ms` runs from building the app to the first frame that shows the
columns filled. A key's time runs from posting its key event to the first
frame the app hands to its driver that shows its effect: the Done column's
cursor on the next task (`cursor_ms`), or the task's detail open
(`detail_ms`); `key_to_paint_ms` is the median of both kinds. The detail's
result, a Markdown document rendered as a few widgets, may come a frame or two
later: `detail_result_ms` times it to the frame that shows it. Pilot's
`press()` and `pause()` are not used for the timing: they wait for the process
to look idle in 20 ms sleeps, which would measure that wait.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from orkestra_tui.bench.frames import FrameProbe, percentile
from orkestra_tui.config import Settings, SimulationSettings, resolve_paths
from orkestra_tui.engine.execution.tasks import place_tasks
from orkestra_tui.engine.models import Priority, TaskSpec

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.tui.app import OrkestraApp
    from orkestra_tui.tui.screens.board import BoardScreen

TASKS = 10_000
QUICK_TASKS = 500
BASELINE_TASKS = 10
KEYS = 30
QUICK_KEYS = 4
PHASE_SIZE = 1_000
KEY_GAP_S = 0.02
PAINT_TIMEOUT_S = 10.0
SIZE = (100, 30)


def describe(*, quick: bool = False) -> str:
    """The scenario's title, naming the workload it measures."""
    tasks = QUICK_TASKS if quick else TASKS
    return f"Board with {tasks:,} tasks: mount and key to paint (cursor, detail) vs {BASELINE_TASKS} tasks"


DESCRIPTION = describe()
RESULT = (
    "# {title}\n\nWhat was done, and why: the **ledger** keeps every movement.\n\n"
    "1. Read the schema.\n2. Wrote `movements.py`.\n3. Added tests.\n\n"
    "```python\ndef balance(item):\n    return sum(m.quantity for m in item.movements)\n```\n"
)
SHARES = (
    ("done", 0.55),
    ("running", 0.0008),
    ("review", 0.0005),
    ("awaiting_human", 0.0003),
    ("failed", 0.002),
)
"""The share of tasks moved to each status; the others stay ready or pending."""


def run(*, quick: bool = False) -> dict[str, float | int]:
    tasks = QUICK_TASKS if quick else TASKS
    keys = QUICK_KEYS if quick else KEYS
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as folder:
        asyncio.run(_measure(Path(folder) / "warm-up", BASELINE_TASKS, 1))  # imports, caches: not timed
        baseline = asyncio.run(_measure(Path(folder) / "baseline", BASELINE_TASKS, keys))
        loaded = asyncio.run(_measure(Path(folder) / "loaded", tasks, keys))
    return {
        "tasks": tasks,
        "keys": keys,
        "mount_ms": loaded["mount_ms"],
        "key_to_paint_ms": loaded["key_to_paint_ms"],
        "cursor_ms": loaded["cursor_ms"],
        "detail_ms": loaded["detail_ms"],
        "detail_result_ms": loaded["detail_result_ms"],
        "key_to_paint_p95_ms": loaded["key_to_paint_p95_ms"],
        "widgets": int(loaded["widgets"]),
        "baseline_tasks": BASELINE_TASKS,
        "baseline_mount_ms": baseline["mount_ms"],
        "baseline_key_to_paint_ms": baseline["key_to_paint_ms"],
        "baseline_detail_result_ms": baseline["detail_result_ms"],
        "baseline_widgets": int(baseline["widgets"]),
    }


def fill(engine: Engine, count: int) -> int:
    """A project with `count` tasks spread over the columns as a run leaves them; its id."""
    project = engine.create_project("Bench")
    specs = [
        TaskSpec(
            f"Task {number}: stock movement handler {number % 97}",
            f"Write handler {number} and its tests.",
            ("code", "tests", "docs", "architecture")[number % 4],
            Priority(number % 4),
            f"Phase {number // PHASE_SIZE + 1}",
            f"t{number}",
            (f"t{number - 1}",) if number % 3 else (),
        )
        for number in range(count)
    ]
    tasks = engine.add_tasks(project.id, specs)
    agents = [agent.name for agent in engine.agents()]
    ids = [task.id for task in tasks]
    placed: list[tuple[str, str, str | None, str, int]] = []
    start = 0
    for status, share in SHARES:
        chosen = ids[start : start + max(1, round(count * share))]
        start += len(chosen)
        placed.extend(
            (
                status,
                agents[task_id % len(agents)],
                RESULT.format(title=f"Task {task_id}") if status != "failed" else None,
                "the agent timed out" if status == "failed" else "",
                task_id,
            )
            for task_id in chosen
        )
    with engine.store.transaction() as tx:
        place_tasks(tx, project.id, placed)
        tx.audit("bench", "bench.filled", f"{count} tasks spread over the Board", project_id=project.id)
    return project.id


async def _measure(folder: Path, count: int, keys: int) -> dict[str, float]:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.tui.app import OrkestraApp
    from orkestra_tui.tui.screens.board import BoardScreen
    from orkestra_tui.tui.widgets.task_list import TaskList

    settings = replace(Settings(), simulation=SimulationSettings(seed=1, latency_ms=0, failure_rate=0.0))
    engine = Engine(resolve_paths(folder), settings, demo=True, env={})
    try:
        fill(engine, count)
        started = time.perf_counter()
        app = OrkestraApp(engine, first_mode="board")
        probe = FrameProbe(app)

        def board_filled() -> bool:
            screen = app.screen
            return (
                isinstance(screen, BoardScreen)
                and screen.body_ready
                and bool(screen.query_one("#column-done", TaskList).tasks)
            )

        mounted = probe.expect(board_filled)
        async with app.run_test(size=SIZE):
            mount_ms = (await asyncio.wait_for(mounted, PAINT_TIMEOUT_S) - started) * 1000.0
            board = app.screen
            assert isinstance(board, BoardScreen)
            widgets = len(list(board.walk_children()))
            cursor_times, detail_times, result_times = await _press_keys(app, probe, board, keys)
    finally:
        engine.close()
    both = cursor_times + detail_times
    return {
        "mount_ms": round(mount_ms, 1),
        "key_to_paint_ms": round(statistics.median(both), 1),
        "key_to_paint_p95_ms": round(percentile(both, 0.95), 1),
        "cursor_ms": round(statistics.median(cursor_times), 1),
        "detail_ms": round(statistics.median(detail_times), 1),
        "detail_result_ms": round(statistics.median(result_times), 1),
        "widgets": widgets,
    }


async def _press_keys(
    app: OrkestraApp, probe: FrameProbe, board: BoardScreen, keys: int
) -> tuple[list[float], list[float], list[float]]:
    """Down in the Done column, Enter, Esc, `keys` times: the cursor's, detail's and result's times."""
    from textual import events

    from orkestra_tui.tui.widgets.task_list import TaskList

    done = board.query_one("#column-done", TaskList)
    done.focus()
    cursor_times: list[float] = []
    detail_times: list[float] = []
    result_times: list[float] = []
    for _ in range(keys):
        before = done.cursor

        def moved(before: int = before) -> bool:
            return done.cursor != before

        key = "down" if before + 1 < len(done.tasks) else "home"
        cursor_times.append(await _key_to_paint(app, probe, key, moved))
        card = done.highlighted_task
        assert card is not None

        def detail_shown(task_id: int = card.id) -> bool:
            return board.detail_task_id == task_id

        def result_shown(heading: str = f"Task {card.id}") -> bool:
            return any(
                str(getattr(block, "content", "")) == heading
                for block in board.query("#task-detail-result MarkdownH1")
            )

        painted = probe.expect(detail_shown)
        started = time.perf_counter()
        app.post_message(events.Key("enter", None))
        detail_times.append((await asyncio.wait_for(painted, PAINT_TIMEOUT_S) - started) * 1000.0)
        if result_shown():  # the same task again: its result was still rendered
            result_times.append(detail_times[-1])
        else:
            painted = probe.expect(result_shown)
            result_times.append((await asyncio.wait_for(painted, PAINT_TIMEOUT_S) - started) * 1000.0)
        await asyncio.sleep(KEY_GAP_S)
        closed = probe.expect(lambda: board.detail_task_id is None)
        app.post_message(events.Key("escape", None))
        await asyncio.wait_for(closed, PAINT_TIMEOUT_S)
        await asyncio.sleep(KEY_GAP_S)
    return cursor_times, detail_times, result_times


async def _key_to_paint(app: OrkestraApp, probe: FrameProbe, key: str, shown: Callable[[], bool]) -> float:
    """Milliseconds from posting `key` to the first frame at which `shown()` holds."""
    elapsed = await probe.press(key, shown, PAINT_TIMEOUT_S)
    await asyncio.sleep(KEY_GAP_S)
    return elapsed
