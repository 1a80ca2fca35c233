"""A key a model or an endpoint echoes back is stored nowhere and printed nowhere.

A committee of live agents (three vendors' SDKs against the wire fake) answers every request
with the key header its SDK sent (whole, cut short, split across lines and spelt with JSON
escapes) in plans, ballots, reviews, task results and files, and a fourth agent's endpoint
refuses every call with the key in its error body. After planning, voting and carrying out
a project in a workspace (each command closing the database as a process ending would), no
file under the test's folder (the database and any WAL, snapshots, exports, records, workspace
files) and no command's output holds any piece of a key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_model import HostileModel, Terminal, committee_config, echoed_keys

from orkestra_tui.bench.fake_api import Received, Reply, WireFake, serving
from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.store.audit_export import export_events

KEYS = {
    "ANTHROPIC_API_KEY": "anthropic-key-7f3a9c1e5b2d4f6a8c0e1f3b5d7a9c2e",
    "OPENAI_API_KEY": "openai-key-0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f",
    "GEMINI_API_KEY": "gemini-key-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a",
}
"""Keys of no vendor's shape, so only their registration can redact them."""
PIECE_CHARS = 16
"""The shortest run of a key's characters that counts as a leak (secrets.PIECE_CHARS)."""


def json_escaped(text: str) -> str:
    return "".join(f"\\u{ord(char):04x}" for char in text)


def echoes(received: Received) -> str:
    """The key the SDK sent, whole (with `Bearer `), cut short and split across two lines."""
    sent = echoed_keys(received)
    key = sent.removeprefix("Bearer ")
    middle = len(key) // 2
    return f"{sent} | {key[:20]} | {key[:middle]}\n{key[middle:]} | ESCAPED-KEY"


class EchoingModel(HostileModel):
    """Echoes the key also spelt with JSON escapes, which parse back into the key itself."""

    def __call__(self, received: Received) -> Reply:
        reply = super().__call__(received)
        key = echoed_keys(received).removeprefix("Bearer ")
        escaped = json_escaped(key)
        reply.text = reply.text.replace("ESCAPED-KEY", escaped)
        if isinstance(reply.body, dict):
            reply.body = json.loads(json.dumps(reply.body).replace("ESCAPED-KEY", key))
        return reply


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    for variable, key in KEYS.items():
        monkeypatch.setenv(variable, key)
    with serving() as server:
        server.responder = EchoingModel(echoes)
        yield server


def pieces_of_keys(data: str | bytes) -> list[str]:
    """Each key that `data` holds a run of PIECE_CHARS characters of, or its escaped form."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    found = []
    for variable, key in KEYS.items():
        pieces = [key[start : start + PIECE_CHARS] for start in range(len(key) - PIECE_CHARS + 1)]
        if any(piece in data for piece in pieces) or json_escaped(key[:8]) in data:
            found.append(variable)
    return found


def test_no_echoed_key_is_stored_exported_or_printed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: WireFake
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    committee_config(home, fake.url)
    terminal = Terminal(capsys, home)
    policies = ("--yes", "--tie-break", "first")
    terminal.expect(0, "plan", "--name", "Shop", "--description", "A shop.", *policies)
    terminal.expect(0, "plan", "--name", "Mall", "--description", "A mall.", *policies, "--json")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    paths = resolve_paths(home)
    engine = Engine(paths, load_settings(paths.config_file), env={})
    try:
        engine.set_workspace(engine.project_named("Shop").id, str(workspace))
    finally:
        engine.close()
    terminal.expect(0, "run", "--until-done", "--on-review", "approve")
    terminal.expect(0, "run", "--json")
    vote = ("vote", "Which colour?", "--option", "Red", "--option", "Blue", "--tie-break", "first")
    terminal.expect(0, *vote)
    vote_document = json.loads(terminal.expect(0, *vote, "--json"))
    terminal.expect(0, "status")
    terminal.expect(0, "audit", "--limit", "1000")
    terminal.expect(0, "audit", "--limit", "1000", "--json")
    terminal.expect(1, "doctor")  # the refusing endpoint fails its check
    terminal.expect(0, "snapshot", "create", "--reason", "after the run")
    terminal.expect(0, "decisions", "export", "--out", str(tmp_path / "records"))
    (tmp_path / "exports").mkdir()
    engine = Engine(paths, load_settings(paths.config_file), env={})
    try:
        events = engine.store.search_audit(limit=10_000)
        for name in ("audit.jsonl", "audit.csv", "audit.md"):
            export_events(events, tmp_path / "exports" / name)
    finally:
        engine.close()

    sent = {echoed_keys(request).removeprefix("Bearer ") for request in fake.received}
    assert set(KEYS.values()) <= sent
    printed = {command: pieces_of_keys(text) for command, text in terminal.written.items()}
    assert {command: found for command, found in printed.items() if found} == {}
    stored = {
        str(path.relative_to(tmp_path)): pieces_of_keys(path.read_bytes())
        for path in sorted(tmp_path.rglob("*"))
        if path.is_file()
    }
    assert "home/data/orkestra.db" in stored and any("snapshots" in name for name in stored)
    assert {name: found for name, found in stored.items() if found} == {}
    # The model did echo every key, in every form, and what came back was used.
    assert (workspace / "notes" / "result.txt").read_text(encoding="utf-8").count("[redacted]") >= 4
    reasoning = [ballot["reasoning"] for ballot in vote_document["rounds"][0]["ballots"] if ballot["ranking"]]
    assert reasoning and all("[redacted]" in text for text in reasoning)
