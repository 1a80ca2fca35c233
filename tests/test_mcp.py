"""`orkestra mcp`: the installed command, driven by the MCP SDK's own client over stdio.

Each test starts the real `orkestra mcp` in a fresh data dir whose agents are the
engine's simulated ones (seed 0, no latency, no keys in the server's environment),
and talks to it with `mcp.client.stdio` as a coding agent would. What the tools
changed is then read back with an Engine of the test's own, as the app would see it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent
from processes import orkestra
from repos import make_repository

from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import InboxKind, ProjectStatus, TaskSpec, TaskStatus

INSTALLED = Path(sys.executable).parent / "orkestra"
"""The `orkestra` the virtual environment installed, as a coding agent would start it."""
TOOLS = {
    "ask_committee",
    "decision",
    "tally_ballots",
    "list_projects",
    "list_tasks",
    "task_result",
    "search_audit",
    "add_task",
}
QUESTION = "Which database should back the ledger?"
AGREED = ["SQLite: simple, safe and tested", "PostgreSQL"]
"""With seed 0 the five simulated agents decide between these in round 1."""
SPLIT = [
    "SQLite: simple, safe and tested",
    "PostgreSQL: scale and data tooling",
    "A bold new event store",
    "Plain files with a typed code layer",
]
"""With seed 0, plurality and one round, these tie, and so does the compromise round after it."""
BALLOTS = {
    "options": ["Red", "Blue", "Green"],
    "ballots": [
        {"voter": "a", "ranking": ["Red", "Blue"]},
        {"voter": "b", "ranking": ["Blue", "Red"]},
        {"voter": "c", "ranking": ["Red", "Green"]},
    ],
}
GUARD_S = 60
"""Only so that a server that never answers fails the test instead of hanging the suite."""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8")
    return folder


def open_engine(home: Path) -> Engine:
    return Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})


def server_command(home: Path) -> list[str]:
    return [str(INSTALLED), "mcp", "--data-dir", str(home)]


@asynccontextmanager
async def served(home: Path) -> AsyncIterator[ClientSession]:
    """A client session with `orkestra mcp` on `home`; the server's stderr goes to a file beside it."""
    command, *arguments = server_command(home)
    parameters = StdioServerParameters(command=command, args=arguments)
    with (home.parent / "server-stderr.log").open("w", encoding="utf-8") as errlog:
        async with stdio_client(parameters, errlog=errlog) as streams, ClientSession(*streams) as client:
            await client.initialize()
            yield client


async def call(client: ClientSession, name: str, **arguments: Any) -> tuple[dict[str, Any], str]:
    """A tool's structured content and text, after checking that it answered without an error."""
    result = await client.call_tool(name, arguments)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return result.structured_content, text_of(result)


async def refused(client: ClientSession, name: str, **arguments: Any) -> str:
    """The one line a tool refused its input with."""
    result = await client.call_tool(name, arguments)
    assert result.is_error
    line = text_of(result)
    assert "\n" not in line and "Traceback" not in line, line
    prefix = f"Error executing tool {name}: "  # the SDK's, before the tool's own words
    assert line.startswith(prefix), line
    return line.removeprefix(prefix)


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def make_project(home: Path, count: int, *, name: str = "Shop") -> list[int]:
    """A project of `count` tasks in one chain (t1, then t2 after it, ...); the task ids."""
    engine = open_engine(home)
    try:
        project = engine.create_project(name)
        tasks = engine.add_tasks(
            project.id,
            [
                TaskSpec(
                    title=f"Part {number}",
                    instructions=f"Write part {number}.",
                    key=f"t{number}",
                    depends_on=(f"t{number - 1}",) if number > 1 else (),
                )
                for number in range(1, count + 1)
            ],
        )
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
        return [task.id for task in tasks]
    finally:
        engine.close()


def mcp_events(home: Path, kind: str) -> list[Any]:
    engine = open_engine(home)
    try:
        return engine.search_audit(actor="mcp", kind=kind, limit=100)
    finally:
        engine.close()


# ------------------------------------------------------------------ tools


async def test_it_lists_its_tools_with_typed_inputs_and_descriptions(home: Path) -> None:
    async with served(home) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 40, tool.name
    asking = tools["ask_committee"].input_schema
    assert set(asking["required"]) == {"question", "options"}
    assert asking["properties"]["options"]["type"] == "array"
    assert asking["properties"]["question"]["description"]
    assert tools["task_result"].input_schema["properties"]["task_id"]["type"] == "integer"
    assert set(tools["add_task"].input_schema["required"]) == {"project", "title", "instructions"}


async def test_ask_committee_returns_the_decision_with_its_tally_and_reasons(home: Path) -> None:
    told: list[tuple[float, str | None]] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        told.append((progress, message))

    async with served(home) as client:
        result = await client.call_tool(
            "ask_committee", {"question": QUESTION, "options": AGREED}, progress_callback=progress
        )
        assert not result.is_error and result.structured_content is not None, text_of(result)
        document, text = result.structured_content, text_of(result)
        again, _ = await call(client, "decision", decision_id=document["decision_id"])
    assert document["status"] == "decided" and document["winner"] in AGREED
    assert document["waiting_for_human"] is False and document["inbox_id"] is None
    assert document["method"] and document["tally"][0]["round"] == 1
    assert document["tally"][0]["tally"]["winner"] == document["winner"]
    voters = {ballot["voter"] for ballot in document["ballots"]}
    assert voters == {"claude", "chatgpt", "gemini", "copilot", "grok"}
    assert all(ballot["ranking"] and ballot["reasoning"] for ballot in document["ballots"])
    assert text.startswith(f"Decision {document['decision_id']}: {QUESTION}\nWinner: {document['winner']}")
    assert "- claude: " in text
    assert again["winner"] == document["winner"] and again["status"] == "decided"
    # The client heard the vote as it went: the round, each ballot, the outcome.
    lines = [line for _count, line in told]
    assert lines[0] is not None and lines[0].startswith("Round 1 of ")
    assert "claude: " in " ".join(str(line) for line in lines)
    assert lines[-1] == f"Decided: {document['winner']}"
    assert [count for count, _line in told] == list(range(1, len(told) + 1))
    # The question is the MCP client's, on record.
    opened = mcp_events(home, "decision.opened")
    assert [event.subject for event in opened] == [f"decision:{document['decision_id']}"]


async def test_a_tie_waits_for_the_human_in_the_inbox_without_blocking(home: Path) -> None:
    async with served(home) as client:
        document, text = await call(
            client, "ask_committee", question=QUESTION, options=SPLIT, method="plurality", rounds=1
        )
        later, _ = await call(client, "decision", decision_id=document["decision_id"])
    assert document["status"] == "awaiting_human" and document["winner"] is None
    assert document["waiting_for_human"] is True
    inbox_id = document["inbox_id"]
    assert isinstance(inbox_id, int)
    assert f"Waiting for the human: inbox request {inbox_id} (tie break)" in text
    assert f"decision_id {document['decision_id']}" in text
    assert later["waiting_for_human"] is True and later["inbox_id"] == inbox_id
    # The request is in the inbox, where the app shows it; the vote is one the app resumes.
    engine = open_engine(home)
    try:
        item = next(item for item in engine.inbox.open_items() if item.id == inbox_id)
        assert item.kind is InboxKind.TIE_BREAK
        assert item.payload["decision_id"] == document["decision_id"]
        assert [decision.id for decision in engine.decisions_under_way()] == [document["decision_id"]]
    finally:
        engine.close()


async def test_a_tie_broken_in_the_app_is_finished_by_decision(home: Path) -> None:
    async with served(home) as client:
        asked, _ = await call(
            client, "ask_committee", question=QUESTION, options=SPLIT, method="plurality", rounds=1
        )
        # The human breaks the tie in an app that was not running this vote (as the app answers it).
        engine = open_engine(home)
        try:
            item = engine.inbox_item(asked["inbox_id"])
            assert item is not None
            choice = str(item.payload["tied"][1]["option"])
            engine.answer_tie_break(item.id, choice)
        finally:
            engine.close()
        document, text = await call(client, "decision", decision_id=asked["decision_id"])
        again, _ = await call(client, "decision", decision_id=asked["decision_id"])
    assert document["status"] == "decided" and document["winner"] == choice
    assert document["how"] == "human tie-break" and document["tie_break_by"] == "human"
    assert document["waiting_for_human"] is False
    assert f"Winner: {choice}, decided by the human's tie-break" in text
    assert again["status"] == "decided" and again["winner"] == choice


async def test_ask_committee_refuses_bad_questions_in_one_line(home: Path) -> None:
    async with served(home) as client:
        assert "option" in await refused(client, "ask_committee", question=QUESTION, options=["Only one"])
        line = await refused(client, "ask_committee", question=QUESTION, options=AGREED, voters=["nobody"])
        assert "unknown voter" in line
        assert "method" in await refused(
            client, "ask_committee", question=QUESTION, options=AGREED, method="dictator"
        )
    assert mcp_events(home, "decision.opened") == []


async def test_tally_ballots_from_a_file_or_json_and_bad_input_in_one_line(
    home: Path, tmp_path: Path
) -> None:
    ballots_file = tmp_path / "ballots.json"
    ballots_file.write_text(json.dumps(BALLOTS), encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"options": ["Red"], "ballots": [', encoding="utf-8")
    async with served(home) as client:
        from_file, text = await call(client, "tally_ballots", path=str(ballots_file))
        from_json, _ = await call(client, "tally_ballots", ballots=json.dumps(BALLOTS), method="plurality")
        from_object, _ = await call(client, "tally_ballots", ballots=BALLOTS, method="borda")
        broken = await refused(client, "tally_ballots", path=str(tmp_path / "broken.json"))
        missing = await refused(client, "tally_ballots", path=str(tmp_path / "nowhere.json"))
        unknown = await refused(client, "tally_ballots", ballots={**BALLOTS, "ballot": []})
        bad_method = await refused(client, "tally_ballots", ballots=BALLOTS, method="dictator")
        both = await refused(client, "tally_ballots", path=str(ballots_file), ballots=BALLOTS)
    assert from_file["winner"] == "Red" and from_file["method"] == "ranked_choice"
    assert text.startswith("ranked_choice: Winner: Red")
    assert from_json["winner"] == "Red" and from_json["method"] == "plurality"
    assert from_object["method"] == "borda" and from_object["rounds"]
    assert "broken.json: invalid JSON at line 1" in broken
    assert "nowhere.json: no such file" in missing
    assert 'unknown key "ballot"' in unknown
    assert "unknown method 'dictator'" in bad_method
    assert "either path" in both


async def test_projects_tasks_and_a_task_added_through_the_engine(home: Path) -> None:
    first, second = make_project(home, 2)
    async with served(home) as client:
        projects, projects_text = await call(client, "list_projects")
        listed, _ = await call(client, "list_tasks", project="Shop")
        ready, _ = await call(client, "list_tasks", project="Shop", status="ready")
        added, added_text = await call(
            client,
            "add_task",
            project="Shop",
            title="Write the README",
            instructions="Say how to install and run the shop.",
            category="docs",
            priority="high",
            depends_on=[second],
        )
        after, after_text = await call(client, "list_tasks", project="Shop")
        shop_task = {"project": "Shop", "title": "T", "instructions": "Do."}
        problems = [
            await refused(client, "add_task", **{**shop_task, "title": "   "}),
            await refused(client, "add_task", **{**shop_task, "instructions": "..."}),
            await refused(client, "add_task", **shop_task, category="x"),
            await refused(client, "add_task", **shop_task, depends_on=[999]),
            await refused(client, "add_task", **{**shop_task, "project": "Nope"}),
            await refused(client, "list_tasks", project="Shop", status="sleeping"),
        ]
    [shop] = projects["projects"]
    assert shop["name"] == "Shop" and shop["status"] == "active"
    assert shop["tasks"] == {"ready": 1, "pending": 1} and shop["progress"] == "0/2 done"
    assert projects_text == f"- Shop (id {shop['id']}, active): 0/2 done"
    statuses = [(task["id"], task["status"]) for task in listed["tasks"]]
    assert statuses == [(first, "ready"), (second, "pending")]
    assert [task["id"] for task in ready["tasks"]] == [first]
    task = added["task"]
    assert task["title"] == "Write the README" and task["status"] == "pending"
    assert task["category"] == "docs" and task["priority"] == "high" and task["depends_on"] == [second]
    assert f"task {task['id']} [pending] Write the README" in added_text
    # Listed as the engine orders them: the high-priority task first.
    assert [entry["id"] for entry in after["tasks"]] == [task["id"], first, second]
    assert after["project"]["progress"] == "0/3 done" and "Write the README" in after_text
    assert problems == [
        "the task's title is empty",
        "the task's instructions is a placeholder, not real text",
        "category must be one of architecture, code, tests, docs, research, review, data, design, ops",
        "the project has no task 999 to depend on",
        "there is no project named 'Nope'; projects: 'Shop'",
        "unknown status 'sleeping'; statuses: pending, ready, running, review, done, failed, blocked,"
        " awaiting_human, cancelled",
    ]
    # Added as the MCP client, once; the refused ones wrote nothing.
    created = mcp_events(home, "task.created")
    assert [event.subject for event in created] == [f"task:{task['id']}"]
    engine = open_engine(home)
    try:
        stored = engine.task(task["id"])
        assert stored.status is TaskStatus.PENDING and stored.depends_on == (second,)
    finally:
        engine.close()


async def test_search_audit_finds_what_the_mcp_client_did(home: Path) -> None:
    make_project(home, 1)
    async with served(home) as client:
        await call(client, "add_task", project="Shop", title="Draw the logo", instructions="A small logo.")
        found, text = await call(client, "search_audit", query="logo", actor="mcp")
        everything, _ = await call(client, "search_audit", query="", limit=2)
        nothing, nothing_text = await call(client, "search_audit", query="zebra")
        line = await refused(client, "search_audit", query="x", limit=0)
    [event] = found["events"]
    assert event["actor"] == "mcp" and event["kind"] == "task.created"
    assert "Draw the logo" in event["summary"] and "mcp task.created" in text
    assert len(everything["events"]) == 2
    assert nothing["events"] == [] and nothing_text == "No events match."
    assert line == "limit: Input should be greater than or equal to 1"


async def test_task_result_of_a_finished_task(home: Path) -> None:
    [task_id] = make_project(home, 1)
    ran = orkestra(home, "run", "--until-done", "--on-review", "approve")
    assert ran.returncode == 0, ran.stderr
    async with served(home) as client:
        document, text = await call(client, "task_result", task_id=task_id)
        missing = await refused(client, "task_result", task_id=999)
    assert document["task"]["status"] == "done"
    assert document["result"].strip() and "diff" not in document
    assert text.startswith(f"- task {task_id} [done] Part 1\n")
    assert missing == "there is no task 999"


CODER = """\
import pathlib, sys
prompt = sys.stdin.read()
if "<<<RESULT" in prompt:  # a review: the change is fine
    print('{"verdict": "approve", "comments": "Looks right."}')
else:  # a task: one file of its own
    target = pathlib.Path.cwd() / "work" / "made.txt"
    target.parent.mkdir(exist_ok=True)
    target.write_text("made by the coder\\n", encoding="utf-8")
    print("# Done\\n\\nWrote the file.")
"""


async def test_task_result_in_a_repository_has_its_diff_and_gates(home: Path, tmp_path: Path) -> None:
    program = tmp_path / "coder.py"
    program.write_text(CODER, encoding="utf-8")
    command = json.dumps([sys.executable, str(program)])
    (home / "config.toml").write_text(
        "[simulation]\nseed = 0\nlatency_ms = 0\n\n"
        f'[[agents]]\nname = "coder"\nprovider = "command"\ncommand = {command}\n',
        encoding="utf-8",
    )
    repo = make_repository(tmp_path / "shop", {"README.md": "# Shop\n"})
    (repo / ".orkestra.toml").write_text('gates = ["git --version"]\n', encoding="utf-8")
    [task_id] = make_project(home, 1)
    linked = orkestra(home, "project", "Shop", "--repo", str(repo))
    assert linked.returncode == 0, linked.stderr
    ran = orkestra(home, "run", "--until-done", "--on-review", "approve")
    assert ran.returncode == 0, ran.stderr
    async with served(home) as client:
        document, text = await call(client, "task_result", task_id=task_id)
    assert "+made by the coder" in document["diff"] and "work/made.txt" in document["diff"]
    assert document["change"]["branch"]
    assert "Gates: " in text and "+made by the coder" in text
    assert all(set(gate) >= {"command", "exit_code", "passed"} for gate in document["gates"])


# ------------------------------------------------------------------ the process


def test_without_the_sdk_it_says_how_to_install_it(home: Path) -> None:
    hide_the_sdk = (
        "import sys\n"
        "class NoMcp:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'mcp' or name.startswith('mcp.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoMcp())\n"
        "from orkestra_tui.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", hide_the_sdk, "mcp", "--data-dir", str(home)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=GUARD_S,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "orkestra: orkestra mcp needs the MCP SDK: pip install 'orkestra-tui[mcp]'\n"


def test_a_broken_config_is_one_line_before_any_protocol(home: Path) -> None:
    (home / "config.toml").write_text("[engine\nmax_rounds = 3\n", encoding="utf-8")
    done = subprocess.run(
        server_command(home), input="", capture_output=True, text=True, timeout=GUARD_S, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("orkestra: ") and "config.toml" in line


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


@pytest.mark.parametrize("ending", ["end of input", "SIGTERM"])
def test_stdout_is_only_the_protocol_and_the_server_ends_cleanly(home: Path, ending: str) -> None:
    server = subprocess.Popen(
        server_command(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={key: value for key, value in os.environ.items() if key != "ORKESTRA_HOME"},
    )
    assert server.stdin is not None and server.stdout is not None
    try:
        server.stdin.write(json.dumps(INITIALIZE) + "\n")
        server.stdin.flush()
        reply = json.loads(server.stdout.readline())
        assert reply["id"] == 1 and reply["result"]["serverInfo"]["name"] == "orkestra"
        if ending == "SIGTERM":
            server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=GUARD_S)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0, err
    assert "Traceback" not in err
    for line in out.splitlines():  # anything after the reply is protocol too
        assert json.loads(line)["jsonrpc"] == "2.0"
