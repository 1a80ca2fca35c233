"""`Engine.add_task`: one task added to a project's Board after its plan, checked and audited.

What `orkestra mcp`'s add_task calls. A task that waits for tasks already on the
Board is pending until they are done, and freed by the usual release when the
last of them is; one that waits for done tasks only is ready at once.
"""

from __future__ import annotations

import pytest

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import Priority, TaskSpec, TaskStatus


def two_tasks(engine: Engine) -> tuple[int, int, int]:
    """A project with a task done and one ready: (project id, done id, ready id)."""
    project = engine.create_project("Shop")
    done, ready = engine.add_tasks(
        project.id,
        [TaskSpec(title="Model", instructions="The data model.", key="t1"), TaskSpec(title="API", key="t2")],
    )
    engine.set_task_status(done.id, TaskStatus.RUNNING, actor="engine")
    engine.set_task_status(done.id, TaskStatus.DONE, actor="engine")
    return project.id, done.id, ready.id


def test_a_task_added_after_the_plan_waits_for_the_tasks_it_names(engine: Engine) -> None:
    project_id, done_id, ready_id = two_tasks(engine)
    waiting = engine.add_task(
        project_id,
        "  Write   the docs ",
        "Explain the API.\n",
        category="docs",
        priority="high",
        depends_on=[done_id, ready_id],
        actor="mcp",
    )
    assert (waiting.title, waiting.instructions) == ("Write the docs", "Explain the API.")
    assert waiting.status is TaskStatus.PENDING and waiting.priority is Priority.HIGH
    assert set(waiting.depends_on) == {done_id, ready_id}
    assert waiting.key == "t3" and waiting.phase == "Extra"
    [created] = engine.search_audit(kind="task.created", actor="mcp")
    assert created.subject == f"task:{waiting.id}"
    # Its last unfinished dependency done, it is ready, as any task of the plan would be.
    engine.set_task_status(ready_id, TaskStatus.RUNNING, actor="engine")
    engine.set_task_status(ready_id, TaskStatus.DONE, actor="engine")
    assert engine.task(waiting.id).status is TaskStatus.READY


def test_a_task_that_waits_only_for_done_tasks_is_ready(engine: Engine) -> None:
    project_id, done_id, _ = two_tasks(engine)
    assert engine.add_task(project_id, "Deploy", "Ship it.", depends_on=[done_id]).status is TaskStatus.READY
    assert engine.add_task(project_id, "Tidy", "Clean up.").status is TaskStatus.READY


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"title": ""}, "the task's title is empty"),
        ({"instructions": "TODO"}, "the task's instructions is a placeholder, not real text"),
        ({"category": "cooking"}, "category must be one of architecture, code, tests, docs"),
        ({"priority": "urgent"}, "priority must be one of critical, high, normal, low"),
        ({"depends_on": [404]}, "the project has no task 404 to depend on"),
        ({"project_id": 99}, "there is no project 99"),
    ],
)
def test_a_task_that_is_not_real_is_refused_before_anything_is_written(
    engine: Engine, fields: dict[str, object], problem: str
) -> None:
    project_id, _, _ = two_tasks(engine)
    request: dict[str, object] = {
        "project_id": project_id,
        "title": "Deploy",
        "instructions": "Ship it.",
        **fields,
    }
    before = len(engine.tasks())
    with pytest.raises(EngineError) as refused:
        engine.add_task(**request)  # type: ignore[arg-type]
    assert str(refused.value).startswith(problem)
    assert len(engine.tasks()) == before


def test_a_cancelled_task_cannot_be_waited_for(engine: Engine) -> None:
    project_id, _, ready_id = two_tasks(engine)
    engine.cancel_task(ready_id)
    with pytest.raises(EngineError, match=f"task {ready_id} is cancelled"):
        engine.add_task(project_id, "Deploy", "Ship it.", depends_on=[ready_id])
