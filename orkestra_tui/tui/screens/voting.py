"""The Voting screen: the committee's decisions, and the selected one live as its ballots arrive.

The list shows every decision (open ones first); the detail pane shows the
selected one: its rules, the round under way with a bar per option, a card per
voter, the runoff or head-to-head counts, notices and cost. A refresh re-reads
the store for the selected decision only when an event concerned it, and the
widgets redraw only the parts that changed. The app runs the votes; this
screen only asks it to (`QuestionPut`) and answers for the human.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import HUMAN_VOTER, Decision
from orkestra_tui.engine.store.watch import EVERYTHING
from orkestra_tui.engine.voting.decision_view import DecisionView
from orkestra_tui.engine.voting.records import exportable
from orkestra_tui.tui.messages import EngineUpdated
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.text import clean
from orkestra_tui.tui.widgets.decision_detail import DecisionDetail
from orkestra_tui.tui.widgets.decision_list import DecisionList


class VotingScreen(EngineScreen):
    """Decisions on the left (open first); the selected one in full on the right."""

    BINDINGS = [
        Binding("n", "new_question", "New question"),
        Binding("h", "human_ballot", "Your ballot"),
        Binding("f", "feedback", "Feedback"),
        Binding("x", "export_record", "Export"),
        # Pressed while the key above is dimmed: say why it does nothing.
        Binding("h", "why_not('human_ballot')", "Your ballot", show=False),
        Binding("f", "why_not('feedback')", "Feedback", show=False),
    ]

    MODE = "voting"
    TITLE = "Voting"
    WATCHES = ("decision", "ballot", "round")

    class QuestionPut(Message):
        """The human put a question to the committee; whoever runs the committee starts the vote."""

        def __init__(self, decision_id: int) -> None:
            super().__init__()
            self.decision_id = decision_id

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._changed_decisions: set[int] = set()
        self._everything_changed = True
        self._highlight_next: int | None = None
        self._reloading = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="voting-body"):
            yield DecisionList(id="decision-list")
            yield DecisionDetail(id="decision-detail")

    @property
    def shown(self) -> DecisionView | None:
        """The decision on show in the detail pane, as last read."""
        return self.query_one(DecisionDetail).view if self.body_ready else None

    def on_engine_updated(self, message: EngineUpdated) -> None:
        """Note which decision an event concerns; `EngineScreen` then schedules the refresh."""
        subject = message.event.subject
        if subject.startswith("decision:") and subject.removeprefix("decision:").isdigit():
            self._changed_decisions.add(int(subject.removeprefix("decision:")))
        elif self.watches(message.event) or message.event.kind == EVERYTHING:
            self._everything_changed = True

    def body_mounted(self) -> None:
        # Watched rather than waited for as a message: the detail pane then changes in the same
        # frame as the cursor, instead of one frame (up to 1/60 s) later.
        self.watch(self.query_one(DecisionList), "highlighted", self._highlight_moved, init=False)

    def reload(self) -> None:
        decision_list = self.query_one(DecisionList)
        self._reloading = True
        try:
            decision_list.set_decisions(self.engine.decisions(), highlight=self._highlight_next)
        finally:
            self._reloading = False
        self._highlight_next = None
        self._show_highlighted()

    def show_decision(self, decision_id: int) -> None:
        """Highlight a decision and show it (a contest's vote, from the Board's v)."""
        self._highlight_next = decision_id
        self._everything_changed = True
        if self.body_ready:
            self.reload()

    def _highlight_moved(self, highlighted: int | None) -> None:
        if highlighted is not None and not self._reloading:
            self._show_highlighted()

    def _show_highlighted(self) -> None:
        """Show the highlighted decision, re-reading it only if it is new here or has changed."""
        decision_id = self.query_one(DecisionList).highlighted_decision_id
        detail = self.query_one(DecisionDetail)
        stale = self._everything_changed or decision_id in self._changed_decisions
        self._everything_changed = False
        self._changed_decisions.clear()
        if not stale and detail.decision_id == decision_id and detail.view is not None:
            return
        if decision_id != detail.decision_id:  # an option's detail never changes: read once per decision
            detail.option_details = self.engine.option_details(decision_id) if decision_id is not None else {}
        detail.view = self.engine.decision_view(decision_id) if decision_id is not None else None
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.body_ready:
            return False
        shown = self.shown
        if action == "human_ballot":
            return True if shown is not None and shown.human_can_vote else None
        if action == "feedback":
            return True if shown is not None and shown.decision.status.is_open else None
        if action == "export_record":
            return True if shown is not None and exportable(shown.decision) else None
        return True

    def action_why_not(self, action: str) -> None:
        """Why your ballot (h) or feedback (f) is not taken for the decision on show."""
        shown = self.shown
        what = "ballot" if action == "human_ballot" else "feedback"
        if shown is None:
            reason = "No decision is selected."
        elif not shown.decision.status.is_open:
            status = shown.decision.status.value.replace("_", " ")
            reason = f"This vote is over ({status}): it takes no more {what}."
        elif HUMAN_VOTER not in shown.decision.voters:
            reason = "You are not one of this decision's voters (a new question can include you)."
        else:
            reason = "No round is waiting for ballots now; your ballot is asked for when one opens."
        self.notify(reason, title="Voting")

    def action_new_question(self) -> None:
        from orkestra_tui.tui.screens.new_question import NewQuestionScreen

        self.app.push_screen(NewQuestionScreen(self.engine), self._question_put)

    def _question_put(self, decision: Decision | None) -> None:
        if decision is None:
            return
        self._highlight_next = decision.id
        self._everything_changed = True
        self.reload()
        self.query_one(DecisionList).focus()
        self.post_message(self.QuestionPut(decision.id))

    def action_human_ballot(self) -> None:
        from orkestra_tui.tui.screens.human_ballot import HumanBallotScreen

        shown = self.shown
        if shown is None or not shown.human_can_vote:
            return
        self.app.push_screen(HumanBallotScreen(self.engine, shown), self._ballot_cast)

    def _ballot_cast(self, round_number: int | None) -> None:
        if round_number is not None:
            self.notify(f"Your ballot for round {round_number} is cast.", title="Voting")

    def action_feedback(self) -> None:
        from orkestra_tui.tui.screens.feedback import FeedbackScreen

        shown = self.shown
        if shown is None or not shown.decision.status.is_open:
            return
        self.app.push_screen(FeedbackScreen(self.engine, shown.decision), self._feedback_added)

    def _feedback_added(self, round_number: int | None) -> None:
        if round_number is not None:
            self.notify(
                f"The committee will read your feedback from round {round_number} on.", title="Voting"
            )

    def action_export_record(self) -> None:
        from orkestra_tui.tui.screens.export_record import ExportRecordScreen

        shown = self.shown
        if shown is None or not exportable(shown.decision):
            return
        self.app.push_screen(
            ExportRecordScreen(self.engine, shown.decision, Path.cwd()), self._record_exported
        )

    def _record_exported(self, path: Path | None) -> None:
        if path is not None:
            self.notify(clean(f"Decision record written to {path}"), title="Voting", markup=False)
