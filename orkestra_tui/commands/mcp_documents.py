"""What `orkestra mcp`'s tools answer: a JSON-ready document and a short text beside it.

The documents use the engine's own words (statuses, progress, the vote's
document as `orkestra vote --json` prints it). Model text (a ballot's
reasoning, a task's result) reaches the short text only through
`terminal_safe`, the one function that makes text safe to show; API keys never
appear, since the engine redacts what it stores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orkestra_tui.safe_text import terminal_safe
from orkestra_tui.wording import plural

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.models import AuditEvent, Decision, InboxItem, Project, Task

REASONING_CHARS = 400
"""How much of a ballot's reasoning the short text quotes (the document holds all of it)."""


def safe(value: object) -> str:
    """Text for the short answer: control and bidi characters shown as escapes."""
    return terminal_safe(value)


def waiting_request(engine: Engine, decision_id: int) -> InboxItem | None:
    """The open inbox request (a tie-break, a ballot, feedback) the decision waits on, if any."""
    for item in engine.inbox.open_items():
        if item.payload.get("decision_id") == decision_id:
            return item
    return None


def decision_answer(engine: Engine, decision: Decision) -> tuple[dict[str, Any], str]:
    """The decision as the vote's JSON document has it, with each voter's last ballot and what it waits on."""
    from orkestra_tui.commands.vote_display import HOW_WORDS, decision_document

    document = decision_document(engine, decision)
    request = waiting_request(engine, decision.id)
    document["waiting_for_human"] = request is not None
    document["inbox_id"] = request.id if request is not None else None
    document["tally"] = [{"round": item["round"], "tally": item["tally"]} for item in document["rounds"]]
    last_ballots = document["rounds"][-1]["ballots"] if document["rounds"] else []
    document["ballots"] = [
        {key: ballot[key] for key in ("voter", "ranking", "reasoning", "confidence", "abstain_reason")}
        for ballot in last_ballots
    ]
    rounds = plural(len(document["rounds"]), "round")
    lines = [f"Decision {decision.id}: {safe(decision.question)}"]
    if request is not None:
        lines.append(
            f"Waiting for the human: inbox request {request.id} ({request.kind.value.replace('_', ' ')}) "
            f"is in Orkestra's inbox after {rounds}. The human answers it in the app (orkestra); "
            f"call decision with decision_id {decision.id} to read the outcome later."
        )
    elif document["winner"] is not None:
        how = HOW_WORDS.get(str(document["how"]), str(document["how"]))
        lines.append(
            f"Winner: {safe(document['winner'])}, decided {how} after {rounds} (method {decision.method})."
        )
    else:
        tied = ", ".join(safe(option) for option in document["tied"])
        lines.append(
            f"No decision ({document['status'].replace('_', ' ')})" + (f"; tied: {tied}." if tied else ".")
        )
    for ballot in document["ballots"]:
        ranking = " > ".join(safe(option) for option in ballot["ranking"]) or "abstained"
        reasoning = safe(" ".join(str(ballot["reasoning"] or ballot["abstain_reason"] or "").split()))
        if len(reasoning) > REASONING_CHARS:
            reasoning = reasoning[: REASONING_CHARS - 1] + "…"
        lines.append(f"- {safe(ballot['voter'])}: {ranking}" + (f" ({reasoning})" if reasoning else ""))
    return document, "\n".join(lines)


def project_document(engine: Engine, project: Project) -> dict[str, Any]:
    """A project with its tasks counted per status, as `orkestra status --json` counts them."""
    progress = engine.project_progress(project.id)
    return {
        "id": project.id,
        "name": project.name,
        "status": project.status.value,
        "progress": progress.summary(),
        "done": progress.done,
        "total": progress.total,
        "cancelled": progress.cancelled,
        "tasks": {status.value: count for status, count in progress.counts.items() if count},
    }


def task_document(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "project_id": task.project_id,
        "key": task.key,
        "phase": task.phase,
        "title": task.title,
        "status": task.status.value,
        "category": task.category,
        "priority": task.priority.label,
        "depends_on": list(task.depends_on),
        "assigned_to": task.assigned_to,
        "attempts": task.attempts,
        "note": task.note,
    }


def task_line(task: Task) -> str:
    return f"- task {task.id} [{task.status.label}] {safe(task.title)}"


def event_document(event: AuditEvent) -> dict[str, Any]:
    """An audit event as `orkestra audit --json` shows it."""
    from orkestra_tui.commands.audit import event_document as audit_event_document

    return audit_event_document(event)


def event_line(event: AuditEvent) -> str:
    return f"- {event.id} {safe(event.actor)} {safe(event.kind)}: {safe(event.summary)}"
