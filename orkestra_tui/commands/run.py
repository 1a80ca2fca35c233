"""`orkestra run`: carry out the tasks of approved projects, headless.

The engine's scheduler runs in this process: ready tasks are leased, given to
agents, reviewed by agents of other vendors and finished, several at once, as
in the app. A run goes until nothing is left that it can do now; then the
requests it left in the inbox are answered by policy (or on the terminal) and,
with `--until-done`, it runs again, until every task is settled or nothing can
move without the human.

- A task the reviewers send to the human: `--on-review approve` approves it,
  `fail` leaves it waiting (the run then ends unfinished), `ask` asks on the
  terminal (y approves, n leaves it, any other text sends it back with that
  note).
- A project that reached its budget is paused by the engine: `--on-budget
  stop` leaves it paused, `ask` asks on the terminal for a new amount.
- A tie a vote about the projects asks the human to break: `--tie-break`
  answers it as `orkestra vote` does; the vote goes on where it runs.

Without a terminal, nothing is decided for the human unless a policy says so.
Ctrl+c (or SIGTERM) stops the run: the tasks whose agent was still working go
back to ready; those whose agent had finished keep their result and stay in
review, and the next run reviews them without calling that agent again. The
run starts with recovery, which tidies the leftover worktrees of projects linked to a
repository too, and runs the scheduler, through the engine's `Supervisor`, as the app does.
Progress goes to stderr, the result to stdout: a summary, or with `--json` one
document (the projects, their tasks per status, every task with its status,
agent, attempts and note, what this run did, its cost and time, and `stopped`:
`done`, else the weightiest reason the projects are not done: `budget`,
`awaiting_human`, `failed`, `blocked`, `ready`, `running`, `review` or
`pending`). Each reason is also one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orkestra_tui.commands.answering import stdin_is_terminal
from orkestra_tui.commands.context import add_common_options, load_context, whole_number
from orkestra_tui.commands.output import error_line
from orkestra_tui.commands.run_waiting import wait_for_other_runs
from orkestra_tui.commands.vote import TIE_BREAK_POLICIES
from orkestra_tui.config import EngineSettings, setting_bounds
from orkestra_tui.errors import UsageError
from orkestra_tui.wording import percent, plural

if TYPE_CHECKING:
    from orkestra_tui.commands.run_display import RunProgress
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.execution.scheduler import RunSummary
    from orkestra_tui.engine.models import InboxItem, Project
    from orkestra_tui.engine.supervisor import Supervisor

REVIEW_POLICIES = ("approve", "fail", "ask")
BUDGET_POLICIES = ("stop", "ask")
DONE, NOT_DONE, INTERRUPTED, TERMINATED = 0, 1, 130, 143


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `run` command to `orkestra`."""
    parser = subparsers.add_parser(
        "run",
        help="carry out the tasks of approved projects",
        description="Carry out the tasks of a project (default: every active project): agents take the "
        "ready tasks, other agents review the results, several at once. Exit status: 0 every task done "
        "(or cancelled), 1 tasks failed, are blocked or wait for you (a review, the budget), "
        "2 bad input, 130 interrupted (the tasks under way go back to ready).",
    )
    parser.add_argument("--project", metavar="NAME", help="the project to run (default: every active one)")
    parser.add_argument(
        "--until-done",
        action="store_true",
        help="after answering the inbox, run again, until every task is done or nothing can progress "
        "(default: run once, answer the inbox, stop)",
    )
    parser.add_argument(
        "--max-concurrent",
        type=whole_number(setting_bounds(EngineSettings, "max_concurrent_tasks")),
        metavar="N",
        help=f"most tasks running at once, {setting_bounds(EngineSettings, 'max_concurrent_tasks').short()}"
        " (default: max_concurrent_tasks in config.toml)",
    )
    parser.add_argument(
        "--on-review",
        choices=REVIEW_POLICIES,
        help="a task the reviewers send to you: approve it, fail (leave it waiting; the run is not done), "
        "or ask on the terminal (default: ask on a terminal, else fail)",
    )
    parser.add_argument(
        "--on-budget",
        choices=BUDGET_POLICIES,
        help="a project that reached its budget: stop (it stays paused), or ask on the terminal for a new "
        "amount (default: ask on a terminal, else stop)",
    )
    parser.add_argument(
        "--tie-break",
        choices=TIE_BREAK_POLICIES,
        help="a tie a vote about these projects asks you to break: ask on the terminal, or the first or a "
        "random tied option, or fail (default: ask on a terminal, else leave it for the app)",
    )
    parser.add_argument(
        "--contest",
        type=int,
        metavar="N",
        help="run every task this run starts as a contest of N agents (2 or more), the committee choosing"
        " the best entry; a task with its own contest setting keeps it",
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON document")
    add_common_options(parser)
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Policies:
    """How the run answers the human's requests."""

    review: str
    budget: str
    tie_break: str | None
    """None leaves tie-breaks for the app."""


def run(args: argparse.Namespace) -> int:
    """Check the request, run the scheduler (and the inbox) to the end, print the result."""
    policies = _checked_policies(args)
    context = load_context(args)
    engine = context.open_engine()
    try:
        projects = _chosen_projects(engine, args.project)
        if not engine.enabled_agents():
            raise UsageError("no agent is enabled; enable one in config.toml or in the app")
        if args.contest is not None and (problem := engine.contest_problem(args.contest)):
            raise UsageError(f"--contest {args.contest}: {problem}")
        return _run_and_report(engine, projects, policies, args)
    finally:
        engine.close()


# ------------------------------------------------------------------ checks


def _checked_policies(args: argparse.Namespace) -> Policies:
    """The policies asked for, the defaults filled in; `ask` without a terminal is refused."""
    terminal = stdin_is_terminal()
    chosen = {
        "--on-review": (args.on_review, "approve or fail"),
        "--on-budget": (args.on_budget, "stop"),
        "--tie-break": (args.tie_break, "first, random or fail"),
    }
    for flag, (policy, others) in chosen.items():
        if policy == "ask" and not terminal:
            raise UsageError(f"{flag} ask needs a terminal to ask on; pass {flag} {others}")
    return Policies(
        review=args.on_review or ("ask" if terminal else "fail"),
        budget=args.on_budget or ("ask" if terminal else "stop"),
        tie_break=args.tie_break or ("ask" if terminal else None),
    )


def _chosen_projects(engine: Engine, name: str | None) -> list[Project]:
    """The named project, or every active one (and those paused at their budget), checked runnable."""
    from orkestra_tui.engine.models import InboxKind, ProjectStatus
    from orkestra_tui.engine.voting.consensus import quote_name

    at_budget = {item.project_id for item in engine.inbox.open_items() if item.kind is InboxKind.BUDGET}
    if name is None:
        chosen = [
            project
            for project in engine.projects()
            if project.status is ProjectStatus.ACTIVE
            or (project.status is ProjectStatus.PAUSED and project.id in at_budget)
        ]
        if not chosen:
            raise UsageError(
                "no project is active: approve a plan first (on the Plan screen, or orkestra plan --yes)"
            )
        return chosen
    project = engine.project_by_name(" ".join(name.split()))
    if project is None:
        names = ", ".join(quote_name(project.name) for project in engine.projects()) or "none yet"
        raise UsageError(f"there is no project named {quote_name(name)}; projects: {names}")
    quoted = quote_name(project.name)
    if project.status is ProjectStatus.PLANNING:
        raise UsageError(
            f"project {quoted} is still being planned: approve its plan first, on the Plan screen"
        )
    if project.status is ProjectStatus.ARCHIVED:
        raise UsageError(f"project {quoted} is archived")
    if project.status is ProjectStatus.PAUSED and project.id not in at_budget:
        raise UsageError(f"project {quoted} is paused: resume it in the app first")
    return [project]


# --------------------------------------------------------------------- run


def _run_and_report(
    engine: Engine, projects: list[Project], policies: Policies, args: argparse.Namespace
) -> int:
    from orkestra_tui.commands.run_display import ACTIVITY_KEYS, RunProgress, print_summary, run_document
    from orkestra_tui.engine.supervisor import Supervisor

    project_ids = [project.id for project in projects]
    progress = RunProgress(engine, project_ids, live=sys.stderr.isatty() and not args.json)
    answerer = InboxAnswerer(engine, project_ids, policies, progress)
    supervisor = Supervisor(engine)
    scheduler = supervisor.make_scheduler(max_concurrent=args.max_concurrent)
    scheduler.contest_agents = args.contest
    if policies.tie_break not in (None, "ask"):  # a contest's tie is broken in the vote itself
        scheduler.contest_tie_break = policies.tie_break
    only = project_ids[0] if args.project is not None else None
    subscription = engine.bus.subscribe(progress.on_event)
    started_at, started = engine.clock.now(), time.monotonic()
    try:
        _recover(supervisor)
        _tidy_worktrees(supervisor, projects)
        progress.start()
        asyncio.run(_carry_out(supervisor, answerer, only, until_done=args.until_done))
    except (KeyboardInterrupt, asyncio.CancelledError) as stop:  # ctrl+c, or SIGTERM (see `_carry_out`)
        progress.stop()
        kept = progress.kept_for_review
        released = progress.finished["released"] - kept
        kept_text = f", {plural(kept, 'finished task')} kept for review" if kept else ""
        error_line(
            f"interrupted; {plural(released, 'task')} under way went back to ready{kept_text};"
            " run again to go on"
        )
        return INTERRUPTED if isinstance(stop, KeyboardInterrupt) else TERMINATED
    finally:
        progress.stop()
        subscription.close()
    seconds = time.monotonic() - started
    counts = progress.counts()
    at_budget = answerer.open_budget_requests()
    reasons = _unfinished(engine, counts, at_budget)
    calls, tokens, cost = engine.call_usage(project_ids, since=started_at)
    document = run_document(
        engine,
        projects,
        activity={key: progress.finished[key] + answerer.activity[key] for key in ACTIVITY_KEYS},
        usage=(calls, tokens, cost),
        seconds=seconds,
        stopped=reasons[0][0] if reasons else "done",
        until_done=args.until_done,
    )
    if args.json:
        from orkestra_tui.commands.output import print_json

        print_json(document)
    else:
        print_summary(document)
    for _code, line in reasons:
        error_line(line)
    return NOT_DONE if reasons else DONE


async def _carry_out(
    supervisor: Supervisor, answerer: InboxAnswerer, project_id: int | None, *, until_done: bool
) -> list[RunSummary]:
    """Answer what earlier runs left open; run; answer; with `until_done`, again while answers help.

    SIGTERM cancels this task, as ctrl+c does: the work under way is given back before the run ends.
    With `until_done`, tasks another run holds are waited for: when it finishes them (or dies,
    and their leases are released) there may be work here again.
    """
    main = asyncio.current_task()
    assert main is not None
    with contextlib.suppress(NotImplementedError):  # no signal handlers in this loop (Windows)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    await answerer.answer_open()
    summaries = []
    while True:
        summaries.append(await supervisor.run_scheduler(project_id, until_done=True))
        moved = await answerer.answer_open()
        if until_done and not moved:
            assert supervisor.scheduler is not None  # made before the run
            moved = await wait_for_other_runs(
                answerer.engine, supervisor.scheduler, answerer.project_ids, answerer.progress
            )
        if not (until_done and moved):
            return summaries


def _recover(supervisor: Supervisor) -> None:
    """Clean up what a stopped run left (leases, attempts, calls under way); say so on stderr."""
    report = supervisor.recover()
    if report.recovered:
        error_line(report.summary())


def _tidy_worktrees(supervisor: Supervisor, projects: list[Project]) -> None:
    """Remove the leftover worktrees of linked projects that no task owns; say what was done or kept."""
    for line in asyncio.run(supervisor.tidy_worktrees([project.id for project in projects])):
        error_line(line)


def _unfinished(engine: Engine, counts: dict[str, int], at_budget: list[InboxItem]) -> list[tuple[str, str]]:
    """Why the projects are not done: (code, one line) each, the weightiest first; [] when done."""
    from orkestra_tui.engine.models import TaskStatus
    from orkestra_tui.engine.voting.consensus import quote_name

    reasons: list[tuple[str, str]] = []
    counts = dict(counts)
    tied = [view for view in engine.contests_in_progress() if view.state.value == "awaiting_human"]
    if tied:  # told apart from the tasks waiting for a review
        counts["awaiting_human"] = counts.get("awaiting_human", 0) - len(tied)
        reasons.append(
            (
                "awaiting_human",
                f"{plural(len(tied), 'contest')} {'waits' if len(tied) == 1 else 'wait'} for your tie-break:"
                " break it in the app, or run with --tie-break first or random",
            )
        )
    for item in at_budget:
        project = engine.project(int(item.payload.get("project_id", item.project_id or 0)))
        name = quote_name(project.name if project else "?")
        budget = float(item.payload.get("budget") or 0.0)
        reasons.append(
            (
                "budget",
                f"project {name} is paused at its budget (${budget:.2f}): raise it in the app, "
                "or run with --on-budget ask",
            )
        )
    lines = {  # the verb for one task, for several, and the rest of the line
        "awaiting_human": (
            "waits",
            "wait",
            " for your review: approve or redo {them} in the app, or run with --on-review approve or ask",
        ),
        "failed": ("failed", "failed", ": retry {them} in the app"),
        "blocked": ("is", "are", " blocked: see {their} notes, then retry {them} in the app"),
        "ready": ("is", "are", " ready: run again (with --until-done it goes on while it can)"),
        "running": ("is", "are", " under way in another run"),
        "review": ("is", "are", " being reviewed in another run"),
    }
    counts = dict(counts)
    for item in at_budget:  # a paused project's ready tasks wait for its budget, said above
        paused = engine.task_counts(int(item.payload.get("project_id", item.project_id or 0)))
        counts["ready"] = counts.get("ready", 0) - paused.get(TaskStatus.READY, 0)
    for status, (one, many, rest) in lines.items():
        count = counts.get(status, 0)
        if count:
            pronouns = {"them": "it", "their": "its"} if count == 1 else {"them": "them", "their": "their"}
            verb = one if count == 1 else many
            reasons.append((status, f"{plural(count, 'task')} {verb}{rest.format(**pronouns)}"))
    if not reasons and counts.get("pending"):
        pending = counts["pending"]
        verb = "waits" if pending == 1 else "wait"
        reasons.append(("pending", f"{plural(pending, 'task')} {verb} on tasks that are not done"))
    return reasons


# ------------------------------------------------------------------- inbox


class InboxAnswerer:
    """Answers the inbox's requests about the projects run, by policy or on the terminal."""

    def __init__(
        self, engine: Engine, project_ids: list[int], policies: Policies, progress: RunProgress
    ) -> None:
        self.engine = engine
        self.project_ids = set(project_ids)
        self.policies = policies
        self.progress = progress
        self.left: set[int] = set()
        """Requests left for the human in the app: not asked about again in this run."""
        self.activity: Counter[str] = Counter()
        """What the answers did: budgets raised, ties broken."""

    def open_budget_requests(self) -> list[InboxItem]:
        from orkestra_tui.engine.models import InboxKind

        return [item for item in self._open() if item.kind is InboxKind.BUDGET]

    def _open(self) -> list[InboxItem]:
        return [item for item in self.engine.inbox.open_items() if item.project_id in self.project_ids]

    async def answer_open(self) -> int:
        """Answer the open requests the policies cover; how many answers let work go on."""
        from orkestra_tui.engine.errors import EngineError
        from orkestra_tui.engine.inbox import InboxError
        from orkestra_tui.engine.models import InboxKind, InboxStatus

        moved = 0
        for item in self._open():
            current = self.engine.inbox_item(item.id)
            if item.id in self.left or current is None or current.status is not InboxStatus.OPEN:
                continue  # left for the app, or answered meanwhile (approving a task answers its request)
            try:
                if item.kind is InboxKind.TASK_REVIEW:
                    moved += await self._task_review(item)
                elif item.kind is InboxKind.BUDGET:
                    moved += await self._budget(item)
                elif item.kind is InboxKind.TIE_BREAK:
                    await self._tie_break(item)
            except (EngineError, InboxError) as problem:
                self.progress.say(f"Left {item.subject}: {problem}", "yellow")
                self.left.add(item.id)
        return moved

    async def _task_review(self, item: InboxItem) -> int:
        from orkestra_tui.commands.run_display import one_line, task_label
        from orkestra_tui.engine.voting.consensus import quote_name

        task = self.engine.task(int(item.payload.get("task_id", 0)))
        if self.policies.review == "approve":
            self.engine.approve_task(task.id)
            return 1
        if self.policies.review == "fail":
            self.left.add(item.id)
            return 0
        answer = await self.progress.ask(
            [
                (f"Task {task_label(task)} {quote_name(task.title)} waits for your review:", "bold yellow"),
                (f"  {one_line(str(item.payload.get('note', '')), 600)}", ""),
            ],
            "Approve it? y approves, n (or Enter) leaves it for later, "
            "any other text sends it back with that text as your note:",
        )
        text = (answer or "").strip()
        if text.lower() in ("", "n", "no"):
            self.left.add(item.id)
            return 0
        if text.lower() in ("y", "yes"):
            self.engine.approve_task(task.id)
        else:
            self.engine.reject_task(task.id, text)
        return 1

    async def _budget(self, item: InboxItem) -> int:
        from orkestra_tui.engine.voting.consensus import quote_name

        if self.policies.budget == "stop":
            self.left.add(item.id)
            return 0
        project = self.engine.project(int(item.payload.get("project_id", item.project_id or 0)))
        name = quote_name(project.name if project else "?")
        budget = float(item.payload.get("budget") or 0.0)
        lines = [(f"Project {name} reached its budget: {item.payload.get('reason', '')}", "bold yellow")]
        prompt = f"Type a new budget in dollars, above ${budget:.2f}, or press Enter to leave it paused:"
        while True:
            answer = await self.progress.ask(lines, prompt)
            text = (answer or "").strip().removeprefix("$")
            if not text:
                self.left.add(item.id)
                return 0
            try:
                amount = float(text)
            except ValueError:
                amount = math.nan
            if math.isfinite(amount) and amount > budget:
                self.engine.answer_budget(item.id, amount)
                self.activity["budget_raised"] += 1
                return 1
            lines = [(f"{text!r} is not an amount above ${budget:.2f}.", "yellow")]

    async def _tie_break(self, item: InboxItem) -> None:
        import random

        from orkestra_tui.commands.answering import break_tie_on_terminal

        policy = self.policies.tie_break
        tied = [str(entry["option"]) for entry in item.payload.get("tied", [])]
        if policy is None or not tied:
            self.left.add(item.id)
            return
        if policy == "ask":
            await break_tie_on_terminal(self.engine, item, self._ask_tie_break)
        elif policy == "fail":
            self.engine.inbox.answer(item.id, {"fail": True}, actor="policy:fail")
        else:
            choice = tied[0] if policy == "first" else random.Random(item.id).choice(tied)
            self.engine.inbox.answer(
                item.id, {"choice": choice, "by": f"policy:{policy}"}, actor=f"policy:{policy}"
            )
        self.activity["tie_breaks"] += 1

    async def _ask_tie_break(self, question: str, tied: list[tuple[str, float]]) -> str | None:
        from orkestra_tui.engine.voting.consensus import printable

        lines = [(f"A vote is tied on: {printable(question)}", "bold yellow")]
        lines += [
            (f"  {number}. {printable(option)} ({percent(support)} of first preferences)", "")
            for number, (option, support) in enumerate(tied, start=1)
        ]
        prompt = f"Choose 1-{len(tied)}, or press Enter to leave it to the plurality fallback:"
        while True:
            answer = (await self.progress.ask(lines, prompt) or "").strip()
            if not answer:
                return None
            if answer.isdigit() and 1 <= int(answer) <= len(tied):
                return tied[int(answer) - 1][0]
            lines = [(f"Type a number from 1 to {len(tied)}.", "")]
