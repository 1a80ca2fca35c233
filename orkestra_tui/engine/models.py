"""The domain: plain dataclasses and enums, free of storage rows and widgets.

Converters between these and SQLite rows live in `store.py`; widgets read these
objects and never the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any


class ProjectStatus(StrEnum):
    PLANNING = "planning"
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"
    ARCHIVED = "archived"


class Involvement(IntEnum):
    """How much the human takes part (the wizard's level 1 to 3)."""

    HANDS_OFF = 1
    CHECKPOINTS = 2
    HANDS_ON = 3


class TaskStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    RUNNING = "running"
    REVIEW = "review"
    DONE = "done"
    FAILED = "failed"
    BLOCKED = "blocked"
    AWAITING_HUMAN = "awaiting_human"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def is_final(self) -> bool:
        return self in (TaskStatus.DONE, TaskStatus.CANCELLED)


TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PENDING: frozenset(
        {TaskStatus.READY, TaskStatus.BLOCKED, TaskStatus.CANCELLED, TaskStatus.RUNNING}
    ),
    TaskStatus.READY: frozenset(
        {TaskStatus.RUNNING, TaskStatus.PENDING, TaskStatus.BLOCKED, TaskStatus.CANCELLED}
    ),
    TaskStatus.RUNNING: frozenset(
        {
            TaskStatus.REVIEW,
            TaskStatus.DONE,
            TaskStatus.FAILED,
            TaskStatus.READY,
            TaskStatus.BLOCKED,
            TaskStatus.AWAITING_HUMAN,
            TaskStatus.CANCELLED,
        }
    ),
    TaskStatus.REVIEW: frozenset(
        {TaskStatus.DONE, TaskStatus.READY, TaskStatus.AWAITING_HUMAN, TaskStatus.CANCELLED}
    ),
    TaskStatus.AWAITING_HUMAN: frozenset(
        {TaskStatus.DONE, TaskStatus.READY, TaskStatus.REVIEW, TaskStatus.CANCELLED}
    ),
    TaskStatus.FAILED: frozenset({TaskStatus.READY, TaskStatus.CANCELLED}),
    TaskStatus.BLOCKED: frozenset({TaskStatus.READY, TaskStatus.PENDING, TaskStatus.CANCELLED}),
    TaskStatus.DONE: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}
"""Which status a task may move to from each status."""


class Priority(IntEnum):
    """Lower numbers run first."""

    CRITICAL = 0
    HIGH = 1
    NORMAL = 2
    LOW = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class DecisionStatus(StrEnum):
    OPEN = "open"
    VOTING = "voting"
    DEADLOCKED = "deadlocked"
    AWAITING_HUMAN = "awaiting_human"
    DECIDED = "decided"
    NO_DECISION = "no_decision"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self not in (
            DecisionStatus.DECIDED,
            DecisionStatus.NO_DECISION,
            DecisionStatus.CANCELLED,
        )


class InboxKind(StrEnum):
    TIE_BREAK = "tie_break"
    BALLOT = "ballot"
    PLAN_APPROVAL = "plan_approval"
    ROUND_FEEDBACK = "round_feedback"
    TASK_REVIEW = "task_review"
    BUDGET = "budget"


class InboxStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    brief: str
    involvement: Involvement
    status: ProjectStatus
    created_at: float
    workspace: str | None = None
    """The folder agents' file blocks are written to, if the project has one."""
    budget: float | None = None
    """The most the project may spend on calls, in dollars; None for no cap."""


@dataclass(frozen=True)
class TaskSpec:
    """A task to be created: what a plan or the user asks for."""

    title: str
    instructions: str = ""
    category: str = "code"
    priority: Priority = Priority.NORMAL
    phase: str = ""
    key: str = ""
    depends_on: tuple[str, ...] = ()
    """Keys of tasks in the same batch that this one waits for."""
    acceptance: tuple[str, ...] = ()
    """What must be true for the task to count as done."""


@dataclass(frozen=True)
class Task:
    id: int
    project_id: int
    key: str
    phase: str
    title: str
    instructions: str
    category: str
    priority: Priority
    status: TaskStatus
    depends_on: tuple[int, ...]
    assigned_to: str | None
    attempts: int
    lease_owner: str | None
    lease_expires_at: float | None
    result: str | None
    created_at: float
    updated_at: float
    acceptance: tuple[str, ...] = ()
    pinned_agent: str | None = None
    """The agent the user pinned the task to, if any."""
    rationale: str = ""
    """Why the agent it went to was chosen."""
    note: str = ""
    """The latest reason worth showing: why it failed or was blocked, a reviewer's warning, your note."""
    artifact: str | None = None
    """The result's Markdown file, relative to the data directory."""
    review_rounds: int = 0
    """How many times reviewers' concerns sent it back."""


@dataclass(frozen=True)
class Decision:
    id: int
    project_id: int | None
    question: str
    options: tuple[str, ...]
    method: str
    rules: dict[str, Any]
    """threshold and quorum, as the consensus method takes them."""
    voters: tuple[str, ...]
    """Agent names, and HUMAN_VOTER when the human votes too."""
    max_rounds: int
    category: str
    status: DecisionStatus
    current_round: int
    outcome: dict[str, Any] | None
    created_at: float
    decided_at: float | None
    authors: dict[str, str] = field(default_factory=dict)
    """Option to the agent who proposed it; that agent may not vote for it."""
    resolution: tuple[str, ...] = ()
    """Deadlock-resolution steps already taken, in order."""


HUMAN_VOTER = "human"
"""The voter name of the human, when the human is on the committee."""


class RoundStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class DecisionRound:
    decision_id: int
    round: int
    options: tuple[str, ...]
    status: RoundStatus
    tally: dict[str, Any] | None
    """The consensus result of the round (TallyResult.to_dict()) once closed."""
    estimate: float
    """Estimated cost of the round's calls, worked out before it started."""
    note: str
    started_at: float
    closed_at: float | None


@dataclass(frozen=True)
class Feedback:
    decision_id: int
    round: int
    """The round the feedback is for: agents see it from that round on."""
    text: str
    created_at: float


@dataclass(frozen=True)
class Ballot:
    decision_id: int
    round: int
    voter: str
    ranking: tuple[str, ...]
    confidence: float
    reasoning: str
    abstain_reason: str
    cast_at: float
    excluded: tuple[str, ...] = ()
    """Options left off this ballot because the voter proposed them."""

    @property
    def is_abstention(self) -> bool:
        return not self.ranking


@dataclass(frozen=True)
class InboxItem:
    id: int
    project_id: int | None
    kind: InboxKind
    subject: str
    payload: dict[str, Any]
    status: InboxStatus
    answer: Any
    created_at: float
    answered_at: float | None


@dataclass(frozen=True)
class AuditEvent:
    id: int
    ts: float
    project_id: int | None
    actor: str
    kind: str
    subject: str
    summary: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CallRecord:
    """One request to one agent, successful or not."""

    agent: str
    model: str
    purpose: str
    started_at: float
    latency_ms: float
    tokens_in: int
    tokens_out: int
    cost: float
    error_class: str = ""
    error: str = ""
    call_id: int | None = None
    """The call row written (as started) before the request went out, which this record completes."""
    output_mode: str = ""
    """How a structured answer was asked for: schema (the vendor's schema-constrained output), json
    (JSON mode), prompt (the schema in the prompt only); empty for free text and simulated agents."""

    @property
    def ok(self) -> bool:
        return not self.error_class


@dataclass(frozen=True)
class CallStart:
    """A call about to be made, recorded before its request goes out."""

    agent: str
    model: str
    purpose: str
    started_at: float
    estimated_cost: float
    """What the request should cost (its prompt's token estimate at the agent's prices): the cost the
    row keeps if the process stops before the answer comes."""
    owner: str
    """The process making the call (`owners.lease_owner_name`), for recovery to tell a dead one."""
    project_id: int | None = None
    decision_id: int | None = None
    task_id: int | None = None


@dataclass(frozen=True)
class AgentInfo:
    """An agent as the screens and commands show it."""

    name: str
    provider: str
    model: str
    enabled: bool
    simulated: bool
    simulated_reason: str
    specialties: dict[str, float]
    weight: float
    concurrency: int
    key_variable: str = ""
    """The environment variable its key was read from ("" without a key)."""
    base_url: str = ""
    """The endpoint it calls: config.toml's, the vendor's variable's, or its default ("" for none)."""
