"""SQLite, the source of truth: the store, its schema, rows, integrity checks, snapshots, and the audit
log's search and export.
"""
