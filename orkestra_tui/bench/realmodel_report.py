"""The figures of the real-model measurement: how many answers of each kind were refused.

Kinds, each counted over every session:
- ballots: the agents' ballots (in the vote and in the plan's vote) refused as
  invalid, beside those lost to a failed call and those that counted;
- plans: the drafts refused as invalid, beside failed calls;
- placeholder tasks: tasks of an approved plan whose title or instructions are
  empty or only echo the prompt's template;
- repair requests: requests that carry the agent's earlier answer back to it
  (a retried repair counts again), per command (vote, plan, run), beside the
  first requests;
- cut-off answers: answers that ended at the token limit (`finish_reason` length);
- abandoned requests: the client gave up before the answer came (a timeout).

`orkestra doctor`'s pings are left out of the exchanges: they ask for a few
tokens, so they are cut off by design.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from orkestra_tui.bench.realmodel_relay import Exchange


class StepFigures(Protocol):
    """What the report reads of one command of a session (`realmodel.Step`)."""

    @property
    def exit_code(self) -> int | None: ...
    @property
    def traceback(self) -> bool: ...


class Session(Protocol):
    """What the report reads of one session (`realmodel.Session`, which uses this module's checks)."""

    @property
    def steps(self) -> Mapping[str, StepFigures]: ...
    @property
    def ballots(self) -> Sequence[tuple[str, str]]: ...
    @property
    def exchanges(self) -> Sequence[Exchange]: ...
    @property
    def plan(self) -> dict[str, Any]: ...
    def plan_tasks(self) -> list[dict[str, Any]]: ...
    def real_plan_tasks(self) -> list[dict[str, Any]]: ...
    def counted_ballots(self) -> int: ...


PHASES = ("vote", "plan", "run")
"""The commands whose answers are counted; doctor's pings ask for a few tokens and are cut off by design."""
PLACEHOLDER_WORDS = frozenset(
    {"", "title", "instructions", "string", "task", "text", "todo", "tbd", "n/a", "none", "example"}
)


def is_placeholder(text: object) -> bool:
    """Empty, only punctuation, a `<slot>`, or a word the prompt's template uses for a slot."""
    if not isinstance(text, str):
        return True
    stripped = text.strip()
    if re.fullmatch(r"<[^<>]*>", stripped) or not re.search(r"\w", stripped):
        return True
    return stripped.strip(".…").strip().lower() in PLACEHOLDER_WORDS


def is_real_task(task: dict[str, Any]) -> bool:
    """A task with a title and instructions of its own, not a template's."""
    return not is_placeholder(task.get("title")) and not is_placeholder(task.get("instructions"))


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else f"{part}/0"


def report(sessions: Sequence[Session], model: str) -> dict[str, Any]:
    """The counts over all sessions, per kind, and the same as text (under "text")."""
    ballots = [ballot for session in sessions for ballot in session.ballots]
    counted = sum(session.counted_ballots() for session in sessions)
    refused_ballots = sum(
        1 for ranking, reason in ballots if ranking in ("", "[]") and ("invalid" in reason or "cut" in reason)
    )
    # A ballot that ranks nothing (the answer was valid, its ranking empty) is the model's own choice.
    empty_ballots = sum(
        1
        for ranking, reason in ballots
        if ranking in ("", "[]") and reason in ("", "abstained: ranked no option")
    )
    proposals = [
        proposal
        for session in sessions
        for proposal in session.plan.get("proposals") or ()
        if isinstance(proposal, dict)
    ]
    refused_plans = sum(1 for proposal in proposals if not proposal.get("ok") and "invalid" in str(proposal))
    approved = [session for session in sessions if session.plan.get("approved")]
    approved_tasks = sum(len(session.plan_tasks()) for session in approved)
    placeholder_tasks = approved_tasks - sum(len(session.real_plan_tasks()) for session in approved)
    exchanges = [
        exchange for session in sessions for exchange in session.exchanges if exchange.phase in PHASES
    ]
    per_phase = {
        phase: {
            "requests": sum(1 for exchange in exchanges if exchange.phase == phase and not exchange.repair),
            "repairs": sum(1 for exchange in exchanges if exchange.phase == phase and exchange.repair),
            "cut_off": sum(
                1 for exchange in exchanges if exchange.phase == phase and exchange.finish_reason == "length"
            ),
            "abandoned": sum(1 for exchange in exchanges if exchange.phase == phase and exchange.abandoned),
        }
        for phase in PHASES
    }
    answered = sum(1 for exchange in exchanges if exchange.status == 200)
    figures: dict[str, Any] = {
        "model": model,
        "sessions": len(sessions),
        "ballots": {
            "cast": len(ballots),
            "counted": counted,
            "refused": refused_ballots,
            "empty": empty_ballots,
            "failed": len(ballots) - counted - refused_ballots - empty_ballots,
        },
        "plans": {
            "drafted": len(proposals),
            "valid": sum(1 for proposal in proposals if proposal.get("ok")),
            "refused": refused_plans,
            "failed": sum(1 for proposal in proposals if not proposal.get("ok")) - refused_plans,
            "approved": len(approved),
            "approved_tasks": approved_tasks,
            "placeholder_tasks": placeholder_tasks,
        },
        "exchanges": per_phase,
        "answers": answered,
        "cut_off": sum(phase["cut_off"] for phase in per_phase.values()),
        "exit_codes": [
            {name: step.exit_code for name, step in session.steps.items()} for session in sessions
        ],
        "tracebacks": sum(1 for session in sessions for step in session.steps.values() if step.traceback),
    }
    figures["text"] = _text(figures)
    return figures


def _text(figures: dict[str, Any]) -> str:
    ballots, plans, phases = figures["ballots"], figures["plans"], figures["exchanges"]
    requests = sum(phase["requests"] for phase in phases.values())
    repairs = sum(phase["repairs"] for phase in phases.values())
    lines = [
        f"{figures['model']}, {figures['sessions']} session(s): invalid answers",
        f"  refused ballots     {_share(ballots['refused'], ballots['cast'])}"
        f"  (counted {ballots['counted']}, ranked nothing {ballots['empty']},"
        f" lost to failed calls {ballots['failed']})",
        f"  refused plans       {_share(plans['refused'], plans['drafted'])}"
        f"  (valid {plans['valid']}, failed calls {plans['failed']})",
        f"  placeholder tasks   {_share(plans['placeholder_tasks'], plans['approved_tasks'])}"
        f"  in {plans['approved']} approved plan(s)",
        f"  repair requests     {repairs} beside {requests} first requests"
        + "".join(
            f"; {name} {phase['repairs']}/{phase['requests']}"
            for name, phase in phases.items()
            if phase["requests"]
        ),
        f"  cut-off answers     {_share(figures['cut_off'], figures['answers'])}",
        f"  abandoned requests  {sum(phase['abandoned'] for phase in phases.values())}",
        "  exit codes          "
        + "; ".join(
            ", ".join(f"{name} {code}" for name, code in codes.items()) for codes in figures["exit_codes"]
        ),
        f"  tracebacks          {figures['tracebacks']}",
    ]
    return "\n".join(lines)
