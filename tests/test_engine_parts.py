"""The Engine only assembles: its parts do the work, and the collaborators never hold the Engine.

The Engine class stays small (it builds the parts and hands them out); no module
of a group imports the Engine's module or its face (lint-imports proves the same
with the layers contract of the engine's groups, in tests/test_layers.py); the
committee, planner, scheduler and desks keep only the parts they were handed;
and the committee writes decisions one way, through the voting group's writer.
"""

from __future__ import annotations

import ast
from pathlib import Path

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.planning.planning import Planner
from orkestra_tui.engine.voting.committee import Committee

ENGINE_PACKAGE = Path(__file__).resolve().parent.parent / "orkestra_tui" / "engine"
GROUPS = ("store", "agents", "voting", "planning", "execution")
ASSEMBLY_MODULES = ("orkestra_tui.engine.engine", "orkestra_tui.engine.face", "orkestra_tui.engine.reads")
ENGINE_LINES_LIMIT = 350


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, at its top or inside a function or `TYPE_CHECKING`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_engine_class_stays_under_350_lines() -> None:
    tree = ast.parse((ENGINE_PACKAGE / "engine.py").read_text(encoding="utf-8"))
    (engine_class,) = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Engine"]
    assert engine_class.end_lineno is not None
    assert engine_class.end_lineno - engine_class.lineno + 1 < ENGINE_LINES_LIMIT


def test_no_module_of_a_group_imports_the_engine() -> None:
    offenders = {
        f"{path.relative_to(ENGINE_PACKAGE)} imports {module}"
        for group in GROUPS
        for path in sorted((ENGINE_PACKAGE / group).rglob("*.py"))
        for module in imported_modules(path)
        if module in ASSEMBLY_MODULES
    }
    assert not offenders


def test_the_collaborators_keep_only_the_parts_they_are_handed(engine: Engine) -> None:
    collaborators = [
        Committee(engine),
        Planner(engine),
        Scheduler(engine, reviewers=0),
        engine.pool,
        engine.decision_desk,
        engine.project_desk,
        engine.task_desk,
    ]
    for collaborator in collaborators:
        held = [name for name, value in vars(collaborator).items() if value is engine]
        assert not held, f"{type(collaborator).__name__} holds the Engine as {held}"
    assert Scheduler(engine).pool is engine.pool
    assert Planner(engine).decisions is engine.decision_desk


def test_the_committee_writes_decisions_only_through_the_voting_writer() -> None:
    """No raw SQL in the committee, and no second way in through the desk or the Engine."""
    tree = ast.parse((ENGINE_PACKAGE / "voting" / "committee.py").read_text(encoding="utf-8"))
    calls = [
        node.func
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]
    assert not [call.attr for call in calls if call.attr in ("execute", "executemany")]
    other_writers = [
        ast.unparse(call)
        for call in calls
        if call.attr in ("record_ballot", "close_decision", "open_decision")
    ]
    assert not other_writers
    writer_calls = {
        call.attr for call in calls if isinstance(call.value, ast.Name) and call.value.id == "writes"
    }
    assert {"insert_ballot", "close", "open_round", "close_round"} <= writer_calls
