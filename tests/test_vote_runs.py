"""One vote, several processes: who runs it, and an answer given in another process.

The app in a terminal and in browser tabs (`orkestra serve`: one app process per
tab), `orkestra vote` and `orkestra mcp` may all open one data dir. Each app
resumes the votes under way when it starts, and the human may break a tie in
any of them. These tests use real processes: a vote is never run by two at
once (it would pay twice for its ballots), a tie another process left for the
human ends when it is broken in an app that was already open, and a vote that
waits for an answer takes one given by another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fakes import ScriptedProvider, ballot_for
from textual.pilot import Pilot

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.errors import VoteRunElsewhere
from orkestra_tui.engine.models import DecisionStatus, InboxKind, InboxStatus
from orkestra_tui.engine.supervisor import Supervisor
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.tie_break import TieBreakScreen

SPLIT = (
    "SQLite: simple, safe and tested",
    "PostgreSQL: scale and data tooling",
    "A bold new event store",
    "Plain files with a typed code layer",
)
"""With seed 0 and plurality in one round these tie, and so does the compromise round after it."""
TIED = ("Ship on Friday", "Ship on Monday")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data dir whose simulated agents answer at once, with the seed the split was found with."""
    (tmp_path / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8")
    return tmp_path


@pytest.fixture
def home_engine(home: Path) -> Iterator[Engine]:
    paths = resolve_paths(home)
    engine = Engine(paths, load_settings(paths.config_file), env={})
    yield engine
    engine.close()


@pytest.fixture
def other_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live process of this machine, to stand for another app running a vote."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


def owner_name(pid: int) -> str:
    """A lease owner's name for a process of this machine (host, pid, nonce)."""
    return f"{socket.gethostname()}:{pid}:0badc0de"


async def poll(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app and the other process work until `condition` holds."""
    for _ in range(1200):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_a_vote_another_live_process_runs_is_left_to_it(
    home_engine: Engine, other_process: subprocess.Popen[bytes]
) -> None:
    engine = home_engine
    voters = ["claude", "chatgpt", "gemini"]
    fakes = {voter: ScriptedProvider(ballot_for(TIED[0])) for voter in voters}
    fakes["gemini"].blocking = True
    for voter, fake in fakes.items():
        engine.use_provider(voter, fake)
    decision = engine.open_decision("When do we ship?", list(TIED), voters=voters, method="plurality")
    running = asyncio.ensure_future(engine.decide(decision.id, tie_break="first"))
    for _ in range(600):
        if len(engine.store.ballots(decision.id, 1)) == 2:
            break
        await asyncio.sleep(0.05)
    assert engine.store.scalar("SELECT runner FROM decision WHERE id = ?", (decision.id,)) is not None
    running.cancel()  # this app closes mid-vote: the vote is under way, and nobody runs it
    with contextlib.suppress(asyncio.CancelledError):
        await running
    assert engine.store.scalar("SELECT runner FROM decision WHERE id = ?", (decision.id,)) is None
    assert decision.id in Supervisor(engine).votes_to_resume()
    fakes["gemini"].blocking = False

    # Another app (a live process of this machine) resumed it meanwhile.
    assert engine.store.swap_decision_runner(decision.id, None, owner_name(other_process.pid))
    assert engine.vote_runner(decision.id) == owner_name(other_process.pid)
    assert decision.id not in Supervisor(engine).votes_to_resume()
    with pytest.raises(VoteRunElsewhere, match=f"pid {other_process.pid}"):
        await engine.decide(decision.id, tie_break="first")
    assert len(engine.store.ballots(decision.id, 1)) == 2  # nothing asked for, nothing paid twice

    other_process.kill()
    other_process.wait()
    assert engine.vote_runner(decision.id) is None  # a dead runner holds nothing
    assert decision.id in Supervisor(engine).votes_to_resume()
    decided = await engine.decide(decision.id, tie_break="first")
    assert decided.status is DecisionStatus.DECIDED
    assert len(engine.store.ballots(decision.id, 1)) == 3
    assert engine.store.scalar("SELECT runner FROM decision WHERE id = ?", (decision.id,)) is None


async def test_an_answer_given_by_another_process_wakes_a_waiting_vote(
    home: Path, home_engine: Engine
) -> None:
    item = home_engine.inbox.ask(InboxKind.TIE_BREAK, "Which one?", {"tied": []})
    waiting = asyncio.ensure_future(home_engine.inbox.wait(item.id))
    await asyncio.sleep(0)
    # Another process's connection answers it: only the store says so.
    answer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys\n"
        "from orkestra_tui.config import load_settings, resolve_paths\n"
        "from orkestra_tui.engine.engine import Engine\n"
        "paths = resolve_paths(sys.argv[1])\n"
        "engine = Engine(paths, load_settings(paths.config_file), env={})\n"
        "engine.inbox.answer(int(sys.argv[2]), {'choice': 'B'})\n"
        "engine.close()\n",
        str(home),
        str(item.id),
    )
    assert await answer.wait() == 0
    assert await asyncio.wait_for(waiting, timeout=60) == {"choice": "B"}


async def test_a_tie_left_by_a_command_ends_when_broken_in_an_app_already_open(
    home: Path, home_engine: Engine
) -> None:
    app = OrkestraApp(home_engine, first_mode="voting")
    async with app.run_test(size=(110, 34)) as pilot:
        await pilot.pause()
        # `orkestra vote` with no terminal leaves the tie to the app, and ends.
        vote = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "orkestra_tui",
            "--data-dir",
            str(home),
            "vote",
            "Which store?",
            *[argument for option in SPLIT for argument in ("--option", option)],
            "--method",
            "plurality",
            "--rounds",
            "1",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _out, err = await vote.communicate()
        assert vote.returncode == 3, err.decode()  # 3: it waits for the human
        (decision,) = home_engine.decisions()
        assert decision.status is DecisionStatus.AWAITING_HUMAN, err.decode()

        def tie_waiting() -> bool:
            return any(
                item.kind is InboxKind.TIE_BREAK and item.status is InboxStatus.OPEN
                for item in home_engine.inbox.open_items()
            )

        await poll(pilot, tie_waiting, "the tie in the inbox")
        app.action_tie_break()
        await poll(pilot, lambda: isinstance(app.screen, TieBreakScreen), "the tie-break dialog")
        await pilot.press("1", "enter")

        await poll(
            pilot,
            lambda: home_engine.decision(decision.id).status is DecisionStatus.DECIDED,  # type: ignore[union-attr]
            "the vote ending in the app",
        )
    decided = home_engine.decision(decision.id)
    assert decided is not None and decided.outcome is not None
    assert decided.outcome.get("tie_break_by") == "human"
