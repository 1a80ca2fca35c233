"""The Board of a project linked to a repository, over real git and a real run of scripted agents.

A task's detail shows its branch, commit, state and gate runs; `d` shows its diff (file by
file, coloured, hostile bytes inert); `L` links a project (initialising a folder on a yes);
the heading shows the integration branch; approving an escalated task queues its merge.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from repos import git, make_repository
from test_board import open_board, screen_text, wait_until
from test_scheduler import active_project, cast, scripted_engine, spec
from textual.pilot import Pilot
from textual.widgets import Input, Static

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import TaskStatus
from orkestra_tui.providers.base import ProviderRequest
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.board import BoardScreen
from orkestra_tui.tui.screens.diff import DiffScreen, file_text, split_diff
from orkestra_tui.tui.screens.link_repository import LinkRepositoryScreen
from orkestra_tui.tui.screens.prompt import ConfirmScreen
from orkestra_tui.tui.widgets.board_progress import BoardProgress

SIZE = (100, 30)
GATES = 'gates = ["python -m compileall -q ."]\n'
HOSTILE_LINE = "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 [bold]markup[/bold] \x1b[2J"
TITLES = ("Add hello", "Add calc", "Break things", "Risky change", "Hostile file")


def file_block(path: str, text: str) -> str:
    return f"I made the change.\n\n```python file={path}\n{text}```\n"


def answer(request: ProviderRequest) -> str:
    """Each task's change; reviews approve, except of the risky change, which is a blocker."""
    title = request.context["title"]
    if request.purpose == "review":
        verdict = "blocker" if title == "Risky change" else "approve"
        return json.dumps({"verdict": verdict, "comments": f"{verdict}: looked at it"})
    if title == "Add hello":
        return file_block("src/hello.py", "def hello():\n    return 'hello'\n")
    if title == "Add calc":
        text = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
        return file_block("src/calc.py", text)
    if title == "Break things":
        return file_block("src/broken.py", "def broken(: # \x1b[31mred\x1b[0m [bold]x[/bold]\n    pass\n")
    if title == "Risky change":
        return file_block("src/risky.py", "RISK = 1\n")
    return file_block("notes/hostile.txt", HOSTILE_LINE + "\nsecond line\n")


def repository_for(tmp_path: Path) -> Path:
    files = {"README.md": "# Shop\n", ".orkestra.toml": GATES, "src/__init__.py": ""}
    return make_repository(tmp_path / "shop", files)


async def run_linked_project(engine: Engine, repo: Path) -> dict[str, int]:
    """The project Shop, linked to REPO, run by scripted agents to the end: its tasks' ids by title.

    Add hello, Add calc and Hostile file merge; Break things fails its gate three times and waits
    for the human; Risky change is gated and committed, and waits for the human after a blocker.
    """
    cast(engine, {name: lambda request, _index: answer(request) for name in ("claude", "chatgpt", "gemini")})
    project_id, task_ids = active_project(engine, *(spec(title) for title in TITLES))
    await engine.link_repository(project_id, repo)
    await Scheduler(engine).run()
    return dict(zip(TITLES, task_ids, strict=True))


@pytest.fixture
def scripted(paths: Paths, settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = scripted_engine(paths, settings, clock, max_attempts=3)
    yield engine
    engine.close()


@pytest.fixture
async def ran(scripted: Engine, tmp_path: Path) -> dict[str, int]:
    return await run_linked_project(scripted, repository_for(tmp_path))


async def show_task(app: OrkestraApp, pilot: Pilot[None], task_id: int) -> BoardScreen:
    board = await open_board(app, pilot)
    board.show_task(task_id)
    await wait_until(pilot, lambda: board.detail_task_id == task_id, "the task's detail")
    return board


def detail_change(board: BoardScreen) -> str:
    part = board.query_one("#task-detail-change", Static)
    return str(part.render()) if part.display else ""


async def open_diff(app: OrkestraApp, pilot: Pilot[None]) -> DiffScreen:
    await pilot.press("d")
    await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.loaded, "the diff")
    screen = app.screen
    assert isinstance(screen, DiffScreen)
    await pilot.pause()
    return screen


# ------------------------------------------------------------------ the detail


async def test_a_merged_tasks_detail_shows_its_branch_commit_state_and_gates(
    scripted: Engine, ran: dict[str, int]
) -> None:
    task_id = ran["Add hello"]
    change = scripted.task_change(task_id)
    assert change is not None and change.state == "merged" and change.commit and change.merged_commit
    app = OrkestraApp(scripted)
    async with app.run_test(size=SIZE) as pilot:
        board = await show_task(app, pilot, task_id)
        shown = detail_change(board)
        assert "State   merged" in shown
        assert f"Branch  {change.branch}" in shown
        merged = f"merged as {change.merged_commit[:10]} into orkestra/shop"
        assert f"Commit  {change.commit[:10]}  {merged}" in shown
        assert "Files   src/hello.py" in shown
        assert "✔ python -m compileall -q .  passed" in shown and "after merging" in shown


async def test_a_failed_gates_output_shows_in_the_detail(scripted: Engine, ran: dict[str, int]) -> None:
    task_id = ran["Break things"]
    assert scripted.task(task_id).status is TaskStatus.AWAITING_HUMAN
    app = OrkestraApp(scripted)
    async with app.run_test(size=SIZE) as pilot:
        board = await show_task(app, pilot, task_id)
        shown = detail_change(board)
        assert "✘ python -m compileall -q .  failed, exit 1" in shown
        assert "SyntaxError" in shown and "src/broken.py" in shown
        assert shown.count("✘") == 3 and "✔" not in shown
        assert any("\x1b" in run.output for run in scripted.gate_runs(task_id))  # the gate printed it
        assert "\x1b" not in shown and "\\x1b[31mred" in shown and "[bold]x[/bold]" in shown


async def test_a_project_without_a_repository_shows_no_repository_part(engine: Engine) -> None:
    _project_id, (task_id,) = active_project(engine, spec("Plain task"))
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await show_task(app, pilot, task_id)
        assert detail_change(board) == ""
        summary = board.query_one(BoardProgress).summary
        assert summary is not None and summary.repository == ""
        assert "diff" not in {item.binding.action for item in board.active_bindings.values() if item.enabled}


# ------------------------------------------------------------------ the heading and approving


async def test_the_heading_shows_the_integration_branch_and_what_waits(
    scripted: Engine, ran: dict[str, int]
) -> None:
    app = OrkestraApp(scripted)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(app, pilot)
        progress = board.query_one(BoardProgress)
        await wait_until(pilot, lambda: board.repository_status is not None, "the repository's status")
        await pilot.pause()
        assert progress.summary is not None
        # three merges, each a task's commit and its merge commit
        assert progress.summary.repository == "⎇ orkestra/shop · 6 ahead of main · 2 waiting to merge"
        assert "orkestra/shop · 6 ahead of main" in screen_text(app)


async def test_approving_an_escalated_task_says_it_merges_next_and_the_heading_follows(
    scripted: Engine, ran: dict[str, int]
) -> None:
    task_id = ran["Risky change"]
    assert scripted.task(task_id).status is TaskStatus.AWAITING_HUMAN
    app = OrkestraApp(scripted)
    notes: list[str] = []
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        board = await show_task(app, pilot, task_id)
        original_notify = app.notify

        def noted(message: str, **options: object) -> None:
            notes.append(message)
            original_notify(message, **options)  # type: ignore[arg-type]

        app.notify = noted  # type: ignore[method-assign]
        await pilot.press("y")
        assert notes == ["Risky change: approved: it merges next"]
        assert scripted.task(task_id).status is TaskStatus.REVIEW
        await wait_until(pilot, lambda: "approved: it merges next" in detail_change(board), "the state")
        await Scheduler(scripted).run()
        await wait_until(pilot, lambda: "State   merged" in detail_change(board), "the merge")
        await wait_until(
            pilot,
            lambda: board.repository_heading() == "⎇ orkestra/shop · 8 ahead of main · 1 waiting to merge",
            "the heading after the merge",
        )


# ------------------------------------------------------------------ the diff


async def test_d_shows_the_diff_coloured_and_file_by_file(scripted: Engine, tmp_path: Path) -> None:
    repo = repository_for(tmp_path)
    git(repo, "rm", "--quiet", "README.md")
    git(repo, "commit", "--quiet", "-m", "No readme")

    def two_files(request: ProviderRequest, _index: int) -> str:
        if request.purpose == "review":
            return json.dumps({"verdict": "blocker", "comments": "wait"})
        return file_block("src/one.py", "ONE = 1\n") + file_block("src/two.py", "TWO = 2\nTHREE = 3\n")

    cast(scripted, dict.fromkeys(("claude", "chatgpt", "gemini"), two_files))
    project_id, (task_id,) = active_project(scripted, spec("Two files"))
    await scripted.link_repository(project_id, repo)
    await Scheduler(scripted).run()
    app = OrkestraApp(scripted)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_task(app, pilot, task_id)
        diff = await open_diff(app, pilot)
        assert [diff_file.path for diff_file in diff.files] == ["src/one.py", "src/two.py"]
        second = diff.query_one("#diff-file-1", Static)
        rendered = second.render()
        assert "+TWO = 2" in str(rendered)
        styles = {str(span.style) for span in file_text(diff.files[1]).spans}
        assert {"green", "cyan", "bold reverse"} <= styles
        assert "src/one.py" in screen_text(app) and "2 files changed" in screen_text(app)
        await pilot.press("n")
        assert diff.current_file == 0
        await pilot.press("n")
        assert diff.current_file == 1
        assert "file 2/2" in str(diff.query_one(".dialog").border_subtitle)
        await pilot.press("p")
        assert diff.current_file == 0
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, BoardScreen), "the Board again")


async def test_hostile_bytes_in_a_diff_are_shown_inert(scripted: Engine, ran: dict[str, int]) -> None:
    app = OrkestraApp(scripted)
    async with app.run_test(size=SIZE) as pilot:
        await show_task(app, pilot, ran["Hostile file"])
        diff = await open_diff(app, pilot)
        shown = str(diff.query_one("#diff-file-0", Static).render())
        assert "\x1b" not in shown and "\x07" not in shown
        assert "\\x1b[31mred" in shown and "[bold]markup[/bold]" in shown and "\\x07" in shown
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "pwned" in svg


async def test_a_task_with_no_change_says_so_in_one_line(scripted: Engine, tmp_path: Path) -> None:
    cast(scripted)
    project_id, (task_id,) = active_project(scripted, spec("Not started"))
    await scripted.link_repository(project_id, repository_for(tmp_path))
    app = OrkestraApp(scripted)
    async with app.run_test(size=(80, 24)) as pilot:
        board = await show_task(app, pilot, task_id)
        assert "No change yet" in detail_change(board)
        diff = await open_diff(app, pilot)
        assert str(diff.query_one("#diff-summary", Static).render()) == (
            f"Task {task_id} has no change in the repository."
        )
        assert diff.files == []


def test_a_diff_splits_into_its_summary_and_files() -> None:
    text = (
        " a.py | 1 +\n 1 file changed\n\n"
        "diff --git a/a.py b/a.py\nnew file mode 100644\n--- /dev/null\n+++ b/a.py\n@@ -0,0 +1 @@\n+A = 1\n"
        "diff --git a/old name.txt b/old name.txt\ndeleted file mode 100644\n"
        "--- a/old name.txt\n+++ /dev/null\n"
    )
    summary, files = split_diff(text)
    assert summary == [" a.py | 1 +", " 1 file changed"]
    assert [(item.path, len(item.lines)) for item in files] == [("a.py", 6), ("old name.txt", 4)]


# ------------------------------------------------------------------ linking


async def link_from_board(app: OrkestraApp, pilot: Pilot[None], folder: str) -> LinkRepositoryScreen:
    await open_board(app, pilot)
    await pilot.press("L")
    await wait_until(pilot, lambda: isinstance(app.screen, LinkRepositoryScreen), "the link dialog")
    dialog = app.screen
    assert isinstance(dialog, LinkRepositoryScreen)
    dialog.query_one("#link-folder", Input).value = folder
    await pilot.press("enter")
    return dialog


def error_line(dialog: LinkRepositoryScreen) -> str:
    return str(dialog.query_one("#link-error", Static).render())


async def settled(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    await wait_until(pilot, condition, what)
    await pilot.pause()


async def test_l_links_the_project_to_a_repository_and_the_heading_shows_its_branch(
    engine: Engine, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "shop")
    project_id, _tasks = active_project(engine, spec("A task"))
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await link_from_board(app, pilot, str(repo))
        await settled(pilot, lambda: isinstance(app.screen, BoardScreen), "the Board again")
        assert not dialog.is_attached
        link = engine.repository(project_id)
        assert link is not None and link.path == repo and link.branch == "orkestra/shop"
        board = app.screen
        assert isinstance(board, BoardScreen)
        await wait_until(pilot, lambda: board.repository_status is not None, "the status")
        assert board.repository_heading() == "⎇ orkestra/shop · 0 ahead of main"
        assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


async def test_a_bad_folder_is_one_line_in_the_dialog(engine: Engine, tmp_path: Path) -> None:
    active_project(engine, spec("A task"))
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await link_from_board(app, pilot, str(tmp_path / "nowhere"))
        assert error_line(dialog) == f"{tmp_path / 'nowhere'} does not exist."
        dialog.query_one("#link-folder", Input).value = str(tmp_path / "a-file")
        await pilot.press("enter")
        assert error_line(dialog) == f"{tmp_path / 'a-file'} is not a folder."
        dialog.query_one("#link-folder", Input).value = "  "
        await pilot.press("enter")
        assert error_line(dialog) == "Give the folder of the repository."
        bare = tmp_path / "bare.git"
        git(tmp_path, "init", "--quiet", "--bare", str(bare))
        dialog.query_one("#link-folder", Input).value = str(bare)
        await pilot.press("enter")
        await settled(pilot, lambda: not dialog.busy and "Linking" not in error_line(dialog), "the refusal")
        assert "bare repository" in error_line(dialog) and "\n" not in error_line(dialog)
        assert app.screen is dialog
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, BoardScreen), "the Board again")


async def test_a_folder_that_is_not_a_repository_is_initialised_on_a_yes(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n", encoding="utf-8")
    project_id, _tasks = active_project(engine, spec("A task"))
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await link_from_board(app, pilot, str(folder))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await settled(pilot, lambda: app.screen is dialog, "the dialog again")
        assert "is not a git repository" in error_line(dialog)
        assert not (folder / ".git").exists() and engine.repository(project_id) is None
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question again")
        await pilot.press("y")
        await settled(pilot, lambda: isinstance(app.screen, BoardScreen), "the Board again")
        link = engine.repository(project_id)
        assert link is not None and link.path == folder.resolve()
        assert (folder / ".git").is_dir() and (folder / "notes.txt").read_text(encoding="utf-8") == "mine\n"
