"""Small helpers that word numbers and keys for people, the same on every screen and command.

Nothing here imports Textual or Rich: the engine's messages use these too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 task`, `4 tasks`, `0 tasks`; `many` is the plural where adding an s is wrong."""
    return f"{count} {word}" if count == 1 else f"{count} {many or word + 's'}"


def percent(share: float) -> str:
    """A share from 0 to 1 as a percentage with at most one decimal: `60%`, `66.7%`.

    A share that is neither none nor all never reads as `0%` or `100%`.
    """
    text = f"{100 * share:.1f}".removesuffix(".0")
    if text == "100" and share < 1:
        return ">99.9%"
    if text in ("0", "-0") and share > 0:
        return "<0.1%"
    return f"{text}%"


def key_words(key: str) -> str:
    """A stored key (`round_feedback`, `tie_break`) in plain words (`round feedback`)."""
    return key.replace("_", " ").replace(".", " ").strip()


def listing(items: Sequence[str]) -> str:
    """Items (option texts, plan titles) joined so each stays readable on its own.

    An item's closing full stop is dropped, so none reads `(steady pace)., Plan E`;
    items that hold commas themselves are set apart by semicolons.
    """
    cleaned = [item.strip().removesuffix(".") if len(item.strip()) > 1 else item.strip() for item in items]
    separator = "; " if any("," in item for item in cleaned) else ", "
    return separator.join(cleaned)


def quorum_words(rule: object) -> str:
    """A decision's quorum rule in words: `a majority`, `50%`, or `none` for 0."""
    if isinstance(rule, str):
        return "a majority" if rule == "majority" else rule
    if isinstance(rule, int | float) and not isinstance(rule, bool) and rule > 0:
        return percent(float(rule))
    return "none"


def turnout_words(tally: Mapping[str, Any], rule: object) -> str:
    """How many ballots of a tally counted and how many abstained, and whether the quorum was met.

    `1 of 3 ballots counted, 2 abstained · quorum a majority (2 of 3) not met`; empty for a
    tally stored before tallies kept these counts.
    """
    ballots, cast = tally.get("ballots"), tally.get("cast")
    if not isinstance(ballots, int) or not isinstance(cast, int):
        return ""
    text = f"{cast} of {plural(ballots, 'ballot')} counted"
    if ballots > cast:
        text += f", {ballots - cast} abstained"
    required = tally.get("quorum")
    if not isinstance(required, int) or not required:
        return f"{text} · no quorum"
    met = "met" if tally.get("quorum_met", cast >= required) else "not met"
    return f"{text} · quorum {quorum_words(rule)} ({required} of {ballots}) {met}"
