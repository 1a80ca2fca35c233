"""What `orkestra vote` shows: progress on stderr from the engine's events, and the result.

Progress on a terminal is a spinner line (the round under way, the ballots in)
with each event printed above it; elsewhere each event is one plain line. The
result is a Rich summary or one JSON-ready document with every round and
ballot. Agent text (reasoning, compromise options, abstention reasons) is
untrusted: every line is shown as a Rich `Text` with its control characters
escaped, never parsed as markup.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from orkestra_tui.engine.voting.consensus import printable
from orkestra_tui.wording import listing, percent, plural, turnout_words

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status

    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.events import EngineEvent
    from orkestra_tui.engine.models import Decision

# Events told by their own audit summary, which already reads as a sentence.
SUMMARISED_EVENTS = (
    "decision.deadlocked",
    "decision.resolution",
    "decision.compromise",
    "decision.compromise_skipped",
    "decision.mediator",
    "decision.no_decision",
)
HOW_WORDS = {
    "vote": "by vote",
    "compromise": "by vote on a compromise",
    "human tie-break": "by the human's tie-break",
    "policy tie-break": "by tie-break policy",
    "fallback": "by plurality fallback after a deadlock",
}


def round_label(number: int, max_rounds: int) -> str:
    return f"Round {number} of {max_rounds}" if number <= max_rounds else f"Extra round {number}"


class VoteProgress:
    """Tells, on stderr, what the committee does with one decision; `on_event` is its bus subscriber."""

    def __init__(self, decision: Decision, *, live: bool) -> None:
        self.decision_id = decision.id
        self.max_rounds = decision.max_rounds
        self.voter_count = len(decision.voters)
        self.tie_break_subjects: set[str] = set()
        """The inbox requests (as event subjects) that ask about this decision."""
        self.ballots_in = 0
        self.round_text = "Starting the vote"
        self.console: Console | None = None
        self.status: Status | None = None
        if live:
            from orkestra_tui.commands.output import console

            self.console = console(stderr=True)

    def start(self) -> None:
        if self.console is not None and self.status is None:
            self.status = self.console.status(self._status_text())
            self.status.start()

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None

    def say(self, message: str, style: str = "") -> None:
        """One escaped line on stderr (above the spinner on a terminal)."""
        line = printable(message)
        if self.console is None:
            from orkestra_tui.commands.output import emit

            emit(line, err=True, flush=True)
            return
        from rich.text import Text

        self.console.print(Text(line, style=style))
        if self.status is not None:
            self.status.update(self._status_text())

    def _status_text(self) -> Any:
        from rich.text import Text

        ballots = f" · {self.ballots_in} of {self.voter_count} ballots in" if self.ballots_in else ""
        return Text(self.round_text + ballots)

    def on_event(self, event: EngineEvent) -> None:
        """Tell one event if it concerns this decision (the bus delivers all of the engine's)."""
        payload = event.data.get("payload")
        if event.kind == "inbox.opened" and isinstance(payload, dict):
            if payload.get("decision_id") == self.decision_id:
                self.tie_break_subjects.add(event.subject)
            return
        if event.subject != f"decision:{self.decision_id}" and event.subject not in self.tie_break_subjects:
            return
        if event.kind == "round.started":
            self.ballots_in = 0
            self.round_text = round_label(int(event.data["round"]), self.max_rounds)
        elif event.kind == "ballot.cast":
            self.ballots_in += 1
        message = describe(event, self.max_rounds)
        if message is not None:
            style = (
                "dim" if event.kind == "ballot.cast" else "bold" if event.kind.startswith("round.") else ""
            )
            self.say(message, style)

    async def ask_tie_break(self, question: str, tied: list[tuple[str, float]]) -> str | None:
        """The tied option the human picks on the terminal, or None to leave it to the fallback."""
        was_live = self.status is not None
        self.stop()
        try:
            self.say(f"The committee is tied on: {question}", "bold yellow")
            for number, (option, support) in enumerate(tied, start=1):
                self.say(f"  {number}. {option} ({percent(support)} of first preferences)")
            while True:
                self.say(f"Choose 1-{len(tied)}, or press Enter to leave it to the plurality fallback:")
                line = await read_line()
                answer = (line or "").strip()
                if not answer:
                    return None
                if answer.isdigit() and 1 <= int(answer) <= len(tied):
                    return tied[int(answer) - 1][0]
                self.say(f"Type a number from 1 to {len(tied)}.")
        finally:
            if was_live:
                self.start()


def describe(event: EngineEvent, max_rounds: int) -> str | None:
    """One line for a vote's event, or None for those that need none (calls, the inbox request)."""
    data = event.data
    if event.kind == "round.started":
        number = int(data["round"])
        note = f" ({data['note']})" if data.get("note") else ""
        estimate = float(data.get("estimate", 0.0))
        return f"{round_label(number, max_rounds)} started{note}: estimated cost ${estimate:.4f}"
    if event.kind == "ballot.cast":
        if data.get("ranking"):
            confidence = float(data.get("confidence", 0.0))
            return f"  {event.actor}: {data['ranking'][0]} first (confidence {confidence:.2f})"
        reason = str(data.get("abstain_reason", "")).removeprefix("abstained: ")
        return f"  {event.actor} abstained: {reason}"
    if event.kind == "round.closed":
        prefix = f"Round {data['round']}: "
        return f"Round {data['round']} closed: {event.summary.removeprefix(prefix)}"
    if event.kind == "decision.awaiting_human":
        return f"A tie-break is needed between {listing([str(option) for option in data.get('tied', [])])}"
    if event.kind == "inbox.answered" and data.get("kind") == "tie_break":
        answer = data.get("answer")
        answer = answer if isinstance(answer, dict) else {}
        if answer.get("choice"):
            return f"Tie broken by {answer.get('by', 'the human')}: {answer['choice']}"
        return "Tie left unbroken (policy: fail)" if answer.get("fail") else "Tie left to the fallback"
    if event.kind == "decision.decided":
        return f"Decided: {data.get('winner')}"
    return event.summary if event.kind in SUMMARISED_EVENTS else None


async def read_line() -> str | None:
    """One line from stdin without blocking the loop; None at the end of input.

    A daemon thread reads, so that ctrl+c at the prompt ends the process at
    once (a thread of the default pool would hold up asyncio.run's shutdown).
    """
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[str] = loop.create_future()

    def settle(line: str) -> None:
        if not answered.done():
            answered.set_result(line)

    def read() -> None:
        line = sys.stdin.readline()
        try:
            loop.call_soon_threadsafe(settle, line)
        except RuntimeError:  # the loop has closed: the vote was interrupted meanwhile
            return

    threading.Thread(target=read, name="orkestra-vote-prompt", daemon=True).start()
    line = await answered
    return line.rstrip("\r\n") if line else None


# ------------------------------------------------------------------ result


def decision_document(engine: Engine, decision: Decision) -> dict[str, Any]:
    """The decision, its outcome, and every round with every ballot, as one JSON-ready dict."""
    from orkestra_tui.engine.voting.decision_view import stable_labels

    held = engine.rounds(decision.id)
    outcome = decision.outcome or {}
    calls, tokens, cost = engine.decision_cost(decision.id)
    tie_break_answers = engine.tie_break_answers(decision.id)
    rounds = [
        {
            "round": item.round,
            "options": list(item.options),
            "note": item.note,
            "estimate": item.estimate,
            "status": item.status.value,
            "tally": item.tally,
            "ballots": [
                {
                    "voter": ballot.voter,
                    "ranking": list(ballot.ranking),
                    "confidence": ballot.confidence,
                    "reasoning": ballot.reasoning,
                    "abstain_reason": ballot.abstain_reason,
                    "excluded": list(ballot.excluded),
                }
                for ballot in engine.ballots(decision.id, item.round)
            ],
        }
        for item in held
    ]
    # The counts of the ballots: the outcome's, or the last round counted while the vote is open.
    counted = [item.tally for item in held if item.tally is not None]
    turnout = outcome if "ballots" in outcome else (counted[-1] if counted else {})
    return {
        "decision_id": decision.id,
        "question": decision.question,
        "options": list(decision.options),
        "labels": {label: option for option, label in stable_labels(decision, held).items()},
        "authors": dict(decision.authors),
        "method": decision.method,
        "rules": dict(decision.rules),
        "voters": list(decision.voters),
        "max_rounds": decision.max_rounds,
        "category": decision.category,
        "status": decision.status.value,
        "winner": outcome.get("winner"),
        "tied": list(outcome.get("tied") or []),
        "how": outcome.get("how"),
        "tie_break_by": str(tie_break_answers[-1].get("by", "human")) if tie_break_answers else None,
        "resolution": list(decision.resolution),
        "consensus": outcome.get("consensus"),
        "support": outcome.get("support"),
        "participation": outcome.get("participation"),
        "turnout": {
            "rule": decision.rules.get("quorum", 0.0),
            **{key: turnout.get(key) for key in ("ballots", "cast", "abstained", "quorum", "quorum_met")},
        },
        "reason": outcome.get("reason", ""),
        "cost": cost,
        "calls": calls,
        "tokens": tokens,
        "rounds": rounds,
    }


def print_summary(document: dict[str, Any]) -> None:
    """The result for a reader: winner, how, first preferences per round, consensus, cost, reason."""
    from rich.table import Table
    from rich.text import Text

    from orkestra_tui.commands.output import console

    out = console()
    rounds = document["rounds"]
    out.print(Text(printable(f"Decision {document['decision_id']}: {document['question']}"), style="bold"))
    if document["winner"] is not None:
        out.print(Text.assemble(("Winner: ", "bold green"), printable(str(document["winner"]))))
        how = HOW_WORDS.get(str(document["how"]), str(document["how"]))
        if document["tie_break_by"]:
            how += f" ({document['tie_break_by']})"
        out.print(Text(f"Decided {how} after {plural(len(rounds), 'round')}; method {document['method']}"))
    elif document["status"] == "awaiting_human":
        out.print(Text("Waiting for your tie-break", style="bold yellow"))
    else:
        tied = listing([printable(str(option)) for option in document["tied"]])
        out.print(Text.assemble(("No decision", "bold red"), f" (tied: {tied})" if tied else ""))
    table = Table(title="First preferences", title_justify="left", box=None, header_style="bold")
    letter_of = {option: label for label, option in document["labels"].items()}
    table.add_column("")
    table.add_column("option")
    for item in rounds:
        table.add_column(f"round {item['round']}", justify="right")
    firsts = [
        Counter(ballot["ranking"][0] for ballot in item["ballots"] if ballot["ranking"]) for item in rounds
    ]
    for option in document["options"]:
        cells = [
            str(counts[option]) if option in item["options"] else "-"
            for item, counts in zip(rounds, firsts, strict=True)
        ]
        won = option == document["winner"]
        name = Text(printable(option), style="bold" if won else "")
        table.add_row(Text(letter_of.get(option, ""), style="bold"), name, *cells)
    abstentions = [sum(1 for ballot in item["ballots"] if not ballot["ranking"]) for item in rounds]
    table.add_row("", Text("abstained", style="dim"), *map(str, abstentions))
    out.print(table)
    if document["winner"] is not None:
        support = float(document["support"] or 0.0)
        out.print(Text(f"Consensus: {document['consensus']} · support {percent(support)}"))
    turnout = turnout_words(document["turnout"], document["turnout"]["rule"])
    if turnout:
        out.print(Text(f"Ballots: {turnout}"))
    calls = plural(document["calls"], "call")
    out.print(Text(f"Cost: ${document['cost']:.4f} · {calls} · {document['tokens']:,} tokens"))
    out.print(Text(printable(str(document["reason"])), style="dim"))
