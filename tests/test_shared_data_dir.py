"""The app and the headless commands on one data dir, at once, as real processes: nothing is lost.

POSIX locks belong to a process: a process holding a SQLite connection that
opens and closes the database file itself drops its locks, and the next
process to close a connection deletes the -wal and -shm files under it. Here an
app-like process (the engine opened as the app opens it, with the checks the app
runs after its first frame) holds the database while real commands run beside
it; the files it holds must stay the files on disk, and what each side commits
must be seen by the other and survive a `kill -9` of either.

A scan of the package's source keeps every plain opening of a file, and every
SQLite connection, to the places that are known not to touch a database file
under a connection (see `orkestra_tui/engine/store/dbfile.py`).
"""

from __future__ import annotations

import ast
import gc
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

import orkestra_tui
from orkestra_tui.config import resolve_paths
from orkestra_tui.engine.store import dbfile, integrity, snapshots
from orkestra_tui.engine.store.schema import SCHEMA_VERSION
from orkestra_tui.engine.store.store import Store

PACKAGE = Path(orkestra_tui.__file__).parent

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/<pid>/fd")

CONFIG = "[simulation]\nseed = 3\nlatency_ms = 0\n"
SLOW_CONFIG = "[simulation]\nseed = 3\nlatency_ms = 3000\n"
QUESTION = "Which database?"
COMMAND_TIMEOUT_S = 120.0

HOLDER = '''
import argparse, json, sys, threading

from orkestra_tui.commands.context import load_context
from orkestra_tui.engine.store import snapshots
from orkestra_tui.engine.execution.recovery import recover

engine = load_context(argparse.Namespace(data_dir=sys.argv[1])).open_engine(check_pages=False)  # as run_tui
database = engine.paths.database


def reply(document):
    print(json.dumps(document), flush=True)


def in_thread(work):
    """What the app's upkeep workers do, in a thread of their own."""
    results = []
    worker = threading.Thread(target=lambda: results.append(work()))
    worker.start()
    worker.join()
    return results[0]


recover(engine)  # what the app does after its first frame...
reply({"problem": in_thread(lambda: snapshots.integrity_problem(database))})  # ...and its check
for line in sys.stdin:
    command, _, argument = line.strip().partition(" ")
    if command == "write":
        engine.create_project(argument)
        reply({"written": argument})
    elif command == "projects":
        reply({"projects": [project.name for project in engine.projects()]})
    elif command == "questions":
        reply({"questions": [decision.question for decision in engine.store.decisions()]})
    elif command == "check":
        reply({"problem": in_thread(lambda: snapshots.integrity_problem(database))})
    elif command == "snapshot":
        taken = in_thread(lambda: snapshots.create(engine.paths, "automatic", clock=engine.clock))
        reply({"snapshot": taken.id})
    elif command == "quit":
        break
engine.close()
reply({"closed": True})
'''


class Holder:
    """The app-like process: it holds the database open and answers one JSON line per instruction."""

    def __init__(self, home: Path, script: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(script), str(home)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.database = home / "data" / "orkestra.db"
        self.started = self._answer()

    @property
    def pid(self) -> int:
        return self.process.pid

    def ask(self, instruction: str) -> dict[str, Any]:
        stdin: IO[str] | None = self.process.stdin
        assert stdin is not None
        stdin.write(instruction + "\n")
        stdin.flush()
        return self._answer()

    def _answer(self) -> dict[str, Any]:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"the holder ended: {stderr}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def open_database_files(self) -> dict[str, int]:
        """The database files the holder has open: their /proc link text, with their inode."""
        found: dict[str, int] = {}
        folder = Path(f"/proc/{self.pid}/fd")
        for entry in folder.iterdir():
            try:
                target = os.readlink(entry)
                inode = entry.stat().st_ino
            except OSError:
                continue  # closed meanwhile
            if self.database.name in target:
                found[target] = inode
        return found

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def quit(self) -> dict[str, Any]:
        answer = self.ask("quit")
        self.process.wait(timeout=COMMAND_TIMEOUT_S)
        return answer


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    return home


@pytest.fixture
def holder(home: Path, tmp_path: Path) -> Iterator[Holder]:
    script = tmp_path / "holder.py"
    script.write_text(HOLDER, encoding="utf-8")
    started = Holder(home, script)
    yield started
    if started.process.poll() is None:
        started.kill()
    for stream in (started.process.stdin, started.process.stdout, started.process.stderr):
        if stream is not None:
            stream.close()


def orkestra(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The real `orkestra` command on the same data dir, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), *arguments],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def project_names(home: Path) -> list[str]:
    result = orkestra(home, "status", "--json")
    assert result.returncode == 0, result.stderr
    return [project["name"] for project in json.loads(result.stdout)["projects"]]


def assert_files_kept(holder: Holder, files_at_start: dict[str, int]) -> None:
    """Every database file the holder has open is still the file of that name on disk."""
    now = holder.open_database_files()
    assert not [target for target in now if target.endswith("(deleted)")]
    for suffix in ("-wal", "-shm"):
        path = Path(f"{holder.database}{suffix}")
        assert path.exists(), f"{path.name} was removed under the holder"
        assert files_at_start[str(path)] == path.stat().st_ino == now[str(path)]


def vote_arguments(question: str) -> list[str]:
    return ["vote", question, "--option", "SQLite", "--option", "Postgres", "--tie-break", "first"]


def test_commands_beside_the_app_remove_nothing_and_each_side_sees_the_other(
    home: Path, holder: Holder
) -> None:
    assert holder.started == {"problem": ""}
    holder.ask("write From the app")
    files_at_start = holder.open_database_files()
    assert {f"{holder.database}-wal", f"{holder.database}-shm"} <= set(files_at_start)

    commands = [
        ["status"],
        ["status", "--json"],
        ["audit"],
        ["doctor", "--demo"],
        ["snapshot", "list"],
        ["snapshot", "create"],
        [*vote_arguments(QUESTION), "--demo", "--json"],
    ]
    for command in commands:
        result = orkestra(home, *command)
        assert result.returncode == 0, (command, result.stderr)
        assert_files_kept(holder, files_at_start)
        # The app's own upkeep between commands: its check and an automatic snapshot.
        assert holder.ask("check") == {"problem": ""}
        assert "snapshot" in holder.ask("snapshot")
        assert_files_kept(holder, files_at_start)

    # A restore needs the app closed: refused in one line, and nothing changed.
    newest = json.loads(orkestra(home, "snapshot", "list", "--json").stdout)["snapshots"][0]["id"]
    refused = orkestra(home, "snapshot", "restore", newest, "--yes")
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1
    assert "is open in another Orkestra process" in refused.stderr
    assert_files_kept(holder, files_at_start)

    # Each side sees what the other committed.
    assert holder.ask("questions") == {"questions": [QUESTION]}
    holder.ask("write After the commands")
    assert project_names(home) == ["From the app", "After the commands"]
    assert_files_kept(holder, files_at_start)

    # The app closing (and checkpointing) keeps what the commands wrote.
    assert holder.quit() == {"closed": True}
    assert project_names(home) == ["From the app", "After the commands"]
    exported = orkestra(home, "audit", "--json", "--limit", "500")
    assert exported.returncode == 0, exported.stderr
    assert QUESTION in exported.stdout


def test_what_the_app_committed_survives_its_kill_after_commands_ran_beside_it(
    home: Path, holder: Holder
) -> None:
    holder.ask("write Before the commands")
    for command in (["status"], ["audit"], ["snapshot", "create"]):
        assert orkestra(home, *command).returncode == 0
    holder.ask("write After the commands")
    holder.kill()
    assert project_names(home) == ["Before the commands", "After the commands"]
    check = orkestra(home, "snapshot", "create")
    assert check.returncode == 0, check.stderr


def test_a_vote_killed_midway_leaves_the_app_its_committed_rows(home: Path, holder: Holder) -> None:
    assert orkestra(home, "status").returncode == 0  # a command come and gone first
    (home / "config.toml").write_text(SLOW_CONFIG, encoding="utf-8")  # read by the vote, not the holder
    vote = subprocess.Popen(
        [sys.executable, "-m", "orkestra_tui", "--data-dir", str(home), *vote_arguments(QUESTION), "--demo"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert vote.stderr is not None
        progress = vote.stderr.readline()  # said once the decision and its first round are committed
        assert progress.startswith("Round 1 of"), progress
    finally:
        vote.send_signal(signal.SIGKILL)
        vote.wait()
        if vote.stderr is not None:
            vote.stderr.close()
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")

    assert holder.ask("questions") == {"questions": [QUESTION]}
    assert holder.ask("check") == {"problem": ""}
    holder.ask("write After the kill")
    assert project_names(home) == ["After the kill"]
    holder.kill()
    assert project_names(home) == ["After the kill"]
    resumed = orkestra(home, "audit", "--json", "--limit", "500")
    assert QUESTION in resumed.stdout


# ------------------------------------------------------------------ in one process


def test_a_header_is_read_through_sqlite_while_the_file_is_open_in_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "orkestra.db"
    opened: list[Path] = []
    plain_open = Path.open

    def recording_open(path: Path, *arguments: Any, **options: Any) -> Any:
        opened.append(path)
        return plain_open(path, *arguments, **options)

    monkeypatch.setattr(Path, "open", recording_open)
    store = Store(database)
    assert dbfile.open_in_this_process(database)
    assert dbfile.open_in_this_process(tmp_path / "." / "orkestra.db")  # by its resolved path
    assert dbfile.read_header(database) == dbfile.Header(is_sqlite=True, schema_version=SCHEMA_VERSION)
    assert integrity.header_problem(database) == ""
    assert opened == []  # a plain open and close would have dropped the store's locks
    store.close()

    assert not dbfile.open_in_this_process(database)
    assert dbfile.read_header(database).schema_version == SCHEMA_VERSION
    assert opened == [database]  # no connection open: the plain read, which touches nothing


def test_a_connection_is_counted_until_closed_or_collected(tmp_path: Path) -> None:
    database = tmp_path / "orkestra.db"
    first, second = dbfile.connect(database), dbfile.connect(database)
    first.close()
    first.close()  # a second close does not count down twice
    assert dbfile.open_in_this_process(database)
    del second
    gc.collect()
    assert not dbfile.open_in_this_process(database)
    with pytest.raises(sqlite3.OperationalError):
        dbfile.connect(tmp_path / "missing.db", mode="rw")
    assert not dbfile.open_in_this_process(tmp_path / "missing.db")


def test_a_restore_is_refused_while_this_process_has_the_database_open(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = resolve_paths(home)
    store = Store(paths.database)
    taken = snapshots.create(paths, "checkpoint")
    try:
        with pytest.raises(snapshots.SnapshotError, match="is open in this process"):
            snapshots.restore(paths, taken.id)
    finally:
        store.close()
    assert snapshots.restore(paths, taken.id).undo is not None


# ------------------------------------------------------------------ the source


FILE_OPENING_NAMES = {"open", "read_bytes", "read_text", "write_bytes", "write_text"}
"""Calls (a function, or a method of a path or module) that open a file descriptor."""
FILE_CALLS = {
    "sqlite3.connect",
    "os.replace",
    "os.rename",
    "os.link",
    "os.truncate",
    "mmap.mmap",
    "shutil.copy",
    "shutil.copy2",
    "shutil.copyfile",
    "shutil.copyfileobj",
    "shutil.move",
}
"""Calls that open, connect to, move or replace a file by name."""
ALLOWED: dict[tuple[str, str, str], str] = {
    ("bench/realmodel.py", "serving", "log_path.open"): "the model server's log",
    ("bench/realmodel.py", "serving", "log_path.read_text"): "the model server's log",
    ("bench/realmodel.py", "run_session", "(data_dir / 'config.toml').write_text"): "a session's config.toml",
    ("bench/realmodel.py", "run_session", "(workdir / 'session.json').write_text"): "a session's figures",
    ("bench/realmodel.py", "_run_command", "stdout_path.open"): "a command's captured output",
    ("bench/realmodel.py", "_run_command", "stderr_path.open"): "a command's captured output",
    ("bench/realmodel.py", "_run_command", "stdout_path.read_text"): "a command's captured output",
    ("bench/realmodel.py", "_run_command", "stderr_path.read_text"): "a command's captured output",
    ("bench/run.py", "_raw_run", "sqlite3.connect"): "a bare baseline database of the benchmark's own",
    ("bench/store.py", "_raw_run", "sqlite3.connect"): "a bare baseline database of the benchmark's own",
    ("cli.py", "main", "os.open"): "/dev/null, for stdout once its reader has gone",
    ("commands/plan.py", "_description", "path.read_text"): "a brief the user names, before any engine",
    ("commands/context.py", "Context.start_telemetry", "log_file.open"): "the app's log, in the log folder",
    ("commands/tally.py", "load_ballots", "path.read_bytes"): "a ballots file; tally opens no database",
    ("commands/mcp_tools.py", "OrkestraTools.task_result", "detail.artifact_file.read_text"): (
        "a task's Markdown result, in the projects folder"
    ),
    ("config.py", "load_settings", "path.read_text"): "config.toml",
    ("config.py", "write_config", "os.replace"): "config.toml, written atomically",
    ("engine/store/audit_export.py", "EventWriter.__exit__", "os.replace"): "an export file the user names",
    ("engine/voting/records.py", "_write_atomically", "os.replace"): "a decision record (Markdown)",
    ("engine/store/snapshots.py", "_publish", "os.link"): "a checked snapshot copy, closed, given its name",
    (
        "engine/store/snapshots.py",
        "_publish",
        "os.replace",
    ): "a checked snapshot copy, closed, given its name",
    (
        "engine/store/snapshots.py",
        "_set_aside",
        "os.replace",
    ): "a damaged database, once no connection is open",
    ("engine/store/snapshots.py", "_sync_directory", "os.open"): "the snapshots folder, to sync a rename",
    (
        "engine/repo/workspace.py",
        "_write_atomically",
        "os.open",
    ): "a file an agent writes in the workspace",
    ("engine/repo/workspace.py", "_write_atomically", "open"): "a file an agent writes in the workspace",
    (
        "engine/repo/workspace.py",
        "_write_atomically",
        "os.replace",
    ): "a file an agent writes in the workspace",
    ("engine/repo/workspace.py", "_sync_folder", "os.open"): "a workspace folder, to sync a rename",
    ("engine/repo/edits.py", "_Plan._plan_edit", "target.read_bytes"): "a worktree file an agent edits",
    ("engine/repo/repo_settings.py", "read_repo_settings", "path.read_text"): "a repository's .orkestra.toml",
    ("engine/repo/work.py", "RepoWork.merge", "pending.write_text"): "the merge-under-way marker file",
    ("engine/repo/work.py", "_merge_turn", "os.open"): "the merge queue's lock file",
    ("engine/repo/work.py", "_read_inside", "path.read_bytes"): "a worktree file, for the prompt",
    ("bench/repo.py", "_script_run", "script.write_text"): "the baseline's shell script",
}
"""Every other place that opens a file by name, and why it is never a database file."""
OWNER = "engine/store/dbfile.py"
"""The one module that opens database files outside SQLite, and the one that connects to them."""


def file_calls(source: str) -> list[tuple[str, str]]:
    """(enclosing function, callee) of each call in `source` that opens, connects to or moves a file."""
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, scope: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = (*scope, child.name)
            if isinstance(child, ast.Call):
                function = child.func
                callee = ast.unparse(function)
                name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
                if name in FILE_OPENING_NAMES or callee in FILE_CALLS:
                    found.append((".".join(scope) or "<module>", callee))
            visit(child, inner)

    visit(ast.parse(source), ())
    return found


def test_only_dbfile_opens_a_database_file_outside_sqlite() -> None:
    unexpected: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module == OWNER:
            continue
        for function, callee in file_calls(path.read_text(encoding="utf-8")):
            seen.add((module, function, callee))
            if (module, function, callee) not in ALLOWED:
                unexpected.append(f"{module}: {function}() calls {callee}")
    assert not unexpected, (
        "Open a database file only through engine/store/dbfile.py (connect, read_header): a plain open "
        "and close drops the process's SQLite locks. If this call never touches a database file, "
        f"add it to ALLOWED with why: {unexpected}"
    )
    assert set(ALLOWED) <= seen, f"ALLOWED lists calls that are gone: {set(ALLOWED) - seen}"


def test_the_source_scan_finds_each_way_of_opening_a_file() -> None:
    source = (
        "def header(path):\n"
        "    with path.open('rb') as handle:\n"
        "        return handle.read(100)\n"
        "def raw(path):\n"
        "    return open(path, 'rb'), path.read_bytes(), os.open(path, 0), sqlite3.connect(path)\n"
        "def moved(path):\n"
        "    shutil.copyfile(path, 'x'); os.replace(path, 'y')\n"
    )
    assert file_calls(source) == [
        ("header", "path.open"),
        ("raw", "open"),
        ("raw", "path.read_bytes"),
        ("raw", "os.open"),
        ("raw", "sqlite3.connect"),
        ("moved", "shutil.copyfile"),
        ("moved", "os.replace"),
    ]
