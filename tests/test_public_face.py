"""Screens and commands use the engine's public face; read models are plain data in the engine.

- No module of `tui/` or `commands/` reaches into the store, the circuit
  breakers or the agents' runtimes (`x.store`, `x.breakers`, `x.runtimes`):
  they ask the Engine by name (`EngineReads`). Nothing is allowed here.
- The engine holds no Rich style name: how a status looks is the TUI's.
- The Board's read models live in the engine and import no Textual or Rich.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import orkestra_tui

PACKAGE = Path(orkestra_tui.__file__).parent
FACADE_USERS = ("tui", "commands")
"""The parts of the app that must go through the Engine's public face."""
ENGINE_INTERNALS = frozenset({"store", "breakers", "runtimes"})
"""Attributes of the Engine (and of its collaborators) that screens and commands never touch."""
STYLE_WORDS = frozenset(
    {"bold", "dim", "italic", "underline", "reverse", "strike", "blink", "not", "on"}
    | {"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white", "default"}
    | {
        f"bright_{colour}"
        for colour in ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
    }
)
"""Words of a Rich style such as "bold red" or "dim"."""


def modules_under(*parts: str) -> list[Path]:
    return sorted(path for part in parts for path in (PACKAGE / part).rglob("*.py"))


def internal_reads(path: Path) -> list[str]:
    """`line: expression` for each use of an engine internal in the module at `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    uses = [
        node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr in ENGINE_INTERNALS
    ]
    return [f"{node.lineno}: {ast.unparse(node)}" for node in sorted(uses, key=lambda node: node.lineno)]


def test_screens_and_commands_never_reach_into_the_engine() -> None:
    found = {
        str(path.relative_to(PACKAGE)): uses
        for path in modules_under(*FACADE_USERS)
        if (uses := internal_reads(path))
    }
    assert found == {}


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scan is not blind: each way of reaching in is found, a lookalike word is not."""
    module = tmp_path / "screen.py"
    module.write_text(
        "costs = self.engine.store.project_costs(1)\n"
        "keeper = CardKeeper(engine.store)\n"
        "state = engine.breakers['claude'].state\n"
        "runtime = self.engine.runtimes[name]\n"
        "rows = scheduler.store.query('SELECT 1')\n"
        "from orkestra_tui.engine.store.store import damage_in\n"
        "parser.add_argument('--json', action='store_true')\n",
        encoding="utf-8",
    )
    assert [use.split(": ")[0] for use in internal_reads(module)] == ["1", "2", "3", "4", "5"]


def style_names(path: Path) -> list[str]:
    """`line: "text"` for each string in the module that is nothing but a Rich style."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.split()
        and set(node.value.split()) <= STYLE_WORDS
        and not set(node.value.split()) <= {"not", "on", "default"}
    ]


def test_the_engine_holds_no_style_names() -> None:
    found = {
        str(path.relative_to(PACKAGE)): names
        for path in modules_under("engine")
        if (names := style_names(path))
    }
    assert found == {}


@pytest.mark.parametrize("module", ["orkestra_tui.engine.execution.board_view", "orkestra_tui.engine.reads"])
def test_read_models_import_no_textual_or_rich(module: str) -> None:
    code = f"import sys, json\nimport {module}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert not {name for name in json.loads(output) if name.split(".")[0] in ("textual", "rich")}
