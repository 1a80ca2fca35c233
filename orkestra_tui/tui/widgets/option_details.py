"""What each option of a decision holds, clipped, for the Voting screen (a contest's entries).

A contest's options are "Entry A", "Entry B"...; each holds its entry's diff (or Markdown
result), which the committee's voters read on their ballots. The human sees each option's
author and the first lines of what it holds, every line shown literally (`plain`) and diff
lines coloured as on the diff screen; the Board's `d` shows an entry in full.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

from orkestra_tui.tui.diff_lines import line_style
from orkestra_tui.tui.text import plain

LINES_SHOWN = 8
"""The most lines of an option's detail shown; the rest are counted."""
LINE_CHARS = 160
"""The most characters of one line shown."""


def options_text(
    labels: Mapping[str, str],
    details: Mapping[str, str],
    authors: Mapping[str, str],
    *,
    contest: bool,
    lines_shown: int = LINES_SHOWN,
    compact: bool = False,
) -> Text | None:
    """Each option with a detail: its label, name and author, then its first lines; None when none has one.

    COMPACT leaves out blank lines and Markdown fences, for a dialog's few lines.
    """
    shown = [option for option in labels if details.get(option, "").strip()]
    if not shown:
        return None
    text = Text()
    text.append("Entries" if contest else "What the options hold", style="bold")
    if contest:
        text.append("  (d on the Board shows an entry whole)", style="dim")
    for option in shown:
        text.append("\n\n")
        text.append(f"{labels[option]} ", style="bold")
        text.append_text(plain(option, style="bold"))
        author = authors.get(option)
        if author:
            text.append(" · by ", style="dim")
            text.append_text(plain(author, style="cyan"))
        lines = details[option].strip("\n").splitlines()
        if compact:
            lines = [line for line in lines if line.strip() and not line.startswith("```")]
        diff = any(line.startswith(("diff --git", "@@")) for line in lines)
        in_hunk = False
        for line in lines[:lines_shown]:
            clipped = line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"
            in_hunk = line.startswith("@@") or (in_hunk and not line.startswith("diff --git "))
            text.append("\n  ")
            text.append_text(plain(clipped, style=line_style(line, in_hunk=in_hunk) if diff else ""))
        if len(lines) > lines_shown:
            text.append(f"\n  … {len(lines) - lines_shown:,} more lines", style="dim")
    return text
