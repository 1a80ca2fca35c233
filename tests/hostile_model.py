"""A model that answers every request the committee makes, through the wire fake, with text of
the test's choosing in every field a person may later read, and a committee of it.

`HostileModel(says)` is a `WireFake.responder`: it reads what the request asks for (a plan, a
ballot, a review, a task, a ping) from the prompt and answers a valid JSON or Markdown answer
whose phase names, task titles, reasoning, comments and results all carry `says(request)`;
an agent configured with the model name `broken` gets a 401 whose body carries it instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orkestra_tui.bench.fake_api import Received, Reply
from orkestra_tui.cli import main

HOSTILE = (
    "\x1b]52;c;cm0gLXJmIH4=\x07"  # OSC 52: the clipboard becomes `rm -rf ~`
    "\x1b]2;pwned\x07"  # OSC 2: the window title
    "\x1b[2J\x1b[H"  # CSI: clear the screen
    "\x9b1m\x9d2;t\x9c"  # C1 CSI, OSC and ST
    "\u202eevil\u202c\u2066i\u2069"  # bidi override and isolate
    "[bold red]m[/][link=https://x.example]l[/link]"  # Rich markup
)
"""Text no terminal may receive raw: under 100 characters, so it fits every field of a plan."""
KEY_HEADERS = ("authorization", "x-api-key", "x-goog-api-key")
BROKEN_MODEL = "broken"
MARKERS = (
    ("Propose a plan in phases", "plan"),
    ("Refine it:", "synthesis"),
    ("Rank the options", "ballot"),
    ("Propose one new option", "compromise"),
    ("You review the result", "review"),
    ("Do the task you are given", "task"),
)
_LABEL = re.compile(r"^([A-Z]{1,3}): ", re.MULTILINE)


UNSAFE = {*range(0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)} | {
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
}
"""C0 (but tab and newline), DEL and C1 controls, ESC among them, and the bidi overrides and isolates."""


def unsafe_in(text: str) -> list[str]:
    return sorted({f"U+{ord(char):04X}" for char in text if ord(char) in UNSAFE})


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def echoed_keys(received: Received) -> str:
    """Every key header the SDK sent, as it sent it (`Bearer sk-...`)."""
    headers = {name.lower(): value for name, value in received.headers.items()}
    return " ".join(headers[name] for name in KEY_HEADERS if name in headers)


class HostileModel:
    def __init__(self, says: Callable[[Received], str]) -> None:
        self.says = says

    def __call__(self, received: Received) -> Reply:
        text = self.says(received)
        body = received.body if isinstance(received.body, dict) else {}
        if BROKEN_MODEL in received.path or body.get("model") == BROKEN_MODEL:
            return Reply(status=401, body={"error": {"message": f"invalid key {text}", "type": "auth"}})
        prompt = "\n".join(strings_in(body))
        purpose = next((name for marker, name in MARKERS if marker in prompt), "ping")
        return Reply(text=answer(purpose, prompt, text))


def answer(purpose: str, prompt: str, says: str) -> str:
    if purpose in ("plan", "synthesis"):
        return json.dumps(plan(says))
    if purpose == "ballot":
        labels = list(dict.fromkeys(_LABEL.findall(prompt)))
        return json.dumps({"ranking": labels, "confidence": 0.9, "reasoning": f"I like it {says}"})
    if purpose == "compromise":
        return json.dumps({"option": f"Both {says}", "rationale": f"Because {says}"})
    if purpose == "review":
        return json.dumps({"verdict": "approve", "comments": f"Fine {says}"})
    if purpose == "task":
        return f"# Done {says}\n\nIt works {says}\n\n```text file=notes/result.txt\n{says}\n```\n"
    return f"pong {says}"


def plan(says: str) -> dict[str, Any]:
    def task(key: str, depends_on: list[str]) -> dict[str, Any]:
        return {
            "key": key,
            "title": f"Task {key} {says[:150]}",  # within the schema's limits however long `says` is
            "instructions": f"Do {key} {says}",
            "category": "code",
            "priority": "normal",
            "depends_on": depends_on,
            "acceptance": [f"{key} is done {says}"],
        }

    return {
        "summary": f"Plan {says}",
        "phases": [
            {"name": f"One {says[:100]}", "tasks": [task("t1", [])]},
            {"name": f"Two {says[:100]}", "tasks": [task("t2", ["t1"])]},
        ],
    }


def committee_config(home: Path, url: str) -> None:
    """Three live agents of three vendors on the fake, and a fourth whose every call is refused."""
    agents = [
        ("claude", "anthropic", "claude-test"),
        ("chatgpt", "openai", "gpt-test"),
        ("gemini", "gemini", "gemini-test"),
        ("grok", "openai", BROKEN_MODEL),
    ]
    blocks = "".join(
        f'[[agents]]\nname = "{name}"\nprovider = "{provider}"\nmodel = "{model}"\nbase_url = "{url}"\n\n'
        for name, provider, model in agents
    )
    engine = "[engine]\nmax_attempts = 1\nmax_rounds = 2\nreviewers = 1\n\n"
    (home / "config.toml").write_text(engine + blocks, encoding="utf-8")


class Terminal:
    """Runs `orkestra` commands in this process and keeps what each wrote, by command line."""

    def __init__(self, capsys: pytest.CaptureFixture[str], home: Path) -> None:
        self.capsys = capsys
        self.home = home
        self.written: dict[str, str] = {}

    def run(self, *arguments: str, home: Path | None = None) -> tuple[int, str, str]:
        try:
            status = main(["--data-dir", str(home or self.home), *arguments])
        except SystemExit as exit_:  # argparse's own exits
            status = int(exit_.code or 0)
        captured = self.capsys.readouterr()
        self.written[" ".join(arguments)] = captured.out + captured.err
        return status, captured.out, captured.err

    def expect(self, status: int, *arguments: str, home: Path | None = None) -> str:
        """Run a command that must end with `status`; what it wrote on stdout."""
        result = self.run(*arguments, home=home)
        assert result[0] == status, result[2]
        return result[1]

    def leaks(self) -> dict[str, list[str]]:
        return {command: unsafe_in(text) for command, text in self.written.items() if unsafe_in(text)}
