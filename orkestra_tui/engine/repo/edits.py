"""A model's answer as changes to a task's worktree: whole files, exact edits and deletions.

The answer format every agent is taught (see `CHANGE_BLOCKS_HELP`):

- a whole file is a fenced code block whose info string says `file=RELATIVE/PATH`
  (the format of `orkestra_tui.engine.repo.workspace`, whose fence parser this reuses);
- an exact edit is a block whose info string says `edit=RELATIVE/PATH`, holding one
  or more `<<<<<<< SEARCH` / `=======` / `>>>>>>> REPLACE` pairs;
- a deletion is a block whose info string says `delete=RELATIVE/PATH`, with an empty body.

Everything in an answer is untrusted. Paths follow the workspace's rules (relative,
no `..`, nothing into `.git`, no symlink leading out, no control characters) and
must not be protected by `.orkestra.toml` (`protect`), checked both as written and
where a symlink inside the worktree leads. A search text must match exactly once,
as whole lines (a CRLF file's line endings are kept): no match or several matches
refuse that file's edits, never applied fuzzily. Every refusal is returned as data.

Changes are first worked out in memory, file by file, then written: a refused
change never stops the others, unless the caller asks for all or nothing. Writes
are atomic and synced (`workspace.write_inside`).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from orkestra_tui.engine.repo.protect import protecting_pattern
from orkestra_tui.engine.repo.workspace import (
    WORKSPACE_MISSING,
    PathRefused,
    existing_file,
    existing_folder,
    fenced_blocks,
    info_attribute,
    relative_parts,
    utf8_bytes,
    write_inside,
)
from orkestra_tui.errors import DiskFullError, is_disk_full

ChangeKind = Literal["file", "edit", "delete"]
MAX_FILE_BYTES = 1_000_000
"""The largest file an answer may create or an edit may produce."""
SHOWN_SEARCH_CHARS = 60
"""How much of a search text's first line a refusal quotes."""
CHANGE_BLOCKS_HELP = (
    "To change the repository, answer with fenced code blocks. To create or replace a file, give its "
    "complete contents in a block whose info string names it relative to the repository root, like "
    "```python file=src/app/main.py . To change part of an existing file, use a block like "
    "```python edit=src/app/main.py holding one or more pairs of lines: <<<<<<< SEARCH, the exact "
    "lines to find (copied from the file, matching exactly once), =======, the lines to put in their "
    "place, >>>>>>> REPLACE. To delete a file, give an empty block like ```text delete=old/file.py . "
    "Use a longer fence such as ```` when the contents contain ``` lines. Paths must be relative, stay "
    "inside the repository and keep out of .git and the protected paths."
)
NO_CHANGES_FEEDBACK = (
    "Your answer held no file=, edit= or delete= block, so nothing changed in the repository. "
    "Answer again with your changes in those blocks."
)
"""What to send back to an agent whose answer proposed no change at all."""

_SEARCH_MARKER = re.compile(r"<{5,9} ?SEARCH\s*")
_DIVIDER_MARKER = re.compile(r"={5,9}\s*")
_REPLACE_MARKER = re.compile(r">{5,9} ?REPLACE\s*")
_KINDS: tuple[ChangeKind, ...] = ("file", "edit", "delete")


@dataclass(frozen=True)
class SearchReplace:
    """One exact edit: lines to find (exactly once) and the lines that take their place."""

    search: tuple[str, ...]
    replace: tuple[str, ...]


@dataclass(frozen=True)
class FileChange:
    """One change an answer proposes, with the path exactly as the agent wrote it."""

    kind: ChangeKind
    path: str
    content: str = ""
    """The whole file, for `file`."""
    edits: tuple[SearchReplace, ...] = ()
    """The search/replace pairs, in order, for `edit`."""
    problem: str | None = None
    """Why the block cannot be used as written (a malformed edit, a delete with a body)."""


@dataclass(frozen=True)
class Refusal:
    """A change that was not applied: the path as the agent gave it, and why, in plain words."""

    path: str
    reason: str


@dataclass
class ApplyResult:
    """What became of an answer's changes."""

    written: list[str] = field(default_factory=list)
    """Files created, replaced or edited, relative to the worktree with `/`, in answer order."""
    deleted: list[str] = field(default_factory=list)
    """Files deleted, likewise."""
    refused: list[Refusal] = field(default_factory=list)
    """Every change not applied, in answer order."""
    withheld: list[str] = field(default_factory=list)
    """Changes that were acceptable but not applied because another was refused (all or nothing)."""

    @property
    def applied(self) -> bool:
        """Whether anything changed in the worktree."""
        return bool(self.written or self.deleted)

    def feedback(self) -> str:
        """One paragraph for the agent, naming each refused change and why; empty when none was."""
        if not self.refused:
            return ""
        reasons = "; ".join(f"{refusal.path}: {refusal.reason}" for refusal in self.refused)
        changed = [*self.written, *self.deleted]
        if changed:
            outcome = f"The other changes were applied ({', '.join(changed)})."
            again = "Answer again with corrected blocks for the refused files only"
        elif self.withheld:
            outcome = f"Nothing was applied, not even the acceptable changes ({', '.join(self.withheld)})."
            again = "Answer again with all of your changes"
        else:
            outcome = "Nothing was applied."
            again = "Answer again with corrected blocks"
        return (
            f"Some of your changes could not be applied: {reasons}. {outcome} {again}, copying each "
            "SEARCH text exactly from the file as it is now, with enough lines to match exactly once."
        )


def parse_changes(text: str) -> list[FileChange]:
    """The change blocks of an answer, in order; other fenced blocks are ignored whole.

    A block naming more than one of `file=`, `edit=`, `delete=` (or `path=`, the
    workspace's other spelling of `file=`) is kept with a problem, so that it is refused
    and reported rather than silently dropped.
    """
    changes: list[FileChange] = []
    for block in fenced_blocks(text):
        named = {kind: info_attribute(block.info, kind) for kind in _KINDS}
        if named["file"] is None:
            named["file"] = info_attribute(block.info, "path")
        present = [(kind, path) for kind, path in named.items() if path is not None]
        if not present:
            continue
        kind, path = present[0]
        if len(present) > 1:
            shown = " and ".join(f"{other}=" for other, _ in present)
            changes.append(FileChange(kind, path, problem=f"the block says both {shown}; give one"))
        elif kind == "file":
            changes.append(FileChange("file", path, content=block.content()))
        elif kind == "delete":
            has_body = any(line.strip() for line in block.lines)
            problem = (
                "a delete block must be empty; to change the file use file= or edit=" if has_body else None
            )
            changes.append(FileChange("delete", path, problem=problem))
        else:
            changes.append(_edit_change(path, block.lines))
    return changes


def apply_changes(
    worktree: Path,
    changes: Sequence[FileChange],
    *,
    protect: Iterable[str] = (),
    all_or_nothing: bool = False,
    max_bytes: int = MAX_FILE_BYTES,
) -> ApplyResult:
    """Apply the changes to the worktree under the path rules, refusing (and reporting) each unsafe one.

    Several `edit=` blocks for one file apply in order, and all of that file's edits
    are refused together if one fails. A file named by a `file=` or `delete=` block
    takes no other block. With `all_or_nothing`, one refusal leaves the worktree untouched.
    A full disk raises `DiskFullError` (not the answer's fault).
    """
    result = ApplyResult()
    if not worktree.is_dir():
        result.refused.extend(Refusal(change.path, WORKSPACE_MISSING) for change in changes)
        return result
    plan = _Plan(worktree.resolve(), tuple(protect), max_bytes)
    for change in changes:
        plan.add(change)
    result.refused.extend(plan.refused)
    if all_or_nothing and result.refused:
        result.withheld.extend(shown for shown, _ in plan.outcomes.values())
        return result
    for key, (shown, outcome) in plan.outcomes.items():
        try:
            if outcome is None:
                os.unlink(plan.delete_targets[key])
                result.deleted.append(shown)
            else:
                write_inside(plan.root, key, outcome)
                result.written.append(shown)
        except PathRefused as refusal:
            result.refused.append(Refusal(plan.given[key], str(refusal)))
        except OSError as error:
            if is_disk_full(error):
                raise DiskFullError(worktree) from error
            reason = (
                f"it could not be {'deleted' if outcome is None else 'written'}: {error.strerror or error}"
            )
            result.refused.append(Refusal(plan.given[key], reason))
    return result


def check_changed_paths(
    paths: Iterable[str], protect: Iterable[str] = (), *, worktree: Path | None = None
) -> list[Refusal]:
    """The changed paths (as `git status` lists them for a `command` agent) that must be refused.

    A path is refused when it breaks the path rules (absolute, `..`, control
    characters, into `.git`), when `protect` covers it, or, given the worktree, when
    it is (or passes through) a symlink leading outside it. Deleted paths may be
    passed too: they are judged by name only.
    """
    patterns = tuple(protect)
    root = worktree.resolve() if worktree is not None else None
    refused: list[Refusal] = []
    for path in paths:
        try:
            parts = relative_parts(path)
            _check_protected("/".join(parts), patterns)
            if root is not None:
                _check_stays_inside(root, parts)
        except PathRefused as refusal:
            refused.append(Refusal(path, str(refusal)))
    return refused


class _Plan:
    """The changes worked out in memory, by file, before anything is written."""

    def __init__(self, root: Path, protect: tuple[str, ...], max_bytes: int) -> None:
        self.root = root
        self.protect = protect
        self.max_bytes = max_bytes
        self.outcomes: dict[tuple[str, ...], tuple[str, bytes | None]] = {}
        """By path (as parts): the path shown in reports, and the new bytes (None: delete)."""
        self.given: dict[tuple[str, ...], str] = {}
        self.kinds: dict[tuple[str, ...], ChangeKind] = {}
        self.delete_targets: dict[tuple[str, ...], Path] = {}
        self.refused: list[Refusal] = []
        self.failed: set[tuple[str, ...]] = set()
        """Files whose edits were refused: later edits of the same file are refused with them."""
        self.casefolded: dict[tuple[str, ...], tuple[str, ...]] = {}

    def add(self, change: FileChange) -> None:
        try:
            parts = relative_parts(change.path)
            key = self.casefolded.setdefault(tuple(part.casefold() for part in parts), parts)
            if change.problem is not None:
                raise PathRefused(change.problem)
            self._check_order(key, change.kind)
            shown = "/".join(key)
            _check_protected(shown, self.protect)
            if change.kind == "delete":
                self._plan_delete(key, shown)
            elif change.kind == "file":
                self._keep(key, shown, utf8_bytes(change.content))
            else:
                self._plan_edit(key, shown, change.edits)
            self.given[key] = change.path
            self.kinds[key] = change.kind
        except PathRefused as refusal:
            self.refused.append(Refusal(change.path, str(refusal)))
        except OSError as error:
            self.refused.append(Refusal(change.path, f"it could not be read: {error.strerror or error}"))

    def _check_order(self, key: tuple[str, ...], kind: ChangeKind) -> None:
        if key in self.failed:
            raise PathRefused("an earlier edit of this file was refused, so this one is refused too")
        earlier = self.kinds.get(key)
        if earlier in ("file", "delete"):
            raise PathRefused(f"the file already has a {earlier}= block earlier in this answer; give one")
        if earlier == "edit" and kind != "edit":
            raise PathRefused(
                f"the file already has edit= blocks earlier in this answer; a {kind}= block cannot follow"
            )

    def _plan_delete(self, key: tuple[str, ...], shown: str) -> None:
        folder = existing_folder(self.root, key[:-1])
        target = folder / key[-1]
        if not target.is_symlink():
            if not target.exists():
                raise PathRefused(f"'{shown}' does not exist")
            if target.is_dir():
                raise PathRefused(f"'{shown}' is a folder; delete its files one by one")
        self.delete_targets[key] = target
        self.outcomes[key] = (shown, None)

    def _plan_edit(self, key: tuple[str, ...], shown: str, edits: tuple[SearchReplace, ...]) -> None:
        pending = self.outcomes.get(key)
        if pending is not None and pending[1] is not None:
            data = pending[1]  # an earlier edit= block of this answer changed it already
        else:
            target = existing_file(self.root, key)
            _check_protected(target.relative_to(self.root).as_posix(), self.protect)
            data = target.read_bytes()
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError:
            raise PathRefused(
                f"'{shown}' is not UTF-8 text, so it cannot be edited; replace it whole"
            ) from None
        try:
            for edit in edits:
                content = _replaced_once(content, edit, shown)
        except PathRefused as refusal:
            self.failed.add(key)
            if self.outcomes.pop(key, None) is not None:
                raise PathRefused(f"{refusal}; none of this file's edits were applied") from None
            raise
        self._keep(key, shown, content.encode("utf-8"))

    def _keep(self, key: tuple[str, ...], shown: str, data: bytes) -> None:
        if len(data) > self.max_bytes:
            raise PathRefused(f"the file would be {len(data):,} bytes, over the limit of {self.max_bytes:,}")
        if self.kinds.get(key) is None:  # a new path: where it leads is checked before anything is written
            _check_target_protection(self.root, key, self.protect)
            candidate = self.root.joinpath(*key)
            if candidate.is_symlink() or candidate.exists():
                existing_file(self.root, key)  # a file (not a folder), reached only through folders inside
        self.outcomes[key] = (shown, data)


def _edit_change(path: str, lines: tuple[str, ...]) -> FileChange:
    """An `edit=` block's pairs, or the change with a problem saying how the block is malformed."""
    edits: list[SearchReplace] = []
    section: Literal["outside", "search", "replace"] = "outside"
    search: list[str] = []
    replace: list[str] = []
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.removesuffix("\r")
        if section == "outside":
            if _SEARCH_MARKER.fullmatch(line):
                section, search, replace = "search", [], []
            elif line.strip():
                return FileChange(
                    "edit", path, problem=_malformed(f"line {number} is outside a SEARCH/REPLACE pair")
                )
        elif section == "search":
            if _DIVIDER_MARKER.fullmatch(line):
                section = "replace"
            elif _SEARCH_MARKER.fullmatch(line) or _REPLACE_MARKER.fullmatch(line):
                return FileChange(
                    "edit", path, problem=_malformed(f"line {number}: a SEARCH has no ======= line")
                )
            else:
                search.append(line)
        elif _REPLACE_MARKER.fullmatch(line):
            if not any(text.strip() for text in search):
                return FileChange(
                    "edit", path, problem="a SEARCH text is empty; to create a file, give it whole with file="
                )
            edits.append(SearchReplace(tuple(search), tuple(replace)))
            section = "outside"
        else:
            replace.append(line)
    if section != "outside":
        return FileChange("edit", path, problem=_malformed("the last pair has no >>>>>>> REPLACE line"))
    if not edits:
        return FileChange("edit", path, problem=_malformed("it holds no SEARCH/REPLACE pair"))
    return FileChange("edit", path, edits=tuple(edits))


def _malformed(detail: str) -> str:
    return (
        f"the edit block is malformed ({detail}); write <<<<<<< SEARCH, the lines, =======, "
        "the new lines, >>>>>>> REPLACE"
    )


def _replaced_once(content: str, edit: SearchReplace, shown: str) -> str:
    """`content` with the search lines replaced, if they occur exactly once as whole lines."""
    lines = content.splitlines(keepends=True)
    bare = [line.rstrip("\r\n") for line in lines]
    count = len(edit.search)
    starts = [
        start for start in range(len(bare) - count + 1) if bare[start : start + count] == list(edit.search)
    ]
    if len(starts) != 1:
        first_line = next((text for text in edit.search if text.strip()), "")
        quoted = _quoted(first_line)
        if not starts:
            raise PathRefused(
                f"in '{shown}', the SEARCH text starting {quoted} was not found; it must match exactly"
            )
        raise PathRefused(
            f"in '{shown}', the SEARCH text starting {quoted} matches {len(starts)} places; "
            "it must match exactly once"
        )
    start = starts[0]
    ending = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    last_ending = lines[start + count - 1][len(bare[start + count - 1]) :]
    new_lines = [text + ending for text in edit.replace]
    if new_lines and not last_ending:  # the search ran to the end of a file without a final newline
        new_lines[-1] = edit.replace[-1]
    return "".join([*lines[:start], *new_lines, *lines[start + count :]])


def _quoted(line: str) -> str:
    """A search text's first line as a refusal quotes it: stripped, short, with no control character."""
    text = "".join(
        " " if unicodedata.category(character)[0] == "C" else character for character in line.strip()
    )
    if len(text) > SHOWN_SEARCH_CHARS:
        text = text[: SHOWN_SEARCH_CHARS - 1] + "…"
    return f"'{text}'"


def _check_protected(path: str, protect: tuple[str, ...]) -> None:
    pattern = protecting_pattern(path, protect)
    if pattern is not None:
        raise PathRefused(
            f"'{path}' is protected (by '{pattern}' in .orkestra.toml); agents must not change it"
        )


def _check_target_protection(root: Path, parts: tuple[str, ...], protect: tuple[str, ...]) -> None:
    """Refuse a path that leads, through symlinks inside the worktree, to a protected path."""
    real = _real_path(root, parts)
    _check_protected(real.relative_to(root).as_posix(), protect)


def _check_stays_inside(root: Path, parts: tuple[str, ...]) -> None:
    """Refuse a path that is, or passes through, a symlink leading outside the worktree."""
    _real_path(root, parts)


def _real_path(root: Path, parts: tuple[str, ...]) -> Path:
    """Where the path really leads: its longest existing start resolved, then the rest of its names.

    A start that leads outside the worktree or into .git is refused.
    """
    for count in range(len(parts), 0, -1):
        candidate = root.joinpath(*parts[:count])
        if candidate.is_symlink() or candidate.exists():
            shown = "/".join(parts[:count])
            try:
                real = candidate.resolve()
            except (OSError, RuntimeError):
                raise PathRefused(f"'{shown}' is a symlink that cannot be followed") from None
            if not real.is_relative_to(root):
                raise PathRefused(f"'{shown}' leads outside the workspace")
            if any(part.casefold() == ".git" for part in real.relative_to(root).parts):
                raise PathRefused("the path leads into .git")
            return real.joinpath(*parts[count:])
    return root.joinpath(*parts)
