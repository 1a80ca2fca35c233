"""The Board from the keyboard: columns, progress, the detail pane, the run's keys, the filter, scale."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

import pytest
from fresh import current_focus, is_displayed
from textual.pilot import Pilot
from textual.widgets import Input, Markdown, OptionList

from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import InboxKind, Priority, ProjectStatus, Task, TaskSpec, TaskStatus
from orkestra_tui.engine.store.store import TaskCard
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.assign_agent import AssignAgentScreen
from orkestra_tui.tui.screens.board import BoardScreen
from orkestra_tui.tui.screens.budget import BudgetScreen
from orkestra_tui.tui.screens.prompt import ConfirmScreen, TextPromptScreen
from orkestra_tui.tui.widgets.board_progress import BoardProgress
from orkestra_tui.tui.widgets.task_detail import TaskDetailPane
from orkestra_tui.tui.widgets.task_list import TaskList, card_lines, elapsed_text

SIZE = (100, 30)
HOSTILE_TITLE = "[bold]not bold[/] \x1b[31mred\x1b[0m"
HOSTILE_RESULT = (
    "# Result\n\n[bold]Rich markup[/] stays [link=https://evil.example]literal[/link].\n\n"
    "A [Markdown link](https://evil.example/steal) is never followed.\n"
)


# ------------------------------------------------------------------ helpers


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app work until `condition` holds (no fixed sleeps: each pause waits for the app)."""
    for _ in range(300):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"never happened: {what}")


async def open_board(app: OrkestraApp, pilot: Pilot[None]) -> BoardScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.body_ready, "board")
    board = app.screen
    assert isinstance(board, BoardScreen)
    return board


def column(board: BoardScreen, column_id: str) -> TaskList:
    return board.query_one(f"#column-{column_id}", TaskList)


def titles(board: BoardScreen, column_id: str) -> list[str]:
    return [card.title for card in column(board, column_id).tasks]


def shown_actions(board: BoardScreen) -> set[str]:
    """The actions the key bar offers now (hidden ones are left out; dimmed ones too)."""
    return {item.binding.action for item in board.active_bindings.values() if item.enabled}


def screen_text(app: OrkestraApp) -> str:
    """The screen as plain lines, rebuilt from its SVG screenshot (which leaves out runs of spaces)."""
    svg = app.export_screenshot()
    lines: dict[float, list[str]] = {}
    for x, y, length, content in re.findall(
        r'<text [^>]*?x="([0-9.]+)" y="([0-9.]+)" textLength="([0-9.]+)"[^>]*>(.*?)</text>', svg
    ):
        text = html.unescape(content).replace("\xa0", " ")
        line = lines.setdefault(float(y), [])
        at = round(float(x) / (float(length) / len(text))) if text else 0
        line.extend(" " * (at - len(line)))
        line[at : at + len(text)] = text
    return "\n".join("".join(line) for _y, line in sorted(lines.items()))


def project_with(engine: Engine, specs: Sequence[TaskSpec], *, active: bool = True) -> tuple[int, list[Task]]:
    project = engine.create_project("Shop")
    tasks = engine.add_tasks(project.id, specs)
    if active:
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    return project.id, tasks


def move(engine: Engine, task: Task, *statuses: TaskStatus, agent: str = "claude", note: str = "") -> None:
    """Take a task through `statuses`, as an agent would, leaving `note` on it as the scheduler does."""
    for status in statuses:
        engine.set_task_status(task.id, status, actor=agent, assigned_to=agent, note=note)
    if note:
        with engine.store.transaction() as tx:
            tx.execute("UPDATE task SET note = ? WHERE id = ?", (note, task.id))
            tx.audit("engine", "task.noted", note, subject=f"task:{task.id}", project_id=task.project_id)


SPECS = (
    TaskSpec("Write the cart", "Add, remove, total.", "code", Priority.HIGH, "Core", "cart"),
    TaskSpec("Search items", "Full-text search.", "code", Priority.NORMAL, "Core", "search"),
    TaskSpec("Checkout", "Pay for the cart.", "code", Priority.NORMAL, "Core", "checkout", ("cart",)),
    TaskSpec("User guide", "How to shop.", "docs", Priority.LOW, "Release", "guide", ("checkout", "search")),
)


# ------------------------------------------------------------------ columns and progress


async def test_columns_show_each_status_with_its_count_and_the_progress(
    sample_engine: Engine, clock: FixedClock
) -> None:
    clock.step = 0.0
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        assert titles(board, "done") == ["Choose the storage engine", "Define the item schema", "Set up CI"]
        assert titles(board, "running") == ["Import legacy CSV"]
        assert titles(board, "review") == ["Stock movement API"]
        assert {card.status for card in column(board, "ready").tasks} == {TaskStatus.PENDING}
        assert column(board, "ready").border_title == "0 Ready"
        assert column(board, "ready").border_subtitle == "+3 waiting"
        assert column(board, "running").border_title == "1 Running"
        assert column(board, "human").border_title == "0 Human"
        summary = board.query_one(BoardProgress).summary
        assert summary is not None
        assert (summary.done, summary.total, summary.scheduler) == (3, 8, "idle")
        assert [(phase.name, phase.done, phase.total) for phase in summary.phases] == [
            ("Foundations", 3, 3),
            ("Core", 0, 3),
            ("Quality", 0, 1),
            ("Release", 0, 1),
        ]
        running = column(board, "running").tasks[0]
        _title, detail = card_lines(running, now=clock.now())
        assert detail.plain == f"▍{elapsed_text(clock.now() - running.updated_at)} chatgpt"
        assert elapsed_text(42) == "42s" and elapsed_text(185) == "3m05s" and elapsed_text(8040) == "2h14m"
        assert "chatgpt" in screen_text(app) and "Foundations" in screen_text(app)


async def test_w_hides_and_shows_the_waiting_tasks(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        ready = column(board, "ready")
        assert len(ready.tasks) == 3
        title, detail = card_lines(ready.tasks[0], waiting=1)
        assert detail.plain == "▍waits on 1" and "dim" in str(title.spans[-1].style)
        await pilot.press("w")
        assert ready.tasks == [] and ready.border_subtitle == "3 hidden"
        await pilot.press("w")
        assert len(ready.tasks) == 3


def is_ticking(board: BoardScreen) -> bool:
    """Whether the Board's clock runs now (a fresh read: see fresh.py)."""
    return board.ticking


async def test_the_elapsed_time_ticks_only_while_tasks_run(engine: Engine, clock: FixedClock) -> None:
    _project_id, tasks = project_with(engine, SPECS)
    clock.step = 0.0
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        assert not is_ticking(board)
        move(engine, tasks[0], TaskStatus.RUNNING, agent="gemini")
        await wait_until(pilot, lambda: bool(column(board, "running").tasks), "the task runs")
        assert is_ticking(board)
        clock.advance(75)
        board._tick()  # what the one-second timer does
        running = column(board, "running")
        assert card_lines(running.tasks[0], now=running.now)[1].plain == "▍1m15s gemini"
        await pilot.press("4")  # another screen: the Board's clock stops
        assert not is_ticking(board)
        await pilot.press("2")
        assert is_ticking(board)
        move(engine, tasks[0], TaskStatus.DONE, agent="gemini")
        await wait_until(pilot, lambda: not column(board, "running").tasks, "the task is done")
        assert not is_ticking(board)


async def test_the_board_rereads_only_the_tasks_that_changed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project_id, tasks = project_with(engine, SPECS)
    reads: list[object] = []
    task_cards = engine.store.task_cards

    def recorded(project_id: int, task_ids: Sequence[int] | None = None) -> list[TaskCard]:
        reads.append(None if task_ids is None else sorted(task_ids))
        return task_cards(project_id, task_ids)

    monkeypatch.setattr(engine.store, "task_cards", recorded)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        assert reads == [None]
        move(engine, tasks[1], TaskStatus.RUNNING, TaskStatus.DONE)
        await wait_until(pilot, lambda: titles(board, "done") == ["Search items"], "search is done")
        assert reads[1:] == [[tasks[1].id]]
        engine.create_project("Elsewhere")
        engine.add_tasks(engine.project_named("Elsewhere").id, [TaskSpec("Not on this board", "x")])
        await pilot.pause(0.2)
        assert reads[1:] == [[tasks[1].id]]  # another project's tasks are not read


# ------------------------------------------------------------------ the detail pane


def detailed_task(engine: Engine) -> tuple[list[Task], Task]:
    """The checkout task done on a second attempt, reviewed, with a Markdown result."""
    _project_id, tasks = project_with(engine, SPECS)
    cart, checkout = tasks[0], tasks[2]
    move(engine, cart, TaskStatus.RUNNING, TaskStatus.DONE)
    with engine.store.transaction() as tx:
        tx.execute(
            "UPDATE task SET status = 'done', assigned_to = 'gemini', attempts = 2, rationale = ?,"
            " result = ? WHERE id = ?",
            (
                "gemini: code 0.9, least loaded",
                "# Checkout done\n\nPayments go through **Stripe**.\n\n- cards\n- refunds\n",
                checkout.id,
            ),
        )
        tx.executemany(
            "INSERT INTO task_attempt (task_id, number, agent, started_at, finished_at, outcome, error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (checkout.id, 1, "chatgpt", 1_800_000_100.0, 1_800_000_130.0, "failed", "rate limited (429)"),
                (checkout.id, 2, "gemini", 1_800_000_200.0, 1_800_000_260.0, "done", ""),
            ],
        )
        tx.execute(
            "INSERT INTO task_review (task_id, attempt, reviewer, verdict, comments, created_at)"
            " VALUES (?, 2, 'claude', 'concerns', 'Refunds lack a test.', 1800000270.0)",
            (checkout.id,),
        )
        tx.audit(
            "gemini", "task.done", "Task 'Checkout' is done", subject=f"task:{checkout.id}", project_id=1
        )
    return tasks, engine.task(checkout.id)


async def rendered_result(board: BoardScreen, pilot: Pilot[None]) -> Markdown:
    """The detail's result, once it is built (with the first result shown) and rendered."""

    def shown() -> bool:
        found = board.query("#task-detail-result")
        return bool(found) and found.first().display

    await wait_until(pilot, shown, "the result is rendered")
    return board.query_one("#task-detail-result", Markdown)


async def test_enter_opens_the_detail_and_escape_closes_it(engine: Engine) -> None:
    _tasks, checkout = detailed_task(engine)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        column(board, "done").focus()
        await pilot.press("down", "enter")
        pane = board.query_one(TaskDetailPane)
        assert pane.display and not board.query_one("#columns").display
        assert board.detail_task_id == checkout.id
        heading = str(board.query_one("#task-detail-heading").render())
        assert "Pay for the cart." in heading
        assert "✔ Write the cart  done" in heading
        assert "Why: gemini: code 0.9, least loaded" in heading
        assert "#1 chatgpt" in heading and "rate limited (429)" in heading and "#2 gemini" in heading
        trail = str(board.query_one("#task-detail-trail").render())
        assert "#2 claude  concerns" in trail and "Refunds lack a test." in trail
        assert "Task 'Checkout' created" in trail and "Task 'Checkout' is done" in trail
        result = await rendered_result(board, pilot)
        rendered = [str(getattr(block, "content", "")) for block in result.query("MarkdownBlock")]
        assert "Checkout done" in rendered and any("Stripe" in text for text in rendered)
        assert board.active_bindings["escape"].binding.action == "close_detail"
        content = board.query_one("#task-detail-scroll")
        await pilot.press("end")
        assert content.scroll_y > 0 and board.detail_task_id == checkout.id  # the keys scroll the pane
        await pilot.press("home")
        assert content.scroll_y == 0
        assert "move_column(1)" not in shown_actions(board) and "filter" not in shown_actions(board)
        await pilot.press("escape")
        assert not is_displayed(pane) and board.query_one("#columns").display
        assert app.focused is column(board, "done")


async def test_the_detail_follows_its_task_and_the_keys_act_on_it(engine: Engine) -> None:
    _project_id, tasks = project_with(engine, SPECS)
    move(engine, tasks[0], TaskStatus.RUNNING, TaskStatus.AWAITING_HUMAN, note="Reviewers disagree")
    move(engine, tasks[1], TaskStatus.RUNNING, TaskStatus.AWAITING_HUMAN)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        column(board, "human").focus()
        await pilot.press("enter")
        assert board.detail_task_id == tasks[0].id
        assert "Reviewers disagree" in str(board.query_one("#task-detail-heading").render())
        await pilot.press("y")  # approves the task on show, not the next one in the column
        await wait_until(pilot, lambda: engine.task(tasks[0].id).status is TaskStatus.DONE, "approved")
        await wait_until(
            pilot, lambda: "done" in str(board.query_one("#task-detail-heading").render()), "the pane follows"
        )
        assert engine.task(tasks[1].id).status is TaskStatus.AWAITING_HUMAN
        assert "approve" not in shown_actions(board)


async def test_hostile_text_is_shown_literally_and_links_are_never_opened(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project_id, tasks = project_with(
        engine, [TaskSpec(HOSTILE_TITLE, "Do [italic]this[/italic] \x1b[2J now.", key="evil")]
    )
    move(engine, tasks[0], TaskStatus.RUNNING)
    with engine.store.transaction() as tx:
        tx.execute("UPDATE task SET status = 'done', result = ? WHERE id = ?", (HOSTILE_RESULT, tasks[0].id))
        tx.audit("claude", "task.done", "done", subject=f"task:{tasks[0].id}", project_id=1)
    app = OrkestraApp(engine)
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **_kwargs: opened.append(url))
    async with app.run_test(size=(140, 40)) as pilot:
        board = await open_board(app, pilot)
        assert "▍[bold]not bold[/]" in screen_text(app)
        column(board, "done").focus()
        await pilot.press("enter")
        result = await rendered_result(board, pilot)
        text = screen_text(app)
        assert "[bold]not bold[/] \\x1b[31mred\\x1b[0m" in text
        assert "Do [italic]this[/italic] \\x1b[2J now." in text
        assert "[bold]Rich markup[/] stays [link=https://evil.example]literal[/link]." in text
        link_block = next(
            block
            for block in result.query("MarkdownBlock")
            if "Markdown link" in str(getattr(block, "content", ""))
        )
        await link_block.run_action("link('https://evil.example/steal')")  # what a click on the link does
        await pilot.pause()
        assert opened == []
        notes = [str(notification.message) for notification in app._notifications]
        assert any("not opened" in note and "https://evil.example/steal" in note for note in notes)


# ------------------------------------------------------------------ the run's keys


async def test_r_runs_the_tasks_p_pauses_and_r_resumes(engine: Engine) -> None:
    project_id, _tasks = project_with(engine, SPECS)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        assert "run('start')" in shown_actions(board) and "pause" not in shown_actions(board)
        await pilot.press("r")
        await wait_until(pilot, lambda: len(column(board, "done").tasks) == len(SPECS), "every task done")
        assert app.scheduler_state == "running"
        await wait_until(
            pilot, lambda: "pause" in shown_actions(board) and "run('start')" not in shown_actions(board), "p"
        )
        summary = board.query_one(BoardProgress).summary
        assert summary is not None and (summary.done, summary.total) == (4, 4)
        await pilot.press("p")
        await wait_until(pilot, lambda: app.scheduler_state == "paused", "paused")
        await wait_until(pilot, lambda: "run('resume')" in shown_actions(board), "r resumes")
        await wait_until(
            pilot,
            lambda: getattr(board.query_one(BoardProgress).summary, "scheduler", "") == "done",
            "the heading says the project is done, paused or not",
        )
        await pilot.press("r")
        await wait_until(pilot, lambda: app.scheduler_state == "running", "running again")
        assert all(task.status is TaskStatus.DONE for task in engine.tasks(project_id))


async def test_r_on_a_project_still_planning_says_it_will_not_run(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_board(app, pilot)
        await pilot.press("r")
        await pilot.pause()
        notes = [str(notification.message) for notification in app._notifications]
        assert any("is planning" in note and "active projects only" in note for note in notes)


async def test_a_pins_a_task_to_an_agent_and_back_to_the_scheduler(engine: Engine) -> None:
    _project_id, tasks = project_with(engine, SPECS)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        assert column(board, "ready").highlighted_task == board.keeper.cards[tasks[0].id]
        await pilot.press("a")
        assert isinstance(app.screen, AssignAgentScreen)
        options = app.screen.query_one(OptionList)
        assert options.highlighted == 0  # the scheduler chooses now
        await pilot.press("down", "down", "enter")  # the second agent
        second = engine.agents()[1].name
        assert engine.task(tasks[0].id).pinned_agent == second
        assert card_lines(column(board, "ready").tasks[0])[1].plain == f"▍→ {second}"
        await pilot.press("a")
        await pilot.press("home", "enter")
        assert engine.task(tasks[0].id).pinned_agent is None
        await pilot.press("a", "escape")
        assert isinstance(app.screen, BoardScreen)


async def test_capital_r_retries_a_failed_task(engine: Engine) -> None:
    _project_id, tasks = project_with(engine, SPECS)
    move(engine, tasks[1], TaskStatus.RUNNING, TaskStatus.FAILED, note="the agent timed out")
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        assert "retry" not in shown_actions(board)
        column(board, "failed").focus()
        await pilot.pause()
        assert card_lines(column(board, "failed").tasks[0])[1].plain == "▍failed: the agent timed out"
        assert "retry" in shown_actions(board)
        await pilot.press("R")
        assert engine.task(tasks[1].id).status is TaskStatus.READY
        assert "Search items" in titles(board, "ready")


async def test_x_cancels_a_task_only_once_confirmed(engine: Engine) -> None:
    _project_id, tasks = project_with(engine, SPECS)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert engine.task(tasks[0].id).status is TaskStatus.READY
        await pilot.press("end", "x", "y")  # the user guide: no task waits for it
        assert engine.task(tasks[3].id).status is TaskStatus.CANCELLED
        assert titles(board, "failed") == ["User guide"]
        assert column(board, "failed").border_subtitle == "1 cancelled"
        assert column(board, "failed").count == 1  # counted in the column that names it


async def test_y_approves_and_n_sends_back_with_a_note(engine: Engine) -> None:
    _project_id, tasks = project_with(engine, SPECS)
    move(engine, tasks[0], TaskStatus.RUNNING, TaskStatus.AWAITING_HUMAN)
    move(engine, tasks[1], TaskStatus.RUNNING, TaskStatus.AWAITING_HUMAN)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        assert "approve" not in shown_actions(board)
        column(board, "human").focus()
        await pilot.pause()
        assert {"approve", "reject"} <= shown_actions(board)
        await pilot.press("y")
        assert engine.task(tasks[0].id).status is TaskStatus.DONE
        assert titles(board, "human") == ["Search items"]
        await pilot.press("n")
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press("ctrl+s")  # an empty note is refused
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press(*"Index the descriptions too", "ctrl+s")
        assert isinstance(app.screen, BoardScreen)
        redo = engine.task(tasks[1].id)
        assert redo.status is TaskStatus.READY and redo.note == "You asked: Index the descriptions too"


async def test_b_raises_the_budget_the_project_stopped_at(engine: Engine) -> None:
    project_id, _tasks = project_with(engine, SPECS)
    engine.set_budget(project_id, 1.0)
    engine.set_project_status(project_id, ProjectStatus.PAUSED)
    with engine.store.transaction() as tx:
        engine.inbox.ask_in(
            tx,
            InboxKind.BUDGET,
            "Project 'Shop' reached its budget",
            {"project_id": project_id, "budget": 1.0, "reason": "the next calls would pass the budget"},
            project_id=project_id,
        )
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        summary = board.query_one(BoardProgress).summary
        assert summary is not None and summary.budget_asked and summary.budget == 1.0
        await pilot.press("b")
        assert isinstance(app.screen, BudgetScreen)
        await pilot.press(*"lots", "ctrl+s")
        assert isinstance(app.screen, BudgetScreen)  # not an amount: the dialog says so and stays
        await pilot.press(*("backspace",) * 4, *"5", "ctrl+s")
        assert isinstance(app.screen, BoardScreen)
        project = engine.store.project(project_id)
        assert project is not None and project.budget == 5.0 and project.status is ProjectStatus.ACTIVE
        await wait_until(pilot, lambda: "budget" not in shown_actions(board), "the request is answered")


# ------------------------------------------------------------------ filter, projects, scale


async def test_slash_filters_by_text_agent_and_phase_and_escape_clears(engine: Engine) -> None:
    _project_id, tasks = project_with(engine, SPECS)
    move(engine, tasks[1], TaskStatus.RUNNING, agent="gemini")
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        await pilot.press("slash")
        field = board.query_one("#board-filter", Input)
        assert field.display and app.focused is field
        await pilot.press(*"cart")
        assert titles(board, "ready") == ["Write the cart"] and titles(board, "running") == []
        await pilot.press(*("backspace",) * 4, *"agent:gem")
        assert titles(board, "ready") == [] and titles(board, "running") == ["Search items"]
        await pilot.press(*("backspace",) * 9, *"phase:release")
        assert titles(board, "ready") == ["User guide"]
        await pilot.press("enter")  # keeps the filter and goes back to the columns
        assert field.display and current_focus(app) is column(board, "ready")
        assert titles(board, "ready") == ["User guide"]
        await pilot.press("escape")
        assert not is_displayed(field) and field.value == ""
        assert titles(board, "ready") == ["Write the cart", "Checkout", "User guide"]


async def test_brackets_switch_between_projects(engine: Engine) -> None:
    project_with(engine, SPECS)
    other = engine.create_project("Blog")
    engine.add_tasks(other.id, [TaskSpec("Write a post", "About the shop.")])
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        assert titles(board, "ready") == ["Write a post"]
        await pilot.press("left_square_bracket")
        assert "Write the cart" in titles(board, "ready")
        summary = board.query_one(BoardProgress).summary
        assert summary is not None and summary.name == "Shop"
        await pilot.press("right_square_bracket")
        assert titles(board, "ready") == ["Write a post"]


async def test_ten_thousand_tasks_mount_without_a_widget_per_task(engine: Engine) -> None:
    from orkestra_tui.bench.board import fill

    fill(engine, 10_000)
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        widgets = list(board.walk_children())
        assert len(widgets) < 40
        assert sum(len(task_list.tasks) for task_list in board.query(TaskList)) == 10_000
        column(board, "done").focus()
        await pilot.press("end", "enter")
        assert board.detail_task_id == column(board, "done").tasks[-1].id
        assert len(list(board.walk_children())) < 60  # the detail adds the result's blocks, nothing per task


def test_the_board_bench_measures_mount_and_keys() -> None:
    from orkestra_tui.bench import board

    figures = board.run(quick=True)
    assert figures["tasks"] == board.QUICK_TASKS and figures["keys"] == board.QUICK_KEYS
    assert {
        "mount_ms",
        "key_to_paint_ms",
        "cursor_ms",
        "detail_ms",
        "detail_result_ms",
        "baseline_tasks",
        "baseline_mount_ms",
        "baseline_key_to_paint_ms",
    } <= set(figures)
    assert figures["widgets"] == figures["baseline_widgets"]


async def test_a_phase_finished_is_announced_on_the_board(engine: Engine) -> None:
    project = engine.create_project("Milestones", "")
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    (task,) = engine.add_tasks(project.id, [TaskSpec(title="Only task", instructions="x", phase="Launch")])
    app = OrkestraApp(engine, first_mode="board")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        engine.set_task_status(task.id, TaskStatus.RUNNING)
        engine.set_task_status(task.id, TaskStatus.DONE)
        await pilot.pause(0.2)
        messages = [str(notice.message) for notice in app._notifications]
        assert any("phase 'Launch' of 'Milestones' is done" in message for message in messages)
    assert [event.kind for event in engine.audit_events(5, kind="milestone.reached")] == ["milestone.reached"]
