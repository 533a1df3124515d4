"""The local store: one SQLite file (WAL) with the outbox, the gallery and the audit log.

`open_store()` in `siaptui.store.db` is the entry point; nothing heavy is imported here so the
CLI can import the package cheaply.
"""

from __future__ import annotations
