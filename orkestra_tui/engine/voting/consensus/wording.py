"""The words of a tally: quoted names, numbers, percentages and the pieces of every reason.

Pure text, with no knowledge of ballots or electorates: helpers that name options take the
tuple of option names and the indexes into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction


def quote_name(text: str) -> str:
    """`text` in double quotes, with quotes, backslashes and unprintable characters escaped.

    Option and voter names are user (or agent) data: quoted this way they can neither break a
    one-line message nor smuggle control sequences into a terminal.
    """
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + printable(escaped) + '"'


def printable(text: str) -> str:
    """`text` with every unprintable character (newline, ESC, ...) replaced by its escape."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text
    )


def describe_value(value: object) -> str:
    """A bad input as an error message shows it: strings quoted, numbers as is, else its type."""
    if isinstance(value, str):
        return quote_name(value)
    if isinstance(value, bool | int | float | Fraction | Decimal):
        return str(value)
    return f"a {type(value).__name__}"


def json_number(value: int | Fraction) -> int | float:
    """A JSON-ready number: exact when whole, else the nearest float (huge values rounded)."""
    if isinstance(value, int) or value.denominator == 1:
        return int(value)
    if abs(value) > 2**53:
        return round(value)
    return float(value)


def number_text(value: int | Fraction) -> str:
    number = json_number(value)
    return str(number) if isinstance(number, int) else repr(number)


def percent(value: Fraction, *, unlike: Fraction | None = None) -> str:
    """`value` as a percentage: exact when it has few decimals, never shown equal to `unlike`."""
    scaled = value * 100
    text = ""
    for decimals in range(7):
        rounded = round(scaled, decimals)
        text = f"{float(rounded):.{decimals}f}%"
        if rounded == scaled:
            return text
        if decimals == 0:
            continue  # an inexact whole percentage reads as exact; show at least one decimal
        if unlike is None or unlike == value or round(unlike * 100, decimals) != rounded:
            return text
    return text


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def names_of(options: Sequence[str], indexes: Iterable[int]) -> str:
    """Option names in the order of the options, joined as 'A', 'A and B' or 'A, B and C'."""
    return join_names([options[index] for index in sorted(indexes)])


def join_names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def by_count(values: Sequence[int | Fraction]) -> list[int]:
    """Option indexes with a non-zero value, largest first, then in the order of the options."""
    return sorted((index for index, value in enumerate(values) if value), key=lambda i: -values[i])


def standings(options: Sequence[str], values: Sequence[int | Fraction]) -> str:
    """'A has 3, B has 1': every option with a non-zero value, largest first."""
    return ", ".join(f"{options[index]} has {number_text(values[index])}" for index in by_count(values))


def runner_up(options: Sequence[str], values: Sequence[int | Fraction], winner: int) -> str:
    others = [index for index in by_count(values) if index != winner]
    if not others:
        return ""
    return f"; next was {options[others[0]]} with {number_text(values[others[0]])}"


def ballots_noun(cast: int, total: int) -> str:
    """'ballots', or 'cast ballots' when some of the `total` ballots abstained."""
    noun = "ballot" if cast == 1 else "ballots"
    return f"cast {noun}" if cast != total else noun
