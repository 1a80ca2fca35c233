"""The Board's contest part: the cards' marks, the entries in a task's detail, c, v and d.

`BoardScreen` is built on this screen class. A contest task's card says so (`⚔3`, with
the winner's letter once decided), from one read of the project's contests per reload
(`Engine.contest_marks`). Its detail shows the entries side by side (`contest_entries`);
`c` sets (or turns off) a contest on a task that has not started, with its cost shown
first (`ContestScreen`); `v` opens the contest's vote on the Voting screen; `d` opens
any entry's diff, or its Markdown result in a project without a repository.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from orkestra_tui.engine.execution.contest.view import ContestState
from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.messages import EngineUpdated
from orkestra_tui.tui.screens.board_repository import BoardRepositoryScreen
from orkestra_tui.tui.text import clean

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.execution.board_view import TaskCard
    from orkestra_tui.engine.execution.contest.marks import ContestMark
    from orkestra_tui.tui.screens.contest_dialog import ContestChoice

NOT_STARTED = (TaskStatus.PENDING, TaskStatus.READY, TaskStatus.BLOCKED)
"""A contest is set, changed or turned off only before its task starts."""


class BoardContestScreen(BoardRepositoryScreen):
    """What the Board shows and does of contests; `BoardScreen` is the rest."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.contest_marks: dict[int, ContestMark] = {}
        """The shown project's contest tasks, by task id, as last read."""
        self._contests_changed: set[int] = set()
        """Tasks whose contest changed since the last reload (their detail is shown again)."""

    def on_engine_updated(self, message: EngineUpdated) -> None:
        event = message.event
        if event.is_kind("contest") and event.subject.startswith("task:"):
            subject = event.subject.removeprefix("task:")
            if subject.isdigit():
                self._contests_changed.add(int(subject))

    def read_contests(self) -> set[int]:
        """Read the project's contest marks; the tasks whose contest changed since the last read."""
        project_id = self.project_id
        before = self.contest_marks
        self.contest_marks = self.engine.contest_marks(project_id) if project_id is not None else {}
        changed = self._contests_changed | {
            task_id
            for task_id in before.keys() | self.contest_marks.keys()
            if before.get(task_id) != self.contest_marks.get(task_id)
        }
        self._contests_changed = set()
        return changed

    def contest_card_marks(self) -> dict[int, str]:
        """Each contest task's mark for its card (`⚔3`, `⚔3→B`)."""
        return {task_id: mark.text for task_id, mark in self.contest_marks.items()}

    def change_section(self, task_id: int) -> Text | None:
        """The contest's entries (when the task is one) above the task's change in the repository."""
        from orkestra_tui.tui.widgets.contest_entries import contest_text

        change = super().change_section(task_id)
        if task_id not in self.contest_marks:
            return change
        view = self.engine.contest(task_id)
        if view is None:
            return change
        text = contest_text(view)
        if change is not None:
            text.append("\n\n")
            text.append_text(change)
        return text

    # ------------------------------------------------------------ keys

    def contest_action_allowed(self, action: str, card: TaskCard | None) -> bool:
        """Whether c (`contest`) or v (`contest_vote`) applies to the highlighted task."""
        if card is None:
            return False
        mark = self.contest_marks.get(card.id)
        if action == "contest":
            return card.status in NOT_STARTED and (mark is None or mark.state is ContestState.SET)
        return mark is not None and mark.state not in (ContestState.SET, ContestState.RUNNING)

    def has_contest_entries(self, task_id: int) -> bool:
        mark = self.contest_marks.get(task_id)
        return mark is not None and mark.state is not ContestState.SET

    def action_contest(self) -> None:
        from orkestra_tui.tui.screens.contest_dialog import BudgetLeft, ContestScreen

        card = self.highlighted
        if card is None:
            return
        available = sum(1 for agent in self.engine.agents() if self.engine.agent_available(agent.name))
        if available < 2:
            self.notify(
                f"A contest needs at least 2 agents that can be called; {available} can now.",
                title="Contest",
                severity="warning",
            )
            return
        mark = self.contest_marks.get(card.id)
        project_id = self.project_id
        project = self.engine.project(project_id) if project_id is not None else None
        budget = project.budget if project is not None else None
        spent = self.engine.project_cost(project.id) if project is not None and budget is not None else 0.0

        def chosen(choice: ContestChoice | None) -> None:
            if choice is None:
                return
            try:
                self.engine.set_task_contest(card.id, choice.agents)
            except OrkestraError as problem:
                self.notify(clean(str(problem)), title="Contest", severity="error", markup=False)
                return
            said = f"a contest of {choice.agents} agents" if choice.agents else "runs with one agent"
            self.notify(clean(f"{card.title}: {said}"), title="Contest", markup=False)
            self.contest_changed(card.id)

        self.app.push_screen(
            ContestScreen(
                self.engine,
                card.id,
                card.title,
                available=available,
                current=mark.agents if mark is not None else None,
                budget=BudgetLeft(budget, spent),
            ),
            chosen,
        )

    def contest_changed(self, task_id: int) -> None:
        """A contest was set or turned off here: the Board shows it at once."""
        self._contests_changed.add(task_id)
        self.reload()

    def action_contest_vote(self) -> None:
        """The contest's vote on the Voting screen."""
        from orkestra_tui.tui.screens.voting import VotingScreen

        card = self.highlighted
        view = self.engine.contest(card.id) if card is not None else None
        if view is None or view.decision_id is None:
            self.notify("This contest has no vote yet.", title="Contest")
            return
        decision_id = view.decision_id
        self.app.switch_mode("voting")

        def show() -> None:
            stack = self.app.screen_stack
            voting = next((screen for screen in stack if isinstance(screen, VotingScreen)), None)
            if voting is not None:
                voting.show_decision(decision_id)

        self.app.call_later(show)

    def action_diff(self) -> None:
        from orkestra_tui.tui.screens.contest_diff import ContestDiffScreen

        card = self.highlighted
        if card is None or not self.has_contest_entries(card.id):
            super().action_diff()
            return
        view = self.engine.contest(card.id)
        if view is None or not view.entries:
            self.notify("This contest has no entries yet.", title="Diff")
            return
        self.app.push_screen(
            ContestDiffScreen(
                self.engine,
                card.id,
                card.title,
                view.entries,
                winner=view.winner,
                markdown=self.repository_link is None,
            )
        )
