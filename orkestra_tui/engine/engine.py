"""The Engine: builds the engine's parts over one data directory and hands them out.

The same engine runs the TUI, the headless commands and the tests, in one
asyncio loop. It builds the store, the bus and the inbox, the agent pool
(`agents/pool.py`), the decision desk (`voting/desk.py`), the project desk
(`planning/projects.py`) and the task desk (`execution/controls.py`); the
committee, the planner and the scheduler are given those parts, never the
Engine. What screens and commands call is the Engine's public face: the reads
(`reads.py`) and the changes passed on to the parts (`face.py`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.agents.pool import AgentPool
from orkestra_tui.engine.clock import Clock, SystemClock
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.events import EventBus
from orkestra_tui.engine.execution.contest.desk import ContestDesk
from orkestra_tui.engine.execution.controls import TaskDesk
from orkestra_tui.engine.face import EngineFace
from orkestra_tui.engine.inbox import Inbox
from orkestra_tui.engine.planning.projects import ProjectDesk
from orkestra_tui.engine.reads import EngineReads
from orkestra_tui.engine.repository_face import RepositoryFace
from orkestra_tui.engine.store.store import Store
from orkestra_tui.engine.voting.desk import DecisionDesk
from orkestra_tui.providers.registry import build_agents

if TYPE_CHECKING:
    from orkestra_tui.engine.store.watch import ChangeWatch, ExternalChanges

__all__ = ["Engine", "EngineError"]


class Engine(EngineFace, EngineReads, RepositoryFace):
    """Orkestra's engine over one data directory: its parts, and the public face over them."""

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        *,
        demo: bool = False,
        clock: Clock | None = None,
        env: Mapping[str, str] | None = None,
        only_reads: bool = False,
        check_pages: bool = False,
    ) -> None:
        """`only_reads`: the caller writes nothing, so a data dir that cannot be written is opened
        read-only (see `Store`); the engine then records no agent and no call. `check_pages`: check
        every page of the database before anything is written to it."""
        self.paths = paths
        self.settings = settings
        self.demo = demo
        self.clock: Clock = clock or SystemClock()
        self.bus = EventBus()
        self.store = Store(paths.database, clock=self.clock, only_reads=only_reads)
        if check_pages:
            try:
                self.store.check_pages()
            except BaseException:
                self.store.close()
                raise
        self.store.listener = self.bus.publish_stored
        self.inbox = Inbox(self.store)
        environment = os.environ if env is None else env
        runtimes = build_agents(settings, environment, demo=demo, workspace=str(paths.data_dir / "workspace"))
        self.pool = AgentPool(self.store, settings, self.clock, runtimes)
        """The agents: their runtimes, circuit breakers, availability and calls."""
        self.decision_desk = DecisionDesk(self.store, self.inbox, self.pool, settings, self.clock)
        """Decisions: opened, voted on by the committee, and the human's part in them."""
        self.project_desk = ProjectDesk(self.store, self.inbox)
        """Projects: created, and their status, budget and workspace."""
        self.task_desk = TaskDesk(self.store, self.inbox, self.pool)
        """The human's controls over tasks, and tasks added to a plan."""
        self.contest_desk = ContestDesk(self.store, self.pool, settings)
        """Contests: set on a task, read, diffed and estimated (the scheduler runs them)."""
        self._change_watch: ChangeWatch | None = None

    def close(self) -> None:
        if self._change_watch is not None:
            self._change_watch.close()
        self.store.close()

    async def aclose(self) -> None:
        """Close the providers' network clients, then the store."""
        await self.pool.aclose()
        self.close()

    def external_changes(self) -> ExternalChanges | None:
        """What other processes committed since the last call (the first call starts watching)."""
        from orkestra_tui.engine.store.watch import ChangeWatch

        if self._change_watch is None:
            self._change_watch = ChangeWatch(self.store, self.bus)
            return None
        return self._change_watch.changes()
