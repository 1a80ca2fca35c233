"""The app on a disk that fills up: a notification says so, and the app keeps running.

SQLite is made to find the disk full with `PRAGMA max_page_count` on the
engine's own connection, so the committee's and the scheduler's next writes
fail as they would on a full disk.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import ProjectStatus, TaskSpec, TaskStatus
from orkestra_tui.tui.app import OrkestraApp


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"never happened: {what}")


def fill_the_disk(engine: Engine) -> None:
    """From now on SQLite finds no room for a new page, as on a full disk."""
    pages = engine.store.scalar("PRAGMA page_count")
    engine.store.query(f"PRAGMA max_page_count = {pages}")


def notes(app: OrkestraApp) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


async def test_the_scheduler_stops_on_a_full_disk_with_a_notification_and_the_app_runs_on(
    engine: Engine,
) -> None:
    project = engine.create_project("Filled")
    engine.add_tasks(project.id, [TaskSpec(title=f"Part {n}", instructions="x" * 4000) for n in range(8)])
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    app = OrkestraApp(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        fill_the_disk(engine)
        app.run_scheduler()
        await wait_until(pilot, lambda: app.scheduler_state == "idle", "the scheduler stopped")
        await wait_until(pilot, lambda: any("The scheduler stopped" in note for note in notes(app)), "a note")
        (note,) = [note for note in notes(app) if "The scheduler stopped" in note]
        assert f"the disk holding {engine.paths.data_dir} is full; free some space, then press r" in note
        assert app.is_running
        assert engine.store.scalar("PRAGMA integrity_check") == "ok"
        engine.store.query("PRAGMA max_page_count = 1000000")  # room again: r goes on
        app.run_scheduler()
        await wait_until(
            pilot,
            lambda: engine.task_counts(project.id)[TaskStatus.DONE] == 8,
            f"all done: {app.scheduler_state} {engine.task_counts(project.id)}",
        )


async def test_a_vote_stops_on_a_full_disk_with_a_notification_and_the_app_runs_on(engine: Engine) -> None:
    app = OrkestraApp(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        decision = engine.open_decision("Which?", ["A", "B", "C"])
        fill_the_disk(engine)
        app.run_committee(decision.id)
        await wait_until(pilot, lambda: any("The vote stopped" in note for note in notes(app)), "a note")
        (note,) = [note for note in notes(app) if "The vote stopped" in note]
        assert "is full; free some space, then reopen the app to resume it" in note
        assert app.is_running
        assert engine.store.decision(decision.id) is not None
