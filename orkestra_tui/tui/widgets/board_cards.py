"""The Board's cards: read and kept up to date, then sorted into columns and filtered.

No widgets here. `CardKeeper` holds a project's cards and re-reads only the
tasks that events named; `sort_cards` and `phase_progress` run over every card
it holds (10,000 in a few milliseconds) whenever something changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.engine.progress import GROUP_OF, STATUS_GROUPS, ProjectProgress
from orkestra_tui.engine.store import Store, TaskCard
from orkestra_tui.tui.widgets.board_progress import PhaseProgress


@dataclass(frozen=True)
class Column:
    id: str
    titles: tuple[str, ...]
    """Longest first, then an icon: the column shows the longest that fits, else the icon."""
    statuses: tuple[TaskStatus, ...]
    """The tasks it counts."""
    dimmed: tuple[TaskStatus, ...] = ()
    """Tasks it shows dimmed after those, without counting them."""


SHORT_TITLES = {
    "ready": ("Ready", "○"),
    "running": ("Running", "▶"),
    "review": ("Review", "◎"),
    "human": ("Awaiting human", "Human", "!"),
    "done": ("Done", "✔"),
    "failed": ("Failed/Blocked", "Failed", "✘"),
}
"""Each column's names, longest first, then its icon."""
TITLES_WITH_CANCELLED = ("Failed/Blocked/Cancelled", "Failed/Cancelled", "Stopped", "✘")
"""The last column's names while it holds cancelled cards: every name covers them too."""
COLUMNS = tuple(
    Column(group.id, SHORT_TITLES[group.id], group.statuses, group.dimmed) for group in STATUS_GROUPS
)
"""The Board's columns: the engine's status groups (`STATUS_GROUPS`)."""
PLACES: dict[TaskStatus, tuple[str, bool]] = GROUP_OF
"""Each status's column, and whether it shows dimmed there."""


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


def phase_progress(cards: Iterable[TaskCard]) -> tuple[ProjectProgress, tuple[PhaseProgress, ...]]:
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
    return ProjectProgress.of(statuses), tuple(PhaseProgress(name, *phases[name]) for name in ordered)


@dataclass
class SortedCards:
    """The cards of each column: its own tasks, then the dimmed ones; the waiting tasks' counts."""

    shown: dict[str, list[TaskCard]] = field(default_factory=lambda: {column.id: [] for column in COLUMNS})
    dimmed: dict[str, list[TaskCard]] = field(default_factory=lambda: {column.id: [] for column in COLUMNS})
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
        column_id, dim = PLACES[card.status]
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


FULL_READ_AFTER = 1_000
"""More changed tasks than this are re-read with all the others, in one query."""


class CardKeeper:
    """One project's tasks as cards, in the store's order (priority, then id), re-read as they change."""

    def __init__(self, store: Store) -> None:
        self.store = store
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
            fresh = self.store.task_cards(project_id, sorted(changed))
            if len(fresh) == len(changed) and all(card.id in self.cards for card in fresh):
                for card in fresh:
                    self.cards[card.id] = card
                return changed
            stale = True  # tasks came or went: read them all, in their order
        if stale:
            self.cards = {card.id: card for card in self.store.task_cards(project_id)}
            self.project_id = project_id
            return None
        return changed
