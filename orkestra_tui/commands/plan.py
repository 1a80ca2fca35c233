"""`orkestra plan --name NAME --description TEXT`: the committee plans a new project, headless.

The planning workflow of the app runs in this process: every participating
agent drafts a plan at once, the committee votes on the drafts (nobody for its
own), the winning plan's author refines it with the best of the others, and
the plan reaches review. Hands-off (involvement 1) the plan is approved at
once; at 2 and 3 `--yes` approves it, and without it the plan waits at review
for the human to look at in the app.

Progress goes to stderr, one line per step, ballot and tie-break; the result
goes to stdout as a readable summary or as one JSON document. A tie the
committee asks the human about is answered by `--tie-break` (`ask` prompts on
the terminal); without the flag and without a terminal, the tie is left in the
inbox for the app and the command ends with status 3. Hands-on (3), feedback
the committee asks for between voting rounds is prompted for on the terminal
with `ask`, and skipped otherwise.
Agent text (titles, reasons, summaries) is untrusted: it is shown with its
control characters escaped and never as Rich markup.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orkestra_tui.commands.answering import (
    LEAVE,
    WAITING_FOR_YOU,
    TieLeftForTheApp,
    chosen_tie_break,
    stdin_is_terminal,
)
from orkestra_tui.commands.context import add_common_options, load_context
from orkestra_tui.commands.output import emit, error_line
from orkestra_tui.commands.project import add_repository_options, checked_repository_options
from orkestra_tui.commands.vote import TIE_BREAK_POLICIES, checked_agents
from orkestra_tui.engine.voting.methods import METHODS
from orkestra_tui.errors import UsageError

if TYPE_CHECKING:
    from orkestra_tui.commands.plan_display import PlanProgress
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.models import InboxItem
    from orkestra_tui.engine.planning.planning import Planner, PlanSession

DEFAULT_INVOLVEMENT = 2
DEFAULT_METHOD = "majority"
PLANNED, NO_PLAN, INTERRUPTED = 0, 1, 130


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `plan` command to `orkestra`."""
    parser = subparsers.add_parser(
        "plan",
        help="have the committee plan a new project from a brief",
        description="Have the committee plan a new project from a brief: every agent drafts a plan, the "
        "committee votes on the drafts, the winner's author refines it, and the plan becomes tasks once "
        "approved. Exit status: 0 planned (approved, or waiting at review without --yes), 1 no plan "
        "(no agent produced a valid one, the vote chose none, or approval failed), 2 bad input, "
        "3 the vote is tied and the tie waits in the inbox for the app (no terminal to ask on and no "
        "--tie-break; run again to go on), 130 interrupted.",
    )
    parser.add_argument("--name", metavar="NAME", help="the new project's name (required)")
    parser.add_argument(
        "--description",
        metavar="TEXT",
        help="what the project is (required); '-' reads it from stdin, '@PATH' from a UTF-8 file",
    )
    parser.add_argument(
        "--feature", action="append", metavar="F", help="a feature the plan must cover (repeatable)"
    )
    parser.add_argument("--goals", metavar="TEXT", default="", help="what the project should achieve")
    parser.add_argument("--constraints", metavar="TEXT", default="", help="limits the plan must respect")
    parser.add_argument(
        "--involvement",
        metavar="LEVEL",
        default=str(DEFAULT_INVOLVEMENT),
        help="1 hands-off (the plan is approved at once), 2 checkpoints (default), "
        "3 hands-on (the committee may ask for feedback between voting rounds)",
    )
    parser.add_argument(
        "--method",
        metavar="NAME",
        default=DEFAULT_METHOD,
        help=f"how the committee votes on the plans: one of {', '.join(METHODS)} (default: {DEFAULT_METHOD})",
    )
    parser.add_argument(
        "--agents",
        metavar="A,B,...",
        help="the agents that plan and vote, comma-separated (default: all enabled)",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="approve the final plan into tasks at involvement 2 and 3 (without it the plan waits at review)",
    )
    parser.add_argument(
        "--tie-break",
        choices=TIE_BREAK_POLICIES,
        help="who breaks a tie in the vote: ask on the terminal, or the first or a random tied plan, or "
        "fail with no plan (default: ask on a terminal, else leave the tie in the inbox for the app, "
        "exit 3); hands-off, the first tied plan wins unless a policy is given",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="NAME",
        help="go on with the plan of project NAME (default: --name, or the one plan under way) where an "
        "interrupted run left it, without asking again for the proposals and ballots stored; running the "
        "same command again does the same",
    )
    add_repository_options(parser)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON document")
    add_common_options(parser)
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class PlanRequest:
    """The brief as the arguments give it, checked (the description not yet read)."""

    name: str
    features: tuple[str, ...]
    involvement: int
    method: str
    agents: list[str] | None
    """None means every enabled agent."""


def run(args: argparse.Namespace) -> int:
    """Check the brief, start the project's plan (or resume it), run the workflow, print the result."""
    resuming = args.resume is not None
    if resuming and args.description is not None:
        args.name = args.name or args.resume  # a brief given with --resume starts a plan that has none
    request = None if resuming and args.description is None else _checked_request(args)
    repository = checked_repository_options(args)
    if request is not None:
        _check_tie_break(args.tie_break, request.involvement, args.description)  # before stdin is read
    description = _description(args.description) if request is not None else ""
    context = load_context(args)
    chosen = (
        None
        if request is None or request.agents is None
        else checked_agents(request.agents, context.settings)
    )
    engine = context.open_engine()
    try:
        from orkestra_tui.engine.planning.planning import Planner

        planner = Planner(engine)
        session = _session_to_resume(engine, planner, args.resume if resuming else None, args.name, resuming)
        resumed = session is not None
        if repository is not None:  # refused before a project is made for it
            asyncio.run(_check_repository(engine, repository, args))
        if session is None:
            if request is None:
                raise UsageError('a plan needs a description: --description "TEXT"')
            session = _start(engine, planner, request, description=description, chosen=chosen, args=args)
        if repository is not None:  # linked before any of its tasks can run
            asyncio.run(
                engine.link_repository(session.project_id, repository, init=args.init_repo, base=args.base)
            )
        tie_break = _check_tie_break(args.tie_break, session.brief.involvement, args.description)
        engine.note_plan_run(session.project_id, resumed=resumed)
        return _plan_and_report(engine, planner, session, tie_break, args)
    finally:
        engine.close()


async def _check_repository(engine: Engine, folder: Path, args: argparse.Namespace) -> None:
    from orkestra_tui.commands.project import check_folder

    await check_folder(engine, folder, args)


def _check_tie_break(flag: str | None, involvement: int, description: str | None) -> str:
    """The tie-break mode (see `chosen_tie_break`); hands-off nobody is asked, and `ask` means first."""
    from orkestra_tui.engine.models import Involvement

    if involvement == Involvement.HANDS_OFF:
        return flag or "ask"
    return chosen_tie_break(flag, reads_stdin=description == "-")


def _start(
    engine: Engine,
    planner: Planner,
    request: PlanRequest,
    *,
    description: str,
    chosen: list[str] | None,
    args: argparse.Namespace,
) -> PlanSession:
    from orkestra_tui.engine.models import Involvement
    from orkestra_tui.engine.planning.planning import Brief

    agents = chosen if chosen is not None else [runtime.name for runtime in engine.enabled_agents()]
    if not agents:
        raise UsageError("no agent is enabled; enable one in config.toml or in the app")
    return planner.start(
        Brief(
            name=request.name,
            description=description,
            goals=args.goals.strip(),
            constraints=args.constraints.strip(),
            features=request.features,
            involvement=Involvement(request.involvement),
            agents=tuple(agents),
            method=request.method,
        ),
        take_up=True,  # a project a killed start left without its plan
    )


def _session_to_resume(
    engine: Engine, planner: Planner, resume: str | None, name: str | None, asked: bool
) -> PlanSession | None:
    """The unfinished plan to go on with, said in one line; None to start a new one.

    The same `orkestra plan --name NAME` again resumes NAME's plan if it is unfinished; a
    project whose plan is over (or that has none) keeps its name to itself.
    """
    from orkestra_tui.engine.owners import owner_pid
    from orkestra_tui.engine.planning.planning import PlanStep
    from orkestra_tui.engine.voting.consensus import quote_name

    wanted = " ".join((resume or name or "").split())
    if not wanted:
        under_way = planner.under_way()
        if not under_way:
            raise UsageError("no plan is under way to resume; start one with orkestra plan --name NAME")
        if len(under_way) > 1:
            names = ", ".join(quote_name(_project_name(engine, item)) for item in under_way)
            raise UsageError(f"several plans are under way ({names}): say which, with --resume NAME")
        session = under_way[0]
    else:
        project = engine.project_by_name(wanted)
        if project is None:
            if asked:
                raise UsageError(
                    f"there is no plan for {quote_name(wanted)} to resume; start it without --resume"
                )
            return None
        if planner.orphan(project.name) is not None:
            return None  # created, then interrupted before its plan was stored: started again on it
        found = planner.find(project.name)
        quoted = quote_name(project.name)
        if found is None:
            raise UsageError(
                f"a project named {quoted} already exists (it was not planned here); choose another --name"
            )
        if found.step.finished:
            how = "approved" if found.step is PlanStep.DONE else "cancelled"
            raise UsageError(
                f"project {quoted} already exists and its plan was {how}; choose another --name"
                + (" (orkestra status shows it)" if how == "approved" else "")
            )
        session = found
    holder = engine.plan_holder(session.project_id)
    if holder is not None:
        raise UsageError(
            f"the plan for {quote_name(_project_name(engine, session))} is being made by another run "
            f"(pid {owner_pid(holder)}); let it finish, or stop it first"
        )
    emit(f"orkestra: {_resuming_line(engine, session)}", err=True, flush=True)
    return session


def _project_name(engine: Engine, session: PlanSession) -> str:
    project = engine.project(session.project_id)
    return project.name if project else session.brief.name


def _resuming_line(engine: Engine, session: PlanSession) -> str:
    """`resuming the plan for "Shop" at the vote step: 5 proposals and 3 ballots stored`."""
    from orkestra_tui.engine.voting.consensus import quote_name

    stored = [
        f"{sum(proposal.ok for proposal in session.proposals)} of {len(session.brief.agents)} proposals"
    ]
    if session.decision_id is not None:
        ballots = len(engine.ballots(session.decision_id))
        stored.append(f"{ballots} ballot{'s' if ballots != 1 else ''}")
    name = quote_name(_project_name(engine, session))
    return f"resuming the plan for {name} at the {session.step.value} step: {' and '.join(stored)} stored"


# ------------------------------------------------------------------ checks


def _checked_request(args: argparse.Namespace) -> PlanRequest:
    """The brief the arguments ask for, or one line saying what is wrong with them."""
    from orkestra_tui.engine.planning.brief_rules import name_problems
    from orkestra_tui.engine.voting.consensus import quote_name
    from orkestra_tui.engine.voting.decision_rules import method_problems

    name = " ".join((args.name or "").split())
    if not name:
        raise UsageError('a plan needs a project name: orkestra plan --name NAME --description "TEXT"')
    problems = name_problems(name, taken=False)  # the engine's rule; a name taken is found later
    if problems:
        raise UsageError(problems[0].message)
    if args.description is None:
        raise UsageError(
            'a plan needs a description: --description "TEXT" (or - for stdin, @PATH for a file)'
        )
    features = tuple(" ".join(feature.split()) for feature in args.feature or [])
    if not all(features):
        raise UsageError("--feature cannot be empty")
    if args.involvement not in ("1", "2", "3"):
        raise UsageError(f"--involvement must be 1, 2 or 3, not {quote_name(args.involvement)}")
    if method_problems(args.method):  # said as `orkestra tally` and `orkestra vote` say it
        raise UsageError(f"unknown method {quote_name(args.method)}; valid methods: {', '.join(METHODS)}")
    agents = None
    if args.agents is not None:
        agents = [name.strip() for name in args.agents.split(",")]
        if not all(agents):
            raise UsageError(f"--agents takes names separated by commas, not {quote_name(args.agents)}")
    return PlanRequest(name, features, int(args.involvement), args.method, agents)


def _description(text: str) -> str:
    """The description as given: inline, from stdin (`-`) or from a file (`@PATH`)."""
    from orkestra_tui.engine.voting.consensus import quote_name

    if text == "-":
        if sys.stdin is None:
            raise UsageError("--description - reads stdin, but there is none")
        description = sys.stdin.read()
    elif text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            description = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"description file {quote_name(str(path))} is not UTF-8 text") from None
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise UsageError(f"description file {quote_name(str(path))} cannot be read: {reason}") from None
    else:
        description = text
    description = description.strip()
    if not description:
        raise UsageError("the description is empty; say what the project is")
    return description


# -------------------------------------------------------------------- plan


def _plan_and_report(
    engine: Engine, planner: Planner, session: PlanSession, tie_break: str, args: argparse.Namespace
) -> int:
    from orkestra_tui.commands.plan_display import PlanProgress, plan_document, print_summary
    from orkestra_tui.commands.project import link_document, link_line
    from orkestra_tui.engine.errors import EngineError
    from orkestra_tui.engine.planning.planning import PlanStep

    project_id = session.project_id
    progress = PlanProgress(engine, project_id, live=sys.stderr.isatty() and not args.json)
    if session.decision_id is not None:  # resumed during the vote: its ballots are told as they come
        from orkestra_tui.commands.vote_display import VoteProgress

        decision = engine.decision(session.decision_id)
        progress.vote = VoteProgress(decision, live=progress.live) if decision is not None else None
    subscription = engine.bus.subscribe(progress.on_event)
    failure = ""
    left = False
    try:
        asyncio.run(_advance(engine, planner, session, tie_break, progress))
        if args.yes and planner.session(project_id).step is PlanStep.REVIEW:
            planner.approve(project_id)
    except EngineError as error:
        failure = str(error)
    except TieLeftForTheApp:
        left = True
    except KeyboardInterrupt:
        error_line(f"interrupted; {_standing(engine, planner.session(project_id))}")
        return INTERRUPTED
    finally:
        subscription.close()
    final = planner.session(project_id)
    document = plan_document(engine, final, error=failure or None)
    link = engine.repository(project_id)
    document["repository"] = link_document(link)
    if args.json:
        from orkestra_tui.commands.output import print_json

        print_json(document)
    elif final.plan is not None:
        print_summary(document)
    if link is not None and not args.json:
        emit(link_line(str(document["project"]["name"]), link))
    if failure:
        error_line(failure, then=f"; {_standing(engine, final)}")
        return NO_PLAN
    if left:
        from orkestra_tui.engine.voting.consensus import quote_name

        name = _project_name(engine, final)
        command = ["orkestra", "plan", "--resume", name, "--tie-break", "first"]
        if getattr(args, "data_dir", None):
            command += ["--data-dir", str(args.data_dir)]
        error_line(
            f"the vote on the plans for {quote_name(name)} is tied and waits for you: break the tie in "
            f"the app (orkestra), or run {shlex.join(command)}"
        )
        return WAITING_FOR_YOU
    return PLANNED


def _standing(engine: Engine, session: PlanSession) -> str:
    """Where an unfinished plan stands, for the line that ends a failed or interrupted run."""
    from orkestra_tui.engine.planning.planning import PlanStep
    from orkestra_tui.engine.voting.consensus import quote_name

    project = engine.project(session.project_id)
    name = quote_name(project.name if project else "")
    if session.step is PlanStep.REVIEW:
        return f"project {name} waits at review: open orkestra and review it on the Plan screen"
    if session.step is PlanStep.DONE:
        return f"project {name} is approved"
    return f"project {name} stays at the {session.step.value} step"


async def _advance(
    engine: Engine, planner: Planner, session: PlanSession, tie_break: str, progress: PlanProgress
) -> PlanSession:
    """Run the workflow up to review (and approval, hands-off), answering the committee's questions.

    Left for the app (`leave`), the first tie-break request ends the run with `TieLeftForTheApp`.
    """
    from orkestra_tui.commands.answering import answer_while, break_tie_on_terminal
    from orkestra_tui.engine.models import InboxKind, Involvement

    project_id = session.project_id
    leaves = tie_break == LEAVE
    asks = tie_break in ("ask", LEAVE) and session.brief.involvement is not Involvement.HANDS_OFF

    def concerns_the_plan(item: InboxItem) -> bool:
        if item.project_id == project_id:
            return True
        decision_id = planner.session(project_id).decision_id
        return decision_id is not None and item.payload.get("decision_id") == decision_id

    def wanted(item: InboxItem) -> bool:
        if item.kind is InboxKind.TIE_BREAK:
            return asks and concerns_the_plan(item)  # otherwise the committee applies the policy
        return item.kind is InboxKind.ROUND_FEEDBACK and concerns_the_plan(item)

    async def answer(item: InboxItem) -> None:
        if item.kind is InboxKind.TIE_BREAK:
            if leaves:
                raise TieLeftForTheApp(item)
            await break_tie_on_terminal(engine, item, progress.ask_tie_break)
            return
        text = await progress.ask_round_feedback(item) if asks and not leaves and stdin_is_terminal() else ""
        engine.answer_round_feedback(item.id, text)  # empty text skips

    policy = "ask" if leaves else tie_break
    return await answer_while(engine, planner.advance(project_id, tie_break=policy), wanted, answer)
