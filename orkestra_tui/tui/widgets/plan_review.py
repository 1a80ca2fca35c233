"""The review step: the plan as a tree of phases and tasks, a task's details, and its inline editor.

Everything in a plan came from a model: it is shown with `plain`, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, Static, TextArea, Tree
from textual.widgets.tree import TreeNode

from orkestra_tui.engine.agents.answers import CATEGORIES
from orkestra_tui.engine.planning.planning import PRIORITIES
from orkestra_tui.tui.text import one_line, plain

PRIORITY_STYLES = {"critical": "bold red", "high": "yellow", "normal": "", "low": "dim"}


def task_label(task: dict[str, Any]) -> Text:
    """`key  title  priority  ← dependencies`, on one line."""
    label = plain(task["key"], style="dim")
    label.append("  ")
    label.append_text(one_line(str(task["title"]), 70))
    priority = str(task.get("priority", "normal"))
    if priority != "normal":
        label.append(f"  {priority}", style=PRIORITY_STYLES.get(priority, ""))
    if task.get("contest"):
        label.append(f"  ⚔{task['contest']}", style="magenta")
    depends = task.get("depends_on") or []
    if depends:
        label.append("  ← ", style="dim")
        label.append_text(plain(", ".join(depends), style="cyan"))
    return label


def task_detail(phase: str, task: dict[str, Any]) -> Text:
    """Everything about one task, for the pane beside the tree."""
    text = plain(task["title"], style="bold")
    text.append("\n")
    text.append_text(plain(f"{task['key']} · {phase} · {task.get('category', 'code')}", style="dim"))
    priority = str(task.get("priority", "normal"))
    text.append(" · ", style="dim")
    text.append(priority, style=PRIORITY_STYLES.get(priority, "") or "dim")
    if task.get("contest"):
        text.append(f" · contest of {task['contest']} agents", style="magenta")
    depends = task.get("depends_on") or []
    text.append("\nDepends on: ", style="dim")
    text.append_text(plain(", ".join(depends) or "nothing", style="cyan" if depends else "dim"))
    text.append("\n\n")
    text.append_text(plain(task.get("instructions", "")))
    acceptance = task.get("acceptance") or []
    if acceptance:
        text.append("\n\nDone when:", style="bold")
        for item in acceptance:
            text.append("\n• ")
            text.append_text(plain(item))
    return text


def changes_text(changes: Sequence[str], chair: str) -> Text:
    """The chair's refinement as a diff: + added, − removed, ~ changed."""
    text = Text()
    text.append_text(plain(f"{chair} (the chair) refined the winning plan:", style="bold"))
    marks = {"added": ("+ ", "green"), "removed": ("− ", "red"), "changed": ("~ ", "yellow")}
    for change in changes:
        kind, _, rest = change.partition(": ")
        mark, style = marks.get(kind, ("• ", ""))
        text.append(f"\n{mark}", style=style)
        text.append_text(plain(rest or change, style=style))
    text.append("\no keeps the plan as the committee chose it", style="dim")
    return text


class PlanTree(Tree[str], inherit_bindings=False):
    """Phases and their tasks. Enter is left to the screen (it approves the plan)."""

    BINDINGS = [
        *(binding for binding in Tree.BINDINGS if isinstance(binding, Binding) and binding.key != "enter"),
        Binding("home", "scroll_home", show=False),
        Binding("end", "scroll_end", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
    ]

    DEFAULT_CSS = """
    PlanTree {
        width: 3fr;
        overflow-x: hidden;
        height: 1fr;
        background: transparent;
        border: round $panel-lighten-2;
        &:focus { border: round $accent; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Plan", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._phase_names: dict[int, str] = {}

    @property
    def task_key(self) -> str | None:
        """The key of the task under the cursor, if it is on a task."""
        node = self.cursor_node
        return node.data if node is not None else None

    @property
    def phase_name(self) -> str | None:
        """The phase under the cursor: the phase itself, or the task's."""
        node = self.cursor_node
        if node is None:
            return None
        phase = node.parent if node.data is not None else node
        return self._phase_names.get(phase.id) if phase is not None else None

    def show_plan(self, plan: dict[str, Any], *, select: str | None = None) -> None:
        """Rebuild the tree from `plan`, keeping the cursor on the same task (or `select`)."""
        keep = select or self.task_key
        self.clear()
        self._phase_names.clear()
        target: TreeNode[str] | None = None
        for phase in plan["phases"]:
            tasks = phase["tasks"]
            label = plain(phase["name"], style="bold")
            label.append(f"  {len(tasks)} task{'s' * (len(tasks) != 1)}", style="dim")
            branch = self.root.add(label, expand=True)
            self._phase_names[branch.id] = phase["name"]
            for task in tasks:
                leaf = branch.add_leaf(task_label(task), data=task["key"])
                if task["key"] == keep:
                    target = leaf
        if target is None and self.root.children:
            first = self.root.children[0]
            target = first.children[0] if first.children else first
        if target is not None:
            # The new nodes get their lines when the tree next lays itself out.
            self.call_after_refresh(self.move_cursor, target)


class TaskEditor(Vertical):
    """Title, instructions, category, priority, dependencies, acceptance, contest size and phase of a task."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save task"),
        Binding("escape", "cancel", "Cancel edit"),
    ]

    DEFAULT_CSS = """
    TaskEditor {
        height: auto;
        .row { height: auto; margin-bottom: 1; }
        .field-label { width: 13; color: $text-muted; }
        .row > Input, .row > TextArea { width: 1fr; }
        #edit-instructions { height: 5; background: $boost; }
        #edit-priority { width: 16; }
        #edit-category { width: 18; }
        #edit-acceptance { height: 4; background: $boost; }
        #edit-error { color: $error; height: auto; }
        #edit-hint { color: $text-muted; }
    }
    """

    class Saved(Message):
        """The editor's fields, checked; `key` is None for a new task."""

        def __init__(self, key: str | None, phase: str, fields: dict[str, Any]) -> None:
            super().__init__()
            self.key = key
            self.phase = phase
            self.fields = fields

    class Cancelled(Message):
        """The edit was abandoned."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.key: str | None = None
        self._known: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static(id="edit-title-line")
        with Horizontal(classes="row", id="edit-phase-row"):
            yield Label("Phase", classes="field-label")
            yield Input(id="edit-phase", compact=True, max_length=120)
        with Horizontal(classes="row"):
            yield Label("Title", classes="field-label")
            yield Input(id="edit-title", compact=True, max_length=200)
        with Horizontal(classes="row"):
            yield Label("Instructions", classes="field-label")
            yield TextArea(id="edit-instructions", soft_wrap=True, compact=True)
        with Horizontal(classes="row"):
            yield Label("Priority", classes="field-label")
            yield Select(
                [(name, name) for name in PRIORITIES], allow_blank=False, id="edit-priority", compact=True
            )
        with Horizontal(classes="row"):
            yield Label("Depends on", classes="field-label")
            yield Input(id="edit-depends", placeholder="task keys, e.g. t1 t2", compact=True)
        with Horizontal(classes="row"):
            yield Label("Category", classes="field-label")
            yield Select(
                [(name, name) for name in CATEGORIES], allow_blank=False, id="edit-category", compact=True
            )
        with Horizontal(classes="row"):
            yield Label("Done when", classes="field-label")
            yield TextArea(id="edit-acceptance", soft_wrap=True, compact=True)
        with Horizontal(classes="row"):
            yield Label("Contest", classes="field-label")
            yield Input(id="edit-contest", placeholder="agents, e.g. 3 (blank: one agent)", compact=True)
        yield Static(id="edit-error")
        yield Static("Done when: one acceptance check a line · ctrl+s saves · Esc cancels", id="edit-hint")

    def edit(self, phase: str, task: dict[str, Any] | None, known: set[str]) -> None:
        """Fill the form with `task` (None: a new task in `phase`) and focus it."""
        self.key = task["key"] if task else None
        self._known = known
        self.query_one("#edit-title-line", Static).update(
            plain(f"Edit {task['key']}", style="bold") if task else Text("New task", style="bold")
        )
        self.query_one("#edit-phase-row").display = task is None
        self.query_one("#edit-phase", Input).value = phase
        self.query_one("#edit-title", Input).value = task["title"] if task else ""
        self.query_one("#edit-instructions", TextArea).text = task.get("instructions", "") if task else ""
        priority = task.get("priority", "normal") if task else "normal"
        self.query_one("#edit-priority", Select).value = priority if priority in PRIORITIES else "normal"
        self.query_one("#edit-depends", Input).value = " ".join(task.get("depends_on", [])) if task else ""
        category = task.get("category", "code") if task else "code"
        self.query_one("#edit-category", Select).value = category if category in CATEGORIES else "code"
        acceptance = task.get("acceptance") or [] if task else []
        self.query_one("#edit-acceptance", TextArea).text = "\n".join(str(item) for item in acceptance)
        contest = task.get("contest") if task else None
        self.query_one("#edit-contest", Input).value = str(contest) if contest else ""
        self.query_one("#edit-error", Static).update("")
        self.query_one("#edit-phase" if task is None else "#edit-title", Input).focus()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())

    def action_save(self) -> None:
        title = " ".join(self.query_one("#edit-title", Input).value.split())
        phase = " ".join(self.query_one("#edit-phase", Input).value.split())
        instructions = self.query_one("#edit-instructions", TextArea).text.strip()
        depends = self.query_one("#edit-depends", Input).value.replace(",", " ").split()
        unknown = [key for key in depends if key not in self._known]
        contest_text = self.query_one("#edit-contest", Input).value.strip()
        contest = int(contest_text) if contest_text.isdigit() else None
        problem = ""
        if not title:
            problem = "a task needs a title"
        elif self.key is None and not phase:
            problem = "a new task needs a phase"
        elif not instructions:
            problem = "say what the task is: the agent doing it reads only this"
        elif unknown:
            problem = f"the plan has no task {unknown[0]!r}"
        elif self.key is not None and self.key in depends:
            problem = "a task cannot depend on itself"
        elif contest_text and (contest is None or contest < 2):
            problem = "a contest is a number of agents, 2 or more (blank: one agent)"
        if problem:
            self.query_one("#edit-error", Static).update(plain(problem))
            return
        fields = {
            "title": title,
            "instructions": instructions,
            "category": str(self.query_one("#edit-category", Select).value),
            "priority": str(self.query_one("#edit-priority", Select).value),
            "depends_on": list(dict.fromkeys(depends)),
            "acceptance": [
                " ".join(line.split())
                for line in self.query_one("#edit-acceptance", TextArea).text.splitlines()
                if line.strip()
            ],
            "contest": contest,
        }
        self.post_message(self.Saved(self.key, phase, fields))
