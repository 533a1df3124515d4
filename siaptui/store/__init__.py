"""The store: one database (a SQLite file in WAL mode, or an office's PostgreSQL server) with
the outbox, the gallery and the audit log.

`open_store()` in `siaptui.store.db` is the entry point; nothing heavy is imported here so the
CLI can import the package cheaply.  The layers, bottom up — `connection` (the `Database`),
the parts that take it, `db` composing them — are kept by an import-linter contract in
pyproject.toml.
"""

from __future__ import annotations
