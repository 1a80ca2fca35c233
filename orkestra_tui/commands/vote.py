"""`orkestra vote QUESTION --option A --option B`: put a question to the committee and run the vote.

The vote runs in this process with the configured agents (simulated when they
have no key), round after round as the engine's committee decides. Progress
comes from the engine's events and goes to stderr: a live display on a
terminal, one plain line per event otherwise. The result goes to stdout, as a
readable summary or as one JSON document with every round and ballot.

A tie that reaches the human is answered by `--tie-break`: `ask` prompts on
the terminal, the other policies answer by rule. Without the flag, a terminal
is asked; with none, the tie is left in the inbox for the app and the command
ends with status 3 (`--resume ID` goes on from there). Every state change is in the
store as it happens, so an interrupted vote resumes with `--resume ID`.
Agent text (reasoning, compromise options) is untrusted: it is shown with its
control characters escaped and never as Rich markup.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orkestra_tui.commands.answering import LEAVE, WAITING_FOR_YOU, TieLeftForTheApp, chosen_tie_break
from orkestra_tui.commands.context import (
    RECORD_IDS,
    add_common_options,
    load_context,
    quorum_argument,
    share_argument,
)
from orkestra_tui.commands.output import error_line
from orkestra_tui.config import EngineSettings, setting_bounds
from orkestra_tui.engine.voting.methods import METHODS
from orkestra_tui.errors import DiskFullError, UsageError
from orkestra_tui.wording import plural

if TYPE_CHECKING:
    from orkestra_tui.commands.vote_display import VoteProgress
    from orkestra_tui.config import Settings
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.models import Decision, InboxItem

TIE_BREAK_POLICIES = ("ask", "first", "random", "fail")
DEFAULT_THRESHOLD = 0.75
INTERRUPTED = 130
# The options that shape a new decision, which --resume (continuing one as it was opened) refuses.
DECISION_OPTIONS = ("option", "method", "rounds", "threshold", "quorum", "voter", "category")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `vote` command to `orkestra`."""
    parser = subparsers.add_parser(
        "vote",
        help="put a question to the committee and run the vote",
        description="Put QUESTION to the committee with at least two options and run the vote to its "
        "end: rounds, deadlock resolution, and a tie-break when it comes to that. Exit status: 0 decided, "
        "1 no decision, 2 bad input, 3 tied and left in the inbox for the app (no terminal to ask on and "
        "no --tie-break), 130 interrupted (resume with --resume ID).",
    )
    parser.add_argument("question", metavar="QUESTION", nargs="?", help="the question to decide")
    parser.add_argument(
        "--option", action="append", metavar="TEXT", help="an option to vote on (give two or more)"
    )
    parser.add_argument(
        "--method", metavar="NAME", help=f"one of {', '.join(METHODS)} (default: from config.toml)"
    )
    parser.add_argument(
        "--rounds",
        metavar="N",
        help=f"most voting rounds, {setting_bounds(EngineSettings, 'max_rounds').short()}"
        " (default: max_rounds in config.toml)",
    )
    parser.add_argument(
        "--tie-break",
        choices=TIE_BREAK_POLICIES,
        help="who breaks a tie: ask on the terminal, or the first or a random tied option, or fail with "
        "no decision (default: ask on a terminal, else leave the tie in the inbox for the app, exit 3)",
    )
    parser.add_argument(
        "--threshold",
        metavar="F",
        help=f"share of first preferences supermajority needs, 0 to 1 (default: {DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--quorum",
        metavar="F",
        help="least share of the voters whose ballots must count for a round to decide: majority "
        "(more than half) or 0 to 1 (default: quorum in config.toml, majority unless set)",
    )
    parser.add_argument(
        "--voter", action="append", metavar="NAME", help="an agent that votes (repeatable; default: all)"
    )
    parser.add_argument("--category", metavar="C", help="the decision's category (weights expertise)")
    parser.add_argument("--resume", metavar="ID", help="continue an interrupted vote on decision ID")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON document")
    add_common_options(parser)
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class VoteRequest:
    """A new decision as the arguments ask for it, checked."""

    question: str
    options: list[str]
    method: str | None
    rules: dict[str, float | str]
    max_rounds: int | None
    category: str


def run(args: argparse.Namespace) -> int:
    """Open the decision (or find the one to resume), run the vote, print the result."""
    tie_break = chosen_tie_break(args.tie_break)
    resume_id = _resume_id(args)
    target = resume_id if resume_id is not None else _checked_request(args)
    context = load_context(args)
    voters = _checked_voters(args.voter, context.settings)
    engine = context.open_engine()
    try:
        if isinstance(target, int):
            decision = _decision_to_resume(engine, target)
        else:
            decision = engine.open_decision(
                target.question,
                target.options,
                method=target.method,
                rules=target.rules,
                voters=voters,
                max_rounds=target.max_rounds,
                category=target.category,
            )
        return _vote_and_report(engine, decision, tie_break, args, resumed=isinstance(target, int))
    finally:
        engine.close()


# ------------------------------------------------------------------ checks


def _checked_request(args: argparse.Namespace) -> VoteRequest:
    """The new decision the arguments ask for, or one line saying what is wrong with them."""
    from orkestra_tui.engine.voting.consensus import quote_name
    from orkestra_tui.engine.voting.decision_rules import method_problems, option_problems

    if args.question is None or not args.question.strip():
        raise UsageError('a vote needs a question: orkestra vote "QUESTION" --option A --option B')
    options = [" ".join(option.split()) for option in args.option or []]
    if len(options) < 2 or not all(options):
        raise UsageError("a vote needs at least two non-empty options (--option A --option B)")
    seen: set[str] = set()
    for option in options:
        if option in seen:
            raise UsageError(f"option {quote_name(option)} is given twice")
        seen.add(option)
    # The rules for the options are the engine's: the same check and words as the app's.
    problems = option_problems(args.question, options)
    if problems:
        raise UsageError(problems[0].message)
    if args.method is not None and method_problems(args.method):  # said as `orkestra tally` says it
        raise UsageError(f"unknown method {quote_name(args.method)}; valid methods: {', '.join(METHODS)}")
    rounds = None
    if args.rounds is not None:
        bounds = setting_bounds(EngineSettings, "max_rounds")
        try:
            rounds = int(args.rounds)
        except ValueError:
            raise UsageError(f"--rounds must be a whole number, not {quote_name(args.rounds)}") from None
        if rounds not in bounds:
            raise UsageError(f"--rounds must be {bounds.describe()}, not {rounds}")
    rules: dict[str, float | str] = {
        "threshold": share_argument("--threshold", args.threshold, DEFAULT_THRESHOLD)
    }
    if args.quorum is not None:  # otherwise the engine applies the configured quorum
        rules["quorum"] = quorum_argument("--quorum", args.quorum, 0.0)
    return VoteRequest(args.question, options, args.method, rules, rounds, args.category or "")


def _checked_voters(names: list[str] | None, settings: Settings) -> list[str] | None:
    """The chosen voters, each a known and enabled agent named once; None means every enabled agent."""
    return None if names is None else checked_agents(names, settings, role="voter")


def checked_agents(names: list[str], settings: Settings, *, role: str = "agent") -> list[str]:
    """`names`, each a known and enabled agent named once, or one line naming the first that is not."""
    from orkestra_tui.engine.voting.consensus import quote_name

    agents = {agent.name: agent for agent in settings.agents}
    seen: set[str] = set()
    for name in names:
        agent = agents.get(name)
        if agent is None:
            raise UsageError(f"unknown {role} {quote_name(name)}; agents: {', '.join(agents) or 'none'}")
        if not agent.enabled:
            raise UsageError(f"{role} {quote_name(name)} is disabled in config.toml")
        if name in seen:
            raise UsageError(f"{role} {quote_name(name)} is given twice")
        seen.add(name)
    return list(names)


def _resume_id(args: argparse.Namespace) -> int | None:
    if args.resume is None:
        return None
    given = [f"--{name}" for name in DECISION_OPTIONS if getattr(args, name) is not None]
    if args.question is not None or given:
        extra = ", ".join(["QUESTION"] * (args.question is not None) + given)
        raise UsageError(f"--resume continues a decision as it was opened; drop {extra}")
    try:
        decision_id = int(args.resume)
    except ValueError:
        decision_id = 0
    if decision_id not in RECORD_IDS:  # a larger number than SQLite stores names no decision
        raise UsageError(f"--resume takes a decision number, not {args.resume!r}")
    return decision_id


def _decision_to_resume(engine: Engine, decision_id: int) -> Decision:
    decision = engine.decision(decision_id)
    if decision is None:
        raise UsageError(f"decision {decision_id} does not exist")
    if not decision.status.is_open:
        raise UsageError(f"decision {decision_id} is already {decision.status.value.replace('_', ' ')}")
    return decision


# -------------------------------------------------------------------- vote


def _vote_and_report(
    engine: Engine, decision: Decision, tie_break: str, args: argparse.Namespace, *, resumed: bool
) -> int:
    from orkestra_tui.commands.vote_display import VoteProgress, decision_document, print_summary
    from orkestra_tui.engine.models import DecisionStatus

    progress = VoteProgress(decision, live=sys.stderr.isatty() and not args.json)
    subscription = engine.bus.subscribe(progress.on_event)
    progress.start()
    if resumed:
        progress.say(f"Resuming decision {decision.id} ({_state_of(engine, decision.id)})", "bold")
    left = False
    try:
        final = asyncio.run(_run_vote(engine, decision.id, tie_break, progress))
    except TieLeftForTheApp:
        left = True
        final = engine.decision(decision.id) or decision
    except KeyboardInterrupt:
        progress.stop()
        error_line(_interrupted_line(engine, decision.id, args))
        return INTERRUPTED
    except DiskFullError as error:
        # The decision and every round and ballot committed so far are stored: say how to go on.
        then = f"resume the vote with: {shlex.join(_resume_command(decision.id, args))}"
        raise DiskFullError(error.directory, then=then, free_bytes=error.free_bytes) from None
    finally:
        progress.stop()
        subscription.close()
    document = decision_document(engine, final)
    if args.json:
        from orkestra_tui.commands.output import print_json

        print_json(document)
    else:
        print_summary(document)
    if left:
        error_line(
            f"decision {decision.id} is tied and waits for you: break the tie in the app (orkestra), or run",
            then=f" {shlex.join([*_resume_command(decision.id, args), '--tie-break', 'first'])}",
        )
        return WAITING_FOR_YOU
    return 0 if final.status is DecisionStatus.DECIDED else 1


def _interrupted_line(engine: Engine, decision_id: int, args: argparse.Namespace) -> str:
    return (
        f"interrupted; decision {decision_id} stays in the store ({_state_of(engine, decision_id)}); "
        f"resume it with: {shlex.join(_resume_command(decision_id, args))}"
    )


def _resume_command(decision_id: int, args: argparse.Namespace) -> list[str]:
    command = ["orkestra", "vote", "--resume", str(decision_id)]
    if getattr(args, "tie_break", None) not in (None, "ask"):
        command += ["--tie-break", args.tie_break]
    if getattr(args, "data_dir", None):
        command += ["--data-dir", str(args.data_dir)]
    return command


def _state_of(engine: Engine, decision_id: int) -> str:
    """Where an unfinished vote stands, in a few words, as the store has it."""
    from orkestra_tui.engine.models import DecisionStatus, RoundStatus

    decision = engine.decision(decision_id)
    rounds = engine.rounds(decision_id)
    if rounds and rounds[-1].status is RoundStatus.OPEN:
        ballots = len(engine.ballots(decision_id, rounds[-1].round))
        return f"round {rounds[-1].round} under way, {plural(ballots, 'ballot')} in"
    if decision is not None and decision.status is DecisionStatus.AWAITING_HUMAN:
        return (
            f"waiting for a tie-break after round {rounds[-1].round}" if rounds else "waiting for a tie-break"
        )
    return f"after round {rounds[-1].round}" if rounds else "before its first round"


async def _run_vote(engine: Engine, decision_id: int, tie_break: str, progress: VoteProgress) -> Decision:
    """Run the committee; a tie-break the engine asks for meanwhile is answered on the terminal.

    Left for the app (`leave`), the first tie-break request ends the run with `TieLeftForTheApp`.
    """
    from orkestra_tui.commands.answering import answer_while, break_tie_on_terminal, leave_tie_for_the_app
    from orkestra_tui.engine.models import InboxKind
    from orkestra_tui.engine.voting.committee import TieBreakPolicy

    policy = TieBreakPolicy.ASK if tie_break == LEAVE else TieBreakPolicy(tie_break)

    def is_tie_break(item: InboxItem) -> bool:
        return item.kind is InboxKind.TIE_BREAK and item.payload.get("decision_id") == decision_id

    async def ask(item: InboxItem) -> None:
        await break_tie_on_terminal(engine, item, progress.ask_tie_break)

    # Any other policy is the committee's to apply, to requests an interrupted run left open too.
    return await answer_while(
        engine,
        engine.decide(decision_id, tie_break=policy),
        is_tie_break,
        leave_tie_for_the_app if tie_break == LEAVE else ask if policy is TieBreakPolicy.ASK else None,
    )
