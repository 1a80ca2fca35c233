"""The read side of the Engine's public face: what screens and commands show, as plain data.

Screens and commands never reach into `engine.store`, the circuit breakers or
the agents' runtimes: they ask the Engine for what they want by name, and get
rows, read models (`DecisionView`, `TaskDetail`) or counts back. A source scan
in the tests holds them to it.

`EngineReads` is a part of `Engine` (its base class), kept apart so that the
Engine's own module stays about assembling the parts and changing state. Each
method reads `self.store` when it is called, never earlier, so a test that
swaps a store method sees every read go through it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orkestra_tui.engine.store.store import Store, TaskCard

if TYPE_CHECKING:
    from orkestra_tui.config import Paths
    from orkestra_tui.engine.agents.pool import AgentPool
    from orkestra_tui.engine.execution.board_view import TaskDetail
    from orkestra_tui.engine.execution.tasks import PhaseProgress
    from orkestra_tui.engine.models import (
        AuditEvent,
        Ballot,
        Decision,
        DecisionRound,
        InboxItem,
        Project,
    )
    from orkestra_tui.engine.voting.decision_view import DecisionView


class EngineReads:
    """Reads for screens and commands, by what they show; `Engine` provides the parts below."""

    store: Store
    paths: Paths
    pool: AgentPool

    # ------------------------------------------------------------ projects

    def project(self, project_id: int) -> Project | None:
        """A project by its id; None if there is none (see `Engine.project_named` for one by name)."""
        return self.store.project(project_id)

    def project_by_name(self, name: str) -> Project | None:
        """A project by its exact (already normalised) name; None if there is none."""
        return self.store.project_by_name(name)

    def project_cost(self, project_id: int) -> float:
        """What every call for a project has cost so far, in dollars."""
        return sum(self.store.project_costs(project_id).values())

    def project_costs(self, project_id: int, purposes: Iterable[str] | None = None) -> dict[str, float]:
        """What each agent's calls for a project cost so far, optionally for some purposes only."""
        return self.store.project_costs(project_id, purposes)

    def call_usage(self, project_ids: Sequence[int], since: float | None = None) -> tuple[int, int, float]:
        """The calls, tokens (in and out) and cost spent on some projects, optionally since a time."""
        return self.store.call_usage(project_ids, since)

    # ------------------------------------------------------------ planning

    def note_plan_run(self, project_id: int, *, resumed: bool) -> None:
        """Record that this process now carries the plan of `project_id` forward (see `plan_runs`)."""
        from orkestra_tui.engine.owners import lease_owner_name
        from orkestra_tui.engine.planning.plan_runs import note_plan_run

        note_plan_run(self.store, project_id, lease_owner_name(), resumed=resumed)

    def plan_holder(self, project_id: int) -> str | None:
        """The other live process on this machine carrying the plan of `project_id`, if one is."""
        from orkestra_tui.engine.planning.plan_runs import live_plan_holder

        return live_plan_holder(self.store, project_id, "")

    # ------------------------------------------------------------ tasks

    def task_cards(self, project_id: int, task_ids: Sequence[int] | None = None) -> list[TaskCard]:
        """A project's tasks as the Board's light cards (all, or those of `task_ids`), by priority then id."""
        return self.store.task_cards(project_id, task_ids)

    def task_detail(self, task_id: int) -> TaskDetail | None:
        """One task with its dependencies, attempts, reviews, trail and files; None if it is gone."""
        from orkestra_tui.engine.execution.board_view import read_task_detail

        return read_task_detail(self.store, task_id, data_dir=self.paths.data_dir)

    def phase_progress(self, project_id: int) -> list[PhaseProgress]:
        """Each phase of a project in plan order, with its tasks done and total (not cancelled)."""
        from orkestra_tui.engine.execution.tasks import phase_progress

        return phase_progress(self.store, project_id)

    def tasks_held_elsewhere(self, project_ids: Iterable[int], owner: str) -> Counter[str]:
        """How many running or reviewed tasks of these projects each run but `owner` holds, by lease owner."""
        wanted = list(project_ids)
        marks = ", ".join("?" * len(wanted))
        rows = self.store.query(
            f"SELECT lease_owner FROM task WHERE project_id IN ({marks}) AND lease_owner IS NOT NULL"
            " AND lease_owner != ? AND status IN ('running', 'review')",
            [*wanted, owner],
        )
        return Counter(str(holder) for (holder,) in rows)

    def has_ready_task(self, project_ids: Iterable[int]) -> bool:
        """Whether an active project of these has a ready task (one a run could take)."""
        wanted = list(project_ids)
        marks = ", ".join("?" * len(wanted))
        return bool(
            self.store.scalar(
                "SELECT count(*) FROM task JOIN project ON project.id = task.project_id"
                f" WHERE task.project_id IN ({marks}) AND task.status = 'ready'"
                " AND project.status = 'active'",
                wanted,
            )
        )

    # ------------------------------------------------------------ decisions

    def decision(self, decision_id: int) -> Decision | None:
        """A decision by its id; None if there is none."""
        return self.store.decision(decision_id)

    def rounds(self, decision_id: int) -> list[DecisionRound]:
        """A decision's rounds, the first first."""
        return self.store.rounds(decision_id)

    def ballots(self, decision_id: int, round_number: int | None = None) -> list[Ballot]:
        """A decision's ballots, of one round or (None) of every round."""
        return self.store.ballots(decision_id, round_number)

    def decision_cost(self, decision_id: int) -> tuple[int, int, float]:
        """The calls, tokens and cost spent on a decision so far."""
        return self.store.decision_cost(decision_id)

    def decision_view(self, decision_id: int) -> DecisionView | None:
        """Everything the Voting screen shows of a decision; None if there is no such decision."""
        from orkestra_tui.engine.voting.decision_view import read_decision_view

        return read_decision_view(self.store, decision_id)

    def stable_labels(self, decision_id: int) -> dict[str, str]:
        """Each option of a decision to its letter, the same on every surface (empty if there is none)."""
        from orkestra_tui.engine.voting.decision_view import stable_labels_of

        return stable_labels_of(self.store, decision_id)

    def option_details(self, decision_id: int) -> dict[str, str]:
        """What each option of a decision holds beyond its name (a contest entry's diff), by option."""
        from orkestra_tui.engine.voting.decisions import option_details

        return option_details(self.store, decision_id)

    def tie_break_answers(self, decision_id: int) -> list[dict[str, Any]]:
        """The human's tie-break choices on a decision, oldest first: each answer that chose an option."""
        from orkestra_tui.engine.models import InboxKind

        return [
            item.answer
            for item in self.store.inbox(None)
            if item.kind is InboxKind.TIE_BREAK
            and item.payload.get("decision_id") == decision_id
            and isinstance(item.answer, dict)
            and item.answer.get("choice")
        ]

    def write_decision_record(self, decision_id: int, path: Path, *, overwrite: bool = False) -> Path:
        """Write a finished decision's record (Markdown) to `path`; where it went (see `records`)."""
        from orkestra_tui.engine.voting.records import write_record

        return write_record(self.store, decision_id, path, overwrite=overwrite)

    def export_decision_records(
        self,
        folder: Path,
        *,
        project_id: int | None = None,
        decision_ids: Sequence[int] | None = None,
        overwrite: bool = False,
    ) -> list[Path]:
        """Write the records of the finished decisions chosen into `folder`; the files written."""
        from orkestra_tui.engine.voting.records import export_records

        return export_records(
            self.store, folder, project_id=project_id, decision_ids=decision_ids, overwrite=overwrite
        )

    # ------------------------------------------------------------ inbox

    def inbox_item(self, item_id: int) -> InboxItem | None:
        """One question to the human as it stands now (answered meanwhile or not); None if there is none."""
        return self.store.inbox_item(item_id)

    # ------------------------------------------------------------ audit

    def search_audit(self, **filters: Any) -> list[AuditEvent]:
        """Audit events newest first, searched and filtered (see `Store.search_audit` for the filters)."""
        return self.store.search_audit(**filters)

    def audit_count(self, **filters: Any) -> int:
        """How many events `search_audit` would find, counting at most `most` (see `Store.audit_count`)."""
        return self.store.audit_count(**filters)

    def newest_audit_id(self) -> int:
        """The id of the newest audit event (0 when there is none): where a live tail starts."""
        return self.store.newest_audit_id()

    # ------------------------------------------------------------ agents

    def agent_circuit(self, agent_name: str) -> str:
        """The state of an agent's circuit breaker: closed, open or half-open."""
        return self.pool.breakers[agent_name].state.value
