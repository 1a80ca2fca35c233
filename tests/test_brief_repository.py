"""The brief's Repository field: the new project is linked to it, initialised first if you say so."""

from __future__ import annotations

from pathlib import Path

from repos import git, make_repository
from test_brief_pages import SIZE, open_brief, wait_until

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.planning.brief_rules import repository_problems
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.prompt import ConfirmScreen
from orkestra_tui.tui.widgets.plan_brief import BriefForm

GIT_POLL_S, GIT_TRIES = 0.05, 600
"""Git works in the background, a command at a time: poll for up to 30 s."""


def test_a_repository_folder_that_does_not_exist_is_the_fields_problem(tmp_path: Path) -> None:
    [problem] = repository_problems(str(tmp_path / "missing"))
    assert problem.field == "repository" and "no folder" in problem.message
    assert repository_problems("") == []
    assert repository_problems(str(tmp_path)) == []


async def brief_with_repository(app: OrkestraApp, pilot: object, folder: Path) -> BriefForm:
    form = await open_brief(app, pilot)  # type: ignore[arg-type]
    await pilot.press("enter", *"Shop", "tab", "tab", "tab", "tab", "tab")  # type: ignore[attr-defined]
    assert app.focused is not None and app.focused.id == "brief-repository"
    await pilot.press(*str(folder), "ctrl+s")  # type: ignore[attr-defined]
    return form


async def test_the_new_project_is_linked_to_the_briefs_repository(engine: Engine, tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "shop")
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await brief_with_repository(app, pilot, repository)
        await wait_until(pilot, lambda: bool(engine.projects()), "the project")
        project = engine.projects()[0]
        await wait_until(
            pilot,
            lambda: engine.repository(project.id) is not None,
            "the link",
            every_s=GIT_POLL_S,
            tries=GIT_TRIES,
        )
        link = engine.repository(project.id)
        assert link is not None and link.path == repository and link.branch == "orkestra/shop"
        assert git(repository, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


async def test_a_plain_folder_is_initialised_after_a_yes(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await brief_with_repository(app, pilot, folder)
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, ConfirmScreen),
            "the question",
            every_s=GIT_POLL_S,
            tries=GIT_TRIES,
        )
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(engine.projects()), "the project")
        project = engine.projects()[0]
        await wait_until(
            pilot,
            lambda: engine.repository(project.id) is not None,
            "the link",
            every_s=GIT_POLL_S,
            tries=GIT_TRIES,
        )
        assert (folder / ".git").is_dir() and (folder / "notes.txt").read_text() == "mine\n"


async def test_a_missing_folder_is_shown_under_the_field_and_nothing_is_made(
    engine: Engine, tmp_path: Path
) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        form = await brief_with_repository(app, pilot, tmp_path / "missing")
        await wait_until(pilot, lambda: bool(form.query("#repository-error")), "the error line")
        assert "no folder" in str(form.query_one("#repository-error").render())
        assert form.page == 2 and not engine.projects()
