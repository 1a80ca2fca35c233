"""Markdown decision records: what the committee decided, how, and at what cost, in one file.

A record is read from the store alone (no config, no agents), so it tells only
what was recorded while the vote ran. Per-voter weights are not stored with a
vote, so a record of a `weighted` vote states the weighting rule and the
weighted counts the tally used, never today's configuration. Untrusted text in
it is escaped (`record_sections`), and the finished record goes through
`redact` as well, so no API key reaches a file even if a model echoed one.

Only a finished vote has a record: decided, or ended without a decision.
Records are written atomically (a temporary file beside the target, then
`os.replace`), and an existing file is never replaced unless asked. The folder
records go into is created when its parent exists, but not a missing chain of
folders, so a mistyped path fails instead of growing a tree somewhere.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orkestra_tui.engine.errors import EngineError
from orkestra_tui.engine.models import Decision, DecisionStatus
from orkestra_tui.engine.store.store import Store
from orkestra_tui.engine.voting.record_sections import record_sections
from orkestra_tui.errors import DiskFullError, is_disk_full
from orkestra_tui.secrets import redact

EXPORTABLE = (DecisionStatus.DECIDED, DecisionStatus.NO_DECISION)
"""The statuses of a vote that has a record."""
RECORD_MODE = 0o644
"""A new record's permissions: a document anyone on the machine may read, like a file an editor saves."""
SLUG_CHARS = 48
"""The most characters of the question a file name carries."""


class RecordExistsError(EngineError):
    """Records would replace files that already exist; `paths` are those files."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(paths)
        count = len(self.paths)
        if count == 1:
            message = f"{self.paths[0]} already exists"
        else:
            message = f"{count} records already exist, the first {self.paths[0]}"
        super().__init__(message)


# ------------------------------------------------------------------ the record


def exportable(decision: Decision) -> bool:
    """Whether a decision has a record: its vote is over (decided, or no decision)."""
    return decision.status in EXPORTABLE


def record_filename(decision: Decision) -> str:
    """`decision-0042-which-database.md`: the id, then the question as a short, safe slug."""
    folded = unicodedata.normalize("NFKD", decision.question).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if len(slug) > SLUG_CHARS:
        cut = slug[: SLUG_CHARS + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut[:SLUG_CHARS]
    return f"decision-{decision.id:04d}-{slug or 'question'}.md"


def finished_decision(store: Store, decision_id: int) -> Decision:
    """The decision, or an EngineError if there is none or its vote is not over."""
    decision = store.decision(decision_id)
    if decision is None:
        raise EngineError(f"there is no decision {decision_id}")
    if decision.status is DecisionStatus.CANCELLED:
        raise EngineError(f"decision {decision_id} was cancelled; only a finished vote has a record")
    if not exportable(decision):
        state = decision.status.value.replace("_", " ")
        raise EngineError(
            f"decision {decision_id} is still open ({state}); only a finished vote has a record"
        )
    return decision


def decision_record(store: Store, decision_id: int) -> str:
    """The Markdown record of a finished vote; EngineError for an open or unknown one."""
    decision = finished_decision(store, decision_id)
    text = "\n\n".join("\n".join(lines) for lines in record_sections(store, decision) if lines) + "\n"
    return redact(text)


# ------------------------------------------------------------------ files


def write_record(store: Store, decision_id: int, path: Path, *, overwrite: bool = False) -> Path:
    """Write one decision's record to `path`; RecordExistsError if it exists and not `overwrite`."""
    text = decision_record(store, decision_id)
    _check_folder(path.parent)
    if path.is_dir():
        raise EngineError(f"{path} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise RecordExistsError([path])
    _write_atomically(path, text)
    return path


def export_records(
    store: Store,
    out_dir: Path,
    *,
    project_id: int | None = None,
    decision_ids: Sequence[int] | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write the record of every finished vote (of the project, or those asked for) into `out_dir`.

    Nothing is written if any of them would replace an existing file and not
    `overwrite` (RecordExistsError names them); an asked-for decision that is
    unknown, open, or of another project is an EngineError. Returns the paths
    written, by decision id.
    """
    decisions = _chosen(store, project_id, decision_ids)
    if not decisions:
        return []
    _check_folder(out_dir)
    targets = [(decision, out_dir / record_filename(decision)) for decision in decisions]
    existing = [path for _decision, path in targets if path.exists()]
    if existing and not overwrite:
        raise RecordExistsError(existing)
    texts = [(decision_record(store, decision.id), path) for decision, path in targets]
    for text, path in texts:
        _write_atomically(path, text)
    return [path for _text, path in texts]


def _chosen(store: Store, project_id: int | None, decision_ids: Sequence[int] | None) -> list[Decision]:
    if decision_ids is not None:
        chosen = [finished_decision(store, decision_id) for decision_id in dict.fromkeys(decision_ids)]
        if project_id is not None:
            foreign = next((item for item in chosen if item.project_id != project_id), None)
            if foreign is not None:
                raise EngineError(f"decision {foreign.id} is not one of the project's")
        return sorted(chosen, key=lambda item: item.id)
    sql = "SELECT id FROM decision WHERE status IN (?, ?)"
    parameters: list[Any] = [status.value for status in EXPORTABLE]
    if project_id is not None:
        sql += " AND project_id = ?"
        parameters.append(project_id)
    found = [store.decision(int(row[0])) for row in store.query(sql + " ORDER BY id", parameters)]
    return [decision for decision in found if decision is not None]


def _check_folder(folder: Path) -> None:
    """Make sure records can go into `folder`, creating it (not its parents) if it is missing."""
    if folder.is_dir():
        if not os.access(folder, os.W_OK | os.X_OK):
            raise EngineError(f"cannot write to {folder}: permission denied")
        return
    if folder.exists():
        raise EngineError(f"{folder} is not a folder")
    if not folder.parent.is_dir():
        raise EngineError(f"cannot create {folder}: {folder.parent} does not exist")
    try:
        folder.mkdir()
    except OSError as error:
        raise EngineError(f"cannot create {folder}: {error.strerror or error}") from None


def _write_atomically(path: Path, text: str) -> None:
    """`text` into `path` whole or not at all: a temporary file beside it, then a rename."""
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise EngineError(f"cannot write to {path.parent}: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else RECORD_MODE)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        if is_disk_full(error):
            raise DiskFullError(path.parent) from None
        raise EngineError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
