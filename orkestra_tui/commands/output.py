"""Shared output helpers for headless commands: JSON documents and Rich tables."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def print_json(document: Any) -> None:
    """One JSON document on stdout."""
    # ASCII only: no control character from agent or user text reaches the terminal raw.
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=True, default=str) + "\n")


def console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def format_time(timestamp: float) -> str:
    """A local wall-clock time for tables: today's events show only the time."""
    moment = datetime.fromtimestamp(timestamp).astimezone()
    if moment.date() == datetime.now().astimezone().date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


def iso_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
