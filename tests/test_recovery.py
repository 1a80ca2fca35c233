"""Starting after a crash: recovery, damaged databases, and phase milestones with their progress."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from orkestra_tui.cli import main
from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.recovery import recover
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.execution.tasks import phase_progress
from orkestra_tui.engine.models import InboxKind, ProjectStatus, TaskSpec, TaskStatus
from orkestra_tui.engine.store import snapshots
from orkestra_tui.engine.store.store import StoreError
from orkestra_tui.engine.voting.decisions import open_round

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from orkestra_tui.tui.app import OrkestraApp

# ------------------------------------------------------------------ helpers


def dead_pid() -> int:
    """The pid of a process that has ended and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child.pid
    child.kill()
    child.wait()


def claimed_by(engine: Engine, task_id: int, owner: str, expires_at: float, attempt: int = 1) -> None:
    """What a run's claim writes, from another connection: the lease and a running attempt."""
    with sqlite3.connect(engine.paths.database) as connection:
        connection.execute(
            "UPDATE task SET status = 'running', lease_owner = ?, lease_expires_at = ?, attempts = ?"
            " WHERE id = ?",
            (owner, expires_at, attempt, task_id),
        )
        connection.execute(
            "INSERT INTO task_attempt (task_id, number, agent, started_at) VALUES (?, ?, 'claude', ?)",
            (task_id, attempt, expires_at - 30),
        )
    connection.close()


def mid_round(engine: Engine) -> int:
    """A decision whose round 1 is open, as a vote stopped mid-round leaves it."""
    decision = engine.open_decision("Which database?", ["SQLite", "Postgres"], voters=["claude", "chatgpt"])
    with engine.store.transaction() as tx:
        open_round(tx, decision, 1, estimate=0.0)
    return decision.id


def recovered_events(engine: Engine) -> list[dict[str, object]]:
    return [event.data for event in engine.audit_events(100, kind="recovered")]


async def upkeep_done(app: OrkestraApp, pilot: Pilot[None]) -> None:
    """Wait until the app's check of the database (a thread worker) has run and been reported."""
    for _ in range(500):
        await pilot.pause()
        if app.database_checked and not any(
            worker.group == "upkeep" and not worker.is_finished for worker in app.workers
        ):
            break
    await pilot.pause()


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    try:
        status = main(list(arguments))
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ------------------------------------------------------------------ recovery


def test_a_run_killed_mid_task_and_mid_round_is_recovered_with_one_event(engine: Engine) -> None:
    project = engine.create_project("Shop")
    first, second, third = engine.add_tasks(project.id, [TaskSpec("One"), TaskSpec("Two"), TaskSpec("Three")])
    now = engine.clock.now()
    claimed_by(engine, first.id, f"{socket.gethostname()}:{dead_pid()}:deadbeef", now + 600)  # dead: at once
    claimed_by(engine, second.id, "elsewhere:4242:cafe", now - 5)  # another machine's, expired
    decision_id = mid_round(engine)
    question = engine.inbox.ask(InboxKind.TIE_BREAK, "Break the tie", {"decision_id": decision_id})

    report = recover(engine)

    assert report.released_tasks == (first.id, second.id)
    assert report.interrupted_attempts == 2
    assert report.votes_under_way == (decision_id,)
    assert report.open_requests == (question.id,)
    assert report.recovered
    assert report.summary() == (
        "Recovered from an interrupted run: 2 tasks ready again, 2 interrupted attempts closed."
        " 1 vote to resume, 1 question waiting for you."
    )
    assert recovered_events(engine) == [
        {
            "released_tasks": [first.id, second.id],
            "interrupted_attempts": 2,
            "votes_under_way": [decision_id],
            "open_requests": [question.id],
        }
    ]
    assert report.event_id == engine.audit_events(1, kind="recovered")[0].id
    for task in (first, second):
        assert engine.task(task.id).status is TaskStatus.READY
        assert engine.task(task.id).lease_owner is None
        assert [attempt.outcome for attempt in engine.store.task_attempts(task.id)] == ["abandoned"]
    assert engine.task(third.id).status is TaskStatus.READY

    again = recover(engine)  # nothing left to recover: no second event
    assert not again.recovered and again.votes_under_way == (decision_id,)
    assert len(recovered_events(engine)) == 1


def test_an_attempt_left_running_without_its_lease_is_marked_interrupted(engine: Engine) -> None:
    project = engine.create_project("Shop")
    (task,) = engine.add_tasks(project.id, [TaskSpec("One")])
    claimed_by(engine, task.id, "x", engine.clock.now())
    with sqlite3.connect(engine.paths.database) as connection:  # the lease gone, the attempt not closed
        connection.execute("UPDATE task SET status = 'ready', lease_owner = NULL, lease_expires_at = NULL")
    connection.close()

    report = recover(engine)

    assert (report.released_tasks, report.interrupted_attempts) == ((), 1)
    ((outcome, error),) = engine.store.query("SELECT outcome, error FROM task_attempt")
    assert (outcome, error) == ("interrupted", "the process running it stopped")
    assert recovered_events(engine)[0]["interrupted_attempts"] == 1


def test_a_live_run_in_another_process_keeps_its_tasks(engine: Engine, live_pid: int) -> None:
    project = engine.create_project("Shop")
    here, elsewhere = engine.add_tasks(project.id, [TaskSpec("Here"), TaskSpec("Elsewhere")])
    now = engine.clock.now()
    claimed_by(engine, here.id, f"{socket.gethostname()}:{live_pid}:abcd", now + 30)
    claimed_by(engine, elsewhere.id, "elsewhere:99:abcd", now + 30)

    report = recover(engine)

    assert not report.recovered and report.released_tasks == ()
    assert recovered_events(engine) == []
    assert {engine.task(here.id).status, engine.task(elsewhere.id).status} == {TaskStatus.RUNNING}
    assert engine.store.query("SELECT DISTINCT outcome FROM task_attempt") == [("running",)]


def test_a_clean_start_writes_no_event(sample_engine: Engine) -> None:
    """The sample has a vote under way and questions open: resumed and shown, but nothing to recover."""
    report = recover(sample_engine)
    assert not report.recovered
    assert report.votes_under_way and report.open_requests
    assert report.summary().startswith("1 vote to resume")
    assert recovered_events(sample_engine) == []


async def test_the_app_shows_what_was_recovered(engine: Engine) -> None:
    from orkestra_tui.tui.app import OrkestraApp

    project = engine.create_project("Shop")
    (task,) = engine.add_tasks(project.id, [TaskSpec("One")])
    claimed_by(engine, task.id, f"{socket.gethostname()}:{dead_pid()}:deadbeef", engine.clock.now() + 600)
    app = OrkestraApp(engine)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        notes = [str(notification.message) for notification in app._notifications]
    assert "Recovered from an interrupted run: 1 task ready again, 1 interrupted attempt closed." in notes
    assert len(recovered_events(engine)) == 1


async def test_a_clean_app_start_shows_no_recovery(sample_engine: Engine) -> None:
    from orkestra_tui.tui.app import OrkestraApp

    app = OrkestraApp(sample_engine)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await upkeep_done(app, pilot)  # the sample's vote resumes and waits for the human: not awaited
        notes = [str(notification.message) for notification in app._notifications]
    assert not [note for note in notes if "Recovered" in note or "damaged" in note]


# ------------------------------------------------------------------ damaged databases


@pytest.fixture
def saved(paths: Paths, settings: Settings) -> snapshots.Snapshot:
    """A data dir holding a database with some history, and a snapshot of it; the engine closed."""
    engine = Engine(paths, settings, clock=FixedClock(), env={})
    project = engine.create_project("Shop")
    with engine.store.transaction() as tx:
        for number in range(3000):
            tx.audit("engine", "note", f"Note {number}: " + "x" * 200, project_id=project.id)
    snapshot = snapshots.create(paths, "checkpoint", clock=FixedClock(start=1_800_000_000.0))
    engine.close()
    return snapshot


def expected_hint(paths: Paths, snapshot: snapshots.Snapshot) -> str:
    return (
        f"The newest good snapshot is {snapshot.id} (taken 2027-01-15 08:00:00 UTC); to restore it, run: "
        f"orkestra --data-dir {paths.config_dir} snapshot restore {snapshot.id}"
    )


def test_a_file_of_garbage_names_the_newest_snapshot_and_the_command(
    paths: Paths, settings: Settings, saved: snapshots.Snapshot, capsys: pytest.CaptureFixture[str]
) -> None:
    paths.database.write_bytes(b"\x00garbage\xff" * 5000)
    with pytest.raises(StoreError) as refused:
        Engine(paths, settings, env={})
    message = str(refused.value)
    assert message == (
        f"{paths.database} is not a SQLite database; it was left untouched (move it away, or choose another"
        f" --data-dir). {expected_hint(paths, saved)}"
    )
    status, out, err = run(capsys, "--data-dir", str(paths.config_dir), "status")
    assert (status, out, err) == (2, "", f"orkestra: {message}\n")
    assert paths.database.read_bytes() == b"\x00garbage\xff" * 5000


def test_a_truncated_database_is_refused_at_once(
    paths: Paths, settings: Settings, saved: snapshots.Snapshot
) -> None:
    data = paths.database.read_bytes()
    paths.database.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError) as refused:
        Engine(paths, settings, env={})
    assert str(refused.value) == (
        f"{paths.database} is damaged (it is shorter than its header says: truncated); it was left untouched."
        f" {expected_hint(paths, saved)}"
    )
    assert len(paths.database.read_bytes()) == len(data) // 2


def test_bytes_overwritten_in_the_middle_are_reported_in_one_line(
    paths: Paths, settings: Settings, saved: snapshots.Snapshot, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(paths.database.read_bytes())
    start, end = len(data) * 2 // 5, len(data) * 3 // 5
    data[start:end] = b"\xa5" * (end - start)
    paths.database.write_bytes(bytes(data))
    line = (
        f"{paths.database} is damaged (database disk image is malformed); it was left untouched."
        f" {expected_hint(paths, saved)}"
    )

    # Found by the check the app runs after its first frame, by a snapshot, and by any command reading it.
    assert snapshots.integrity_problem(paths.database).startswith(f"{paths.database} is damaged (")
    assert snapshots.integrity_problem(paths.database).endswith(expected_hint(paths, saved))
    status, out, err = run(capsys, "--data-dir", str(paths.config_dir), "audit", "--limit", "5000")
    assert (status, out, err) == (2, "", f"orkestra: {line}\n")
    status, out, err = run(capsys, "--data-dir", str(paths.config_dir), "snapshot", "create")
    assert status == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"orkestra: {paths.database} is damaged (")
    assert [snapshot.id for snapshot in snapshots.list_snapshots(paths)] == [saved.id]  # no damaged copy kept
    assert paths.database.read_bytes() == bytes(data)

    restored = snapshots.restore(paths, saved.id)
    assert restored.undo is None and restored.set_aside[0].read_bytes() == bytes(data)
    assert snapshots.integrity_problem(paths.database) == ""


def test_with_no_snapshot_the_line_says_so(paths: Paths, settings: Settings) -> None:
    Engine(paths, settings, env={}).close()
    data = paths.database.read_bytes()
    paths.database.write_bytes(data[:4096] + b"\x00" * 10)
    with pytest.raises(StoreError) as refused:
        Engine(paths, settings, env={})
    assert str(refused.value).endswith(f"There is no snapshot to restore in {paths.snapshots_dir}.")


async def test_the_app_reports_a_damaged_database_after_its_first_frame(
    paths: Paths, settings: Settings, saved: snapshots.Snapshot
) -> None:
    from orkestra_tui.tui.app import OrkestraApp

    data = bytearray(paths.database.read_bytes())
    start, end = len(data) * 2 // 5, len(data) * 3 // 5
    data[start:end] = b"\xa5" * (end - start)
    paths.database.write_bytes(bytes(data))
    engine = Engine(paths, settings, clock=FixedClock(), env={})  # the start reads only sound pages
    try:
        app = OrkestraApp(engine, first_mode="plan")
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await upkeep_done(app, pilot)
            shown = type(app.screen).__name__
    finally:
        engine.close()
    assert shown == "DamagedDatabaseScreen"
    assert app.damage is not None and app.damage.endswith(expected_hint(paths, saved))


# ------------------------------------------------------------------ milestones


def phased(engine: Engine) -> tuple[int, dict[str, int]]:
    project = engine.create_project("Shop")
    specs = [
        TaskSpec("Schema", "Write it.", key="schema", phase="Foundations"),
        TaskSpec("Store", "Write it.", key="store", phase="Foundations", depends_on=("schema",)),
        TaskSpec("API", "Write it.", key="api", phase="Core", depends_on=("store",)),
        TaskSpec("Docs", "Write them.", key="docs", phase="Core"),
        TaskSpec("Loose end", "Tie it.", key="loose"),
    ]
    return project.id, {task.key: task.id for task in engine.add_tasks(project.id, specs)}


def milestones(engine: Engine) -> list[str]:
    return [
        str(event.data["phase"]) for event in reversed(engine.audit_events(100, kind="milestone.reached"))
    ]


def finish(engine: Engine, task_id: int) -> None:
    engine.set_task_status(task_id, TaskStatus.RUNNING, actor="claude")
    engine.set_task_status(task_id, TaskStatus.DONE, actor="claude")


def test_the_last_task_of_a_phase_done_reaches_its_milestone_once(engine: Engine) -> None:
    project_id, ids = phased(engine)
    finish(engine, ids["schema"])
    assert milestones(engine) == []
    finish(engine, ids["store"])
    assert milestones(engine) == ["Foundations"]
    (event,) = engine.audit_events(1, kind="milestone.reached")
    assert event.summary == "Milestone: phase 'Foundations' of 'Shop' is done (2 tasks)"
    assert (event.project_id, event.subject) == (project_id, f"project:{project_id}")
    assert event.data == {"phase": "Foundations", "tasks": 2, "last_task": ids["store"]}
    # In the same transaction as the task's move: the events just before it are the task's own.
    previous = engine.audit_events(3, before_id=event.id)
    assert [item.kind for item in previous][:2] == ["task.ready", "task.done"]

    engine.cancel_task(ids["api"])  # a cancelled task does not hold its phase back…
    engine.set_task_status(ids["docs"], TaskStatus.RUNNING, actor="claude")
    engine.set_task_status(ids["docs"], TaskStatus.AWAITING_HUMAN, actor="claude")
    engine.approve_task(ids["docs"])  # …and a task the human approves counts as done
    assert milestones(engine) == ["Foundations", "Core"]

    (late,) = engine.add_tasks(project_id, [TaskSpec("Late", phase="Foundations")])
    finish(engine, late.id)
    assert milestones(engine) == ["Foundations", "Core"]  # once per phase
    finish(engine, ids["loose"])
    assert milestones(engine) == ["Foundations", "Core"]  # no phase, no milestone


def test_the_scheduler_reaches_each_phase_once(engine: Engine) -> None:
    project_id, _ids = phased(engine)
    engine.set_project_status(project_id, ProjectStatus.ACTIVE)
    summary = asyncio.run(Scheduler(engine, reviewers=0).run(project_id))
    assert summary.done == 5
    assert sorted(milestones(engine)) == ["Core", "Foundations"]
    for event in engine.audit_events(10, kind="milestone.reached"):
        done_event = engine.audit_events(1, kind="task.done", before_id=event.id)[0]
        assert done_event.subject == f"task:{event.data['last_task']}"


def test_phase_progress_counts_done_out_of_not_cancelled(engine: Engine) -> None:
    project_id, ids = phased(engine)
    finish(engine, ids["schema"])
    engine.cancel_task(ids["docs"])
    assert [(phase.phase, phase.done, phase.total) for phase in phase_progress(engine.store, project_id)] == [
        ("Foundations", 1, 2),
        ("Core", 0, 1),
        ("", 0, 1),
    ]


def test_status_shows_progress_per_phase(
    paths: Paths, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = Engine(paths, settings, clock=FixedClock(), env={})
    _project_id, ids = phased(engine)
    finish(engine, ids["schema"])
    finish(engine, ids["store"])
    engine.close()

    status, out, _ = run(capsys, "--data-dir", str(paths.config_dir), "status", "--json")
    assert status == 0
    (project,) = json.loads(out)["projects"]
    assert project["phases"] == [
        {"phase": "Foundations", "done": 2, "total": 2},
        {"phase": "Core", "done": 0, "total": 2},
        {"phase": "", "done": 0, "total": 1},
    ]

    status, out, _ = run(capsys, "--data-dir", str(paths.config_dir), "status")
    assert status == 0
    lines = out.splitlines()
    phases = lines.index(next(line for line in lines if line.startswith("Phases")))
    assert lines[phases + 1].split() == ["project", "phase", "done"]  # not a terminal: no bars
    assert lines[phases + 2].split() == ["Shop", "Foundations", "2/2"]
    assert lines[phases + 3].split() == ["Core", "0/2"]
    assert lines[phases + 4].split() == ["(no", "phase)", "0/1"]


def test_status_draws_a_bar_per_phase_on_a_terminal(engine: Engine) -> None:
    from rich.console import Console

    from orkestra_tui.commands.status import _phase_table

    console = Console(width=80, force_terminal=True, color_system=None)
    with console.capture() as captured:
        console.print(
            _phase_table([{"name": "Shop", "phases": [{"phase": "Build", "done": 1, "total": 4}]}], bars=True)
        )
    row = captured.get().splitlines()[2]
    assert row.split() == ["Shop", "Build", "███░░░░░░░░░", "1/4"]
