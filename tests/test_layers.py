"""The layers hold: import-linter's contracts pass, and nothing imports a vendor SDK early.

The contracts themselves live in pyproject.toml (`[tool.importlinter]`): the
engine, providers and config never import Textual, Rich, the TUI, the commands
or the benchmarks; the layers run one way, from the entry point down to the
small shared modules; and the engine's modules form no import loop beyond the
ones listed there as known. import-linter reads our own import statements; a
fresh interpreter that imports every headless module also catches a library
that pulls Textual or Rich in behind them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

VENDOR_SDKS = ("anthropic", "openai", "google.genai")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def imported_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(output))


def test_import_contracts_are_kept() -> None:
    # The venv's own lint-imports, reading pyproject.toml; --no-cache so no .import_linter_cache is left.
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_headless_modules_do_not_import_textual_or_rich_at_run_time() -> None:
    # Every module of the engine and the providers, found by walking the packages (no list to keep).
    modules = imported_after(
        "import importlib, pkgutil\n"
        "import orkestra_tui.config, orkestra_tui.config_reader, orkestra_tui.settings\n"
        "import orkestra_tui.errors, orkestra_tui.safe_text, orkestra_tui.secrets, orkestra_tui.wording\n"
        "import orkestra_tui.engine, orkestra_tui.providers\n"
        "for package in (orkestra_tui.engine, orkestra_tui.providers):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)"
    )
    package_root = PROJECT_ROOT / "orkestra_tui"
    files = [*(package_root / "engine").rglob("*.py"), *(package_root / "providers").rglob("*.py")]
    names = {".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts) for path in files}
    assert {name.removesuffix(".__init__") for name in names} <= modules  # the walk missed none
    assert not sorted(name for name in modules if name.split(".")[0] in ("textual", "rich"))


def test_starting_the_app_imports_no_vendor_sdk() -> None:
    modules = imported_after(
        "import orkestra_tui.cli, orkestra_tui.tui.app, orkestra_tui.engine.engine\n"
        "import orkestra_tui.tui.screens.board, orkestra_tui.tui.screens.plan"
    )
    assert not [name for name in modules if name.startswith(VENDOR_SDKS)]
