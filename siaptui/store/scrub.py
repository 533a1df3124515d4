"""A scrub of the database files that another terminal delayed is finished later, not forgotten.

Why: ARCO deletion (and sealing clear rows of an older file) must leave no old bytes in the
database or its WAL.  `Database.scrub()` checkpoints, VACUUMs and truncates the WAL, but while
another siaptui holds a read open on the same file SQLite may neither copy the newest pages
back nor truncate the WAL, so the old frames — encrypted templates included — stay there.
The deleting transaction therefore also writes `meta.scrub_pending`; `finish_pending()` runs
right after, at every `open_store()` and on every sender round, and clears the mark only once
a scrub has gone through.  A crash between the two is covered the same way.  On an office's
PostgreSQL server the mark is shared: whichever station scrubs next clears it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from siaptui.store.dialect import set_meta
from siaptui.store.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.store.connection import Database

PENDING_KEY = "scrub_pending"
log = logging.getLogger(__name__)


def mark_pending(conn: Any) -> None:
    """Inside the deleting transaction: the files still hold deleted bytes until a scrub succeeds."""
    set_meta(conn, PENDING_KEY, "1")


def is_pending(store: "Database") -> bool:
    return store.meta(PENDING_KEY) is not None


def finish_pending(store: "Database") -> bool:
    """Scrub now if a scrub is pending; True when none is pending any more.

    Never raises a StoreError: the deletion itself is already committed, and a scrub that
    cannot run now (file busy, disk full) simply stays pending.
    """
    try:
        if not is_pending(store):
            return True
        if not store.scrub():
            return False
        with store.transaction() as conn:  # only after the scrub: a failure in between keeps it pending
            conn.execute("DELETE FROM meta WHERE key = ?", (PENDING_KEY,))
        # The mark's own WAL frame holds nothing deleted: a passive checkpoint (never waits) suffices.
        store.checkpoint()
        return True
    except StoreError as exc:
        log.warning("scrub still pending: %s", exc.code)
    return False
