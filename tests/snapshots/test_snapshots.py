"""One snapshot per screen, on the sample data with the clock, seed, size and theme pinned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orkestra_tui.engine.engine import Engine
from orkestra_tui.tui.app import OrkestraApp

SIZE = (80, 24)


@pytest.mark.parametrize("key", ["1", "2", "3", "4", "5"], ids=["plan", "board", "voting", "health", "audit"])
def test_screen(snap_compare: Callable[..., bool], sample_engine: Engine, key: str) -> None:
    assert snap_compare(OrkestraApp(sample_engine), press=[key], terminal_size=SIZE)


def test_first_run_plan_screen(snap_compare: Callable[..., bool], engine: Engine) -> None:
    assert snap_compare(OrkestraApp(engine), terminal_size=SIZE)


def test_help_screen(snap_compare: Callable[..., Any], sample_engine: Engine) -> None:
    assert snap_compare(OrkestraApp(sample_engine), press=["question_mark"], terminal_size=(80, 40))
