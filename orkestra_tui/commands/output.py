"""The output layer of the headless commands: every line a command shows goes through here.

Whatever a command prints may hold text from a model, a file, the config or the
user, so nothing here writes a character that `safe_text.terminal_safe` would
escape: plain lines (`emit`, `error_line`), prompts (`ask`), JSON documents
(ASCII only) and Rich renderables (`console()`, a `SafeConsole`). Commands and
cli.py never call `print`, `sys.stdout.write` or Rich's `Console` themselves
(tests/test_terminal_output.py checks).
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orkestra_tui.safe_text import terminal_safe

if TYPE_CHECKING:
    from rich.text import Text

    from orkestra_tui.commands.safe_console import SafeConsole


def emit(line: object = "", *, err: bool = False, end: str = "\n", flush: bool = False) -> None:
    """One line of text on stdout (stderr with `err`), its control characters shown escaped."""
    stream = sys.stderr if err else sys.stdout
    stream.write(terminal_safe(line) + end)
    if flush:
        stream.flush()


ERROR_LINE_CHARS = 300
"""The most characters of a message an error line shows; a longer one is cut with an ellipsis."""


def error_line(message: object, *, then: str = "") -> None:
    """The one line a failed command ends with, on stderr: `orkestra: <message><then>`.

    The message is folded onto one line and cut to ERROR_LINE_CHARS (a model's or a file's text
    in it can be any length); `then`, what to do next (a command to copy), is always shown whole.
    """
    from orkestra_tui.errors import OrkestraError

    text = str(message)
    if isinstance(message, OrkestraError) and message.advice and text.endswith(message.advice):
        text, then = text.removesuffix(message.advice), message.advice + then
    text = re.sub(r"[ \t]*[\r\n]+\s*", " ", text)
    if len(text) > ERROR_LINE_CHARS:
        head = text[: ERROR_LINE_CHARS - 1]
        space = head.rfind(" ")
        if space > ERROR_LINE_CHARS - 40:  # end on a whole word when one ends near the limit
            head = head[:space]
        text = head.rstrip() + "…" + (" " if then[:1].isalnum() else "")
    emit(f"orkestra: {text}{then}", err=True)


def ask(question: object) -> str:
    """The answer typed to `question` on stdin; raises EOFError at the end of input."""
    return input(terminal_safe(question))


def print_json(document: Any) -> None:
    """One JSON document on stdout."""
    # ASCII only: no control character from agent or user text reaches the terminal raw.
    emit(json.dumps(document, indent=2, ensure_ascii=True, default=str))


def print_json_line(document: Any) -> None:
    """One JSON document on one line of stdout, flushed at once (for streams read as they come)."""
    emit(json.dumps(document, ensure_ascii=True, default=str), flush=True)


def console(*, stderr: bool = False) -> SafeConsole:
    """A Rich console on stdout (or stderr) that shows markup and control characters literally."""
    from orkestra_tui.commands.safe_console import SafeConsole

    return SafeConsole(stderr=stderr, soft_wrap=False)


def literal(value: object, style: str = "") -> Text:
    """A Rich Text that shows `value` exactly: no markup, control characters escaped."""
    from rich.text import Text

    return Text(terminal_safe(value), style=style)


def format_time(timestamp: float) -> str:
    """A local wall-clock time for tables: today's events show only the time."""
    moment = datetime.fromtimestamp(timestamp).astimezone()
    if moment.date() == datetime.now().astimezone().date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


def format_date_time(timestamp: float) -> str:
    """A local date and time, always both: for things kept for days, such as snapshots."""
    return datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def iso_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
