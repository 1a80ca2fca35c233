"""Task results on disk: Markdown artifacts in the data dir, and file blocks written to a workspace.

An agent's answer is untrusted model output. It is stored whole as an artifact;
the files it proposes (fenced code blocks marked `file=RELATIVE/PATH`) are
written to the project's workspace only when they land inside it. Every write
is atomic (a temporary file in the same folder, then `os.replace`), so a
killed process leaves the old file or the new one, never half of either;
workspace files are also synced to disk (artifacts are copies of what the
database holds, and are not).

The checks work on paths, one folder at a time, and assume nothing else is
changing the workspace while an answer is written.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orkestra_tui.errors import DiskFullError, is_disk_full

ARTIFACTS = "artifacts"
SLUG_MAX_CHARS = 40
DEFAULT_SLUG = "task"
WORKSPACE_MISSING = "the workspace folder does not exist"

_OPENING_FENCE = re.compile(r"(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_CLOSING_FENCE = re.compile(r" {0,3}(?P<fence>`{3,}|~{3,})[ \t]*")
_PATH_ATTRIBUTE = re.compile(
    r"""(?:^|\s)(?:file|path)\s*=\s*(?:"(?P<double>[^"]*)"|'(?P<single>[^']*)'|(?P<bare>\S*))""",
    re.IGNORECASE,
)
_DRIVE = re.compile(r"[A-Za-z]:")
_WINDOWS_DEVICE = re.compile(r"(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(?:\..*)?", re.IGNORECASE)
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NOT_ALLOWED_ON_WINDOWS = frozenset('<>:"|?*')


@dataclass(frozen=True)
class FileBlock:
    """A file an agent proposed: the path exactly as written, and the contents."""

    path: str
    content: str


@dataclass
class WriteReport:
    """What became of an answer's file blocks."""

    written: list[Path] = field(default_factory=list)
    """Files written, relative to the workspace, in answer order."""
    refused: list[tuple[str, str]] = field(default_factory=list)
    """(path as the agent gave it, why it was refused), in answer order."""


@dataclass(frozen=True)
class FencedBlock:
    """A closed fenced code block of an answer: its info string and its lines, dedented as CommonMark does."""

    info: str
    lines: tuple[str, ...]

    def content(self) -> str:
        """The body as a file's contents: the lines joined, with one final line ending (none if empty)."""
        return _with_one_final_newline(list(self.lines))


class PathRefused(Exception):
    """A file block that must not be written; the message says why in plain words."""


def title_slug(title: str) -> str:
    """A safe ASCII file-name part for a title: lowercase words joined by dashes, never empty."""
    ascii_title = unicodedata.normalize("NFKD", title.casefold()).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")
    if len(slug) > SLUG_MAX_CHARS:
        cut = slug[: SLUG_MAX_CHARS + 1]
        last_dash = cut.rfind("-")
        slug = cut[:last_dash] if last_dash >= SLUG_MAX_CHARS // 2 else cut[:SLUG_MAX_CHARS]
        slug = slug.rstrip("-")
    return slug or DEFAULT_SLUG


def artifact_path(projects_dir: Path, project_id: int, task_id: int, title: str) -> Path:
    """Where a task's result is kept: `<projects_dir>/<project>/artifacts/<task:05d>-<slug>.md`."""
    return projects_dir / str(project_id) / ARTIFACTS / f"{task_id:05d}-{title_slug(title)}.md"


def write_artifact(path: Path, text: str) -> Path:
    """Store an artifact atomically as UTF-8 (lone surrogates replaced), creating its folders.

    It replaces the old file in one rename, so it is never seen half-written.
    It is not synced to disk: the artifact is a copy of the result, which the
    database holds durably; syncing a file per task would cost a third of the
    scheduler's time. (Files written to the workspace are synced.)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, utf8_bytes(text), sync=False)
    return path


def file_blocks(text: str) -> list[FileBlock]:
    """The fenced code blocks of a Markdown answer that name a file, in order.

    Blocks without `file=` or `path=` are skipped whole, so examples inside them
    are never taken for files (see `fenced_blocks` for the fences).
    """
    blocks: list[FileBlock] = []
    for block in fenced_blocks(text):
        path = _path_attribute(block.info)
        if path is not None:
            blocks.append(FileBlock(path, block.content()))
    return blocks


def fenced_blocks(text: str) -> list[FencedBlock]:
    """The closed fenced code blocks of a Markdown answer, in order.

    Fences follow CommonMark: three or more backticks or tildes indented at most
    three spaces; a block ends at a fence of the same character, at least as
    long, with nothing after it. A block never closed runs to the end of the
    text and is ignored.
    """
    lines = text.split("\n")
    blocks: list[FencedBlock] = []
    index = 0
    while index < len(lines):
        opening = _OPENING_FENCE.fullmatch(lines[index].rstrip("\r"))
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            index += 1
            continue
        fence = opening["fence"]
        closing_index = next(
            (later for later in range(index + 1, len(lines)) if _closes(lines[later], fence)), None
        )
        if closing_index is None:
            break
        body = tuple(_dedent(line, len(opening["indent"])) for line in lines[index + 1 : closing_index])
        blocks.append(FencedBlock(opening["info"], body))
        index = closing_index + 1
    return blocks


def info_attribute(info: str, name: str) -> str | None:
    """The value of `name=VALUE` in a fence's info string (quoted or bare), or None when absent."""
    pattern = (
        rf"""(?:^|\s){re.escape(name)}\s*=\s*(?:"(?P<double>[^"]*)"|'(?P<single>[^']*)'|(?P<bare>\S*))"""
    )
    match = re.search(pattern, info, re.IGNORECASE)
    if match is None:
        return None
    return next(value for value in match.group("double", "single", "bare") if value is not None)


def existing_folder(root: Path, parts: tuple[str, ...]) -> Path:
    """The real folder that existing folder components lead to inside `root` (a resolved path).

    Each component is checked as `write_inside` checks it: symlinks are followed
    while they stay inside, and nothing leads into .git; a missing one is refused.
    """
    current = root
    for index, part in enumerate(parts):
        candidate = current / part
        if not (candidate.is_symlink() or candidate.exists()):
            raise PathRefused(f"'{'/'.join(parts[: index + 1])}' does not exist")
        current = _inside_folder(root, candidate, parts[: index + 1])
    return current


def existing_file(root: Path, parts: tuple[str, ...]) -> Path:
    """The real file an existing path inside `root` leads to, checked as `write_inside` checks it."""
    folder = existing_folder(root, parts[:-1])
    candidate = folder / parts[-1]
    if not (candidate.is_symlink() or candidate.exists()):
        raise PathRefused(f"'{'/'.join(parts)}' does not exist")
    return _checked_target(root, candidate, parts)


def write_file_blocks(
    workspace: Path, blocks: Sequence[FileBlock], *, max_bytes: int = 1_000_000
) -> WriteReport:
    """Write each block inside the workspace, refusing (and reporting) every one that is unsafe.

    A refused block never stops the others. Only the first block for a path is
    used. Symlinks inside the workspace are followed while they stay inside;
    folders are created one level at a time and checked as they are made.
    """
    report = WriteReport()
    if not workspace.is_dir():
        report.refused.extend((block.path, WORKSPACE_MISSING) for block in blocks)
        return report
    root = workspace.resolve()
    seen: set[tuple[str, ...]] = set()
    for block in blocks:
        try:
            parts = relative_parts(block.path)
            key = tuple(part.casefold() for part in parts)
            if key in seen:
                raise PathRefused("the same file appears earlier in this answer; only the first is used")
            seen.add(key)
            data = utf8_bytes(block.content)
            if len(data) > max_bytes:
                raise PathRefused(f"the file is {len(data):,} bytes, over the limit of {max_bytes:,}")
            write_inside(root, parts, data)
        except PathRefused as refusal:
            report.refused.append((block.path, str(refusal)))
        except OSError as error:
            if is_disk_full(error):  # not the block's fault: the whole answer waits for space
                raise DiskFullError(workspace) from error
            report.refused.append((block.path, f"it could not be written: {error.strerror or error}"))
        else:
            report.written.append(Path(*parts))
    return report


def _closes(line: str, opening_fence: str) -> bool:
    closing = _CLOSING_FENCE.fullmatch(line.rstrip("\r"))
    return (
        closing is not None
        and closing["fence"][0] == opening_fence[0]
        and len(closing["fence"]) >= len(opening_fence)
    )


def _path_attribute(info: str) -> str | None:
    match = _PATH_ATTRIBUTE.search(info)
    if match is None:
        return None
    return next(value for value in match.group("double", "single", "bare") if value is not None)


def _dedent(line: str, indent: int) -> str:
    """Remove up to the opening fence's indentation from a content line, as CommonMark does."""
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :]


def _with_one_final_newline(lines: list[str]) -> str:
    body = "\n".join(lines)
    ending = "\r\n" if lines and lines[-1].endswith("\r") else "\n"
    body = body.rstrip("\r\n")
    return body + ending if body else ""


def relative_parts(path: str) -> tuple[str, ...]:
    """The components of a path an agent gave, or a refusal if it could point anywhere unsafe."""
    if not path.strip():
        raise PathRefused("the path is empty")
    if any(unicodedata.category(character) in _UNSAFE_CATEGORIES for character in path):
        raise PathRefused("the path contains a control or invisible character")
    if path.startswith(("/", "\\")):
        raise PathRefused("the path is absolute; it must be relative to the workspace")
    if _DRIVE.match(path):
        raise PathRefused("the path starts with a drive letter; it must be relative to the workspace")
    if path.endswith(("/", "\\")):
        raise PathRefused("the path names a folder, not a file")
    parts = tuple(part for part in re.split(r"[/\\]", path) if part not in ("", "."))
    if not parts:
        raise PathRefused("the path names a folder, not a file")
    if ".." in parts:
        raise PathRefused("the path contains '..', which could leave the workspace")
    if parts[0].startswith("~"):
        raise PathRefused("the path starts with '~', a home folder")
    for part in parts:
        if part.casefold() == ".git":
            raise PathRefused("the path leads into .git")
        if _NOT_ALLOWED_ON_WINDOWS.intersection(part):
            raise PathRefused(f"'{part}' contains a character Windows does not allow in names: <>:\"|?*")
        if _WINDOWS_DEVICE.fullmatch(part):
            raise PathRefused(f"'{part}' is a reserved device name on Windows")
        if part.endswith((".", " ")):
            raise PathRefused(f"'{part}' ends with a dot or a space, which Windows drops")
    return parts


def write_inside(root: Path, parts: tuple[str, ...], data: bytes) -> None:
    """Check every existing folder on the way, then create the missing ones and write the file."""
    current = root
    existing = 0
    for part in parts[:-1]:
        candidate = current / part
        if not (candidate.is_symlink() or candidate.exists()):
            break
        current = _inside_folder(root, candidate, parts[: existing + 1])
        existing += 1
    target: Path | None = None
    if existing == len(parts) - 1:
        target = _checked_target(root, current / parts[-1], parts)
    for index in range(existing, len(parts) - 1):
        candidate = current / parts[index]
        with contextlib.suppress(FileExistsError):  # made since the check; checked below all the same
            candidate.mkdir()
        current = _inside_folder(root, candidate, parts[: index + 1])
    if target is None:
        target = _checked_target(root, current / parts[-1], parts)
    _write_atomically(target, data)


def _inside_folder(root: Path, candidate: Path, shown: tuple[str, ...]) -> Path:
    """The real folder a path component leads to, if it is a folder inside the workspace."""
    real = _resolve(candidate, shown)
    if not real.is_relative_to(root):
        raise PathRefused(f"'{'/'.join(shown)}' leads outside the workspace")
    if _leads_into_git(root, real):
        raise PathRefused("the path leads into .git")
    if not real.is_dir():
        raise PathRefused(f"'{'/'.join(shown)}' is not a folder")
    return real


def _checked_target(root: Path, candidate: Path, parts: tuple[str, ...]) -> Path:
    """The real file to replace: the path itself, or where a symlink inside the workspace leads."""
    shown = "/".join(parts)
    real = _resolve(candidate, parts) if candidate.is_symlink() else candidate
    if not real.is_relative_to(root):
        raise PathRefused(f"'{shown}' is a symlink leading outside the workspace")
    if _leads_into_git(root, real):
        raise PathRefused("the path leads into .git")
    if real.is_dir():
        raise PathRefused(f"'{shown}' is a folder, not a file")
    if not real.parent.is_dir():
        raise PathRefused(f"'{shown}' is a symlink to a missing folder")
    return real


def _resolve(candidate: Path, shown: tuple[str, ...]) -> Path:
    """Where a path leads once every symlink is followed; a loop of symlinks is refused."""
    try:
        return candidate.resolve()
    except (OSError, RuntimeError):
        raise PathRefused(f"'{'/'.join(shown)}' is a symlink that cannot be followed") from None


def _leads_into_git(root: Path, real: Path) -> bool:
    return any(part.casefold() == ".git" for part in real.relative_to(root).parts)


def utf8_bytes(text: str) -> bytes:
    """UTF-8 bytes of a text; surrogate pairs are joined and lone surrogates become U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def _write_atomically(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Replace a file in one step, keeping the old file's permissions; never leaves a temporary."""
    try:
        old = os.stat(path, follow_symlinks=False)
        mode = stat.S_IMODE(old.st_mode) if stat.S_ISREG(old.st_mode) else None
    except FileNotFoundError:
        mode = None
    temporary = path.parent / f".orkestra-{secrets.token_hex(8)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, 0o666)
    try:
        with open(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if sync:
        _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it (not on Windows)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
