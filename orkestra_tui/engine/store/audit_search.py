"""Searching and filtering the audit log: the SQL behind `Store.search_audit` and `Store.audit_count`.

Two plans, both newest first by id and both cheap on a million events:

- With search text, the full-text index (`audit_text`, migration 6) drives:
  it yields matching rowids newest first (`ORDER BY rowid DESC` is native to
  FTS5), each joined to its audit row and checked against the other filters.
  An exact actor and the kind are also added to the MATCH as column filters,
  so the index intersects them with the text instead of the join rejecting
  rows one by one.
- Without text, one query per kind: a kind prefix (`task`) is expanded to the
  kinds actually recorded (`task.done`, `task.review`…) by a few index seeks,
  and each kind reads its newest rows off an index, merged at the end.

Time bounds are checked on `ts` exactly, but rows are always found by id: a
narrow range (at most `NARROW_RANGE_EVENTS` events) is first turned into the
range of ids it covers, through the `ts` index; a wide one is checked row by
row while scanning newest first, which is quick when the range reaches the
present (`--since 2h`) and slower when it ends long ago.

Search text is user input and never reaches FTS5's query syntax: every word
is quoted, so `"`, `*`, `-`, `OR`, `NEAR(` and parentheses are just text and
cannot raise a syntax error. What is supported: all words must match (in any
of actor, kind, subject, summary and data), `"two words"` matches a phrase,
and a trailing `*` makes a word a prefix (`migr*`). Matching ignores case and
accents (`cafe` finds `café`); scripts written without spaces (Chinese,
Japanese) are indexed by whole runs, so only whole runs or prefixes match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from orkestra_tui.engine.store.rows import AUDIT_COLUMNS

Query = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
"""Runs one SQL statement and returns its rows (`Store.query`)."""

AGENT_ACTORS = "agent"
"""The actor filter that means every agent: any actor but `human`, `engine` and `policy:*`."""
NOT_AGENTS = ("human", "engine")
POLICY_PREFIX = "policy:"
NARROW_RANGE_EVENTS = 50_000
"""Up to this many events in a time range, the range is first turned into a range of ids."""
MOST_KINDS = 64
"""A kind prefix matching more recorded kinds than this is checked row by row instead."""

_COLUMNS = ", ".join(f"a.{column.strip()}" for column in AUDIT_COLUMNS.split(","))
_TERM = re.compile(r'"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class AuditFilter:
    """Which audit events to find; every field left `None` (or empty) matches all."""

    text: str | None = None
    """Words to search for (see the module's docstring); blank text matches all."""
    actor: str | None = None
    """An exact actor name, or `agent` for every agent."""
    kind: str | None = None
    """A kind or a prefix of kinds: `task` matches `task` and `task.done`, not `taskforce`."""
    project_id: int | None = None
    since: float | None = None
    """Events at or after this time (epoch seconds)."""
    until: float | None = None
    """Events before this time (epoch seconds)."""
    before_id: int | None = None
    """Events older than this id."""
    after_id: int | None = None
    """Events newer than this id; the result is then oldest first, for a live tail."""


def match_expression(text: str) -> str:
    """`text` as a safe FTS5 MATCH expression: every word and phrase quoted, all required.

    Returns "" when `text` has nothing searchable (only punctuation or symbols).
    """
    terms: list[str] = []
    for quoted_phrase, word in _TERM.findall(text):
        prefix = word.endswith("*")
        term = word.rstrip("*") if word else quoted_phrase
        if not any(character.isalnum() for character in term):
            continue
        quoted = '"' + term.replace('"', '""') + '"'
        terms.append(quoted + "*" if prefix else quoted)
    return " ".join(terms)


def search(query: Query, wanted: AuditFilter, limit: int) -> list[tuple[Any, ...]]:
    """The audit rows matching `wanted` (columns as `AUDIT_COLUMNS`): newest first, or
    oldest first after `after_id`, at most `limit`."""
    plan = _plan(query, wanted)
    if plan is None or limit < 1:
        return []
    order = "ASC" if wanted.after_id is not None else "DESC"
    if plan.match is not None:
        return query(
            f"SELECT {_COLUMNS} FROM audit_text CROSS JOIN audit a ON a.id = audit_text.rowid"
            f" WHERE audit_text MATCH ?{plan.where(' AND ')}"
            f" ORDER BY audit_text.rowid {order} LIMIT ?",
            [plan.match, *plan.parameters, limit],
        )
    branches = [
        (
            f"SELECT * FROM (SELECT {_COLUMNS} FROM audit a{plan.where(' WHERE ', kind)}"
            f" ORDER BY a.id {order} LIMIT ?)",
            [*plan.parameters, *([kind] if kind is not None else []), limit],
        )
        for kind in plan.kinds
    ]
    if len(branches) == 1:
        return query(*branches[0])
    return query(
        f"SELECT * FROM ({' UNION ALL '.join(sql for sql, _ in branches)}) ORDER BY id {order} LIMIT ?",
        [*(value for _, parameters in branches for value in parameters), limit],
    )


def count(query: Query, wanted: AuditFilter, most: int | None = None) -> int:
    """How many audit events match `wanted`, counting no further than `most` if given."""
    plan = _plan(query, wanted)
    if plan is None:
        return 0
    cap = f" LIMIT {int(most)}" if most is not None else ""
    if plan.match is not None:
        sql = (
            "SELECT 1 FROM audit_text CROSS JOIN audit a ON a.id = audit_text.rowid"
            f" WHERE audit_text MATCH ?{plan.where(' AND ')}"
        )
        return int(query(f"SELECT count(*) FROM ({sql}{cap})", [plan.match, *plan.parameters])[0][0])
    total = 0
    for kind in plan.kinds:
        sql = f"SELECT 1 FROM audit a{plan.where(' WHERE ', kind)}"
        parameters = [*plan.parameters, *([kind] if kind is not None else [])]
        total += int(query(f"SELECT count(*) FROM ({sql}{cap})", parameters)[0][0])
        if most is not None and total >= most:
            return most
    return total


@dataclass
class _Plan:
    clauses: list[str]
    parameters: list[Any]
    match: str | None
    """The MATCH expression when the full-text index drives the query."""
    kinds: list[str | None]
    """One query per kind (`None`: no kind condition, or one checked in `clauses`)."""

    def where(self, keyword: str, kind: str | None = None) -> str:
        clauses = [*self.clauses, "a.kind = ?"] if kind is not None else self.clauses
        if not clauses:
            return ""
        return keyword + " AND ".join(clauses)


def _plan(query: Query, wanted: AuditFilter) -> _Plan | None:
    """The conditions for `wanted`, or None when nothing can match."""
    wanted = replace(wanted, actor=wanted.actor or None, kind=wanted.kind or None)
    clauses: list[str] = []
    parameters: list[Any] = []
    text = (wanted.text or "").strip()
    match: str | None = None
    if text:
        match = match_expression(text)
        if not match:
            return None
    id_column = "audit_text.rowid" if match is not None else "a.id"
    if wanted.actor == AGENT_ACTORS:
        marks = ", ".join("?" * len(NOT_AGENTS))
        clauses.append(f"a.actor NOT IN ({marks}) AND substr(a.actor, 1, ?) <> ?")
        parameters += [*NOT_AGENTS, len(POLICY_PREFIX), POLICY_PREFIX]
    elif wanted.actor is not None:
        clauses.append("a.actor = ?")
        parameters.append(wanted.actor)
    if wanted.project_id is not None:
        clauses.append("a.project_id = ?")
        parameters.append(wanted.project_id)
    for bound, value in (("<", wanted.before_id), (">", wanted.after_id)):
        if value is not None:
            clauses.append(f"{id_column} {bound} ?")
            parameters.append(value)
    if wanted.since is not None or wanted.until is not None:
        id_range = _ids_in_time_range(query, wanted.since, wanted.until)
        if id_range == ():
            return None
        if id_range is not None:
            clauses.append(f"{id_column} BETWEEN ? AND ?")
            parameters += list(id_range)
        # `+` keeps the planner off the ts index: rows are found by id, newest first.
        for bound, moment in ((">=", wanted.since), ("<", wanted.until)):
            if moment is not None:
                clauses.append(f"+a.ts {bound} ?")
                parameters.append(moment)
    kinds: list[str | None] = [None]
    if wanted.kind is not None:
        expanded = None if match is not None else _recorded_kinds(query, wanted.kind)
        if expanded == []:
            return None
        if expanded is not None and len(expanded) <= MOST_KINDS:
            kinds = list(expanded)
        else:
            clauses.append("(a.kind = ? OR (a.kind >= ? AND a.kind < ?))")
            parameters += [wanted.kind, *_below(wanted.kind)]
    if match is not None:
        match = _with_column_filters(match, wanted)
    return _Plan(clauses, parameters, match, kinds)


def _with_column_filters(match: str, wanted: AuditFilter) -> str:
    """`match` narrowed by the actor and kind as column filters of the full-text index.

    A superset of the exact condition (checked on the row too): the same tokenizer
    reads both sides, and a kind's tokens begin with its prefix's tokens.
    """
    narrowed = f"({match})"
    for column, value in (("actor", wanted.actor), ("kind", wanted.kind)):
        if value is None or (column == "actor" and value == AGENT_ACTORS):
            continue
        if any(character.isalnum() for character in value):
            narrowed += f' AND {column} : ^"{value.replace(chr(34), chr(34) * 2)}"'
    return narrowed


def _below(kind: str) -> tuple[str, str]:
    """The range of kinds under `kind`: from `kind.` to just before `kind/`."""
    return kind + ".", kind + "/"


def _recorded_kinds(query: Query, kind: str) -> list[str] | None:
    """The recorded kinds that `kind` matches, by skipping along the kind index;
    None when there are more than `MOST_KINDS`."""
    found = [kind] if query("SELECT 1 FROM audit WHERE kind = ? LIMIT 1", [kind]) else []
    low, high = _below(kind)
    current = query("SELECT min(kind) FROM audit WHERE kind >= ? AND kind < ?", [low, high])[0][0]
    while current is not None:
        found.append(current)
        if len(found) > MOST_KINDS:
            return None
        current = query("SELECT min(kind) FROM audit WHERE kind > ? AND kind < ?", [current, high])[0][0]
    return found


def _ids_in_time_range(
    query: Query, since: float | None, until: float | None
) -> tuple[int, int] | tuple[()] | None:
    """The lowest and highest id of a narrow time range, () if it is empty, None if it is wide."""
    clauses: list[str] = []
    parameters: list[Any] = []
    if since is not None:
        clauses.append("ts >= ?")
        parameters.append(since)
    if until is not None:
        clauses.append("ts < ?")
        parameters.append(until)
    where = " AND ".join(clauses)
    size = query(
        f"SELECT count(*) FROM (SELECT 1 FROM audit INDEXED BY audit_by_ts WHERE {where} LIMIT ?)",
        [*parameters, NARROW_RANGE_EVENTS + 1],
    )[0][0]
    if size == 0:
        return ()
    if size > NARROW_RANGE_EVENTS:
        return None
    low, high = query(f"SELECT min(id), max(id) FROM audit INDEXED BY audit_by_ts WHERE {where}", parameters)[
        0
    ]
    return int(low), int(high)
