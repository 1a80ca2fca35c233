"""A home without projects: the brief is drawn and takes typing before the engine is built.

The engine's build is held (its imports wait on a gate) to look at the window
between the first screen and the engine: the form is there and typing reaches
its fields; an action that needs the engine waits for it, and nothing typed is
lost. A subprocess shows what the first screen imports, and the installed
`orkestra` in tmux takes keys sent the moment its screen shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from test_brief_pages import wait_until
from test_terminal import screen_text, tmux, wait_for
from textual import events
from textual.widgets import Input, SelectionList, Static

from orkestra_tui.config import Paths, Settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.planning.planning import Planner
from orkestra_tui.engine.store.peek import holds_projects
from orkestra_tui.tui import engine_opening
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.engine_opening import EngineOpening
from orkestra_tui.tui.screens.plan import PlanScreen
from orkestra_tui.tui.widgets.mode_bar import ModeBar

__all__ = ["tmux"]  # the fixture, shared with the other real-terminal test

SIZE = (100, 32)


@pytest.fixture
def held_build(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """A gate the engine's imports wait on (in their thread) until the test opens it.

    A test opens it before its app ends, whatever happens: the app's end waits for the thread.
    """
    gate = threading.Event()
    monkeypatch.setattr(engine_opening, "import_engine_modules", gate.wait)
    yield gate
    gate.set()


@contextlib.asynccontextmanager
async def opened_at_the_end(gate: threading.Event) -> AsyncIterator[None]:
    try:
        yield
    finally:
        gate.set()


def opening(paths: Paths, settings: Settings, built: list[Engine]) -> EngineOpening:
    def build() -> Engine:
        engine = Engine(paths, settings, env={})
        built.append(engine)
        return engine

    return EngineOpening(settings, build)


async def test_the_brief_takes_typing_and_waits_for_the_engine_to_start_the_plan(
    paths: Paths, settings: Settings, held_build: threading.Event
) -> None:
    built: list[Engine] = []
    app = OrkestraApp(opening(paths, settings, built))
    try:
        async with app.run_test(size=SIZE) as pilot, opened_at_the_end(held_build):
            screen = app.screen
            assert isinstance(screen, PlanScreen)
            await wait_until(pilot, lambda: screen.body_ready, "the brief")
            assert not app.engine_open
            await pilot.press("enter", *"Shop", "tab", *"Sell")
            await pilot.pause()
            assert screen.query_one("#brief-name", Input).value == "Shop"
            assert screen.query_one("#brief-goals", Input).value == "Sell"
            assert screen.query_one(ModeBar).agents is None  # the badge waits for the engine
            assert not app.engine_open and not built
            # Needs the engine: waits for it (the app takes no other message meanwhile, so the key
            # is posted rather than pressed, which would wait for the app to be idle).
            app.post_message(events.Key("ctrl+s", None))
            await asyncio.sleep(0)
            assert not built
            held_build.set()
            await wait_until(pilot, lambda: bool(built) and bool(built[0].projects()), "the plan")
            engine = built[0]
            brief = Planner(engine).session(engine.projects()[0].id).brief
            assert (brief.name, brief.goals) == ("Shop", "Sell")
            assert brief.agents == tuple(agent.name for agent in engine.agents() if agent.enabled)
            assert screen.query_one(ModeBar).agents == tuple(engine.agents())
            assert "simulated" in str(screen.query_one("#brief-banner", Static).render())
    finally:
        for engine in built:
            engine.close()


async def test_the_committee_page_waits_for_the_agents(
    paths: Paths, settings: Settings, held_build: threading.Event
) -> None:
    built: list[Engine] = []
    app = OrkestraApp(opening(paths, settings, built))
    try:
        async with app.run_test(size=SIZE) as pilot, opened_at_the_end(held_build):
            screen = app.screen
            assert isinstance(screen, PlanScreen)
            await wait_until(pilot, lambda: screen.body_ready, "the brief")
            # Through to page 3 (the committee) before the engine has said who the agents are.
            await pilot.press("enter", "tab", "tab", "tab", "tab", "tab")
            assert app.focused is not None and app.focused.id == "brief-repository"
            app.post_message(events.Key("tab", None))  # posted: the form waits, so pressing would too
            await asyncio.sleep(0)
            assert not screen.query("#brief-agents")
            held_build.set()
            await wait_until(pilot, lambda: bool(screen.query("#brief-agents")), "the committee's page")
            assert app.focused is not None and app.focused.id == "brief-involvement"  # the Tab, not lost
            agents = screen.query_one("#brief-agents", SelectionList)
            assert built and agents.option_count == len(built[0].agents())
    finally:
        for engine in built:
            engine.close()


async def test_an_engine_that_cannot_be_built_ends_the_app_with_its_error(
    paths: Paths, settings: Settings
) -> None:
    def build() -> Engine:
        raise OSError(30, "Read-only file system", str(paths.data_dir))

    app = OrkestraApp(EngineOpening(settings, build))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.engine_error is not None, "the error")
    assert isinstance(app.engine_error, OSError) and app.return_code == 2
    assert app.opened_engine is None


def test_a_look_into_the_database_tells_whether_it_holds_projects(engine: Engine, paths: Paths) -> None:
    assert holds_projects(paths.data_dir / "none.db") is False  # no file: nothing to build first
    assert holds_projects(paths.database) is False
    engine.create_project("Shop")
    assert holds_projects(paths.database) is True
    broken = paths.data_dir / "broken.db"
    broken.write_bytes(b"not a database at all" * 100)
    assert holds_projects(broken) is None  # the engine is built first, and says what is wrong


FIRST_SCREEN_IMPORTS = """
import json, sys
from orkestra_tui import cli
from orkestra_tui.tui import engine_opening

def hold() -> None:  # called once the first screen is drawn, just before the engine is built
    names = (name for name in sys.modules if name.startswith("orkestra_tui") or name == "argparse")
    print(json.dumps(sorted(names)), flush=True)

engine_opening.import_engine_modules = hold
run_tui = cli.run_tui
cli.run_tui = lambda args: run_tui(args, headless=True, on_ready=lambda app: app.exit())
sys.exit(cli.main([]))  # plain `orkestra`
"""


def test_the_first_screen_is_drawn_without_the_engines_modules(tmp_path: Path) -> None:
    environment = {"ORKESTRA_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", FIRST_SCREEN_IMPORTS],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout.strip().splitlines()[0])
    heavy = ("engine.engine", "engine.models", "engine.store.store", "engine.agents", "providers")
    assert not [name for name in imported if name.removeprefix("orkestra_tui.").startswith(heavy)]
    assert "orkestra_tui.tui.screens.plan" in imported  # drawn: the brief's screen
    assert "argparse" not in imported and "orkestra_tui.commands.parser" not in imported  # no parser built
    assert "orkestra_tui.tui.palette" not in imported  # the command palette's actions: when it opens


def test_keys_sent_as_the_screen_shows_all_reach_the_brief(tmux: list[str], tmp_path: Path) -> None:
    from orkestra_tui.bench.startup import installed_orkestra

    home = tmp_path / "home"
    launch = f"env ORKESTRA_HOME={home} TERM=xterm-256color {installed_orkestra()}; echo exited-$?; sleep 30"
    subprocess.run([*tmux, "new-session", "-d", "-s", "app", "-x", "100", "-y", "30", launch], check=True)
    deadline = time.monotonic() + 60
    while "Fill in the brief" not in screen_text(tmux):  # looked at as often as tmux answers
        assert time.monotonic() < deadline, screen_text(tmux)
    send = [*tmux, "send-keys", "-t", "app"]
    subprocess.run([*send, "Enter"], check=True)
    subprocess.run([*send, "-l", "Inventory service"], check=True)
    subprocess.run([*send, "C-s"], check=True)
    # The new project's column, and the project in it. Both waited for: tmux may be captured
    # between two pieces of the frame that draws the column, its border drawn and its list not yet.
    deadline = time.monotonic() + 60
    while not all(words in (shown := screen_text(tmux)) for words in ("Projects", "Inventory service")):
        assert time.monotonic() < deadline, shown
        time.sleep(0.1)
    assert "Traceback" not in shown
    subprocess.run([*send, "C-q"], check=True)
    assert "exited-0" in wait_for(tmux, "exited-")
    engine = Engine(resolve_paths(home), Settings(), env={})
    try:
        project = engine.projects()[0]
        brief = Planner(engine).session(project.id).brief
        assert brief.name == "Inventory service"
    finally:
        engine.close()
