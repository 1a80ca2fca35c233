"""`orkestra status`: the contests under way, one line each (and in `--json`)."""

from __future__ import annotations

from typing import Any


def add_contests(engine: Any, projects: list[dict[str, Any]]) -> None:
    """Put each project's contests in progress (running, voting, waiting for the human) in its document."""
    for project in projects:
        project["contests"] = [
            {
                "task_id": view.task_id,
                "title": engine.task(view.task_id).title,
                "agents": view.agents,
                "state": view.state.value,
                "decision_id": view.decision_id,
                "winner": view.winner,
                "line": view.line,
                "entries": [
                    {
                        "letter": entry.letter,
                        "agent": entry.agent,
                        "state": entry.state.value,
                        "gates_passed": entry.gates.passed,
                        "gates_failed": entry.gates.failed,
                        "files": entry.files,
                        "added": entry.added,
                        "removed": entry.removed,
                        "cost": entry.cost,
                    }
                    for entry in view.entries
                ],
            }
            for view in engine.contests_in_progress(project["id"])
        ]


def print_contests(out: Any, projects: list[dict[str, Any]]) -> None:
    """`Contests` and a line per contest under way: `Shop #3 Write the intro: contest of 3, voting...`."""
    from rich.text import Text

    from orkestra_tui.commands.output import literal

    out.print(Text("Contests", style="bold"))
    for project in projects:
        for contest in project["contests"]:
            line = f"{project['name']} #{contest['task_id']} {contest['title']}: {contest['line']}"
            out.print(literal(line), soft_wrap=True)  # one line each, however long
