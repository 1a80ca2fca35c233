"""What a contest uses of the scheduler that runs it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from orkestra_tui.config import Paths, Settings
    from orkestra_tui.engine.agents.pool import AgentPool
    from orkestra_tui.engine.clock import Clock
    from orkestra_tui.engine.events import EventBus
    from orkestra_tui.engine.execution.claims import Claim
    from orkestra_tui.engine.inbox import Inbox
    from orkestra_tui.engine.models import CallStart, Task, TaskStatus
    from orkestra_tui.engine.repo.work import Prepared, RepoWork
    from orkestra_tui.engine.store.store import Store
    from orkestra_tui.providers.base import ProviderRequest


class EntrySteps(Protocol):
    """What a contest's entries use of the scheduler's repository steps (`repo_steps.RepoSteps`).

    A protocol, not the class: the repository steps remove a contest's losing entries once
    its winner merged, so naming the class here would make the two import each other.
    """

    def repo_work(self) -> RepoWork: ...

    def _edits_itself(self, agent: str) -> bool: ...

    def _repo_request(
        self, task: Task, brief: str, prepared: Prepared, edits_itself: bool
    ) -> ProviderRequest: ...

    def _follow_up(
        self,
        request: ProviderRequest,
        prepared: Prepared,
        answer: str,
        *,
        edit_feedback: str | None = None,
        gate_feedback: str | None = None,
        attempt: int | None = None,
    ) -> ProviderRequest: ...


class ContestHost(Protocol):
    """What a contest uses of the scheduler that runs it."""

    store: Store
    bus: EventBus
    inbox: Inbox
    clock: Clock
    settings: Settings
    paths: Paths
    pool: AgentPool
    owner: str
    reviewers: int
    contest_agents: int | None
    contest_tie_break: str
    _started: dict[int, list[tuple[int, CallStart]]]

    @property
    def repo(self) -> EntrySteps: ...

    def _holds(self, task_id: int) -> bool: ...

    def _finish(self, claim: Claim, status: TaskStatus, *, note: str = "", error: str = "") -> str: ...

    async def _review(
        self,
        claim: Claim,
        text: str,
        *,
        artifact: Path,
        brief: str,
        written: list[str],
        refused: list[tuple[str, str]],
        shown: str | None = None,
    ) -> str: ...

    def _request(self, task: Task, brief: str, workspace: bool) -> ProviderRequest: ...
