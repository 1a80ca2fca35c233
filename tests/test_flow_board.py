"""The Board's task detail says where the result is kept and which workspace files were written."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.board import BoardScreen

SIZE = (120, 40)


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"never happened: {what}")


async def test_the_detail_shows_the_artifact_path_and_the_files_written(engine: Engine) -> None:
    project = engine.create_project("Shop")
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    (task,) = engine.add_tasks(project.id, [TaskSpec("Write the cart", "Add items.")])
    artifact = f"projects/{project.id}/artifacts/{task.id:05d}-write-the-cart.md"
    with engine.store.transaction() as tx:
        tx.execute(
            "UPDATE task SET status = 'review', result = '# Cart', artifact = ? WHERE id = ?",
            (artifact, task.id),
        )
        tx.audit(
            "claude",
            "task.review",
            "claude finished 'Write the cart'; it goes to review",
            subject=f"task:{task.id}",
            project_id=project.id,
            data={
                "from": "running",
                "to": "review",
                "artifact": artifact,
                "files": ["src/cart.py", "README.md"],
            },
        )
    app = OrkestraApp(engine, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.body_ready, "board"
        )
        board = app.screen
        assert isinstance(board, BoardScreen)
        board.query_one("#column-review").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: board.detail_task_id == task.id, "the detail")
        heading = str(board.query_one("#task-detail-heading").render())
        assert f"Result: {engine.paths.data_dir / artifact}" in heading
        assert "Written to the workspace:" in heading and "src/cart.py" in heading and "README.md" in heading
