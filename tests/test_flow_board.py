"""The Board's task detail says where the result is kept and which workspace files were written."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import OptionList

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec, TaskStatus
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.assign_agent import AssignAgentScreen
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


async def test_the_reassign_dialog_shows_each_agents_score_load_and_availability(engine: Engine) -> None:
    project = engine.create_project("Shop")
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    first, busy = engine.add_tasks(
        project.id, [TaskSpec("Write the cart", "Add."), TaskSpec("Search", "Find.")]
    )
    engine.set_task_status(busy.id, TaskStatus.RUNNING, actor="claude", assigned_to="claude")
    engine.set_agent_enabled("grok", False)
    while engine.breakers["gemini"].available:
        engine.breakers["gemini"].record(ok=False)
    app = OrkestraApp(engine, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.body_ready, "board"
        )
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AssignAgentScreen), "the dialog")
        prompts = {
            str(option.id).removeprefix("agent-"): str(option.prompt)
            for option in app.screen.query_one(OptionList).options
        }
        standings = {standing.candidate.name: standing for standing in engine.agent_standings(first.id)}
        assert "load 1/" in prompts["claude"] and "circuit closed" in prompts["claude"]
        assert "key simulated" in prompts["claude"]
        assert "score " in prompts["chatgpt"] and "load 0/" in prompts["chatgpt"]
        assert "unavailable: disabled" in prompts["grok"]
        assert "unavailable: circuit open" in prompts["gemini"] and "circuit open" in prompts["gemini"]
        assert standings["chatgpt"].score > 0 and standings["grok"].score == 0
        assert f"score {standings['chatgpt'].score:.2f}" in prompts["chatgpt"]
