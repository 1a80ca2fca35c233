"""Converting SQLite rows to domain objects: the column lists and one converter per table."""

from __future__ import annotations

import json
from typing import Any

from orkestra_tui.engine.models import (
    AuditEvent,
    Ballot,
    CallRecord,
    CallStart,
    Decision,
    DecisionRound,
    DecisionStatus,
    Feedback,
    InboxItem,
    InboxKind,
    InboxStatus,
    Involvement,
    Priority,
    Project,
    ProjectStatus,
    RoundStatus,
    Task,
    TaskStatus,
)

PROJECT_COLUMNS = "id, name, brief, involvement, status, created_at, workspace, budget"
TASK_COLUMNS = (
    "id, project_id, key, phase, title, instructions, category, priority, status,"
    " assigned_to, attempts, lease_owner, lease_expires_at, result, created_at, updated_at,"
    " acceptance, pinned_agent, rationale, note, artifact, review_rounds"
)
DECISION_COLUMNS = (
    "id, project_id, question, options, method, rules, voters, max_rounds, category, status,"
    " current_round, outcome, created_at, decided_at, authors, resolution"
)
BALLOT_COLUMNS = (
    "decision_id, round, voter, ranking, confidence, reasoning, abstain_reason, cast_at, excluded"
)
ROUND_COLUMNS = "decision_id, round, options, status, tally, estimate, note, started_at, closed_at"
FEEDBACK_COLUMNS = "decision_id, round, text, created_at"
INBOX_COLUMNS = "id, project_id, kind, subject, payload, status, answer, created_at, answered_at"
AUDIT_COLUMNS = "id, ts, project_id, actor, kind, subject, summary, data"
CALL_COLUMNS = (
    "agent, model, purpose, started_at, latency_ms, tokens_in, tokens_out, cost, error_class, error,"
    " output_mode"
)
CALL_START_COLUMNS = "agent, model, purpose, started_at, cost, owner, project_id, decision_id, task_id, state"
CALL_START_INSERT = (
    f"INSERT INTO call ({CALL_START_COLUMNS}, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'started', 0)"
)
"""Records a call as started (`CallStart`): its request is on the way."""


def project(row: tuple[Any, ...]) -> Project:
    return Project(
        id=row[0],
        name=row[1],
        brief=row[2],
        involvement=Involvement(row[3]),
        status=ProjectStatus(row[4]),
        created_at=row[5],
        workspace=row[6],
        budget=row[7],
    )


def task(row: tuple[Any, ...], depends_on: tuple[int, ...]) -> Task:
    return Task(
        id=row[0],
        project_id=row[1],
        key=row[2],
        phase=row[3],
        title=row[4],
        instructions=row[5],
        category=row[6],
        priority=Priority(row[7]),
        status=TaskStatus(row[8]),
        depends_on=depends_on,
        assigned_to=row[9],
        attempts=row[10],
        lease_owner=row[11],
        lease_expires_at=row[12],
        result=row[13],
        created_at=row[14],
        updated_at=row[15],
        acceptance=tuple(json.loads(row[16])),
        pinned_agent=row[17],
        rationale=row[18],
        note=row[19],
        artifact=row[20],
        review_rounds=row[21],
    )


def decision(row: tuple[Any, ...]) -> Decision:
    return Decision(
        id=row[0],
        project_id=row[1],
        question=row[2],
        options=tuple(json.loads(row[3])),
        method=row[4],
        rules=json.loads(row[5]),
        voters=tuple(json.loads(row[6])),
        max_rounds=row[7],
        category=row[8],
        status=DecisionStatus(row[9]),
        current_round=row[10],
        outcome=json.loads(row[11]) if row[11] else None,
        created_at=row[12],
        decided_at=row[13],
        authors=json.loads(row[14]),
        resolution=tuple(json.loads(row[15])),
    )


def ballot(row: tuple[Any, ...]) -> Ballot:
    return Ballot(
        decision_id=row[0],
        round=row[1],
        voter=row[2],
        ranking=tuple(json.loads(row[3])),
        confidence=row[4],
        reasoning=row[5],
        abstain_reason=row[6],
        cast_at=row[7],
        excluded=tuple(json.loads(row[8])),
    )


def decision_round(row: tuple[Any, ...]) -> DecisionRound:
    return DecisionRound(
        decision_id=row[0],
        round=row[1],
        options=tuple(json.loads(row[2])),
        status=RoundStatus(row[3]),
        tally=json.loads(row[4]) if row[4] else None,
        estimate=row[5],
        note=row[6],
        started_at=row[7],
        closed_at=row[8],
    )


def feedback(row: tuple[Any, ...]) -> Feedback:
    return Feedback(decision_id=row[0], round=row[1], text=row[2], created_at=row[3])


def inbox(row: tuple[Any, ...]) -> InboxItem:
    return InboxItem(
        id=row[0],
        project_id=row[1],
        kind=InboxKind(row[2]),
        subject=row[3],
        payload=json.loads(row[4]),
        status=InboxStatus(row[5]),
        answer=json.loads(row[6]) if row[6] is not None else None,
        created_at=row[7],
        answered_at=row[8],
    )


def audit(row: tuple[Any, ...]) -> AuditEvent:
    return AuditEvent(
        id=row[0],
        ts=row[1],
        project_id=row[2],
        actor=row[3],
        kind=row[4],
        subject=row[5],
        summary=row[6],
        data=json.loads(row[7]) if row[7] else {},
    )


def call(row: tuple[Any, ...]) -> CallRecord:
    return CallRecord(
        agent=row[0],
        model=row[1],
        purpose=row[2],
        started_at=row[3],
        latency_ms=row[4],
        tokens_in=row[5],
        tokens_out=row[6],
        cost=row[7],
        error_class=row[8],
        error=row[9],
        output_mode=row[10],
    )


def call_start(start: CallStart) -> tuple[Any, ...]:
    """The values of `CALL_START_INSERT` for a call about to be made."""
    return (
        start.agent,
        start.model,
        start.purpose,
        start.started_at,
        start.estimated_cost,
        start.owner,
        start.project_id,
        start.decision_id,
        start.task_id,
    )
