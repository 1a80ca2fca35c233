"""Demo data lives outside the engine: the engine's source never imports `orkestra_tui.demo`."""

from __future__ import annotations

import ast
from pathlib import Path

import orkestra_tui

ENGINE = Path(orkestra_tui.__file__).parent / "engine"


def imported_modules(source: str) -> set[str]:
    """Every module a source imports, by its full dotted name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_engine_module_imports_the_demo_data() -> None:
    importers = [
        path.relative_to(ENGINE).as_posix()
        for path in sorted(ENGINE.rglob("*.py"))
        if any(name.split(".")[:2] == ["orkestra_tui", "demo"] for name in imported_modules(path.read_text()))
    ]
    assert not importers, f"The engine must not import the demo data: {importers}"


def test_the_sample_data_is_not_in_the_engine() -> None:
    from orkestra_tui.demo.sample import populate

    assert not (ENGINE / "sample.py").exists()
    assert populate.__module__ == "orkestra_tui.demo.sample"
