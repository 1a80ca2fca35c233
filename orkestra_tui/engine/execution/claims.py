"""A claim: a task this process has leased, and the agent it goes to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orkestra_tui.engine.models import Task

if TYPE_CHECKING:
    from orkestra_tui.providers.base import ProviderRequest


@dataclass(frozen=True)
class Claim:
    """A task this process has leased, and the agent it goes to."""

    task: Task
    agent: str
    attempt: int
    request: ProviderRequest | None = None
    """The request for the agent, built in the claim's transaction; None for a review resumed."""
    call_id: int | None = None
    """The task's call, recorded as started in the claim's transaction."""
    contest: bool = False
    """The task runs as a contest of several agents (whose calls are recorded as they go out)."""

    @property
    def review_only(self) -> bool:
        """A task a stopped run left in review: its result is stored, only its review is to do."""
        return self.request is None
