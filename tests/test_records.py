"""Markdown decision records: their contents, escaping, files, the command and the Voting screen's x."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedProvider, ballot_for
from markdown_it import MarkdownIt
from markdown_it.token import Token
from textual.app import App
from textual.screen import Screen

from orkestra_tui.bench.fake_api import Reply, WireFake, serving
from orkestra_tui.cli import main
from orkestra_tui.config import Paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import Decision, DecisionStatus, InboxKind
from orkestra_tui.engine.voting.records import (
    RecordExistsError,
    decision_record,
    export_records,
    record_filename,
    write_record,
)
from orkestra_tui.errors import DiskFullError
from orkestra_tui.providers.base import ProviderRequest

FRIDAY, MONDAY, LATER = "Ship on Friday", "Ship on Monday", "Ship next month"
WEDNESDAY = "Ship on Wednesday"
VOTERS = ("claude", "chatgpt", "gemini", "copilot")
FEEDBACK = "Think about the on-call <b>rota</b>."
HOSTILE = (
    "# heading\n[link](http://x) <script>alert(1)</script> `code` ![img](http://y/i.png) | pipe"
    " ~~strike~~ www.evil.example *bold* _it_ &lt; <http://z> \x1b[31mred"
)
OUR_HEADINGS = (
    "Decision ",
    "Context",
    "Options",
    "Method and rules",
    "Round ",
    "Extra round ",
    "Ballots",
    "Tally",
    "Deadlock and resolution",
    "Tie-breaks and overrides",
    "Feedback between rounds",
    "Outcome",
    "Cost",
)
SAMPLE_DECIDED = {1: "condorcet", 2: "ranked_choice"}
"""The sample's finished votes; decision 3 is still under way."""
SAMPLE_UNDER_WAY = 3


def voter(*preferences: str, reasoning: str = "because", compromise: str = "") -> ScriptedProvider:
    """An agent that ranks `preferences` first and, asked to mediate, proposes `compromise`."""
    ballot = ballot_for(*preferences, reasoning=reasoning)

    def script(request: ProviderRequest, index: int) -> str | BaseException:
        if request.purpose == "compromise":
            return json.dumps({"option": compromise, "rationale": "Monday gives QA a weekend"})
        return ballot(request, index)

    return ScriptedProvider(script)


def deadlocked_ranked_choice(engine: Engine) -> Decision:
    """Friday 2, Monday 1, next month 1: next month goes, then Friday and Monday tie, round after round.

    The human gives feedback between the rounds; the deadlock brings copilot's
    compromise (Wednesday), which ties too, and then the human breaks the tie.
    """
    engine.use_provider("claude", voter(FRIDAY, LATER, reasoning=HOSTILE))
    engine.use_provider("chatgpt", voter(FRIDAY))
    engine.use_provider("gemini", voter(MONDAY))
    engine.use_provider("copilot", voter(LATER, MONDAY, compromise=WEDNESDAY))
    decision = engine.open_decision(
        "When do we ship?",
        [FRIDAY, MONDAY, LATER],
        method="ranked_choice",
        voters=VOTERS,
        max_rounds=2,
        rules={"round_feedback": True},
    )

    async def vote_as_the_human() -> Decision:
        voting = asyncio.create_task(engine.decide(decision.id))
        answered: set[int] = set()
        while not voting.done():
            for item in engine.inbox.open_items():
                if item.id in answered:
                    continue
                answered.add(item.id)
                if item.kind is InboxKind.ROUND_FEEDBACK:
                    engine.answer_round_feedback(item.id, FEEDBACK)
                elif item.kind is InboxKind.TIE_BREAK:
                    engine.answer_tie_break(item.id, MONDAY)
            await asyncio.sleep(0.01)
        return await voting

    decided = asyncio.run(vote_as_the_human())
    assert decided.outcome is not None and decided.outcome["how"] == "human tie-break"
    return decided


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for records (tmp_path also holds the data dir)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def decided(engine: Engine) -> Decision:
    return deadlocked_ranked_choice(engine)


def tied_by_policy(engine: Engine) -> Decision:
    """Two agents for each option, plurality, one round: grok, not voting, mediates; the policy picks."""
    for name, option in zip(VOTERS, (FRIDAY, FRIDAY, MONDAY, MONDAY), strict=True):
        engine.use_provider(name, voter(option))
    decision = engine.open_decision(
        "When do we ship?", [FRIDAY, MONDAY], method="plurality", voters=VOTERS, max_rounds=1
    )
    return asyncio.run(engine.decide(decision.id, tie_break="first"))


def all_tokens(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from all_tokens(token.children or [])


# ------------------------------------------------------------------ contents


def test_a_ranked_choice_record_tells_the_whole_vote(engine: Engine, decided: Decision) -> None:
    record = decision_record(engine.store, decided.id)
    assert record.startswith(f"# Decision {decided.id}: When do we ship?\n")
    assert "- **Outcome:** **Ship on Monday**, by the human's tie-break" in record
    # The context: the options and who proposed each, the compromise included.
    assert "| A | Ship on Friday | human, with the question |" in record
    assert f"| D | {WEDNESDAY} | copilot, as a compromise put to the vote in round 3 |" in record
    assert "- **Project:** none" in record
    # The method and rules.
    assert "- **Method:** ranked choice" in record
    assert "- **Threshold:** 75% (only supermajority uses it)" in record
    assert "- **Quorum:** a majority (more than half of the ballots must count)" in record
    assert "- **Weights:** none: every ballot counts once" in record
    assert "- **Rounds:** at most 2, 3 held" in record
    # Every round, its ballots as option texts, and its eliminations step by step.
    assert "## Round 1 of 2\n" in record and "## Round 2 of 2\n" in record
    assert "## Extra round 3 (compromise by copilot)\n" in record
    assert "| chatgpt | Ship on Friday | 0.80 | because |" in record
    assert f"| copilot | {LATER} › {MONDAY} (own proposal left off: {WEDNESDAY}) | 0.80 | because |" in record
    assert "| **C** Ship next month | 1 | out |" in record
    assert (
        "1. Count 1: **Ship next month** eliminated, fewest votes. Ship on Monday and Ship next month"
        in record
    )
    assert "2. Count 2: tied, no majority." in record
    assert f"| **D** {WEDNESDAY} | 0 | out | out |" in record
    # The deadlock, the compromise and the human's tie-break: who, what, when.
    assert "Steps taken: a compromise → the human's tie-break." in record
    assert "**engine**: Deadlock: rounds 1 and 2 gave the same first preferences" in record
    assert (
        f"**copilot**: copilot proposed a compromise: {WEDNESDAY} (rationale: Monday gives QA a weekend);"
        " put to the vote in round 3" in record
    )
    (request,) = [item for item in engine.store.inbox(None) if item.kind is InboxKind.TIE_BREAK]
    assert request.answered_at is not None
    answered_at = _utc(request.answered_at)
    assert f"- {answered_at}: the human chose **Ship on Monday**." in record
    assert (
        "the committee asked to break the tie between Ship on Friday (50%), Ship on Monday (25%)." in record
    )
    # The human's feedback between rounds, escaped.
    (feedback,) = engine.store.feedback(decided.id)
    assert (
        f"- For round 2 ({_utc(feedback.created_at)}), the human wrote:"
        " Think about the on-call \\<b\\>rota\\</b\\>." in record
    )
    # The outcome, the consensus level and the cost.
    assert "- **How:** by the human's tie-break" in record
    assert "- **Consensus:** split, support 25%, participation 100%" in record
    assert decided.decided_at is not None
    assert f"- **Closed:** {_utc(decided.decided_at)} by human" in record
    calls, tokens, cost = engine.store.decision_cost(decided.id)
    assert calls > 0 and tokens > 0
    assert f"- **Calls:** {calls}\n- **Tokens:** {tokens:,}\n- **Dollars:** ${cost:.4f}" in record


def _utc(timestamp: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def test_a_tie_broken_by_policy_says_nobody_was_asked(engine: Engine) -> None:
    decided = tied_by_policy(engine)
    record = decision_record(engine.store, decided.id)
    assert "**engine**: grok mediates a compromise: it backs none of the leading options" in record
    assert "policy:first (nobody was asked) chose **Ship on Friday**." in record
    assert "- **How:** by the tie-break policy" in record
    assert "## Feedback between rounds\n\nNone." in record


def test_a_condorcet_record_has_the_pairwise_table(engine: Engine) -> None:
    options = ["Postgres", "Queue", "Redis"]
    engine.use_provider("claude", voter("Postgres", "Queue", "Redis"))
    engine.use_provider("chatgpt", voter("Postgres", "Redis", "Queue"))
    engine.use_provider("gemini", voter("Queue", "Postgres", "Redis"))
    decision = engine.open_decision(
        "Which store?", options, method="condorcet", voters=VOTERS[:3], max_rounds=1
    )
    asyncio.run(engine.decide(decision.id, tie_break="first"))
    record = decision_record(engine.store, decision.id)
    beats = {
        ("Postgres", "Queue"): 2,
        ("Postgres", "Redis"): 3,
        ("Queue", "Postgres"): 1,
        ("Queue", "Redis"): 2,
        ("Redis", "Postgres"): 0,
        ("Redis", "Queue"): 1,
    }
    labels = dict(zip(options, "ABC", strict=True))  # the options' own order, whatever the voters saw
    by_label = sorted(options, key=labels.__getitem__)
    header = "| Ranked above → | " + " | ".join(f"vs {labels[option]}" for option in by_label) + " |"
    assert header in record
    for row in by_label:
        cells = ["—" if row == column else str(beats[row, column]) for column in by_label]
        assert f"| **{labels[row]}** {row} | " + " | ".join(cells) + " |" in record
    assert "**Result:** Postgres beats every other option head to head" in record
    assert "| **A** Postgres | 2 |" in record  # first choices
    assert "- **Outcome:** **Postgres**, by vote" in record


def test_hostile_reasoning_cannot_add_headings_links_or_html(engine: Engine, decided: Decision) -> None:
    record = decision_record(engine.store, decided.id)
    assert "\\# heading" in record
    assert "\\[link\\](http\\://x)" in record
    assert "\\<script\\>alert(1)\\</script\\>" in record
    assert "\\`code\\`" in record and "www\\.evil.example" in record and "\\|" in record
    assert "\\\\x1b\\[31mred" in record and "\x1b" not in record
    tokens = list(all_tokens(MarkdownIt("gfm-like").parse(record)))
    kinds = {token.type for token in tokens}
    assert not kinds & {"link_open", "image", "code_inline", "html_block", "s_open", "em_open"}
    assert {token.content for token in tokens if token.type == "html_inline"} <= {"<br>"}
    headings = [
        tokens[index + 1].content for index, token in enumerate(tokens) if token.type == "heading_open"
    ]
    assert headings and all(heading.startswith(OUR_HEADINGS) for heading in headings)
    assert not any(line.startswith("#") and "heading" in line for line in record.splitlines())


def test_only_a_finished_vote_has_a_record(engine: Engine) -> None:
    decision = engine.open_decision("Open?", [FRIDAY, MONDAY])
    with pytest.raises(EngineError, match=r"decision 1 is still open \(open\); only a finished vote"):
        decision_record(engine.store, decision.id)
    with pytest.raises(EngineError, match="there is no decision 404"):
        decision_record(engine.store, 404)


@pytest.mark.parametrize(
    ("decision_id", "question", "expected"),
    [
        (42, "Which database?", "decision-0042-which-database.md"),
        (7, "../../etc/passwd; rm -rf ~", "decision-0007-etc-passwd-rm-rf.md"),
        (3, "Ça marche — «vite»?", "decision-0003-ca-marche-vite.md"),
        (12345, "???", "decision-12345-question.md"),
        (
            1,
            "Should the inventory service keep its stock ledger in SQLite or PostgreSQL for now?",
            "decision-0001-should-the-inventory-service-keep-its-stock.md",
        ),
    ],
)
def test_record_file_names_are_safe_slugs(
    engine: Engine, decision_id: int, question: str, expected: str
) -> None:
    decision = replace(engine.open_decision("Q?", [FRIDAY, MONDAY]), id=decision_id, question=question)
    assert record_filename(decision) == expected


# ------------------------------------------------------------------ files


def test_export_writes_each_finished_vote_once(sample_engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "records"  # created: its parent exists
    written = export_records(sample_engine.store, out)
    assert [path.name for path in written] == [
        "decision-0001-which-ci-service-should-run-the-checks.md",
        "decision-0002-which-database-should-back-the-stock-ledger.md",
    ]
    for decision_id, path in zip(SAMPLE_DECIDED, written, strict=True):
        assert path.read_text(encoding="utf-8") == decision_record(sample_engine.store, decision_id)
    assert sorted(os.listdir(out)) == [path.name for path in written]  # no temporary file left
    project = sample_engine.projects()[0]
    assert export_records(sample_engine.store, tmp_path / "mine", project_id=project.id, overwrite=True)
    assert export_records(sample_engine.store, tmp_path / "none", project_id=project.id + 1) == []
    assert not (tmp_path / "none").exists()


def test_an_existing_file_is_not_replaced_unless_asked(sample_engine: Engine, out: Path) -> None:
    second = out / "decision-0002-which-database-should-back-the-stock-ledger.md"
    second.write_text("mine")
    with pytest.raises(RecordExistsError, match=f"{second} already exists") as refused:
        export_records(sample_engine.store, out)
    assert refused.value.paths == (second,)
    assert sorted(os.listdir(out)) == [second.name]  # nothing written, not even the other record
    written = export_records(sample_engine.store, out, overwrite=True)
    assert len(written) == 2 and second.read_text().startswith("# Decision 2: ")
    with pytest.raises(RecordExistsError, match="2 records already exist, the first"):
        export_records(sample_engine.store, out)


def test_folders_that_cannot_take_records_are_refused(sample_engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=f"cannot create {tmp_path}/a/b: {tmp_path}/a does not exist"):
        export_records(sample_engine.store, tmp_path / "a" / "b")
    (tmp_path / "file").write_text("")
    with pytest.raises(EngineError, match="is not a folder"):
        export_records(sample_engine.store, tmp_path / "file")
    with pytest.raises(EngineError, match="is a folder; give a file name"):
        write_record(sample_engine.store, 1, tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_folder_is_refused(sample_engine: Engine, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(EngineError, match="permission denied"):
            export_records(sample_engine.store, locked)
    finally:
        locked.chmod(0o700)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    sample_engine: Engine, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = out / "record.md"
    target.write_text("old")

    def full_disk(_source: object, _destination: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(DiskFullError, match=r"the disk holding .*out is full; free some space"):
        write_record(sample_engine.store, 1, target, overwrite=True)
    assert target.read_text() == "old"
    assert os.listdir(out) == ["record.md"]


def test_asked_for_decisions_must_be_finished_and_of_the_project(sample_engine: Engine, out: Path) -> None:
    with pytest.raises(EngineError, match="decision 3 is still open"):
        export_records(sample_engine.store, out, decision_ids=[1, SAMPLE_UNDER_WAY])
    assert os.listdir(out) == []
    with pytest.raises(EngineError, match="decision 1 is not one of the project's"):
        export_records(sample_engine.store, out, decision_ids=[1], project_id=99)
    (written,) = export_records(sample_engine.store, out, decision_ids=[2, 2])
    assert written.name.startswith("decision-0002-")


def test_the_records_module_imports_no_textual_or_rich() -> None:
    code = (
        "import sys, json\nimport orkestra_tui.engine.voting.records\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


# ------------------------------------------------------------------ the command


def export(capsys: pytest.CaptureFixture[str], home: Path, *arguments: str) -> tuple[int, str, str]:
    try:
        status = main(["decisions", "export", "--data-dir", str(home), *arguments])
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_command_writes_prints_and_refuses_to_overwrite(
    sample_engine: Engine, paths: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home, out = paths.config_dir, tmp_path / "out"
    status, printed, err = export(capsys, home, "--out", str(out))
    assert (status, err) == (0, "")
    assert printed.splitlines() == [str(path) for path in sorted(out.iterdir())]
    assert len(printed.splitlines()) == 2
    status, printed, err = export(capsys, home, "--out", str(out))
    assert (status, printed) == (2, "")
    first = out / "decision-0001-which-ci-service-should-run-the-checks.md"
    assert err == f"orkestra: 2 records already exist, the first {first}; pass --force to replace them\n"
    status, printed, err = export(capsys, home, "--out", str(out), "--force", "--json")
    assert (status, err) == (0, "")
    assert json.loads(printed) == {"out": str(out), "records": [str(path) for path in sorted(out.iterdir())]}
    status, printed, err = export(capsys, home, "--out", str(out), "--decision", "2")
    assert status == 2 and "decision-0002-" in err and "pass --force to replace it\n" in err


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("--project", "Nope"), "orkestra: there is no project named 'Nope' (projects: 'Inventory service')"),
        (
            ("--decision", "3"),
            "orkestra: decision 3 is still open (voting); only a finished vote has a record",
        ),
        (("--decision", "404"), "orkestra: there is no decision 404"),
        (
            ("--decision", "zero"),
            "orkestra decisions export: argument --decision: 'zero' is not a whole number",
        ),
        (("--out", "{missing}/deeper"), "orkestra: cannot create {missing}/deeper: {missing} does not exist"),
    ],
)
@pytest.mark.usefixtures("sample_engine")
def test_the_command_says_what_is_wrong_in_one_line(
    paths: Paths,
    out: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: tuple[str, ...],
    expected: str,
) -> None:
    missing = str(out.parent / "missing")
    given = [argument.replace("{missing}", missing) for argument in arguments]
    status, printed, err = export(capsys, paths.config_dir, "--out", str(out), *given)
    assert (status, printed) == (2, "")
    assert err.startswith(expected.replace("{missing}", missing))
    assert len(err.splitlines()) == 1
    assert os.listdir(out) == []


def test_the_command_with_nothing_to_export(
    engine: Engine, paths: Paths, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine.create_project("Empty", "Nothing decided yet.")
    status, printed, err = export(capsys, paths.config_dir, "--out", str(out), "--project", "Empty")
    assert (status, err) == (0, "")
    assert printed == "Nothing to export: project 'Empty' has no decided votes yet.\n"
    status, printed, _ = export(capsys, paths.config_dir, "--out", str(out), "--json")
    assert status == 0 and json.loads(printed) == {"out": str(out), "records": []}
    assert os.listdir(out) == []


# ------------------------------------------------------------------ no key in any record

FAKE_KEY = "sk-ant-records-SECRET-0123456789abcdef"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as server:
        yield server


def test_no_api_key_reaches_a_record(
    tmp_path: Path, fake: WireFake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[[agents]]\nname = "claude"\nprovider = "anthropic"\nmodel = "claude-test"\n'
        f'base_url = "{fake.url}"\n\n'
        '[[agents]]\nname = "local"\nprovider = "simulated"\n\n[simulation]\nlatency_ms = 0\n'
    )
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    # A model that echoes the key in its reasoning: the record must not repeat it.
    answer = {"ranking": ["A", "B"], "confidence": 0.9, "reasoning": f"My key is {FAKE_KEY}, keep it safe."}
    fake.default = Reply(text=json.dumps(answer))
    vote = ["vote", "Keep the key?", "--option", "Yes", "--option", "No", "--tie-break", "first"]
    assert main([*vote, "--data-dir", str(home)]) in (0, 1)
    assert fake.received and FAKE_KEY in " ".join(fake.received[0].headers.values())  # the key was used
    out = tmp_path / "records"
    assert main(["decisions", "export", "--data-dir", str(home), "--out", str(out)]) == 0
    capsys.readouterr()
    (record,) = out.iterdir()
    text = record.read_text(encoding="utf-8")
    assert "| claude | " in text and "keep it safe" in text  # the live agent's ballot is there
    assert FAKE_KEY not in text and FAKE_KEY[:16] not in text


# ------------------------------------------------------------------ the Voting screen


def current(app: App[Any]) -> Screen[Any]:
    """The screen on top (a function, so each check reads it afresh)."""
    return app.screen


async def test_x_exports_the_selected_record_and_asks_before_replacing(
    sample_engine: Engine, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Input, Static

    from orkestra_tui.tui.app import OrkestraApp
    from orkestra_tui.tui.screens.export_record import ExportRecordScreen
    from orkestra_tui.tui.screens.prompt import ConfirmScreen
    from orkestra_tui.tui.screens.voting import VotingScreen

    monkeypatch.chdir(out)
    expected = out / "decision-0002-which-database-should-back-the-stock-ledger.md"
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("3")
        await pilot.pause()
        voting = current(app)
        assert isinstance(voting, VotingScreen)
        assert voting.check_action("export_record", ()) is None  # the vote under way: dimmed
        await pilot.press("x")
        assert current(app) is voting
        await pilot.press("down", "x")
        await pilot.pause()
        dialog = current(app)
        assert isinstance(dialog, ExportRecordScreen)
        assert dialog.query_one("#record-path", Input).value == str(expected)
        await pilot.press("enter")
        await pilot.pause()
        assert current(app) is voting
        assert expected.read_text() == decision_record(sample_engine.store, 2)
        assert any(f"Decision record written to {expected}" in n.message for n in app._notifications)

        expected.write_text("mine")
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(current(app), ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(current(app), ExportRecordScreen) and expected.read_text() == "mine"
        assert "was kept" in str(current(app).query_one("#record-error", Static).render())
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert current(app) is voting and expected.read_text().startswith("# Decision 2: ")

        await pilot.press("x")
        await pilot.pause()
        dialog = current(app)
        assert isinstance(dialog, ExportRecordScreen)
        dialog.query_one("#record-path", Input).value = "nowhere/deeper/record.md"
        await pilot.press("enter")
        await pilot.pause()
        assert current(app) is dialog  # the problem is shown beside the field; the dialog stays
        problem = str(dialog.query_one("#record-error", Static).render())
        assert f"cannot create {out}/nowhere/deeper" in problem
        await pilot.press("escape")
        await pilot.pause()
        assert current(app) is voting
    assert sorted(os.listdir(out)) == [expected.name]


def test_a_cancelled_decision_has_no_record(engine: Engine) -> None:
    decision = engine.open_decision("Cancelled?", [FRIDAY, MONDAY])
    engine.close_decision(decision.id, {"reason": "withdrawn"}, status=DecisionStatus.CANCELLED)
    with pytest.raises(EngineError, match="decision 1 was cancelled"):
        decision_record(engine.store, decision.id)
