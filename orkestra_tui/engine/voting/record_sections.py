"""The sections of a Markdown decision record, and the escaping that keeps its untrusted text inert.

Everything a person or a model wrote (question, options, reasoning, feedback,
audit summaries) goes through `escape`: it then shows literally, so it cannot
open a heading, a list, a link, an image or raw HTML, and it is only ever
placed mid-line (after a label, or in a table cell), where no block construct
can start. Derivations shared with the Voting screen (runoff steps, the
pairwise table, round labels) come from `decision_view`, which is plain data
with no Textual or Rich. `records` puts the sections together and writes files.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from orkestra_tui.engine.models import (
    HUMAN_VOTER,
    AuditEvent,
    Ballot,
    Decision,
    DecisionRound,
    InboxItem,
    InboxKind,
    InboxStatus,
)
from orkestra_tui.engine.store.store import Store
from orkestra_tui.engine.voting.committee import STEP_NAMES
from orkestra_tui.engine.voting.consensus import printable
from orkestra_tui.engine.voting.decision_view import (
    COUNT_TITLES,
    method_name,
    pairwise_part,
    runoff_steps,
    stable_labels,
)
from orkestra_tui.wording import listing, percent, quorum_words, turnout_words

RESOLUTION_KINDS = (
    "decision.deadlocked",
    "decision.resolution",
    "decision.compromise",
    "decision.compromise_skipped",
    "decision.mediator",
    "decision.awaiting_human",
    "decision.tie_break_declined",
)
"""The audit events that tell how a deadlock was handled."""
HOW_WORDS = {
    "vote": "by vote",
    "compromise": "by vote on a compromise",
    "human tie-break": "by the human's tie-break",
    "policy tie-break": "by the tie-break policy",
    "fallback": "by plurality fallback after a deadlock",
    "none": "no decision",
}

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>#|~&$@])")
"""Characters that could start markup anywhere in a line; each gets a backslash."""
_WWW = re.compile(r"(?i)\b(www)\.")


# ------------------------------------------------------------------ escaping


def escape(text: str) -> str:
    """`text` on one line, shown literally by any Markdown renderer: no markup, HTML or autolink.

    Line breaks become `<br>` (the only HTML a record contains is its own);
    control characters show as their escapes.
    """
    lines = [" ".join(line.split()) for line in str(text).splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "<br>".join(_escape_line(line) for line in kept)


def _escape_line(line: str) -> str:
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", printable(line))
    # Break the shapes renderers turn into links by themselves (http://..., www....).
    escaped = escaped.replace("://", "\\://")
    return _WWW.sub(r"\1\\.", escaped)


def _moment(timestamp: float | None) -> str:
    if timestamp is None:
        return "—"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _number(value: float) -> str:
    return f"{value:g}"


def _share(value: Any) -> str:
    return percent(float(value or 0.0))


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def record_sections(store: Store, decision: Decision) -> list[list[str]]:
    """The record's sections, each as its lines: heading, context, method, rounds, resolution, outcome."""
    rounds = store.rounds(decision.id)
    ballots = store.ballots(decision.id)
    events = store.subject_events(f"decision:{decision.id}", limit=100_000)
    requests = [item for item in store.inbox(None) if item.payload.get("decision_id") == decision.id]
    labels = stable_labels(decision, rounds)
    return [
        _heading(decision),
        _context(store, decision, rounds, events),
        _details(store, decision),
        _method(decision, rounds),
        *(_round(decision, item, [b for b in ballots if b.round == item.round], labels) for item in rounds),
        _resolution(decision, rounds, events),
        _tie_breaks(requests),
        _feedback(store, decision, requests),
        _outcome(decision, events),
        _cost(store, decision, rounds),
    ]


def _heading(decision: Decision) -> list[str]:
    outcome = decision.outcome or {}
    winner = outcome.get("winner")
    how = HOW_WORDS.get(str(outcome.get("how")), "")
    decided = f"**{escape(str(winner))}**, {how}" if winner else "no decision"
    return [
        f"# Decision {decision.id}: {escape(decision.question)}",
        "",
        f"- **Outcome:** {decided}",
        f"- **Status:** {decision.status.value.replace('_', ' ')}, {_moment(decision.decided_at)}",
        f"- **Method:** {method_name(decision.method)},"
        f" consensus {escape(str(outcome.get('consensus') or 'none'))}",
    ]


def _context(
    store: Store, decision: Decision, rounds: list[DecisionRound], events: list[AuditEvent]
) -> list[str]:
    opened = next((event for event in events if event.kind == "decision.opened"), None)
    opened_by = opened.actor if opened else "unknown"
    project = store.project(decision.project_id) if decision.project_id is not None else None
    lines = [
        "## Context",
        "",
        f"- **Question:** {escape(decision.question)}",
        f"- **Put to the committee by:** {escape(opened_by)}, {_moment(decision.created_at)}",
        f"- **Project:** {f'{escape(project.name)} (#{project.id})' if project else 'none'}",
    ]
    if decision.category:
        lines.append(f"- **Category:** {escape(decision.category)}")
    first_round: dict[str, DecisionRound] = {}
    for item in rounds:
        for option in item.options:
            first_round.setdefault(option, item)
    rows = []
    labels = stable_labels(decision, rounds)
    for option in decision.options:
        author = decision.authors.get(option)
        proposed = escape(author) if author else f"{escape(opened_by)}, with the question"
        added = first_round.get(option)
        if added is not None and added.note.startswith("compromise"):
            proposed += f", as a compromise put to the vote in round {added.round}"
        elif added is not None and added.round > 1:
            proposed += f", added in round {added.round}"
        rows.append((labels[option], escape(option), proposed))
    lines += ["", "### Options", "", *_table(("", "Option", "Proposed by"), rows)]
    return lines


def _details(store: Store, decision: Decision) -> list[str]:
    """What each option held, as its voters read it (a contest entry's diff and gates), verbatim."""
    from orkestra_tui.engine.voting.decisions import option_details

    details = option_details(store, decision.id)
    lines: list[str] = []
    for option in decision.options:
        detail = details.get(option)
        if not detail:
            continue
        longest = max((len(run) for run in re.findall(r"`+|~+", detail)), default=0)
        fence = "`" * max(3, longest + 1)
        lines += ["", f"### What {escape(option)} held", "", f"{fence}text", printable_block(detail), fence]
    return ["## The options' content", *lines] if lines else []


def printable_block(text: str) -> str:
    """Text for a fenced block: every line kept, control characters shown as their escapes."""
    return "\n".join(printable(line) for line in text.splitlines())


def _method(decision: Decision, rounds: list[DecisionRound]) -> list[str]:
    rules = decision.rules
    threshold = float(rules.get("threshold", 0.75))
    quorum = rules.get("quorum", 0.0)
    threshold_note = "" if decision.method == "supermajority" else " (only supermajority uses it)"
    if decision.method == "weighted":
        category = f"«{escape(decision.category)}»" if decision.category else "the decision's category"
        weights = (
            f"each agent's configured weight times its expertise in {category} (0.5 where unrated);"
            f" the human's: {_number(float(rules.get('human_weight', 1.0)))}; per-voter weights are"
            " not stored, the weighted counts below are what the tally used"
        )
    else:
        weights = "none: every ballot counts once (only the weighted method uses weights)"
    voters = ", ".join(escape(voter) for voter in decision.voters)
    lines = [
        "## Method and rules",
        "",
        f"- **Method:** {method_name(decision.method)}",
        f"- **Threshold:** {_share(threshold)}{threshold_note}",
        f"- **Quorum:** {_quorum(quorum)}",
        f"- **Weights:** {weights}",
        f"- **Rounds:** at most {decision.max_rounds}, {len(rounds)} held",
        f"- **Voters:** {voters}",
    ]
    if rules.get("round_feedback"):
        lines.append("- **Feedback between rounds:** the human was asked after each round without a winner")
    if HUMAN_VOTER in decision.voters:
        lines.append("- **The human votes:** yes")
    return lines


def _quorum(rule: object) -> str:
    """The quorum rule as a record states it: `0% participation`, `a majority (more than half ...)`."""
    if isinstance(rule, str):
        return f"{quorum_words(rule)} (more than half of the ballots must count)"
    return f"{_share(rule)} participation"


def _round_title(decision: Decision, item: DecisionRound) -> str:
    if item.round > decision.max_rounds:
        title = f"Extra round {item.round}"
    else:
        title = f"Round {item.round} of {decision.max_rounds}"
    return title + (f" ({escape(item.note)})" if item.note else "")


def _round(
    decision: Decision, item: DecisionRound, ballots: list[Ballot], labels: dict[str, str]
) -> list[str]:
    """One round: its ballots and tally; options carry the decision's stable letters (`stable_labels`)."""
    lines = [f"## {_round_title(decision, item)}", "", f"Started {_moment(item.started_at)}"]
    if item.closed_at is not None:
        lines[-1] += f", closed {_moment(item.closed_at)}"
    lines[-1] += "."
    legend = " · ".join(f"**{labels.get(option, '?')}** {escape(option)}" for option in item.options)
    lines += ["", f"Options: {legend}.", "", "### Ballots", ""]
    rows = []
    for ballot in ballots:
        if ballot.is_abstention:
            ranking = "*abstained*"
            confidence = "—"
            reasoning = f"*{escape(ballot.abstain_reason)}*" if ballot.abstain_reason else ""
        else:
            ranking = " › ".join(escape(option) for option in ballot.ranking)
            confidence = f"{ballot.confidence:.2f}"
            reasoning = escape(ballot.reasoning)
        if ballot.excluded:
            own = ", ".join(escape(option) for option in ballot.excluded)
            ranking += f" (own proposal left off: {own})"
        rows.append((escape(ballot.voter), ranking, confidence, reasoning))
    if rows:
        lines += _table(("Voter", "Ranking", "Confidence", "Reasoning"), rows)
    else:
        lines.append("No ballots were cast.")
    voted = {ballot.voter for ballot in ballots}
    missing = [voter for voter in decision.voters if voter not in voted]
    if missing:
        lines += ["", f"No ballot from: {', '.join(escape(voter) for voter in missing)}."]
    lines += ["", "### Tally", "", *_tally(item, ballots, labels, decision.rules.get("quorum", 0.0))]
    return lines


def _tally(item: DecisionRound, ballots: list[Ballot], labels: dict[str, str], rule: object) -> list[str]:
    tally = item.tally
    if tally is None:
        return ["The round was not counted."]
    lines: list[str] = []
    steps = runoff_steps(tally, {option: option for option in item.options})
    counted = tally.get("rounds") or []
    if steps:
        lines += _runoff_lines(item, steps, tally, labels)
    else:
        if counted:
            counts = {str(option): float(value) for option, value in counted[0].get("counts", {}).items()}
            what = COUNT_TITLES.get(str(tally.get("method")), "first choices")
        else:
            firsts = Counter(ballot.ranking[0] for ballot in ballots if ballot.ranking)
            counts = {option: float(firsts[option]) for option in item.options}
            what = "first choices"
        counts_rows = [(_named(option, labels), _number(counts.get(option, 0.0))) for option in item.options]
        lines += _table(("Option", what[0].upper() + what[1:]), counts_rows)
    pairwise = pairwise_part(tally, labels)
    if pairwise is not None:
        option_of = {label: option for option, label in labels.items()}
        header = ("Ranked above →", *(f"vs {label}" for label in pairwise.labels))
        rows = [
            (
                f"**{label}** {escape(option_of.get(label, '?'))}",
                *("—" if count is None else str(count) for count in row),
            )
            for label, row in zip(pairwise.labels, pairwise.beats, strict=True)
        ]
        lines += [
            "",
            "Head to head: each cell is how many voters ranked the row's option above the column's.",
            "",
            *_table(header, rows),
        ]
    lines += ["", f"**Result:** {escape(str(tally.get('reason') or 'no result'))}"]
    turnout = turnout_words(tally, rule)
    if turnout:
        lines += ["", f"**Ballots:** {turnout}"]
    return lines


def _named(option: str, labels: dict[str, str]) -> str:
    """An option with its stable letter, as the Voting screen shows it."""
    return f"**{labels.get(option, '?')}** {escape(option)}"


def _runoff_lines(
    item: DecisionRound, steps: Sequence[Any], tally: dict[str, Any], labels: dict[str, str]
) -> list[str]:
    """The instant runoff's counts as a table, then what each count did, step by step."""
    header = ("Option", *(f"Count {step.number}" for step in steps))
    rows = []
    for option in item.options:
        cells = []
        for step in steps:
            counts = dict(step.counts)
            cells.append(_number(counts[option]) if option in counts else "out")
        rows.append((_named(option, labels), *cells))
    if any(step.exhausted for step in steps):
        rows.append(("*exhausted*", *(str(step.exhausted) for step in steps)))
    lines = [*_table(header, rows), ""]
    winner = tally.get("winner")
    for step in steps:
        if step.eliminated:
            what = f"**{escape(step.eliminated)}** eliminated, fewest votes"
        elif winner:
            what = f"**{escape(str(winner))}** has a majority"
        else:
            what = "tied, no majority"
        line = f"{step.number}. Count {step.number}: {what}."
        if step.tie_break:
            line += f" {escape(step.tie_break)}."
        lines.append(line)
    return lines


def _resolution(decision: Decision, rounds: list[DecisionRound], events: list[AuditEvent]) -> list[str]:
    lines = ["## Deadlock and resolution", ""]
    steps = [event for event in events if event.kind in RESOLUTION_KINDS]
    outcome = decision.outcome or {}
    if not steps and not decision.resolution:
        lines.append("No deadlock: the rounds ran their course without one.")
        return lines
    if decision.resolution:
        chain = " → ".join(STEP_NAMES.get(step, escape(step)) for step in decision.resolution)
        lines += [f"Steps taken: {chain}.", ""]
    compromise_rounds = [item for item in rounds if item.note.startswith("compromise")]
    for event in steps:
        line = f"- {_moment(event.ts)}, **{escape(event.actor)}**: {escape(event.summary)}"
        if event.kind == "decision.compromise":
            if event.data.get("rationale"):
                line += f" (rationale: {escape(str(event.data['rationale']))})"
            held = next(
                (item for item in compromise_rounds if event.data.get("option") in item.options), None
            )
            if held is not None:
                line += f"; put to the vote in round {held.round}"
        lines.append(line)
    if outcome.get("how") == "fallback":
        last = rounds[-1].round if rounds else 0
        lines.append(
            f"- Plurality fallback over round {last} chose **{escape(str(outcome.get('winner')))}**."
        )
    return lines


def _tie_breaks(requests: list[InboxItem]) -> list[str]:
    lines = ["## Tie-breaks and overrides", ""]
    asked = [item for item in requests if item.kind is InboxKind.TIE_BREAK]
    for item in asked:
        tied = listing(
            [
                f"{escape(str(entry.get('option')).strip().removesuffix('.'))}"
                f" ({_share(entry.get('support'))})"
                for entry in item.payload.get("tied", [])
            ]
        )
        lines.append(f"- {_moment(item.created_at)}: the committee asked to break the tie between {tied}.")
        answer = item.answer if isinstance(item.answer, dict) else {}
        when = _moment(item.answered_at)
        if item.status is InboxStatus.CANCELLED:
            lines.append(f"- {when}: the request was withdrawn.")
        elif answer.get("choice"):
            by = str(answer.get("by", "human"))
            who = "the human" if by == "human" else f"{escape(by)} (nobody was asked)"
            lines.append(f"- {when}: {who} chose **{escape(str(answer['choice']))}**.")
        elif answer.get("fail"):
            lines.append(f"- {when}: the tie-break policy `fail` left the vote without a decision.")
        elif answer.get("declined"):
            lines.append(f"- {when}: the human declined and left the tie to the next step.")
    if len(lines) == 2:
        lines.append("None: no tie reached the human or a tie-break policy.")
    return lines


def _feedback(store: Store, decision: Decision, requests: list[InboxItem]) -> list[str]:
    lines = ["## Feedback between rounds", ""]
    for given in store.feedback(decision.id):
        lines.append(
            f"- For round {given.round} ({_moment(given.created_at)}), the human wrote: {escape(given.text)}"
        )
    for item in requests:
        answer = item.answer if isinstance(item.answer, dict) else {}
        if (
            item.kind is InboxKind.ROUND_FEEDBACK
            and item.status is InboxStatus.ANSWERED
            and not answer.get("text")
        ):
            by = str(answer.get("by", "human"))
            lines.append(
                f"- For round {item.payload.get('round')}: asked, none given ({escape(by)} skipped it)."
            )
    if len(lines) == 2:
        lines.append("None.")
    return lines


def _outcome(decision: Decision, events: list[AuditEvent]) -> list[str]:
    outcome = decision.outcome or {}
    winner = outcome.get("winner")
    closed = next(
        (event for event in reversed(events) if event.kind == f"decision.{decision.status.value}"), None
    )
    how = str(outcome.get("how") or "")
    turnout = turnout_words(outcome, decision.rules.get("quorum", 0.0))
    lines = [
        "## Outcome",
        "",
        f"- **Winner:** {escape(str(winner)) if winner else 'none (no decision)'}",
        f"- **How:** {HOW_WORDS.get(how, escape(how) or 'unknown')}",
    ]
    if outcome.get("tied"):
        lines.append(f"- **Tied:** {listing([escape(str(option)) for option in outcome['tied']])}")
    lines += [
        f"- **Consensus:** {escape(str(outcome.get('consensus') or 'none'))}, support"
        f" {_share(outcome.get('support'))}, participation {_share(outcome.get('participation'))}",
        *([f"- **Ballots:** {turnout}"] if turnout else []),
        f"- **Reason:** {escape(str(outcome.get('reason') or ''))}",
        f"- **Closed:** {_moment(decision.decided_at)}"
        + (f" by {escape(closed.actor)}" if closed is not None else ""),
    ]
    return lines


def _cost(store: Store, decision: Decision, rounds: list[DecisionRound]) -> list[str]:
    calls, tokens, cost = store.decision_cost(decision.id)
    estimate = sum(item.estimate for item in rounds)
    return [
        "## Cost",
        "",
        f"- **Calls:** {calls}",
        f"- **Tokens:** {tokens:,}",
        f"- **Dollars:** ${cost:.4f} (estimated before the rounds: ${estimate:.4f})",
    ]
