"""Numbers, counts, keys and lists read as words, on the screens and in the commands."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

from textual.pilot import Pilot

from orkestra_tui.bench import audit, board, tally
from orkestra_tui.engine.engine import Engine
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.help import HelpScreen, key_label
from orkestra_tui.wording import key_words, listing, percent, plural

SIZE = (120, 30)
GUARD_S = 120
"""Only so a command that waits for input fails instead of hanging the suite."""


def screen_text(app: OrkestraApp) -> str:
    """The screen as plain text, rebuilt from its SVG screenshot."""
    svg = app.export_screenshot()
    lines: dict[float, list[str]] = {}
    for x, y, length, content in re.findall(
        r'<text [^>]*?x="([0-9.]+)" y="([0-9.]+)" textLength="([0-9.]+)"[^>]*>(.*?)</text>', svg
    ):
        text = html.unescape(content).replace("\xa0", " ")
        line = lines.setdefault(float(y), [])
        column = round(float(x) / (float(length) / len(text))) if text else 0
        line.extend(" " * (column - len(line)))
        line[column : column + len(text)] = text
    return "\n".join("".join(line) for _y, line in sorted(lines.items()))


def orkestra(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orkestra_tui", *arguments, "--data-dir", str(home)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=GUARD_S,
        check=False,
    )


def simulated_home(tmp_path: Path, engine: str = "") -> Path:
    (tmp_path / "config.toml").write_text(
        f"{engine}[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8"
    )
    return tmp_path


async def wait_for(pilot: Pilot[None], app: OrkestraApp, text: str) -> str:
    for _ in range(200):
        shown = screen_text(app)
        if text in shown:
            return shown
        await pilot.pause()
    raise AssertionError(f"{text!r} never showed:\n{screen_text(app)}")


# ------------------------------------------------------------------ the helpers


def test_plural_counts_one_and_many() -> None:
    assert [plural(count, "task") for count in (0, 1, 4)] == ["0 tasks", "1 task", "4 tasks"]
    assert plural(2, "reply", "replies") == "2 replies"


def test_percent_has_at_most_one_decimal() -> None:
    assert [percent(share) for share in (0.0, 0.6, 2 / 3, 0.125, 1.0)] == [
        "0%",
        "60%",
        "66.7%",
        "12.5%",
        "100%",
    ]
    assert (percent(0.99999), percent(0.00001)) == (">99.9%", "<0.1%")


def test_keys_and_lists_read_as_words() -> None:
    assert key_words("round_feedback") == "round feedback"
    plans = ["Plan C: 4 phases, by an architect (steady pace).", "Plan E: 2 phases (lean pace)."]
    assert listing(plans) == "Plan C: 4 phases, by an architect (steady pace); Plan E: 2 phases (lean pace)"
    assert listing(["SQLite", "PostgreSQL"]) == "SQLite, PostgreSQL"


def test_bench_titles_name_the_workload_measured() -> None:
    assert audit.describe(quick=True).startswith(f"{audit.QUICK_EVENTS:,} audit events")
    assert audit.describe().startswith("1,000,000 audit events")
    assert board.describe(quick=True).startswith(f"Board with {board.QUICK_TASKS:,} tasks")
    assert "10,000 ballots" in tally.describe(quick=True)


# ------------------------------------------------------------------ the screens


async def test_the_voting_screen_words_rules_and_shares(engine: Engine) -> None:
    engine.open_decision(
        "Which database?",
        ["SQLite", "PostgreSQL"],
        method="supermajority",
        rules={"threshold": 2 / 3, "quorum": 0.5, "round_feedback": True},
    )
    app = OrkestraApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "3")  # the first run opens the Plan screen in a text field
        shown = await wait_for(pilot, app, "Which database?")
        assert "round feedback · threshold 66.7%" in shown
        assert "round_feedback" not in shown and "66.6667" not in shown


async def test_help_shows_the_slash_key_as_a_slash(sample_engine: Engine) -> None:
    assert key_label("slash") == "/"
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=(120, 120)) as pilot:  # tall enough for every screen's keys
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = screen_text(app)
        assert "slash" not in shown
        assert re.search(r"^\W*/ +Filter", shown, re.MULTILINE), shown


# ------------------------------------------------------------------ the commands


def test_plan_output_counts_in_words_and_joins_plans_cleanly(tmp_path: Path) -> None:
    home = simulated_home(tmp_path, "[engine]\nmax_rounds = 1\n\n")
    brief = ["--name", "Shop", "--description", "A small online shop", "--method", "plurality"]
    done = orkestra(home, "plan", *brief, "--tie-break", "first")
    assert done.returncode == 0, done.stderr
    assert "A tie-break is needed between Plan " in done.stderr
    assert "(s)" not in done.stdout + done.stderr
    assert "., " not in done.stderr
    assert re.search(r"refined the plan: 1 change$", done.stderr, re.MULTILINE), done.stderr


def test_vote_support_has_one_decimal(tmp_path: Path) -> None:
    home = simulated_home(tmp_path)
    voters = ["--voter", "claude", "--voter", "chatgpt", "--voter", "gemini"]
    done = orkestra(home, "vote", "Which database?", "--option", "SQLite", "--option", "PostgreSQL", *voters)
    assert done.returncode == 0, done.stderr
    assert "support 66.7%" in done.stdout
    assert "after 1 round;" in done.stdout


def test_snapshot_list_shows_the_date_and_time(tmp_path: Path) -> None:
    home = simulated_home(tmp_path)
    assert orkestra(home, "vote", "Which database?", "--option", "A", "--option", "B").returncode == 0
    assert orkestra(home, "snapshot", "create").returncode == 0
    listed = orkestra(home, "snapshot", "list")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\b", listed.stdout), listed.stdout


def test_a_bad_since_is_worded_properly(tmp_path: Path) -> None:
    done = orkestra(simulated_home(tmp_path), "audit", "--since", "yesterday")
    assert done.returncode == 2
    assert '"yesterday" is neither a date nor a time (2026-11-23, 2026-11-23T10:00) nor an age' in done.stderr
