"""Everything about one task, shown in a pane of the Board.

The engine reads it (`Engine.task_detail`, a `TaskDetail`); the text builders
here turn it into Rich `Text` with every model-made string shown literally
(`plain`); the result itself is Markdown, rendered by the pane's Markdown
widget, which is built (and its parser imported) when the first result is
shown: the Board is the first screen of a home with projects, and opens
without either.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from orkestra_tui.engine.execution.board_view import TaskAttempt, TaskDetail
from orkestra_tui.engine.models import Task, TaskStatus
from orkestra_tui.tui.text import clean, clock_time, plain

if TYPE_CHECKING:
    from textual.widgets import Markdown

RESULT_SHOWN_CHARS = 40_000
"""The most of a result rendered as Markdown; the whole is in its artifact file."""
STATUS_STYLES = {
    TaskStatus.PENDING: "dim",
    TaskStatus.READY: "bold",
    TaskStatus.RUNNING: "bold cyan",
    TaskStatus.REVIEW: "bold magenta",
    TaskStatus.AWAITING_HUMAN: "bold yellow",
    TaskStatus.DONE: "bold green",
    TaskStatus.FAILED: "bold red",
    TaskStatus.BLOCKED: "bold red",
    TaskStatus.CANCELLED: "dim",
}
VERDICT_STYLES = {"approve": "green", "concerns": "yellow", "blocker": "red", "failed": "red"}


def section(title: str, *, first: bool = False) -> Text:
    """A section's heading, a blank line above it unless it comes `first`."""
    text = Text() if first else Text("\n\n")
    text.append(title, style="bold underline")
    text.append("\n")
    return text


def heading_text(detail: TaskDetail) -> Text:
    """Status, priority, phase and who has it; instructions, acceptance, dependencies, rationale, note."""
    task = detail.task
    text = plain(task.title, style="bold")
    text.append("\n")
    text.append(task.status.label, style=STATUS_STYLES[task.status])
    facts = [f"P{int(task.priority)} {task.priority.label}", task.category]
    if task.phase:
        facts.append(task.phase)
    if task.attempts:
        facts.append(f"{task.attempts} attempt{'s' * (task.attempts != 1)}")
    text.append_text(plain(" · " + " · ".join(facts), style="dim"))
    if task.assigned_to:
        text.append("\nAssigned to ")
        text.append_text(plain(task.assigned_to, style="bold cyan"))
    if task.pinned_agent:
        text.append("\nPinned to ")
        text.append_text(plain(task.pinned_agent, style="bold cyan"))
        text.append(" by you", style="dim")
    if task.rationale:
        text.append("\nWhy: ", style="dim")
        text.append_text(plain(task.rationale))
    if task.note:
        text.append("\nNote: ", style="bold yellow")
        text.append_text(plain(task.note))
    text.append_text(section("Instructions"))
    text.append_text(plain(task.instructions.strip() or "(none)"))
    if task.acceptance:
        text.append_text(section("Done when"))
        text.append_text(plain("\n".join(f"• {item}" for item in task.acceptance)))
    text.append_text(section("Depends on"))
    if not task.depends_on:
        text.append("nothing", style="dim")
    found = {card.id: card for card in detail.dependencies}
    for index, dependency_id in enumerate(task.depends_on):
        if index:
            text.append("\n")
        card = found.get(dependency_id)
        if card is None:
            text.append(f"task {dependency_id} (gone)", style="dim")
            continue
        done = card.status is TaskStatus.DONE
        text.append("✔ " if done else "○ ", style="green" if done else "yellow")
        text.append_text(plain(card.title))
        text.append(f"  {card.status.label}", style=STATUS_STYLES[card.status])
    if detail.artifact_file is not None or detail.files:
        text.append_text(files_text(detail))
    text.append_text(section("Attempts"))
    text.append_text(attempts_text(detail.attempts))
    return text


def files_text(detail: TaskDetail) -> Text:
    """Where the result is kept, and the workspace files the last attempt wrote."""
    text = section("Files")
    text.append("Result: ", style="dim")
    text.append_text(plain(str(detail.artifact_file) if detail.artifact_file else "(not kept)"))
    if detail.files:
        text.append("\nWritten to the workspace:", style="dim")
        for path in detail.files:
            text.append("\n  ")
            text.append_text(plain(path))
    return text


def attempts_text(attempts: tuple[TaskAttempt, ...]) -> Text:
    text = Text()
    if not attempts:
        text.append("none yet", style="dim")
    for index, attempt in enumerate(attempts):
        if index:
            text.append("\n")
        text.append(f"#{attempt.number} ", style="bold")
        text.append_text(plain(attempt.agent, style="cyan"))
        text.append(f"  {clock_time(attempt.started_at)}", style="dim")
        if attempt.finished_at is not None:
            text.append(f" · {attempt.finished_at - attempt.started_at:.1f} s", style="dim")
        outcome_style = {"done": "green", "running": "cyan", "failed": "red"}.get(attempt.outcome, "yellow")
        text.append_text(plain(f"  {attempt.outcome.replace('_', ' ')}", style=outcome_style))
        if attempt.error:
            text.append("\n   ")
            text.append_text(plain(attempt.error, style="red"))
    return text


def result_markdown(task: Task) -> str:
    """The result as Markdown to render: control characters made visible, trimmed if very long."""
    result = task.result or ""
    if len(result) > RESULT_SHOWN_CHARS:
        kept = result[:RESULT_SHOWN_CHARS]
        where = f" (in full in `{task.artifact}`)" if task.artifact else ""
        result = f"{kept}\n\n---\n\n*Trimmed: {len(result) - RESULT_SHOWN_CHARS:,} more characters{where}.*"
    return clean(result)


def trail_text(detail: TaskDetail) -> Text:
    """The reviews' verdicts, then the audit trail."""
    text = section("Reviews", first=True)
    if not detail.reviews:
        text.append("none yet", style="dim")
    for index, review in enumerate(detail.reviews):
        if index:
            text.append("\n")
        text.append(f"#{review.attempt} ", style="bold")
        text.append_text(plain(review.reviewer, style="cyan"))
        text.append_text(plain(f"  {review.verdict}", style=VERDICT_STYLES.get(review.verdict, "yellow")))
        if review.comments:
            text.append("\n   ")
            text.append_text(plain(review.comments))
    text.append_text(section("History"))
    for index, event in enumerate(detail.events):
        if index:
            text.append("\n")
        text.append(clock_time(event.ts), style="dim")
        text.append(" ")
        text.append_text(plain(event.actor, style="cyan"))
        text.append(" ")
        text.append_text(plain(event.summary))
    return text


class TaskDetailPane(Vertical):
    """A task in full, in place of the Board's columns: its heading, result (Markdown) and trail.

    Built once with the Board and shown on demand, so opening it costs an
    update of three widgets, not a new screen. The result is a model's text:
    Textual's Markdown widget renders it (it never parses Rich markup), with
    control characters made visible, and its links are never opened: a
    notification says where one points.
    """

    DEFAULT_CSS = """
    TaskDetailPane {
        height: 1fr;
        border: round $accent;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        #task-detail-scroll {
            height: 1fr;
            padding: 0 1;
        }
        #task-detail-result-title {
            margin-top: 1;
        }
        #task-detail-result {
            padding: 0;
        }
        #task-detail-result MarkdownHeader {
            margin: 1 0 0 0;
        }
        #task-detail-trail {
            margin-top: 1;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.detail: TaskDetail | None = None
        """The task on show, as last read."""
        self.task_id: int | None = None
        self._result: str | None = None
        self._rendering = asyncio.Lock()
        """Held while the result is rendered (and its widget built, the first time)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="task-detail-scroll"):
            yield Static(id="task-detail-heading")
            yield Static(id="task-detail-change")
            yield Static(Text("Result", style="bold underline"), id="task-detail-result-title")
            # The result's Markdown widget goes here when the first result is shown (`_show_result`).
            yield Static(id="task-detail-trail")

    def _markdown(self) -> Markdown | None:
        """The result's widget, once built."""
        from textual.widgets import Markdown

        return next(iter(self.query("#task-detail-result").results(Markdown)), None)

    def show(self, task_id: int, detail: TaskDetail | None, change: Text | None = None) -> None:
        """Show task `task_id` as read (`detail` None: it is gone); re-render a result that changed.

        `change` is its change in the project's repository (`task_change.change_text`), when linked.
        """
        self.task_id = task_id
        self.detail = detail
        self.border_title = f"Task {task_id}"
        self.border_subtitle = "↑↓ PgUp PgDn scroll · Esc close"
        heading = self.query_one("#task-detail-heading", Static)
        change_part = self.query_one("#task-detail-change", Static)
        change_part.display = change is not None and detail is not None
        change_part.update(change or "")
        result = detail.task.result if detail is not None else None
        has_result = bool(result)
        self.query_one("#task-detail-result-title").display = has_result
        markdown = self._markdown()
        if not has_result:
            if markdown is not None:
                markdown.display = False
        elif result != self._result and detail is not None:
            # Hidden until its blocks are mounted, so that it never shows the previous task's result.
            if markdown is not None:
                markdown.display = False
            self.call_later(self._show_result, result_markdown(detail.task), result)
        self._result = result if has_result else None
        if detail is None:
            heading.update(Text(f"Task {task_id} is gone.", style="dim"))
            self.query_one("#task-detail-trail", Static).update("")
            return
        heading.update(heading_text(detail))
        self.query_one("#task-detail-trail", Static).update(trail_text(detail))

    async def _show_result(self, text: str, result: str) -> None:
        """Render `text`, the Markdown of `result`, and show it unless another result came meanwhile."""
        from textual.widgets import Markdown

        async with self._rendering:  # one at a time: the first builds the widget, the next find it
            if self._result != result:
                return  # another task's result (or none) is on show by now
            markdown = self._markdown()
            if markdown is None:
                markdown = Markdown(id="task-detail-result", open_links=False)
                markdown.display = False
                await self.query_one("#task-detail-scroll").mount(markdown, after="#task-detail-result-title")
            await markdown.update(text)
            if self._result == result:
                markdown.display = True

    def scroll_to_top(self) -> None:
        self.query_one("#task-detail-scroll", VerticalScroll).scroll_home(animate=False)

    def scroll_by_key(self, key: str) -> None:
        """Scroll the content as a key would in it: up, down, pageup, pagedown, home or end."""
        content = self.query_one("#task-detail-scroll", VerticalScroll)
        actions = {
            "up": content.scroll_up,
            "down": content.scroll_down,
            "pageup": content.scroll_page_up,
            "pagedown": content.scroll_page_down,
            "home": content.scroll_home,
            "end": content.scroll_end,
        }
        actions[key](animate=False)

    def on_markdown_link_clicked(self, message: Markdown.LinkClicked) -> None:
        """A link in a model's result: say where it points, never open it."""
        message.stop()
        self.notify(
            clean(f"Links in results are not opened. It points to: {message.href}"),
            title="Link",
            markup=False,
        )
