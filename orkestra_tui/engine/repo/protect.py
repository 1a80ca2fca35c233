"""The paths of a repository that agents must not touch: `.orkestra.toml`'s `protect` globs.

A pattern is matched against the whole path from the repository's top level,
with `/` between folders, and case-insensitively (a case-insensitive file
system would let `license` overwrite `LICENSE`):

- `*` matches any run of characters within one name, `?` one character of a
  name, `[abc]` / `[!abc]` one character of a set;
- `**` matches anything, across folders: `.github/**` is everything under
  .github, `**/secrets.json` is that file in any folder (or at the top);
- a pattern also protects everything under a folder it matches: `.github`
  protects `.github/workflows/ci.yml` as `.github/**` does.

Patterns are anchored at the top level: `LICENSE` is the top-level file only;
write `**/LICENSE` for one in any folder. `.orkestra.toml` itself is always
protected: an agent that could rewrite it could turn off the gates that check it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

ALWAYS_PROTECTED = (".orkestra.toml",)
"""Protected whatever the settings say: the file that holds the gates and these very rules."""


def protecting_pattern(path: str, protect: Iterable[str]) -> str | None:
    """The first pattern (the always-protected ones first) that protects `path`, or None.

    `path` is relative to the repository's top level, with `/` or `\\` between names.
    """
    names = [name for name in re.split(r"[/\\]", path) if name not in ("", ".")]
    prefixes = ["/".join(names[: count + 1]).casefold() for count in range(len(names))]
    for pattern in (*ALWAYS_PROTECTED, *protect):
        compiled = _compiled(pattern)
        if any(compiled.fullmatch(prefix) for prefix in prefixes):
            return pattern
    return None


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    """A glob as a regular expression over casefolded paths (see the module's docstring)."""
    text = pattern.casefold().replace("\\", "/").strip("/")
    while text.startswith("./"):
        text = text[2:]
    pieces: list[str] = []
    index = 0
    while index < len(text):
        character = text[index]
        if text.startswith("**/", index):
            pieces.append("(?:.*/)?")  # any folders, or none
            index += 3
        elif text.startswith("**", index):
            pieces.append(".*")
            index += 2
        elif character == "*":
            pieces.append("[^/]*")
            index += 1
        elif character == "?":
            pieces.append("[^/]")
            index += 1
        elif character == "[" and (closing := _set_end(text, index)) is not None:
            inside = text[index + 1 : closing]
            negated = inside.startswith("!")
            members = re.escape(inside[1:] if negated else inside).replace("\\-", "-")
            pieces.append(f"[^/{members}]" if negated else f"[{members}]")
            index = closing + 1
        else:
            pieces.append(re.escape(character))
            index += 1
    return re.compile("".join(pieces), re.DOTALL)


def _set_end(text: str, start: int) -> int | None:
    """Where the `]` closing a `[...]` set that opens at `start` is, or None for a literal `[`."""
    search_from = start + 2 if text.startswith("[!", start) else start + 1
    closing = text.find("]", search_from + 1)
    return closing if closing != -1 and "/" not in text[start:closing] else None
