"""A stand-in for the repository context, replaced by the real one (every file, whole)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class BuiltContext:
    text: str
    contents: dict[str, str] = field(default_factory=dict)
    named: set[str] = field(default_factory=set)


def build_context(
    *, task_text: str, files: Sequence[str], read: Callable[[str], bytes], dependency_files: Sequence[str]
) -> BuiltContext:
    named = {name for name in files if name in task_text}
    contents = {name: read(name).decode() for name in files}
    text = "Repository files:\n" + "\n".join(files)
    for name, body in contents.items():
        text += f"\n\n```text file={name}\n{body}```"
    return BuiltContext(text, contents, named)
