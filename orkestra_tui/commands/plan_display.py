"""What `orkestra plan` shows: progress on stderr from the engine's events, and the result.

Progress is one line per planning step and, once the committee votes on the
plans, the vote's own lines (rounds, ballots, tie-breaks) as `orkestra vote`
tells them. The result is a Rich summary or one JSON-ready document. Plans,
titles, reasons and summaries are agent text: every piece is shown as a Rich
`Text` with its control characters escaped, never parsed as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orkestra_tui.engine.voting.consensus import printable, quote_name
from orkestra_tui.wording import plural

if TYPE_CHECKING:
    from rich.console import Console

    from orkestra_tui.commands.vote_display import VoteProgress
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.events import EngineEvent
    from orkestra_tui.engine.models import InboxItem
    from orkestra_tui.engine.planning.planning import PlanSession

# Planning events told by their own summary, which already reads as a sentence.
TOLD_EVENTS = (
    "plan.started",
    "plan.drafting",
    "plan.drafted",
    "plan.proposed",
    "plan.vote_opened",
    "plan.chosen",
    "plan.synthesized",
    "plan.synthesis_skipped",
    "plan.approved",
)
STEP_EVENTS = ("plan.proposed", "plan.vote_opened", "plan.chosen", "plan.synthesized", "plan.approved")


class PlanProgress:
    """Tells, on stderr, how the planning of one project goes; `on_event` is its bus subscriber."""

    def __init__(self, engine: Engine, project_id: int, *, live: bool) -> None:
        self.engine = engine
        self.project_id = project_id
        self.live = live
        self.vote: VoteProgress | None = None
        """Tells the committee's vote on the plans, once it is opened."""
        self.console: Console | None = None
        if live:
            from orkestra_tui.commands.output import console

            self.console = console(stderr=True)

    def say(self, message: str, style: str = "") -> None:
        """One escaped line on stderr."""
        line = printable(message)
        if self.console is None:
            from orkestra_tui.commands.output import emit

            emit(line, err=True, flush=True)
            return
        from rich.text import Text

        self.console.print(Text(line, style=style))

    def on_event(self, event: EngineEvent) -> None:
        """Tell one event if it concerns this project's plan (the bus delivers all of the engine's)."""
        from orkestra_tui.commands.vote_display import VoteProgress

        if self.vote is not None:
            self.vote.on_event(event)  # it picks its own decision's events and tie-break requests
        if event.project_id != self.project_id or event.kind not in TOLD_EVENTS:
            return
        if event.kind == "plan.vote_opened":
            decision = self.engine.decision(int(event.data.get("decision", 0)))
            if decision is not None:
                self.vote = VoteProgress(decision, live=self.live)
        self.say(event.summary, "bold" if event.kind in STEP_EVENTS else "")

    async def ask_tie_break(self, question: str, tied: list[tuple[str, float]]) -> str | None:
        """The tied plan the human picks on the terminal, or None to leave it to the fallback."""
        if self.vote is None:
            return None
        return await self.vote.ask_tie_break(question, tied)

    async def ask_round_feedback(self, item: InboxItem) -> str:
        """One line of feedback for the committee's next round, typed on the terminal; '' skips."""
        from orkestra_tui.commands.vote_display import read_line

        self.say(f"The committee asks for your feedback: {item.subject}", "bold yellow")
        self.say("Type one line for the next round, or press Enter to skip:")
        return (await read_line() or "").strip()


# ------------------------------------------------------------------ result


def plan_document(engine: Engine, session: PlanSession, *, error: str | None = None) -> dict[str, Any]:
    """The project, its plan as it stands, the proposals, the vote, the cost and the warnings."""
    from orkestra_tui.engine.planning.planning import PlanStep

    project = engine.project(session.project_id)
    approved = session.step is PlanStep.DONE
    task_ids = {task.key: task.id for task in engine.tasks(session.project_id)} if approved else {}
    calls, tokens, _cost = engine.call_usage([session.project_id])
    plan_phases: list[dict[str, Any]] = session.plan["phases"] if session.plan else []
    phases = [
        {"name": phase["name"], "tasks": [_task_entry(task, task_ids) for task in phase["tasks"]]}
        for phase in plan_phases
    ]
    return {
        "project": {
            "id": session.project_id,
            "name": project.name if project else session.brief.name,
            "status": project.status.value if project else None,
        },
        "step": session.step.value,
        "approved": approved,
        "phases": phases,
        "proposals": [
            {
                "agent": proposal.agent,
                "ok": proposal.ok,
                "reason": proposal.reason,
                "tasks": proposal.task_count,
            }
            for proposal in session.proposals
        ],
        "vote": _vote_entry(engine, session.decision_id),
        "changes": list(session.changes),
        "cost_usd": engine.project_cost(session.project_id),
        "calls": calls,
        "tokens": tokens,
        "warnings": _warnings(engine, session, phases, approved=approved),
        "error": error,
    }


def _task_entry(task: dict[str, Any], task_ids: dict[str, int]) -> dict[str, Any]:
    entry = {
        "key": task["key"],
        "title": task["title"],
        "instructions": task.get("instructions", ""),
        "category": task.get("category", "code"),
        "priority": task.get("priority", "normal"),
        "depends_on": list(task.get("depends_on", [])),
        "acceptance": list(task.get("acceptance", [])),
    }
    if task["key"] in task_ids:
        entry["task_id"] = task_ids[task["key"]]
    return entry


def _vote_entry(engine: Engine, decision_id: int | None) -> dict[str, Any] | None:
    decision = engine.decision(decision_id) if decision_id is not None else None
    if decision is None:
        return None
    winner = (decision.outcome or {}).get("winner")
    return {
        "decision_id": decision.id,
        "method": decision.method,
        "winner": winner,
        "author": decision.authors.get(str(winner)) if winner is not None else None,
        "rounds": len(engine.rounds(decision.id)),
        "status": decision.status.value,
    }


def _warnings(
    engine: Engine, session: PlanSession, phases: list[dict[str, Any]], *, approved: bool
) -> list[str]:
    """Agents left out and why, a refinement that was skipped, dependencies on unknown tasks."""
    warnings = [
        f"{proposal.agent} was left out: {proposal.reason}"
        for proposal in session.proposals
        if not proposal.ok
    ]
    skipped = engine.audit_events(1, project_id=session.project_id, kind="plan.synthesis_skipped")
    if skipped:
        warnings.append(skipped[0].summary)
    keys = {task["key"] for phase in phases for task in phase["tasks"]}
    fate = "was dropped" if approved else "will be dropped on approval"
    warnings += [
        f"task {quote_name(task['key'])} depends on unknown task {quote_name(str(dependency))}; "
        f"that dependency {fate}"
        for phase in phases
        for task in phase["tasks"]
        for dependency in task["depends_on"]
        if dependency not in keys
    ]
    return warnings


def print_summary(document: dict[str, Any]) -> None:
    """The result for a reader: the phases and tasks, the vote, the refinement, cost and warnings."""
    from rich.table import Table
    from rich.text import Text

    from orkestra_tui.commands.output import console

    out = console()
    project = document["project"]
    task_count = sum(len(phase["tasks"]) for phase in document["phases"])
    state = "approved" if document["approved"] else "waiting for review"
    out.print(
        Text(
            printable(
                f"Project {project['id']} {quote_name(project['name'])}: {state}, "
                f"{plural(task_count, 'task')} in {plural(len(document['phases']), 'phase')}"
            ),
            style="bold",
        )
    )
    for number, phase in enumerate(document["phases"], start=1):
        table = Table(
            title=Text(printable(f"Phase {number}: {phase['name']}")),
            title_justify="left",
            box=None,
            header_style="bold",
        )
        for heading in ("key", "title", "priority", "depends on") + (
            ("task",) if document["approved"] else ()
        ):
            table.add_column(heading)
        for task in phase["tasks"]:
            cells = [
                Text(printable(str(task["key"]))),
                Text(printable(str(task["title"]))),
                Text(printable(str(task["priority"]))),
                Text(printable(", ".join(map(str, task["depends_on"])) or "-")),
            ]
            if document["approved"]:
                cells.append(Text(str(task.get("task_id", "-"))))
            table.add_row(*cells)
        out.print(table)
    out.print(Text(printable(_vote_line(document))))
    if document["changes"]:
        out.print(Text(f"Refined by the chosen plan's author: {plural(len(document['changes']), 'change')}"))
        for change in document["changes"]:
            out.print(Text(printable(f"  {change}"), style="dim"))
    calls = plural(document["calls"], "call")
    out.print(Text(f"Cost: ${document['cost_usd']:.4f} · {calls} · {document['tokens']:,} tokens"))
    for warning in document["warnings"]:
        out.print(Text.assemble(("Warning: ", "bold yellow"), printable(warning)))
    if document["approved"]:
        out.print(
            Text(
                f"Approved: {plural(task_count, 'task')} {'is' if task_count == 1 else 'are'} on the Board.",
                style="bold green",
            )
        )
    else:
        out.print(
            Text(
                "Not approved: the plan waits for your review. Open orkestra and review it on the Plan "
                "screen, where you can edit, reject or approve it.",
                style="bold yellow",
            )
        )


def _vote_line(document: dict[str, Any]) -> str:
    vote = document["vote"]
    if vote is None:
        chosen = next((proposal["agent"] for proposal in document["proposals"] if proposal["ok"]), "none")
        return f"Vote: none needed, only one valid plan ({chosen}'s)"
    if vote["winner"] is None:
        rounds = plural(vote["rounds"], "round")
        return f"Vote: {vote['method']}, no plan chosen after {rounds} ({vote['status']})"
    return (
        f"Vote: {vote['method']}, {vote['author']}'s plan won after {plural(vote['rounds'], 'round')}: "
        f"{vote['winner']}"
    )
