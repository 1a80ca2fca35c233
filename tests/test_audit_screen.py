"""The Audit screen: newest first, the live tail, search, filters, the detail, export, a big log."""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fresh import current_screen, is_displayed
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from orkestra_tui.bench.fake_api import Reply, serving
from orkestra_tui.config import AgentSettings, Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import AuditEvent
from orkestra_tui.engine.store.audit_export import (
    ExportError,
    export_events,
    matching_pages,
    parse_time,
)
from orkestra_tui.engine.store.audit_search import AuditFilter
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.audit import PAUSED, AuditScreen
from orkestra_tui.tui.screens.audit_export_dialog import AuditExportScreen
from orkestra_tui.tui.screens.audit_filters import AuditFiltersScreen
from orkestra_tui.tui.screens.prompt import ConfirmScreen
from orkestra_tui.tui.widgets.audit_pages import AuditPages
from orkestra_tui.tui.widgets.audit_table import AuditTable

SIZE = (120, 30)
HOSTILE = "[bold]x[/] [link=https://evil.example]click[/link] \x1b[31mred"


def record(
    engine: Engine, actor: str, kind: str, summary: str, *, project_id: int | None = None, **data: Any
) -> None:
    with engine.store.transaction() as tx:
        tx.audit(actor, kind, summary, subject=kind.partition(".")[0], project_id=project_id, data=data)


def record_many(engine: Engine, count: int, *, actor: str = "engine", kind: str = "test.tick") -> None:
    with engine.store.transaction() as tx:
        for number in range(count):
            tx.audit(actor, kind, f"tick {number}", subject=f"tick:{number}")


def total_events(engine: Engine) -> int:
    return int(engine.store.scalar("SELECT count(*) FROM audit"))


def newest_id(engine: Engine) -> int:
    return int(engine.store.scalar("SELECT max(id) FROM audit"))


async def audit_screen(pilot: Pilot[None]) -> AuditScreen:
    """The Audit screen once its body is mounted and its first page read."""
    for _ in range(200):
        screen = pilot.app.screen
        if isinstance(screen, AuditScreen) and screen.body_ready:
            await pilot.pause()
            return screen
        await pilot.pause(0.01)
    raise AssertionError("the Audit screen did not open")


def table_of(screen: AuditScreen) -> AuditTable:
    return screen.query_one("#events", AuditTable)


def shown(screen: AuditScreen) -> list[AuditEvent]:
    """The rows read so far, top to bottom."""
    pages = table_of(screen).pages
    rows = [pages.row(index) for index in range(len(pages))]
    assert all(row is not None for row in rows)
    return [row for row in rows if row is not None]


def status_of(screen: AuditScreen) -> str:
    return str(screen.query_one("#audit-status", Static).render())


def screen_text(app: OrkestraApp) -> str:
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


async def settle(pilot: Pilot[None]) -> None:
    """Let a reload coalesced from engine events run."""
    await pilot.pause(0.15)
    await pilot.pause()


# ---------------------------------------------------------------- the table


async def test_events_are_shown_newest_first(engine: Engine) -> None:
    for number in range(5):
        record(engine, "human", "note.added", f"note {number}")
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        screen = await audit_screen(pilot)
        ids = [event.id for event in shown(screen)]
        assert ids == sorted(ids, reverse=True)
        assert shown(screen)[0].summary == "note 4"
        assert app.focused is table_of(screen)
        assert "note 4" in screen_text(app)


def spy_on_searches(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every `search_audit` call from now on."""
    calls: list[dict[str, Any]] = []
    search = engine.store.search_audit

    def recorded(**arguments: Any) -> list[AuditEvent]:
        calls.append(arguments)
        return search(**arguments)

    monkeypatch.setattr(engine.store, "search_audit", recorded)
    return calls


async def test_the_live_tail_puts_new_events_on_top(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    record(engine, "engine", "engine.started", "started")
    searches = spy_on_searches(engine, monkeypatch)
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        screen = await audit_screen(pilot)
        before = len(shown(screen))
        newest = newest_id(engine)
        searches.clear()
        engine.create_project("Arrived while watching")
        record(engine, "human", "note.added", "and a note")
        await settle(pilot)
        assert [event.summary for event in shown(screen)[:2]] == [
            "and a note",
            "Project 'Arrived while watching' created",
        ]
        assert len(shown(screen)) == before + 2
        assert "live" in status_of(screen)
        # One read, of what is newer than the newest row.
        assert len(searches) == 1 and searches[0]["after_id"] == newest


async def test_scrolling_pauses_the_tail_and_end_resumes_it(engine: Engine) -> None:
    record_many(engine, 300)
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        screen = await audit_screen(pilot)
        table = table_of(screen)
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert table.scroll_y > 0
        assert PAUSED in status_of(screen)
        top = shown(screen)[0]
        record(engine, "human", "note.added", "written while paused")
        await settle(pilot)
        assert shown(screen)[0] == top  # nothing moved under the user
        assert "new events waiting" in status_of(screen)
        assert "Resume tail" in screen_text(app)
        await pilot.press("end")
        await pilot.pause()
        assert table.scroll_y == 0 and table.cursor == 0
        assert shown(screen)[0].summary == "written while paused"
        assert "live" in status_of(screen) and PAUSED not in status_of(screen)
        assert "Resume tail" not in screen_text(app)


async def test_scrolling_to_the_end_reads_the_next_pages(engine: Engine) -> None:
    record_many(engine, 450)
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        screen = await audit_screen(pilot)
        pages = table_of(screen).pages
        assert pages.loaded == pages.page_size
        for _ in range(25):
            await pilot.press("pagedown")
        await pilot.pause()
        assert pages.exhausted and len(pages) == total_events(engine)
        assert shown(screen)[-1].id == 1


# ------------------------------------------------------------ search and filters


async def test_search_narrows_the_view_and_escape_clears_it(engine: Engine) -> None:
    record(engine, "claude", "task.done", "Built the shopping cart")
    record(engine, "gemini", "task.done", "Wrote the search page")
    record(engine, "human", "note.added", "Checked the cart totals")
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        screen = await audit_screen(pilot)
        everything = len(shown(screen))
        await pilot.press("slash", *"cart", "enter")
        await pilot.pause()
        assert {event.summary for event in shown(screen)} == {
            "Built the shopping cart",
            "Checked the cart totals",
        }
        assert "search" in status_of(screen) and "cart" in status_of(screen)
        assert app.focused is table_of(screen)
        await pilot.press("escape")
        await pilot.pause()
        assert len(shown(screen)) == everything
        assert "search" not in status_of(screen)
        assert not screen.query_one("#audit-search", Input).display


async def apply_filters(pilot: Pilot[None], **values: Any) -> AuditFiltersScreen:
    """Open the filters (f), set `values` by field name, apply (ctrl+s); the dialog, in case it stayed."""
    await pilot.press("f")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, AuditFiltersScreen)
    for name, value in values.items():
        widget = dialog.query_one(f"#filter-{name}")
        if isinstance(widget, Select):
            widget.value = value
        else:
            assert isinstance(widget, Input)
            widget.value = ""
            widget.focus()
            await pilot.press(*value)
    await pilot.press("ctrl+s")
    await pilot.pause()
    return dialog


async def test_filters_by_actor_kind_project_and_time(engine: Engine, clock: FixedClock) -> None:
    project = engine.create_project("Web shop")
    other = engine.create_project("Other")
    clock.current -= 3 * 86400
    record(engine, "human", "task.approved", "old approval", project_id=project.id)
    clock.current += 3 * 86400
    record(engine, "human", "task.approved", "recent approval", project_id=project.id)
    record(engine, "human", "note.added", "recent note", project_id=project.id)
    record(engine, "claude", "task.done", "claude's task", project_id=project.id)
    record(engine, "human", "task.approved", "elsewhere", project_id=other.id)
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        screen = await audit_screen(pilot)
        await apply_filters(pilot, actor="human", kind="task", project=project.id)
        assert isinstance(app.screen, AuditScreen)
        assert [event.summary for event in shown(screen)] == ["recent approval", "old approval"]
        status = status_of(screen)
        assert "actor human" in status and "kind task" in status and "project Web shop" in status
        assert "2 events" in status
        await apply_filters(pilot, since="2h")
        assert [event.summary for event in shown(screen)] == ["recent approval"]
        assert "since 2h" in status_of(screen)
        # The group "agent" is every actor but the human and the engine.
        await apply_filters(pilot, actor="agent", since="")
        assert [event.summary for event in shown(screen)] == ["claude's task"]
        # Clear all keeps nothing but the search.
        await pilot.press("f", "ctrl+r")
        await pilot.pause()
        assert len(shown(screen)) == len(engine.audit_events(1000))


async def test_a_bad_time_is_refused_beside_its_field(engine: Engine) -> None:
    record(engine, "human", "note.added", "a note")
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        await audit_screen(pilot)
        dialog = await apply_filters(pilot, since="last tuesday-ish")
        assert app.screen is dialog
        error = dialog.query_one("#since-error", Static)
        assert error.display and "not a time" in str(error.render())
        assert app.focused is dialog.query_one("#filter-since")
        dialog.query_one("#filter-since", Input).value = "1h"
        dialog.query_one("#filter-until", Input).value = "2h"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        assert "until must be after since" in str(dialog.query_one("#until-error", Static).render())
        assert not dialog.query_one("#since-error", Static).display
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)


def test_times_read_as_local_dates_times_of_day_and_ages() -> None:
    now = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC (the tests run in UTC)
    assert parse_time("", now) is None
    assert parse_time("2h", now) == now - 7200
    assert parse_time("15m ago", now) == now - 900
    assert parse_time("2027-01-15 06:00", now) == now - 7200
    assert parse_time("06:00", now) == now - 7200
    assert parse_time("2027-01-15T08:00:00+01:00", now) == now - 3600
    with pytest.raises(OrkestraError, match="not a time"):
        parse_time("soon", now)


# ------------------------------------------------------------ the detail


async def test_the_detail_shows_pretty_json_with_hostile_text_escaped(engine: Engine) -> None:
    record(engine, "claude", "task.done", HOSTILE, note=HOSTILE, nested={"list": [1, 2]})
    record(engine, "engine", "engine.started", "newer")
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        screen = await audit_screen(pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
        pane = screen.query_one("#audit-detail")
        assert pane.display
        detail = str(pane.query_one(Static).render())
        assert '\n  "note": "[bold]x[/] [link=https://evil.example]click[/link] \\u001b[31mred"\n}' in detail
        assert '\n  "nested": {\n    "list": [\n      1,\n' in detail  # indented, one value a line
        assert "[bold]x[/] [link=https://evil.example]click[/link] \\x1b[31mred" in detail  # the summary
        text = screen_text(app)
        assert "[bold]x[/]" in text and "[link=https://evil.example]" in text  # literal on screen
        assert "\x1b" not in text and "\x1b" not in detail
        await pilot.press("up")
        await pilot.pause()
        assert "newer" in str(pane.query_one(Static).render())  # the pane follows the cursor
        record(engine, "engine", "engine.stopped", "newest")
        await settle(pilot)
        assert shown(screen)[0].summary == "newest"
        assert table_of(screen).highlighted_event == shown(screen)[1]  # the detail keeps its event
        assert "newer" in str(pane.query_one(Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert not is_displayed(pane)
        assert app.focused is table_of(screen)


# ------------------------------------------------------------ export


def sample_events() -> list[AuditEvent]:
    return [
        AuditEvent(3, 1_800_000_002.0, 1, "claude", "task.done", "task:1", '=HYPERLINK("x")', {"a": 1}),
        AuditEvent(2, 1_800_000_001.0, None, "human", "note.added", "-", "+1 | two\nlines", {}),
        AuditEvent(1, 1_800_000_000.0, 1, "@grok", "call.ok", "agent:grok", "-2+3", {"b": "[x]"}),
    ]


def test_jsonl_export_holds_every_field(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    assert export_events(sample_events(), path, project_names={1: "Web shop"}) == 3
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == [3, 2, 1]
    assert lines[0] == {
        "id": 3,
        "time": "2027-01-15T08:00:02.000Z",
        "project_id": 1,
        "project": "Web shop",
        "actor": "claude",
        "kind": "task.done",
        "subject": "task:1",
        "summary": '=HYPERLINK("x")',
        "data": {"a": 1},
    }
    assert not list(tmp_path.glob(".*.tmp"))


def test_csv_export_is_safe_against_formula_injection(tmp_path: Path) -> None:
    path = tmp_path / "audit.csv"
    export_events(sample_events(), path, "csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [row["summary"] for row in rows] == ['\'=HYPERLINK("x")', "'+1 | two\nlines", "'-2+3"]
    assert rows[1]["subject"] == "'-"
    assert rows[2]["actor"] == "'@grok"
    assert json.loads(rows[0]["data"]) == {"a": 1}
    assert rows[0]["time"] == "2027-01-15T08:00:02.000Z"


def test_markdown_export_is_one_literal_row_per_event(tmp_path: Path) -> None:
    path = tmp_path / "audit.md"
    export_events(sample_events(), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# Orkestra audit log"
    table = [line for line in lines if line.startswith("|")]
    assert len(table) == 2 + 3
    assert "+1 \\| two lines" in table[3]  # the pipe cannot split the row, the newline cannot end it
    assert "\\[x\\]" in table[4]


def test_an_export_never_leaves_half_a_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text("before\n")

    def broken() -> Iterator[AuditEvent]:
        yield from sample_events()[:1]
        raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError):
        export_events(broken(), path)
    assert path.read_text() == "before\n"
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(ExportError, match="does not exist"):
        export_events(sample_events(), tmp_path / "missing" / "audit.jsonl")
    with pytest.raises(ExportError, match="extension"):
        export_events(sample_events(), tmp_path / "audit.txt")


async def open_export(pilot: Pilot[None], path: Path) -> AuditExportScreen:
    await pilot.press("x")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, AuditExportScreen)
    dialog.query_one("#export-path", Input).value = str(path)
    return dialog


async def wait_for_export(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def test_export_writes_every_matching_event_not_only_the_pages_read(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    record_many(engine, 1_234)
    record(engine, "human", "note.added", "=cmd|' /C calc'!A0")
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        screen = await audit_screen(pilot)
        assert table_of(screen).pages.loaded < 1_235
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, AuditExportScreen)
        dialog = app.screen
        default = Path(dialog.query_one("#export-path", Input).value)
        assert default.parent == tmp_path and default.suffix == ".jsonl"
        dialog.query_one("#export-path", Input).value = str(tmp_path / "all.csv")
        await pilot.press("ctrl+s")
        await wait_for_export(pilot)
        assert isinstance(app.screen, AuditScreen)
        rows = list(csv.DictReader(io.StringIO((tmp_path / "all.csv").read_text(encoding="utf-8"))))
        assert len(rows) == total_events(engine)
        assert rows[0]["summary"] == "'=cmd|' /C calc'!A0"
        written = f"{total_events(engine):,} events written to {tmp_path / 'all.csv'}"
        assert any(written in str(note.message) for note in app._notifications)
        # A filtered view exports what it shows, in the format chosen.
        await apply_filters(pilot, actor="human")
        dialog = await open_export(pilot, tmp_path / "human.jsonl")
        dialog.query_one("#export-format", Select).value = "md"
        await pilot.pause()
        assert dialog.query_one("#export-path", Input).value == str(tmp_path / "human.md")
        await pilot.press("ctrl+s")
        await wait_for_export(pilot)
        exported = (tmp_path / "human.md").read_text(encoding="utf-8")
        assert "| =cmd\\|' /C calc'!A0 |" in exported
        assert "tick" not in exported


async def test_an_existing_file_is_replaced_only_after_a_yes(engine: Engine, tmp_path: Path) -> None:
    record(engine, "human", "note.added", "a note")
    target = tmp_path / "audit.jsonl"
    target.write_text("keep me\n")
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        await audit_screen(pilot)
        dialog = await open_export(pilot, target)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert current_screen(app) is dialog
        assert target.read_text() == "keep me\n"
        assert "was kept" in str(dialog.query_one("#export-error", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for_export(pilot)
        assert isinstance(app.screen, AuditScreen)
        assert json.loads(target.read_text().splitlines()[0])["summary"] == "a note"


async def test_an_unwritable_path_is_refused_in_the_dialog(engine: Engine, tmp_path: Path) -> None:
    record(engine, "human", "note.added", "a note")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        await audit_screen(pilot)
        dialog = await open_export(pilot, blocker / "audit.jsonl")
        await pilot.press("ctrl+s")
        await wait_for_export(pilot)
        assert app.screen is dialog
        problem = str(dialog.query_one("#export-error", Static).render())
        assert "cannot write" in problem and "a-file" in problem
        dialog.query_one("#export-path", Input).value = str(tmp_path / "audit.txt")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "extension" in str(dialog.query_one("#export-error", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)
        assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file", "home"]


async def test_a_key_echoed_by_a_provider_never_reaches_an_export(
    paths: Paths, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = "sk-ant-export-SECRET-0123456789"
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as fake:
        fake.then(Reply(status=401, body={"error": {"message": f"invalid x-api-key: {key}"}}))
        agent = AgentSettings(name="claude", provider="anthropic", model="m", base_url=fake.url)
        engine = Engine(paths, replace(settings, agents=(agent,)), env={"ANTHROPIC_API_KEY": key})
        try:
            outcome = await engine.test_agent("claude")
            assert outcome.error is not None and outcome.error.error_class == "auth"
            record(engine, "claude", "note.added", f"my key is {key}", echoed=key)
            events = list(
                itertools.chain.from_iterable(matching_pages(engine.store.search_audit, AuditFilter()))
            )
            assert any(event.kind == "call.failed" for event in events)
            for suffix in (".jsonl", ".csv", ".md"):
                path = tmp_path / f"audit{suffix}"
                export_events(events, path)
                written = path.read_text(encoding="utf-8")
                assert key not in written
                assert "redacted" in written
        finally:
            engine.close()


# ------------------------------------------------------------ a big log


def test_pages_are_read_once_and_evicted_pages_read_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_many(engine, 55 - total_events(engine))
    searches = spy_on_searches(engine, monkeypatch)
    pages = AuditPages(engine.store.search_audit, AuditFilter(), page_size=10, cached_pages=2)
    assert pages.load_until(1) and len(pages) == 10 and len(searches) == 1
    pages.load_until(100)
    assert pages.exhausted and len(pages) == 55 and len(searches) == 6
    expected = engine.audit_events(100)
    assert [pages.row(index) for index in range(50, 55)] == expected[50:55]  # cached: no read
    assert len(searches) == 6
    assert pages.row(0) == expected[0]  # evicted: read again, from where the page began
    assert len(searches) == 7 and searches[-1]["before_id"] == expected[0].id + 1
    record(engine, "human", "note.added", "newer")
    assert pages.newer() == 1 and (newest := pages.row(0)) is not None and newest.summary == "newer"
    assert pages.row(1) == expected[0]


def fill_audit(engine: Engine, count: int) -> None:
    """`count` events written straight into the audit table, as a long-lived data dir holds them."""
    start = engine.clock.now()
    rows = (
        (
            start + number,
            None,
            ("claude", "human", "engine")[number % 3],
            "task.done",
            f"task:{number}",
            f"event {number}",
            "{}",
        )
        for number in range(count)
    )
    connection = engine.store._connection
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO audit (ts, project_id, actor, kind, subject, summary, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    connection.execute("COMMIT")


async def test_a_hundred_thousand_events_cost_one_query_and_no_widget_per_row(engine: Engine) -> None:
    fill_audit(engine, 100_000)
    queries: list[str] = []
    engine.store._connection.set_trace_callback(queries.append)
    app = OrkestraApp(engine, first_mode="audit")
    async with app.run_test(size=SIZE) as pilot:
        screen = await audit_screen(pilot)
        engine.store._connection.set_trace_callback(None)
        # The app's watch for other processes' changes notes where the log ends (one max(id)): not a read.
        audit_reads = [
            sql
            for sql in queries
            if "audit" in sql.lower() and sql.lstrip().startswith("SELECT") and "max(id)" not in sql
        ]
        assert len(audit_reads) == 1, audit_reads
        pages = table_of(screen).pages
        assert pages.loaded == pages.page_size
        assert shown(screen)[0].summary == "event 99999"
        widgets = list(app.screen.walk_children(with_self=True))
        assert len(widgets) < 40, len(widgets)
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown")
        await pilot.pause()
        assert len(list(app.screen.walk_children(with_self=True))) == len(widgets)
