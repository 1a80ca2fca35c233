"""What a simulated agent answers for a task in a repository project: real, deterministic changes.

The engine sends such a task with `context["repository"]`, a mapping of:
`files` (the repository's tracked relative paths), `named_files` (path to the
current text of the files the task names), `attempt` (1 for the first try),
`gate_feedback` (None, or a failed gate's trimmed output), `edit_feedback`
(None, or why the last answer's edits were refused), `conflict` (None, or the
paths that conflicted at merge) and `task_key` (a short stable key, "t3").

The answer is a short Markdown report around change blocks in the format
every agent is taught: a whole file in a fence whose info string says
`file=PATH`, an exact edit in one that says `edit=PATH` with `<<<<<<< SEARCH`
/ `=======` / `>>>>>>> REPLACE` pairs whose search lines are copied verbatim
from `named_files`. Each task:

- adds a file: one the task's text names (if it does not exist yet), else one
  derived from its title and key (`src/<slug>_<key>.py`, `docs/<slug>-<key>.md`
  for documentation, `tests/test_<slug>_<key>.py` for tests). The key keeps the
  name the task's own, so a retry can rewrite it whole whether or not the
  worktree still holds the first attempt;
- about half the time, when the task names an existing Python or text file,
  also edits it (a function or a section added after its last lines);
- about one task in six adds an entry to the shared `docs/CHANGES.md`, always
  at the same place (under its introduction, newest first), so two such tasks
  run side by side conflict at merge; a re-run after a conflict inserts it into
  the file's current contents from `named_files`;
- about one task in five breaks the gate on its first attempt (its Python file
  has a syntax error, so `python -m compileall -q .` fails) and fixes it when
  sent back with `gate_feedback`; about one in ten of the others misquotes its
  edit's search text on the first attempt and copies it exactly when sent back
  with `edit_feedback`.

Every choice is drawn from the seed, the agent, the task's key and title, never
from the attempt, so a retry makes the same change, only mended. An answer is
the task's whole change against the files as listed: the engine applies it to a
fresh worktree, or to one reset to where the task started (a rewritten whole
file is the same either way). Paths are checked before they are written into an
answer: relative, no `..`, nothing under `.git`, and no dot-files or licence
files are edited (they are the usual protected paths). Feedback texts are never
quoted back, as they may hold paths outside the repository.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

REPOSITORY_CONTEXT_KEY = "repository"
"""The key of `ProviderRequest.context` that carries a repository task's context."""
CHANGES_PATH = "docs/CHANGES.md"
"""The file that tasks touching a shared file add their entry to."""
CHANGES_HEADING = "# Changes"
CHANGES_INTRO = "Entries added by the committee's tasks, newest first."
"""The line after which every entry goes, so that two tasks side by side add theirs at the same place."""
GATE_BREAK_SHARE = 1 / 5
"""The share of tasks whose first attempt fails a compile gate."""
SHARED_FILE_SHARE = 1 / 6
"""The share of tasks that add an entry to the shared file."""
MISQUOTE_SHARE = 1 / 10
"""The share of the other tasks whose first attempt's edit quotes its search text wrongly."""
EDIT_SHARE = 1 / 2
"""The share of tasks naming an editable existing file that edit it."""
EDITABLE_SUFFIXES = (".py", ".md", ".txt", ".rst")
MAX_EDITED_CHARS = 200_000
SLUG_MAX_CHARS = 40

_MENTIONED_PATH = re.compile(r"(?<![\w./\\-])((?:[\w-]+/)*[\w-]+\.(?:py|md|txt|rst))(?![\w/\\-])")
_MARKER_LINE = re.compile(r"(?:<{5,9} ?SEARCH|={5,9}|>{5,9} ?REPLACE)\s*")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_REPEATED_PUNCTUATION = re.compile(r"([^\w\s])\1{2,}")


@dataclass(frozen=True)
class RepositoryTask:
    """A repository task as a simulated agent reads it: the request's context, checked and typed."""

    key: str
    title: str
    instructions: str
    category: str
    files: tuple[str, ...]
    named_files: Mapping[str, str]
    attempt: int = 1
    gate_feedback: str | None = None
    edit_feedback: str | None = None
    conflict: tuple[str, ...] | None = None

    @property
    def is_retry(self) -> bool:
        """Whether the task was sent back: a second attempt, feedback, or a conflict to mend."""
        return (
            self.attempt > 1
            or self.gate_feedback is not None
            or self.edit_feedback is not None
            or self.conflict is not None
        )


@dataclass(frozen=True)
class TaskTraits:
    """What a simulated agent does with a task, drawn once from the seed, the agent and the task."""

    breaks_gate: bool
    """The first attempt's Python file does not compile."""
    touches_shared_file: bool
    """The task adds an entry to `CHANGES_PATH`."""
    misquotes_edit: bool
    """The first attempt's edit of an existing file quotes a search text that is not in it."""
    edit_draw: float
    """Below `EDIT_SHARE`: the task edits an existing file it names, if there is one."""


def repository_task(context: Mapping[str, object]) -> RepositoryTask | None:
    """The repository task in a task request's context, or None outside repository projects.

    Values of the wrong type are read as absent, so a malformed context still
    gets a sensible answer; paths that could point outside the repository are dropped.
    """
    repository = context.get(REPOSITORY_CONTEXT_KEY)
    if not isinstance(repository, Mapping):
        return None
    files = repository.get("files")
    named = repository.get("named_files")
    attempt = repository.get("attempt")
    conflict = repository.get("conflict")
    return RepositoryTask(
        key=_identifier(str(repository.get("task_key") or "task"), "task"),
        title=_one_line(str(context.get("title") or "Task")),
        instructions=_one_line(str(context.get("instructions") or "")),
        category=str(context.get("category") or ""),
        files=tuple(path for path in _strings(files) if safe_path(path)),
        named_files={
            path: text
            for path, text in (named.items() if isinstance(named, Mapping) else ())
            if isinstance(path, str) and isinstance(text, str) and safe_path(path)
        },
        attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 1,
        gate_feedback=_text_or_none(repository.get("gate_feedback")),
        edit_feedback=_text_or_none(repository.get("edit_feedback")),
        conflict=tuple(_strings(conflict)) if conflict is not None else None,
    )


def task_traits(seed: int, agent_name: str, task_key: str, title: str) -> TaskTraits:
    """The deterministic traits of a task for an agent: the same for every attempt."""
    breaks_gate = _draw(seed, agent_name, task_key, title, "gate") < GATE_BREAK_SHARE
    return TaskTraits(
        breaks_gate=breaks_gate,
        touches_shared_file=_draw(seed, agent_name, task_key, title, "shared") < SHARED_FILE_SHARE,
        misquotes_edit=not breaks_gate and _draw(seed, agent_name, task_key, title, "quote") < MISQUOTE_SHARE,
        edit_draw=_draw(seed, agent_name, task_key, title, "edit"),
    )


def repository_answer(task: RepositoryTask, *, seed: int, agent_name: str, persona_title: str) -> str:
    """The Markdown report and change blocks a simulated agent answers for a repository task."""
    traits = task_traits(seed, agent_name, task.key, task.title)
    first_try = not task.is_retry
    broken = traits.breaks_gate and first_try
    done: list[str] = []
    blocks: list[str] = []

    new_path = _new_file_path(task)
    blocks.append(_file_block(new_path, _new_file_text(task, new_path, agent_name, persona_title, broken)))
    done.append(f"added `{new_path}`")

    edit = _existing_file_edit(task, traits, agent_name, exclude={new_path, CHANGES_PATH})
    if edit is not None:
        edited, search, replace = edit
        if traits.misquotes_edit and first_try:
            # A line that cannot follow the file's last line: the search matches nowhere.
            search = [*search, f"# the end of {edited}, as remembered"]
        blocks.append(_edit_block(edited, [(search, replace)]))
        done.append(f"extended `{edited}`")

    if traits.touches_shared_file:
        shared = _shared_change(task, agent_name)
        if shared is not None:
            blocks.append(shared)
            done.append(f"added an entry to `{CHANGES_PATH}`")

    lines = [f"# {task.title}", "", f"Approach of a {persona_title}: I {_listed(done)}.", ""]
    lines += _retry_notes(task, new_path)
    return "\n".join([*lines, *blocks]).rstrip("\n") + "\n"


def safe_path(path: str) -> bool:
    """Whether a path can go into an answer: relative, inside the repository, out of `.git`, printable."""
    if not path or len(path) > 300 or path.startswith("/") or "\\" in path or ":" in path:
        return False
    if any(unicodedata.category(character) in _UNSAFE_CATEGORIES for character in path):
        return False
    parts = path.split("/")
    return all(part not in ("", ".", "..") and part.casefold() != ".git" for part in parts)


# ------------------------------------------------------------ the new file


def _new_file_path(task: RepositoryTask) -> str:
    """A file the task's text names that does not exist yet, else one derived from its title and key."""
    existing = set(task.files) | set(task.named_files)
    for mentioned in _MENTIONED_PATH.findall(f"{task.title} {task.instructions}"):
        if (
            mentioned not in existing
            and mentioned != CHANGES_PATH
            and safe_path(mentioned)
            and _ordinary(mentioned)
        ):
            return str(mentioned)
    slug = _slug(task.title)
    if task.category == "docs":
        return f"docs/{slug}-{task.key}.md".replace("_", "-")
    name = f"{slug.replace('-', '_')}_{task.key}"
    if task.category == "tests":
        return f"tests/test_{name}.py"
    return f"src/{name}.py"


def _new_file_text(task: RepositoryTask, path: str, agent_name: str, persona_title: str, broken: bool) -> str:
    title = _plain(task.title)
    about = _plain(task.instructions)[:200] or title
    if not path.endswith(".py"):
        return (
            f"# {title}\n\n{about}\n\n"
            f"Written by {_plain(agent_name)}, a {persona_title}, for task {task.key}.\n"
        )
    function = _identifier(_slug(task.title).replace("-", "_"), "result")
    # A missing colon after the signature: the kind of slip a compile gate catches.
    colon = "" if broken else ":"
    if path.startswith("tests/") or path.rsplit("/", 1)[-1].startswith("test_"):
        return (
            f'"""Checks for {title}."""\n\n\n'
            f"def test_{function}() -> None{colon}\n"
            f'    """{title} holds together."""\n'
            f"    assert {title!r}.strip()\n"
        )
    return (
        f'"""{title}.\n\n{about}\n\n'
        f'Written by {_plain(agent_name)}, a {persona_title}, for task {task.key}.\n"""\n\n'
        "from __future__ import annotations\n\n\n"
        f"def {function}() -> str{colon}\n"
        f'    """What the task delivers, in one line."""\n'
        f"    return {title!r}\n"
    )


# ------------------------------------------------------------ edits of existing files


def _file_to_edit(task: RepositoryTask, traits: TaskTraits, *, exclude: set[str]) -> str | None:
    """The existing file the task names that this agent edits, if it edits one."""
    candidates = sorted(
        path
        for path, text in task.named_files.items()
        if path not in exclude
        and path.endswith(EDITABLE_SUFFIXES)
        and _ordinary(path)
        and len(text) <= MAX_EDITED_CHARS
        and text.strip()
    )
    if not candidates or traits.edit_draw >= EDIT_SHARE:
        return None
    return candidates[int(traits.edit_draw / EDIT_SHARE * len(candidates))]


def _existing_file_edit(
    task: RepositoryTask, traits: TaskTraits, agent_name: str, *, exclude: set[str]
) -> tuple[str, list[str], list[str]] | None:
    """The file this agent extends, with the search and replace lines, if it extends one.

    None too when the file already holds this task's addition (a retry shown
    the worktree of its first attempt), so that it is never added twice.
    """
    edited = _file_to_edit(task, traits, exclude=exclude)
    if edited is None:
        return None
    text = task.named_files[edited]
    if _signature(task, agent_name) in text:
        return None
    pair = _append_after_end(text, _addition(task, edited, agent_name))
    return None if pair is None else (edited, *pair)


def _signature(task: RepositoryTask, agent_name: str) -> str:
    """The words that mark an addition as this task's."""
    return f"Added for task {task.key} by {_plain(agent_name)}."


def _addition(task: RepositoryTask, path: str, agent_name: str) -> list[str]:
    """The lines added after the end of an existing file."""
    title = _plain(task.title)
    if path.endswith(".py"):
        function = _identifier(f"{_slug(task.title).replace('-', '_')}_{task.key}", "result")
        return [
            "",
            "",
            f"def {function}() -> str:",
            f'    """{_signature(task, agent_name)}"""',
            f"    return {title!r}",
        ]
    return ["", f"## {title}", "", _signature(task, agent_name)]


def _append_after_end(text: str, addition: list[str]) -> tuple[list[str], list[str]] | None:
    """A search of the file's last lines (as few as match exactly once) and those lines plus `addition`.

    None when no such search fits the edit format: a line that reads as a
    SEARCH/REPLACE marker (a Markdown `=====` underline) cannot be quoted.
    """
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return None
    for count in range(1, len(lines) + 1):
        search = lines[-count:]
        if any(_MARKER_LINE.fullmatch(line) for line in search):
            return None
        if _occurrences(lines, search) == 1:
            return search, [*search, *addition]
    return None


def _shared_change(task: RepositoryTask, agent_name: str) -> str | None:
    """The block adding this task's entry to the shared file, or None when it cannot be placed exactly.

    The entry goes right under the file's introduction (or its first heading),
    so that two tasks made from the same base add theirs at the same place.
    """
    entry = f"- {_plain(task.title)} (task {task.key}, by {_plain(agent_name)})."
    current = task.named_files.get(CHANGES_PATH)
    if current is None:
        if CHANGES_PATH not in task.files:
            return _file_block(CHANGES_PATH, f"{CHANGES_HEADING}\n\n{CHANGES_INTRO}\n\n{entry}\n")
        if task.edit_feedback is not None:
            return None  # the file is not what the simulated agents write, and its text was not shown
        # Not shown, so taken to be as the simulated agents write it: the introduction, a blank line
        # and the entries, newest first.
        return _edit_block(CHANGES_PATH, [([CHANGES_INTRO, ""], [CHANGES_INTRO, "", entry])])
    lines = current.splitlines()
    if entry in lines:
        return None  # already there (a retry in the worktree of the first attempt)
    for anchor in (CHANGES_INTRO, CHANGES_HEADING):
        if _occurrences(lines, [anchor]) != 1:
            continue
        # Under the anchor and its blank line, at the top of a list there, so the list stays tight.
        search = [anchor, ""] if _occurrences(lines, [anchor, ""]) == 1 else [anchor]
        return _edit_block(CHANGES_PATH, [(search, [anchor, "", entry])])
    pair = _append_after_end(current, ["", entry])
    return _edit_block(CHANGES_PATH, [pair]) if pair is not None else None


# ------------------------------------------------------------ blocks and text


def _file_block(path: str, text: str) -> str:
    fence = _fence_for(text)
    language = "python" if path.endswith(".py") else "markdown" if path.endswith(".md") else "text"
    return f"{fence}{language} file={path}\n{text.rstrip(chr(10))}\n{fence}\n"


def _edit_block(path: str, pairs: Sequence[tuple[Sequence[str], Sequence[str]]]) -> str:
    body: list[str] = []
    for search, replace in pairs:
        body += ["<<<<<<< SEARCH", *search, "=======", *replace, ">>>>>>> REPLACE"]
    text = "\n".join(body)
    fence = _fence_for(text)
    language = "python" if path.endswith(".py") else "markdown" if path.endswith(".md") else "text"
    return f"{fence}{language} edit={path}\n{text}\n{fence}\n"


def _fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run that starts a line of the text."""
    runs = [len(match) for match in re.findall(r"^ {0,3}(`{3,}|~{3,})", text, re.MULTILINE)]
    return "`" * max([3, *(run + 1 for run in runs)])


def _retry_notes(task: RepositoryTask, new_path: str) -> list[str]:
    notes: list[str] = []
    if task.gate_feedback is not None:
        notes.append(f"The gate failed on my last attempt: I wrote `{new_path}` again, so that it compiles.")
    if task.edit_feedback is not None:
        notes.append(
            "My last edit was refused; I copied each search text again, exactly, from the file as it is now."
        )
    if task.conflict is not None:
        notes.append("My change conflicted at merge; I made it again on the files as they are now.")
    return [*notes, ""] if notes else []


def _listed(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _occurrences(lines: Sequence[str], search: Sequence[str]) -> int:
    width = len(search)
    return sum(
        1 for start in range(len(lines) - width + 1) if list(lines[start : start + width]) == list(search)
    )


def _ordinary(path: str) -> bool:
    """Not a dot-file, not in a dot-folder, not a licence: the paths a repository usually protects."""
    parts = path.split("/")
    return not any(part.startswith(".") for part in parts) and not parts[-1].upper().startswith(
        ("LICENSE", "LICENCE", "COPYING")
    )


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title.casefold()).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")
    if len(slug) > SLUG_MAX_CHARS:
        cut = slug[: SLUG_MAX_CHARS + 1]
        # At a word's end where one is not too far back, as the workspace names its artifacts.
        slug = cut[: cut.rfind("-")] if cut.rfind("-") >= SLUG_MAX_CHARS // 2 else cut[:SLUG_MAX_CHARS]
    return slug.strip("-") or "task"


def _identifier(text: str, fallback: str) -> str:
    """A Python identifier (and a safe file-name part) made of the text's ASCII letters, digits and `_`."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    if not name:
        return fallback
    return f"{fallback}_{name}" if name[0].isdigit() else name


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _plain(text: str) -> str:
    """Text safe inside a docstring, a Markdown line or an edit block: one line, no quotes or backslashes."""
    printable = "".join(
        character for character in text if unicodedata.category(character) not in _UNSAFE_CATEGORIES
    )
    flat = _one_line(printable).replace("\\", "/").replace('"', "'")
    return _REPEATED_PUNCTUATION.sub(r"\1", flat)


def _strings(value: object) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        return []
    return [item for item in value if isinstance(item, str)]


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _draw(*parts: object) -> float:
    """A number in [0, 1) fixed by the parts."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
