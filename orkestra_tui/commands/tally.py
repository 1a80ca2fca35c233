"""`orkestra tally FILE`: count a ballots file with one of the committee's voting methods.

FILE is JSON: {"options": [...], "ballots": [{"voter": "...", "ranking": [...], "weight": 1,
"count": 1}, ...]}. The shape of the file is checked here; the values (unknown or repeated
options, negative counts) are checked by the tally itself, and every problem becomes one line
that names the file. Rich is imported only when a result is drawn.
"""

from __future__ import annotations

import argparse
import difflib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from orkestra_tui.commands.context import quorum_argument, share_argument
from orkestra_tui.engine.voting.consensus import (
    MAX_BALLOTS,
    MAX_OPTIONS,
    METHODS,
    BallotError,
    RankedBallot,
    TallyResult,
    printable,
    quote_name,
    tally,
    too_many_ballots,
)
from orkestra_tui.errors import OrkestraError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.table import Table
    from rich.text import Text

    # Raises OrkestraError with a problem found in the file, prefixed with the file's name.
    _Fail = Callable[[str], NoReturn]

DEFAULT_METHOD = "ranked_choice"
DEFAULT_THRESHOLD = 0.75
DEFAULT_QUORUM = 0.0
FILE_KEYS = ("options", "ballots")
BALLOT_KEYS = ("voter", "ranking", "weight", "count")
# The title and column heading of the single count table of the methods other than ranked choice.
COUNT_HEADINGS = {
    "weighted": ("First-preference weight", "Weight"),
    "borda": ("Borda points", "Points"),
}
FIRST_PREFERENCES = ("First preferences", "Votes")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `tally` command to `orkestra`."""
    parser = subparsers.add_parser(
        "tally",
        help="count a ballots file with one of the voting methods",
        description=(
            "Count the ranked ballots in FILE and explain the result. FILE is JSON: "
            '{"options": [...], "ballots": [{"voter": "...", "ranking": [...], '
            '"weight": 1, "count": 1}, ...]}; an empty ranking is an abstention. '
            f"At most {MAX_OPTIONS} options and {MAX_BALLOTS:,} ballots (a count stands for "
            "that many identical ballots)."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the ballots file (JSON)")
    parser.add_argument(
        "--method",
        metavar="NAME",
        default=DEFAULT_METHOD,
        help=f"one of {', '.join(METHODS)} (default: {DEFAULT_METHOD})",
    )
    parser.add_argument(
        "--threshold",
        metavar="F",
        default=None,
        help=f"share of first preferences supermajority needs, from 0 to 1 (default: {DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--quorum",
        metavar="F",
        default=None,
        help="least participation (cast ballots over all ballots) for any decision: majority (more than "
        "half) or from 0 to 1 (default: 0)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Tally the file named in `args` and print the result; bad input raises OrkestraError."""
    method: str = args.method
    if method not in METHODS:
        raise UsageError(f"unknown method {quote_name(method)}; valid methods: {', '.join(METHODS)}")
    threshold = share_argument("--threshold", args.threshold, DEFAULT_THRESHOLD)
    quorum = quorum_argument("--quorum", args.quorum, DEFAULT_QUORUM)
    shown_name = printable(args.file)
    options, ballots = load_ballots(Path(args.file), shown_name)
    try:
        result = tally(method, options, ballots, threshold=threshold, quorum=quorum)
    except BallotError as error:
        raise OrkestraError(f"{shown_name}: {error}") from None
    if args.json:
        from orkestra_tui.commands.output import print_json

        print_json(result.to_dict())
    else:
        _render(result)
    return 0


# Reading the file


class _InvalidJson(Exception):
    """JSON that the standard parser accepts but a ballots file must not contain."""


def load_ballots(path: Path, shown_name: str) -> tuple[list[str], list[RankedBallot]]:
    """The options and ballots in the file at `path`; any problem raises OrkestraError."""

    def fail(problem: str) -> NoReturn:
        raise OrkestraError(f"{shown_name}: {problem}")

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        fail("no such file")
    except IsADirectoryError:
        fail("is a directory, not a ballots file")
    except PermissionError:
        fail("permission denied")
    except OSError as error:
        fail(f"cannot be read ({error.strerror or type(error).__name__})")
    return parse_ballots(raw, shown_name)


def parse_ballots(raw: bytes, shown_name: str) -> tuple[list[str], list[RankedBallot]]:
    """The options and ballots in a ballots file's bytes; any problem raises OrkestraError naming it."""

    def fail(problem: str) -> NoReturn:
        raise OrkestraError(f"{shown_name}: {problem}")

    try:
        data = json.loads(
            raw.decode("utf-8-sig"),
            object_pairs_hook=_object_without_repeated_keys,
            parse_constant=_refuse_constant,
        )
    except UnicodeDecodeError as error:
        fail(f"is not UTF-8 text (byte {error.start})")
    except json.JSONDecodeError as error:
        fail(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}")
    except _InvalidJson as error:
        fail(f"invalid JSON: {error}")
    except RecursionError:
        fail("invalid JSON: nested too deeply")
    except ValueError as error:  # e.g. an integer with more digits than Python will read
        fail(f"invalid JSON: {printable(str(error))}")
    return _options(data, fail), _ballots(data, fail)


def _object_without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _InvalidJson(f"key {quote_name(key)} appears twice in one object")
        result[key] = value
    return result


def _refuse_constant(name: str) -> NoReturn:
    raise _InvalidJson(f"{name} is not a number JSON allows")


def _options(data: object, fail: _Fail) -> list[str]:
    if not isinstance(data, dict):
        fail(f'expected an object with "options" and "ballots", not {_json_type(data)}')
    for key in data:
        if key not in FILE_KEYS:
            fail(f"unknown key {quote_name(key)}{_suggestion(key, FILE_KEYS)}")
    for key in FILE_KEYS:
        if key not in data:
            fail(f"missing {quote_name(key)}")
    options = data["options"]
    if not isinstance(options, list):
        fail(f'"options" must be a list of option names, not {_json_type(options)}')
    if not options:
        fail('"options" is empty; list at least one option')
    seen: set[str] = set()
    for number, option in enumerate(options, start=1):
        if not isinstance(option, str) or not option:
            fail(f"option {number} must be a non-empty string, not {_json_value(option)}")
        if option in seen:
            fail(f"option {quote_name(option)} is listed twice")
        seen.add(option)
    return options


def _ballots(data: dict[str, Any], fail: _Fail) -> list[RankedBallot]:
    entries = data["ballots"]
    if not isinstance(entries, list):
        fail(f'"ballots" must be a list of ballots, not {_json_type(entries)}')
    if len(entries) > MAX_BALLOTS:
        fail(str(too_many_ballots()))  # before building them all; the tally checks it too
    ballots: list[RankedBallot] = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            fail(f'ballot {number} must be an object with a "ranking", not {_json_type(entry)}')
        voter = entry.get("voter", "")
        if not isinstance(voter, str):
            fail(f"ballot {number}: voter must be a string, not {_json_value(voter)}")
        label = f"ballot {number} (voter {quote_name(voter)})" if voter else f"ballot {number}"
        for key in entry:
            if key not in BALLOT_KEYS:
                fail(f"{label}: unknown key {quote_name(key)}{_suggestion(key, BALLOT_KEYS)}")
        if "ranking" not in entry:
            fail(f'{label} has no "ranking" (an empty list [] abstains)')
        ranking = entry["ranking"]
        if not isinstance(ranking, list):
            fail(f"{label}: ranking must be a list of option names, not {_json_type(ranking)}")
        for position, name in enumerate(ranking, start=1):
            if not isinstance(name, str):
                problem = f"ranking entry {position} must be an option name"
                fail(f"{label}: {problem}, not {_json_value(name)}")
        weight = entry.get("weight", 1)
        count = entry.get("count", 1)
        for key, value in (("weight", weight), ("count", count)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                fail(f"{label}: {key} must be a number, not {_json_value(value)}")
        # Negative, fractional or infinite numbers and unknown options are the tally's to refuse.
        ballots.append(RankedBallot(voter, tuple(ranking), weight=weight, count=count))
    return ballots


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _json_value(value: object) -> str:
    """A short description of a JSON value: scalars as written, containers by type."""
    if isinstance(value, str):
        return quote_name(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    return _json_type(value)


def _suggestion(key: str, valid_keys: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, valid_keys, n=1)
    if close:
        return f" (did you mean {quote_name(close[0])}?)"
    return f"; expected {', '.join(quote_name(valid) for valid in valid_keys)}"


# Drawing the result


def _render(result: TallyResult) -> None:
    """Print a table per round, then the reason and the outcome, with user data escaped."""
    from rich.text import Text

    from orkestra_tui.commands.output import console as make_console

    console = make_console()
    console.print(
        Text.assemble((result.method, "bold"), f" · participation {_share_text(result.participation)}")
    )
    for table in _tables(result):
        console.print(table)
    console.print(_safe(result.reason))
    if result.winner is not None:
        console.print(
            Text.assemble(
                (f"Winner: {_safe(result.winner)}", "bold"),
                f" · support {_share_text(result.support)} · consensus {result.consensus}",
            )
        )
    elif result.tied:
        console.print(Text.assemble(("No winner", "bold"), f" · tied: {', '.join(map(_safe, result.tied))}"))
    else:
        console.print(Text("No winner", style="bold"))


def _tables(result: TallyResult) -> list[Table]:
    tables: list[Table] = []
    for record in result.rounds:
        counts: dict[str, float] = record["counts"]
        if result.method == "ranked_choice":
            caption_parts = []
            if record["eliminated"] is not None:
                caption_parts.append(f"eliminated: {_safe(record['eliminated'])}")
            if record["exhausted"]:
                caption_parts.append(f"exhausted: {record['exhausted']}")
            if record.get("tie_break"):
                caption_parts.append(_safe(record["tie_break"]))
            tables.append(
                _count_table(
                    f"Round {record['round']}",
                    "Votes",
                    counts,
                    highlight=result.winner if record["eliminated"] is None else None,
                    struck=record["eliminated"],
                    caption="; ".join(caption_parts) or None,
                )
            )
            continue
        title, heading = COUNT_HEADINGS.get(result.method, FIRST_PREFERENCES)
        tables.append(_count_table(title, heading, counts, highlight=result.winner))
        if result.method == "condorcet":
            tables.append(_matrix_table("Head to head: row over column", record["pairwise"]))
            tables.append(_matrix_table("Strongest paths (Schulze)", record["strongest_paths"]))
    return tables


def _count_table(
    title: str,
    heading: str,
    counts: dict[str, float],
    *,
    highlight: str | None,
    struck: str | None = None,
    caption: str | None = None,
) -> Table:
    from rich.table import Table

    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    table.add_column("Option")
    table.add_column(heading, justify="right")
    table.add_column("Share", justify="right")
    total = sum(counts.values())
    # Largest first; the sort is stable, so equal counts keep the order of the options.
    for name, value in sorted(counts.items(), key=lambda item: -item[1]):
        style = "bold" if name == highlight else "dim strike" if name == struck else None
        share = _share_text(value / total) if total else "-"
        table.add_row(_safe(name), _number(value), share, style=style)
    return table


def _matrix_table(title: str, matrix: dict[str, dict[str, int]]) -> Table:
    from rich.table import Table
    from rich.text import Text

    names = list(matrix)
    table = Table(title=title, title_justify="left")
    table.add_column("")
    for name in names:
        table.add_column(_safe(name), justify="right")
    for row in names:
        cells: list[str | Text] = []
        for column in names:
            if row == column:
                cells.append("-")
                continue
            value = matrix[row][column]
            wins = value > matrix[column][row]
            cells.append(Text(str(value), style="bold") if wins else str(value))
        table.add_row(_safe(row), *cells)
    return table


def _safe(text: str) -> str:
    """User data on one line, its control characters escaped (the console never parses markup)."""
    return printable(text)


def _number(value: float) -> str:
    return str(value)


def _share_text(share: float) -> str:
    """A share as a percentage that never rounds to all or nothing when it is neither."""
    if share in (0.0, 1.0):
        return f"{share:.0%}"
    text = f"{share:.1%}"
    if text == "100.0%":
        return ">99.9%"
    if text == "0.0%":
        return "<0.1%"
    return text
