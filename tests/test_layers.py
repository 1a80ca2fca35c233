"""The engine and the providers never import Textual, and nothing imports a vendor SDK early."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

VENDOR_SDKS = ("anthropic", "openai", "google.genai")


def imported_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(output))


@pytest.mark.parametrize(
    "module",
    [
        "orkestra_tui.engine.engine",
        "orkestra_tui.engine.consensus",
        "orkestra_tui.demo.sample",
        "orkestra_tui.engine.planning",
        "orkestra_tui.engine.scheduler",
        "orkestra_tui.engine.leases",
        "orkestra_tui.engine.checks",
        "orkestra_tui.engine.selection",
        "orkestra_tui.engine.review",
        "orkestra_tui.engine.workspace",
        "orkestra_tui.engine.decision_view",
        "orkestra_tui.engine.records",
        "orkestra_tui.engine.audit_export",
        "orkestra_tui.providers.registry",
        "orkestra_tui.providers.simulated",
        "orkestra_tui.config",
    ],
)
def test_headless_modules_do_not_import_textual_or_rich(module: str) -> None:
    modules = imported_after(f"import {module}")
    assert not {name for name in modules if name.split(".")[0] in ("textual", "rich")}


def test_starting_the_app_imports_no_vendor_sdk() -> None:
    modules = imported_after(
        "import orkestra_tui.cli, orkestra_tui.tui.app, orkestra_tui.engine.engine\n"
        "import orkestra_tui.tui.screens.board, orkestra_tui.tui.screens.plan"
    )
    assert not [name for name in modules if name.startswith(VENDOR_SDKS)]
