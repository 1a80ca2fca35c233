"""`orkestra status`: projects, their tasks per status, the agents and the open inbox."""

from __future__ import annotations

import argparse
from typing import Any

from orkestra_tui.commands.context import add_common_options, load_context
from orkestra_tui.commands.status_contests import add_contests, print_contests
from orkestra_tui.wording import plural


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show projects, task counts and agents",
        description="Show every project with its tasks per status, the agents, and open questions.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def collect(args: argparse.Namespace) -> dict[str, Any]:
    context = load_context(args)
    engine = context.open_engine(only_reads=True)
    try:
        projects = []
        for project in engine.projects():
            progress = engine.project_progress(project.id)
            counts = progress.counts
            phases = [
                {"phase": phase.phase, "done": phase.done, "total": phase.total}
                for phase in engine.phase_progress(project.id)
            ]
            projects.append(
                {
                    "id": project.id,
                    "name": project.name,
                    "status": project.status.value,
                    "involvement": int(project.involvement),
                    "tasks": {status.value: count for status, count in counts.items()},
                    "total_tasks": sum(counts.values()),
                    "progress": {
                        "done": progress.done,
                        "total": progress.total,
                        "cancelled": progress.cancelled,
                    },
                    "phases": phases,
                    "repository": None,
                }
            )
        _add_repositories(engine, projects)
        add_contests(engine, projects)
        agents = [
            {
                "name": agent.name,
                "provider": agent.provider,
                "model": agent.model,
                "enabled": agent.enabled,
                "simulated": agent.simulated,
                "simulated_reason": agent.simulated_reason,
            }
            for agent in engine.agents()
        ]
        return {
            "data_dir": str(context.paths.data_dir),
            "config_file": str(context.paths.config_file),
            "projects": projects,
            "agents": agents,
            "open_questions": len(engine.inbox.open_items()),
        }
    finally:
        engine.close()


def _add_repositories(engine: Any, projects: list[dict[str, Any]]) -> None:
    """Each linked project's repository: its branches, how far ahead, what is merged and what waits."""
    import asyncio

    from orkestra_tui.commands.project import link_document

    linked = [project for project in projects if engine.repository(project["id"]) is not None]
    if not linked:
        return

    async def read() -> list[Any]:
        return [await engine.repository_status(project["id"]) for project in linked]

    for project, found in zip(linked, asyncio.run(read()), strict=True):
        if found is None:
            continue
        project["repository"] = {
            **(link_document(found.link) or {}),
            "ahead": found.ahead,
            "behind": found.behind,
            "merged_tasks": found.merged_tasks,
            "waiting": [
                {"id": task_id, "title": title, "state": state} for task_id, title, state in found.waiting
            ],
            "problems": list(found.problems),
        }


def run(args: argparse.Namespace) -> int:
    document = collect(args)
    if args.json:
        from orkestra_tui.commands.output import print_json

        print_json(document)
        return 0
    from rich.table import Table
    from rich.text import Text

    from orkestra_tui.commands.output import console, literal
    from orkestra_tui.engine.progress import STATUS_ORDER

    out = console()
    out.print(literal(f"Data: {document['data_dir']}", style="dim"))
    if document["projects"]:
        # A column per status any project has, named as in `--json` (`awaiting_human`: awaiting human).
        statuses = [
            status.value
            for status in STATUS_ORDER
            if any(project["tasks"].get(status.value) for project in document["projects"])
        ]
        table = Table(title="Projects", title_justify="left", box=None, pad_edge=False, header_style="bold")
        table.add_column("project", no_wrap=True, min_width=12, overflow="ellipsis")
        table.add_column("status", no_wrap=True)
        for status in statuses:
            table.add_column(status.replace("_", " "), justify="right", no_wrap=True)
        # Named as in `--json`: done out of the tasks not cancelled (a `done` column counts the status).
        table.add_column("progress", justify="right", no_wrap=True)
        for project in document["projects"]:
            tasks, progress = project["tasks"], project["progress"]
            table.add_row(
                literal(project["name"]),
                project["status"],
                *(str(tasks.get(status, 0)) for status in statuses),
                f"{progress['done']}/{progress['total']}",
            )
        out.print(table)
        out.print()
        if any(project["phases"] for project in document["projects"]):
            out.print(_phase_table(document["projects"], bars=out.is_terminal))
            out.print()
        if any(project["repository"] for project in document["projects"]):
            _print_repositories(out, document["projects"])
            out.print()
        if any(project["contests"] for project in document["projects"]):
            print_contests(out, document["projects"])
            out.print()
    else:
        out.print(
            Text.assemble("No projects yet: run ", ("orkestra", "bold"), " and start one on the Plan screen.")
        )
    agents = Table(title="Agents", title_justify="left", box=None, pad_edge=False, header_style="bold")
    for column in ("agent", "provider", "model", "mode"):
        agents.add_column(column, no_wrap=True)
    agents.add_column("why", overflow="fold")
    for agent in document["agents"]:
        if not agent["enabled"]:
            mode = Text("disabled", style="dim")
        elif agent["simulated"]:
            mode = Text("simulated", style="yellow")
        else:
            mode = Text("live", style="green")
        agents.add_row(
            literal(agent["name"]),
            literal(agent["provider"]),
            literal(agent["model"]),
            mode,
            literal(agent["simulated_reason"] if agent["simulated"] else "", style="dim"),
        )
    out.print(agents)
    if document["open_questions"]:
        waiting = document["open_questions"]
        verb = "waits" if waiting == 1 else "wait"
        out.print(Text(f"{plural(waiting, 'question')} {verb} for you.", style="bold yellow"))
    return 0


PHASE_BAR_WIDTH = 12


def _phase_table(projects: list[dict[str, Any]], *, bars: bool) -> Any:
    """Each project's phases with their tasks done out of those not cancelled; a bar on a terminal."""
    from rich.table import Table
    from rich.text import Text

    from orkestra_tui.commands.output import literal

    table = Table(title="Phases", title_justify="left", box=None, pad_edge=False, header_style="bold")
    table.add_column("project", no_wrap=True, min_width=12, overflow="ellipsis")
    table.add_column("phase", overflow="ellipsis")
    if bars:
        table.add_column("progress", no_wrap=True)
    table.add_column("done", justify="right", no_wrap=True)
    for project in projects:
        for index, phase in enumerate(project["phases"]):
            done, total = phase["done"], phase["total"]
            cells: list[Any] = [
                literal(project["name"] if index == 0 else ""),
                literal(phase["phase"] or "(no phase)", style="" if phase["phase"] else "dim"),
            ]
            if bars:
                filled = round(PHASE_BAR_WIDTH * done / total) if total else 0
                complete = total > 0 and done == total
                cells.append(
                    Text("█" * filled, style="green" if complete else "cyan")
                    + Text("░" * (PHASE_BAR_WIDTH - filled), style="dim")
                )
            cells.append(f"{done}/{total}")
            table.add_row(*cells)
    return table


def _print_repositories(out: Any, projects: list[dict[str, Any]]) -> None:
    """For each linked project: its integration branch, how far ahead, merged tasks, and what waits."""
    from rich.text import Text

    from orkestra_tui.commands.output import literal
    from orkestra_tui.engine.voting.consensus import quote_name

    out.print(Text("Repositories", style="bold"))
    for project in projects:
        repository = project["repository"]
        if not repository:
            continue
        branch, path, base = repository["branch"], repository["path"], repository["base"]
        out.print(literal(f"{project['name']}: {branch} in {path}, from {base}"))
        for problem in repository["problems"]:
            out.print(literal(f"  not usable: {problem}", style="yellow"))
        if repository["problems"]:
            continue
        out.print(
            literal(
                f"  {plural(repository['ahead'], 'commit')} ahead of {repository['base']}, "
                f"{repository['behind']} behind; {plural(repository['merged_tasks'], 'task')} merged"
            )
        )
        waiting = repository["waiting"]
        if waiting:
            shown = ", ".join(
                f"#{task['id']} {quote_name(task['title'])} ({task['state']})" for task in waiting
            )
            out.print(literal(f"  waiting to merge: {shown}"))
        elif repository["ahead"]:
            name = quote_name(project["name"])
            out.print(literal(f"  nothing waits to merge; land it with: orkestra land {name}", style="dim"))
