"""A look into the database before the store opens it: whether it holds any project.

The app opens on the brief of a first plan when there is no project, and can
draw that screen before the engine is built. This tells it so, cheaply: no
file means no project, and otherwise one read-only query answers. Anything
out of the ordinary (a damaged or locked file, an unknown schema) answers
None, and the caller builds the engine first, as it would anyway, which then
says what is wrong.

The connection is opened by `dbfile.connect`, as every connection to the
file is, and closed before the store opens its own.
"""

from __future__ import annotations

from pathlib import Path


def holds_projects(database: Path) -> bool | None:
    """Whether `database` holds a project: False for no file, None when it cannot tell."""
    if not database.exists():
        return False
    import sqlite3

    from orkestra_tui.engine.store.dbfile import connect

    try:
        connection = connect(database, mode="ro", timeout=0.1)
    except sqlite3.Error:
        return None
    try:
        row = connection.execute("SELECT EXISTS (SELECT 1 FROM project)").fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return bool(row[0])
