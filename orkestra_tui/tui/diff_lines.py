"""How a line of a unified diff is coloured: by the diff screen, and in a contest entry's excerpt."""

from __future__ import annotations

HEADER_PREFIXES = (
    "diff --git ",
    "index ",
    "--- ",
    "+++ ",
    "new file mode",
    "deleted file mode",
    "old mode",
    "new mode",
    "similarity index",
    "dissimilarity index",
    "rename from",
    "rename to",
    "copy from",
    "copy to",
    "Binary files",
)
"""Lines that open a file's diff, before its first hunk."""


def line_style(line: str, *, in_hunk: bool) -> str:
    """The style of one line of a file's diff."""
    if not in_hunk and line.startswith(HEADER_PREFIXES):
        return "bold"
    if line.startswith("@@"):
        return "cyan"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    if line.startswith("\\"):
        return "dim"
    return ""
