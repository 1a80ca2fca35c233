"""What the Board shows of a project: task cards kept up to date, sorted and filtered; one task in full.

Plain data and the rules for deriving it from the store (no widgets, no
styles); the Board's widgets draw it. `CardKeeper` holds a project's cards and
re-reads only the tasks that events named; `sort_cards` and `phase_progress`
run over every card it holds (10,000 in a few milliseconds) whenever something
changed. `read_task_detail` reads one task, its dependencies' cards, its
attempts, its reviews and its audit trail: a handful of indexed lookups,
however many tasks the project has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from orkestra_tui.engine.models import AuditEvent, Task, TaskStatus
from orkestra_tui.engine.progress import GROUP_OF, STATUS_GROUPS, ProjectProgress
from orkestra_tui.engine.store.store import Store, TaskAttempt, TaskCard, TaskReview

__all__ = [
    "FULL_READ_AFTER",
    "BoardPhase",
    "CardKeeper",
    "CardReader",
    "SortedCards",
    "TaskAttempt",
    "TaskCard",
    "TaskDetail",
    "TaskReview",
    "filter_terms",
    "matches",
    "phase_progress",
    "read_task_detail",
    "sort_cards",
]

GROUP_IDS = tuple(group.id for group in STATUS_GROUPS)
"""The Board's columns by id, in order (the engine's status groups)."""
FULL_READ_AFTER = 1_000
"""More changed tasks than this are re-read with all the others, in one query."""


# ------------------------------------------------------------------ one task


@dataclass(frozen=True)
class TaskDetail:
    """One task and what belongs to it, as of one read of the store."""

    task: Task
    dependencies: tuple[TaskCard, ...]
    attempts: tuple[TaskAttempt, ...]
    reviews: tuple[TaskReview, ...]
    events: tuple[AuditEvent, ...]
    artifact_file: Path | None = None
    """Where the result is kept on disk, in full."""
    files: tuple[str, ...] = ()
    """The workspace files the last finished attempt wrote."""


def read_task_detail(store: Store, task_id: int, *, data_dir: Path | None = None) -> TaskDetail | None:
    """One task and what belongs to it; None if there is no such task.

    The artifact's path is stored relative to the data directory: `data_dir` makes it whole.
    """
    task = store.task(task_id)
    if task is None:
        return None
    events = tuple(store.subject_events(f"task:{task_id}", project_id=task.project_id))
    artifact_file = None
    if task.artifact:
        artifact_file = data_dir / task.artifact if data_dir is not None else Path(task.artifact)
    finished = [event for event in events if event.kind == "task.review" and "files" in event.data]
    files = tuple(str(path) for path in finished[-1].data["files"]) if finished else ()
    return TaskDetail(
        task=task,
        dependencies=tuple(store.task_cards(task.project_id, task.depends_on)) if task.depends_on else (),
        attempts=tuple(store.task_attempts(task_id)),
        reviews=tuple(store.task_reviews(task_id)),
        events=events,
        artifact_file=artifact_file,
        files=files,
    )


# ------------------------------------------------------------------ the cards


@dataclass(frozen=True)
class BoardPhase:
    """One phase of the project on the Board: its tasks done, and all of them but the cancelled ones."""

    name: str
    done: int
    total: int


def filter_terms(text: str) -> list[tuple[str, str]]:
    """The filter's words: `agent:NAME`, `phase:NAME`, or a word to find in title, agent or phase."""
    terms = []
    for word in text.lower().split():
        kind, _, needle = word.partition(":")
        if kind in ("agent", "phase") and needle:
            terms.append((kind, needle))
        else:
            terms.append(("any", word))
    return terms


def matches(card: TaskCard, terms: list[tuple[str, str]]) -> bool:
    agents = f"{card.assigned_to or ''} {card.pinned_agent or ''}".lower()
    phase = card.phase.lower()
    for kind, needle in terms:
        if kind == "agent":
            found = needle in agents
        elif kind == "phase":
            found = needle in phase
        else:
            found = needle in card.title.lower() or needle in agents or needle in phase
        if not found:
            return False
    return True


def phase_progress(cards: Iterable[TaskCard]) -> tuple[ProjectProgress, tuple[BoardPhase, ...]]:
    """The project's progress, and each phase's tasks done and counted (not cancelled) in plan order."""
    phases: dict[str, list[int]] = {}
    first_id: dict[str, int] = {}
    statuses = []
    for card in cards:
        statuses.append(card.status)
        if card.status is TaskStatus.CANCELLED:
            continue
        finished = card.status is TaskStatus.DONE
        if card.phase:
            counts = phases.setdefault(card.phase, [0, 0])
            counts[0] += finished
            counts[1] += 1
            first_id[card.phase] = min(first_id.get(card.phase, card.id), card.id)
    ordered = sorted(phases, key=first_id.__getitem__)
    return ProjectProgress.of(statuses), tuple(BoardPhase(name, *phases[name]) for name in ordered)


@dataclass
class SortedCards:
    """The cards of each column: its own tasks, then the dimmed ones; the waiting tasks' counts."""

    shown: dict[str, list[TaskCard]] = field(default_factory=lambda: {group: [] for group in GROUP_IDS})
    dimmed: dict[str, list[TaskCard]] = field(default_factory=lambda: {group: [] for group in GROUP_IDS})
    waiting: dict[int, int] = field(default_factory=dict)
    """Unfinished dependencies of each pending task shown, by task id."""
    hidden_waiting: int = 0
    """Pending tasks that match the filter but are hidden (`show_waiting` off)."""


def sort_cards(cards: Mapping[int, TaskCard], filter_text: str, *, show_waiting: bool) -> SortedCards:
    """Sort `cards` (in their order) into the columns, keeping those that match `filter_text`."""
    terms = filter_terms(filter_text)
    result = SortedCards()
    for card in cards.values():
        if terms and not matches(card, terms):
            continue
        column_id, dim = GROUP_OF[card.status]
        if not dim:
            result.shown[column_id].append(card)
            continue
        if card.status is TaskStatus.PENDING:
            if not show_waiting:
                result.hidden_waiting += 1
                continue
            result.waiting[card.id] = sum(
                1
                for dependency in card.depends_on
                if (other := cards.get(dependency)) is None or other.status is not TaskStatus.DONE
            )
        result.dimmed[column_id].append(card)
    return result


class CardReader(Protocol):
    """Reads a project's cards: all of them, or those of `task_ids` (`Engine.task_cards`)."""

    def __call__(self, project_id: int, task_ids: Sequence[int] | None = None) -> list[TaskCard]: ...


class CardKeeper:
    """One project's tasks as cards, in the store's order (priority, then id), re-read as they change."""

    def __init__(self, read_cards: CardReader) -> None:
        self.read_cards = read_cards
        self.project_id: int | None = None
        self.cards: dict[int, TaskCard] = {}
        self._changed: set[int] = set()
        self._all_stale = True

    def task_changed(self, task_id: int | None) -> None:
        """An event named this task (None: tasks came, or an event named none)."""
        if task_id is None:
            self._all_stale = True
        else:
            self._changed.add(task_id)

    def read(self, project_id: int | None) -> set[int] | None:
        """Bring the cards of `project_id` up to date; the tasks re-read, or None if all were."""
        if project_id is None:
            self.project_id, self.cards = None, {}
            return None
        changed = self._changed
        self._changed = set()
        stale = self._all_stale or project_id != self.project_id or len(changed) > FULL_READ_AFTER
        self._all_stale = False
        if not stale and changed:
            fresh = self.read_cards(project_id, sorted(changed))
            if len(fresh) == len(changed) and all(card.id in self.cards for card in fresh):
                for card in fresh:
                    self.cards[card.id] = card
                return changed
            stale = True  # tasks came or went: read them all, in their order
        if stale:
            self.cards = {card.id: card for card in self.read_cards(project_id)}
            self.project_id = project_id
            return None
        return changed
