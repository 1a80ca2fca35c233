"""What `orkestra run` shows: progress on stderr from the engine's events, prompts, and the result.

On a terminal, progress is a Rich bar (tasks done of all the projects' tasks)
with the tasks running under it and their agents, and each finished task
printed above it; elsewhere it is one plain line per task that finishes:
`done  t12  Write the API  (claude, 2.1 s)`. The result is a Rich summary or
one JSON-ready document. Titles and notes are agent text: every piece is shown
as a Rich `Text` with its control characters escaped, never parsed as markup.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from rich.progress import Progress

from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.engine.progress import ProjectProgress
from orkestra_tui.engine.voting.consensus import printable, quote_name
from orkestra_tui.wording import plural

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console, RenderableType
    from rich.progress import TaskID

    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.events import EngineEvent
    from orkestra_tui.engine.models import Project, Task

NOTE_CHARS = 160
"""The most of a task's note one progress or summary line shows."""
RUNNING_SHOWN = 8
"""The most running tasks listed under the bar."""
ATTENTION_SHOWN = 20
"""The most tasks needing the human that the summary lists."""

# Finishing events, and the word that starts their line.
FINISH_WORDS = {
    "task.done": "done",
    "task.failed": "failed",
    "task.awaiting_human": "awaiting",
    "task.retried": "retry",
    "task.blocked": "blocked",
    "task.released": "released",
    "task.lease_expired": "reclaimed",
    "task.approved": "approved",
    "task.rejected": "sent back",
    "task.cancelled": "cancelled",
}
ACTIVITY_KEYS = (*(kind.partition(".")[2] for kind in FINISH_WORDS), "budget_raised", "tie_breaks")
"""What the JSON document counts of this run: its task events, budgets raised and ties broken."""
ACTIVITY_WORDS: dict[str, str | tuple[str, str]] = {
    "awaiting_human": "awaiting you",
    "lease_expired": "reclaimed from a stopped run",
    "rejected": "sent back",
    "budget_raised": ("budget raised", "budgets raised"),
    "tie_breaks": ("tie broken", "ties broken"),
}
"""How the summary words this run's figures, where the key alone does not read well (one, many)."""
ATTENTION = ("awaiting_human", "failed", "blocked")
"""Statuses in which a task waits for the human."""


CONTEST_KINDS = {
    "contest.started": "",
    "contest.entry_finished": "",
    "contest.entry_dropped": "yellow",
    "contest.vote_opened": "",
    "contest.won": "green",
    "contest.failed": "red",
}
"""A contest's steps the run's display tells, with their style."""


def task_label(task: Task) -> str:
    """How a task is named in a line: its plan key (t12), else its id (#12)."""
    return task.key or f"#{task.id}"


def one_line(text: str, limit: int = NOTE_CHARS) -> str:
    """Agent text on one line: whitespace runs collapsed, cut to `limit`, control characters escaped."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return printable(flat)


class RunProgress:
    """Tells, on stderr, how the run of some projects goes; `on_event` is its bus subscriber."""

    def __init__(self, engine: Engine, project_ids: Iterable[int], *, live: bool) -> None:
        self.engine = engine
        self.project_ids = set(project_ids)
        self.names: dict[int, tuple[str, str]] = {}
        """Task id to its label and title, for the projects run."""
        self.running: dict[int, tuple[str, float]] = {}
        """Task id to the agent working on it and when it started (monotonic seconds)."""
        self.finished: Counter[str] = Counter()
        self.kept_for_review = 0
        """Released tasks (of `finished["released"]`) whose agent had finished: kept in review."""
        """This run's finishing task events, by kind without the `task.` (done, failed, approved, ...)."""
        self.console: Console | None = None
        self.bar: Progress | None = None
        self._bar_task: TaskID | None = None
        self.settled = 0
        """Tasks done in the projects run: read at the start, then counted from events."""
        self.total = 0
        if live:
            from orkestra_tui.commands.output import console

            self.console = console(stderr=True)

    # ------------------------------------------------------------- display

    def start(self) -> None:
        """Learn the projects' tasks; on a terminal, show the bar."""
        for project_id in self.project_ids:
            for task in self.engine.tasks(project_id):
                self.names[task.id] = (task_label(task), task.title)
        self._count_progress()
        self._show_bar()

    def _count_progress(self) -> None:
        """Tasks done out of those not cancelled, as every screen counts a project's progress."""
        progress = ProjectProgress({TaskStatus(status): count for status, count in self.counts().items()})
        self.settled, self.total = progress.done, progress.total

    def recount(self) -> None:
        """Read again how many tasks are done: another run finishes some while this one waits."""
        self._count_progress()
        self._update_bar()

    def _show_bar(self) -> None:
        if self.console is None or self.bar is not None:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

        self.bar = RunBar(
            self._running_text,
            TextColumn("Tasks done"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._bar_task = self.bar.add_task("tasks", total=self.total, completed=self.settled)
        self.bar.start()

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def _update_bar(self) -> None:
        if self.bar is not None and self._bar_task is not None:
            self.bar.update(self._bar_task, completed=self.settled, total=self.total)

    def counts(self) -> dict[str, int]:
        """Tasks per status over the projects run."""
        counts: Counter[str] = Counter()
        for project_id in self.project_ids:
            counts.update(
                {status.value: count for status, count in self.engine.task_counts(project_id).items()}
            )
        return dict(counts)

    def say(self, message: str, style: str = "") -> None:
        """One escaped line on stderr (above the bar on a terminal)."""
        line = printable(message)
        if self.console is None:
            from orkestra_tui.commands.output import emit

            emit(line, err=True, flush=True)
            return
        from rich.text import Text

        self.console.print(Text(line, style=style))

    def _running_text(self) -> RenderableType:
        from rich.text import Text

        if not self.running:
            return Text("")
        now = time.monotonic()
        lines = [
            f"  {self._name(task_id)[0]}  {one_line(self._name(task_id)[1], 60)}  "
            f"({printable(agent)}, {now - started:.1f} s)"
            for task_id, (agent, started) in list(self.running.items())[:RUNNING_SHOWN]
        ]
        more = len(self.running) - RUNNING_SHOWN
        if more > 0:
            lines.append(f"  and {more} more")
        return Text("\n".join(lines), style="dim")

    # -------------------------------------------------------------- events

    def on_event(self, event: EngineEvent) -> None:
        """Tell one task event of the projects run (the bus delivers all of the engine's)."""
        if event.project_id not in self.project_ids or not event.subject.startswith("task:"):
            return
        task_id = int(event.subject.partition(":")[2])
        if event.kind == "task.created":
            self.total += 1
            self._update_bar()
            return
        if event.kind == "task.running":
            self.running[task_id] = (str(event.data.get("agent", "")), time.monotonic())
            return
        if event.kind in CONTEST_KINDS:  # an entry finished or dropped out, the vote, the winner
            if event.kind == "contest.won" and task_id in self.running:  # the task is the winner's now
                self.running[task_id] = (str(event.data.get("agent", "")), self.running[task_id][1])
            label, _title = self._name(task_id)
            self.say(f"contest  {label}  {one_line(event.summary, 120)}", CONTEST_KINDS[event.kind])
            return
        word = FINISH_WORDS.get(event.kind)
        if word is None:
            return
        self.finished[event.kind.partition(".")[2]] += 1
        if event.kind == "task.released" and event.data.get("to") == "review":
            self.kept_for_review += 1
        agent, started = self.running.pop(task_id, ("", 0.0))
        agent = agent or str(event.data.get("agent", ""))
        label, title = self._name(task_id)
        line = f"{word}  {label}  {one_line(title, 80)}"
        if started:
            line += f"  ({printable(agent)}, {time.monotonic() - started:.1f} s)"
        note = str(event.data.get("note", "") or "")
        if note and word != "done":
            line += f": {one_line(note)}"
        style = {"done": "green", "approved": "green", "failed": "red", "awaiting": "yellow"}.get(word, "")
        if event.kind in ("task.done", "task.approved"):
            self.settled += 1
        elif event.kind == "task.cancelled":
            self.total -= 1  # a cancelled task no longer counts
        self.say(line, style)
        self._update_bar()

    def _name(self, task_id: int) -> tuple[str, str]:
        if task_id not in self.names:
            from orkestra_tui.engine.errors import EngineError

            try:
                task = self.engine.task(task_id)
            except EngineError:  # gone: named by its number
                self.names[task_id] = (f"#{task_id}", "")
            else:
                self.names[task_id] = (task_label(task), task.title)
        return self.names[task_id]

    # ------------------------------------------------------------- prompts

    async def ask(self, lines: Iterable[tuple[str, str]], prompt: str) -> str | None:
        """Show `lines` (text, style), then read one line on the terminal; None at the end of input."""
        from orkestra_tui.commands.vote_display import read_line

        was_live = self.bar is not None
        self.stop()
        try:
            for text, style in lines:
                self.say(text, style)
            self.say(prompt)
            return await read_line()
        finally:
            if was_live:
                self._show_bar()


class RunBar(Progress):
    """A Rich progress bar with the running tasks listed under it."""

    def __init__(self, running: Callable[[], RenderableType], *columns: Any, **options: Any) -> None:
        self.running_tasks = running  # set first: the parent's constructor renders once
        super().__init__(*columns, **options)

    def get_renderables(self) -> Iterator[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        yield self.running_tasks()


# ------------------------------------------------------------------ result


def run_document(
    engine: Engine,
    projects: list[Project],
    *,
    activity: dict[str, int],
    usage: tuple[int, int, float],
    seconds: float,
    stopped: str,
    until_done: bool,
) -> dict[str, Any]:
    """The projects, their tasks per status, every task, what this run did, its cost and time.

    `usage` is this run's calls, tokens and cost.
    """
    from orkestra_tui.engine.models import TaskStatus

    tasks = [task for project in projects for task in engine.tasks(project.id)]
    counts = {status.value: 0 for status in TaskStatus}
    for task in tasks:
        counts[task.status.value] += 1
    current = {project.id: engine.project(project.id) or project for project in projects}
    used = {project.id: engine.call_usage([project.id]) for project in projects}
    calls, tokens, cost_usd = usage
    return {
        "projects": [
            {
                "id": project.id,
                "name": project.name,
                "status": current[project.id].status.value,
                "budget_usd": current[project.id].budget,
                "cost_usd": engine.project_cost(project.id),
                "calls": used[project.id][0],
                "tokens": used[project.id][1],
                "tasks": len([task for task in tasks if task.project_id == project.id]),
            }
            for project in projects
        ],
        "counts": counts,
        "run": activity,
        "tasks": [
            {
                "id": task.id,
                "project_id": task.project_id,
                "key": task.key,
                "title": task.title,
                "status": task.status.value,
                "agent": task.assigned_to,
                "attempts": task.attempts,
                "note": task.note,
            }
            for task in tasks
        ],
        "cost_usd": cost_usd,
        "calls": calls,
        "tokens": tokens,
        "seconds": round(seconds, 3),
        "until_done": until_done,
        "stopped": stopped,
    }


def print_summary(document: dict[str, Any]) -> None:
    """The result for a reader: each project's standing, the tasks needing you, this run's figures."""
    from rich.text import Text

    from orkestra_tui.commands.output import console

    out = console()
    by_project: dict[int, Counter[str]] = {}
    for task in document["tasks"]:
        by_project.setdefault(task["project_id"], Counter())[task["status"]] += 1
    for project in document["projects"]:
        counts = by_project.get(project["id"], Counter())
        progress = ProjectProgress({TaskStatus(status): count for status, count in counts.items()})
        cancelled = f" · {progress.cancelled} cancelled" if progress.cancelled else ""
        out.print(
            Text(
                printable(
                    f"Project {project['id']} {quote_name(project['name'])} ({project['status']}): "
                    f"{progress.done} of {plural(progress.total, 'task')} done{cancelled}"
                ),
                style="bold",
            )
        )
    counts = document["counts"]
    out.print(
        Text(
            f"done {counts['done']} · failed {counts['failed']} · awaiting you {counts['awaiting_human']}"
            f" · blocked {counts['blocked']} · pending {counts['pending']} · ready {counts['ready']}"
            + (f" · cancelled {counts['cancelled']}" if counts["cancelled"] else "")
        )
    )
    attention = [task for task in document["tasks"] if task["status"] in ATTENTION]
    for task in attention[:ATTENTION_SHOWN]:
        word = "awaiting" if task["status"] == "awaiting_human" else task["status"]
        line = f"  {word}  {task['key'] or '#' + str(task['id'])}  {one_line(task['title'], 80)}"
        if task["note"]:
            line += f": {one_line(task['note'])}"
        out.print(Text(line, style="yellow" if word == "awaiting" else "red"))
    if len(attention) > ATTENTION_SHOWN:
        out.print(Text(f"  and {len(attention) - ATTENTION_SHOWN} more (see --json)"))
    figures = (
        ", ".join(f"{count} {_activity_words(key, count)}" for key, count in document["run"].items() if count)
        or "nothing to do"
    )
    calls = plural(document["calls"], "call")
    usage = f"cost ${document['cost_usd']:.4f} · {calls} · {document['tokens']:,} tokens"
    out.print(Text(f"This run: {figures} · {usage} · {document['seconds']:.1f} s"))


def _activity_words(key: str, count: int) -> str:
    words = ACTIVITY_WORDS.get(key, key)
    if isinstance(words, tuple):
        return words[0] if count == 1 else words[1]
    return words
