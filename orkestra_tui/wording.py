"""Small helpers that word numbers and keys for people, the same on every screen and command.

Nothing here imports Textual or Rich: the engine's messages use these too.
"""

from __future__ import annotations

from collections.abc import Sequence


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
