"""Untrusted text reaches the terminal only through `terminal_safe`: the function, the output layer,
and a scan of the commands and cli.py for any other way out."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from rich.style import Style
from rich.table import Table
from rich.text import Text

from orkestra_tui.commands import output
from orkestra_tui.commands.safe_console import SafeConsole
from orkestra_tui.safe_text import terminal_safe
from orkestra_tui.tui.text import plain

ROOT = Path(__file__).resolve().parent.parent / "orkestra_tui"
OUTPUT_LAYER = {"output.py", "safe_console.py"}
HOSTILE = (
    "\x1b]52;c;cm0gLXJmIH4=\x07"  # OSC 52: set the clipboard
    "\x1b]2;owned\x1b\\"  # OSC 2: the window title
    "\x1b[2J\x1b[H"  # CSI: clear the screen
    "\x9b31m\x9d0;title\x9c"  # C1 CSI and OSC
    "\u202eevil\u202c\u2066iso\u2069"  # bidi override and isolate
    "\r\x08\x7f\x00"
    "[bold red]markup[/] [link=https://example.com]x[/link]"
)
UNSAFE_CODE_POINTS = {*range(0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)} | {
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
}


def unsafe_in(text: str) -> list[str]:
    return sorted({f"U+{ord(char):04X}" for char in text if ord(char) in UNSAFE_CODE_POINTS})


def test_terminal_safe_shows_every_control_and_bidi_character_escaped() -> None:
    shown = terminal_safe(HOSTILE + "\n\tnext")
    assert unsafe_in(shown) == []
    assert shown.startswith("\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b]2;owned\\x1b\\\\x1b[2J")
    assert "\\x9b31m\\x9d0;title\\x9c\\u202eevil\\u202c\\u2066iso\\u2069\\x0d\\x08\\x7f\\x00" in shown
    assert shown.endswith("[bold red]markup[/] [link=https://example.com]x[/link]\n\tnext")
    assert terminal_safe(shown) == shown
    assert terminal_safe("name \udcff") == "name \\udcff"  # an undecodable byte of a file name
    assert plain(HOSTILE).plain == terminal_safe(HOSTILE)


def render(*renderables: object) -> str:
    console = output.console()
    console.file = io.StringIO()
    for renderable in renderables:
        console.print(renderable)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_the_console_escapes_raw_text_and_never_parses_markup() -> None:
    table = Table(title=Text(HOSTILE))
    table.add_column(HOSTILE)
    table.add_row(Text(HOSTILE), HOSTILE)
    linked = Text("click", style=Style(link="https://example.com"))
    shown = render(HOSTILE, Text(HOSTILE), Text.assemble(("bold", "bold"), HOSTILE), table, linked)
    assert unsafe_in(shown) == []
    assert "[bold red]markup[/]" in shown
    assert "\\x1b]52;c;cm0gLXJmIH4=" in shown


def test_the_console_keeps_its_own_styles_on_a_terminal() -> None:
    terminal = io.StringIO()
    console = SafeConsole(file=terminal, force_terminal=True, color_system="standard", width=200)
    console.print(Text.assemble(("Winner", "bold green"), " ", HOSTILE))
    console.print(Text("click", style=Style(link="https://example.com")))
    written = terminal.getvalue()
    assert written.startswith("\x1b[1;32mWinner\x1b[0m")  # Rich's own style codes go out
    assert written.count("\x1b") == 2  # and nothing of the text's, nor a hyperlink (OSC 8)


def test_lines_prompts_and_json_are_escaped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    output.emit(HOSTILE)
    output.error_line(HOSTILE)
    output.print_json({"text": HOSTILE})
    output.print_json_line({"text": HOSTILE})
    asked: list[str] = []

    def answer_no(question: str) -> str:
        asked.append(question)
        return "n"

    monkeypatch.setattr("builtins.input", answer_no)
    assert output.ask(HOSTILE) == "n"
    captured = capsys.readouterr()
    assert unsafe_in(captured.out + captured.err + "".join(asked)) == []
    assert captured.err.startswith("orkestra: \\x1b]52;")


# ------------------------------------------------------------- the scan


def command_sources() -> list[Path]:
    sources = [*sorted((ROOT / "commands").glob("*.py")), ROOT / "cli.py"]
    return [path for path in sources if path.name not in OUTPUT_LAYER]


def ways_out(source: str) -> list[str]:
    """Each place in `source` that could write to the terminal without the output layer."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            function = node.func
            name = ast.unparse(function)
            if name in ("print", "input", "os.write", "rich.print", "pprint", "pprint.pprint"):
                found.append(f"{node.lineno}: {name}(")
            elif name.startswith(("sys.stdout.", "sys.stderr.", "sys.__stdout__.", "sys.__stderr__.")):
                if not name.endswith((".flush", ".isatty", ".fileno")):
                    found.append(f"{node.lineno}: {name}(")
            elif name.split(".")[-1] in ("Console", "get_console", "SafeConsole"):
                found.append(f"{node.lineno}: {name}(")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rich"):
            for alias in node.names:
                if alias.name in ("print", "get_console", "inspect", "print_json"):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
    return found


@pytest.mark.parametrize("path", command_sources(), ids=lambda path: path.name)
def test_commands_print_only_through_the_output_layer(path: Path) -> None:
    assert ways_out(path.read_text(encoding="utf-8")) == []


def test_the_scan_finds_a_raw_print() -> None:
    source = (
        "import sys\nfrom rich.console import Console\nfrom rich import print as p\n"
        "print('x')\nsys.stdout.write('x')\nsys.stderr.write('x')\nConsole().print('x')\n"
        "sys.stdout.flush()\n"
    )
    assert ways_out(source) == [
        "3: from rich import print",
        "4: print(",
        "5: sys.stdout.write(",
        "6: sys.stderr.write(",
        "7: Console(",
    ]
