"""The schema: every migration in order, and bringing a database up to the newest.

Why append-only migrations: a station may open a file (or an office server) written by any
earlier siaptui; applying the missing versions in order, each in one transaction, brings every
one to the same schema, and a newer schema than this code knows stops with store_schema_newer
instead of being misread.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from siaptui.store.dialect import AppendOnly, Statement
from siaptui.store.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.store.connection import Database

# Each migration is a list of statements applied in one transaction; never edit a released
# one — append a new version instead.
MIGRATIONS: list[list[Statement]] = [
    # v1: outbox, gallery, images, audit, meta
    [
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            idempotency_key TEXT NOT NULL UNIQUE,
            worker_nss TEXT NOT NULL,
            employer_rfc TEXT NOT NULL,
            training INTEGER NOT NULL DEFAULT 0,
            payload BLOB,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            retryable INTEGER NOT NULL DEFAULT 1,
            next_attempt_at REAL,
            reason TEXT,
            reason_detail TEXT,
            claimed_by TEXT,
            claimed_at REAL,
            folio TEXT,
            acuse TEXT,
            received_at TEXT,
            enrollment_id TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            sent_at REAL
        )""",
        """CREATE INDEX outbox_due ON outbox (state, next_attempt_at)""",
        """CREATE INDEX outbox_worker ON outbox (worker_nss)""",
        """CREATE TABLE gallery (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            nss TEXT NOT NULL,
            finger INTEGER NOT NULL CHECK (finger BETWEEN 0 AND 15),
            template BLOB NOT NULL,
            created_at REAL NOT NULL,
            UNIQUE (nss, finger)
        )""",
        """CREATE TABLE images (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            nss TEXT NOT NULL,
            finger INTEGER NOT NULL CHECK (finger BETWEEN 0 AND 15),
            impression INTEGER NOT NULL DEFAULT 0,
            image BLOB NOT NULL,
            created_at REAL NOT NULL
        )""",
        """CREATE INDEX images_worker ON images (nss)""",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        AppendOnly("audit"),
    ],
    # v2: worker identity sealed (siaptui.store.personal): the nss / worker_nss columns hold a
    # keyed lookup tag, the *_sealed columns the encrypted NSS and acuse text.
    [
        """ALTER TABLE outbox ADD COLUMN worker_nss_sealed BLOB""",
        """ALTER TABLE outbox ADD COLUMN acuse_sealed BLOB""",
        """ALTER TABLE gallery ADD COLUMN nss_sealed BLOB""",
        """ALTER TABLE images ADD COLUMN nss_sealed BLOB""",
    ],
    # v3: the values a failure's message needs (the finger the portal named), as JSON
    [
        """ALTER TABLE outbox ADD COLUMN reason_params TEXT""",
    ],
    # v4: several stations on one database: a claim's lease ends at lease_until (a station that
    # died stops holding its items then), and each audit entry names the station that wrote it.
    [
        """ALTER TABLE outbox ADD COLUMN lease_until REAL""",
        """ALTER TABLE audit ADD COLUMN station TEXT""",
    ],
    # v5: the worker's token photo (ISO/IEC 19794-5 JPEG), one per worker, encrypted like the
    # templates; `nss` is the lookup tag, `nss_sealed` the encrypted NSS.
    [
        """CREATE TABLE photos (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            nss TEXT NOT NULL UNIQUE,
            nss_sealed BLOB,
            image BLOB NOT NULL,
            created_at REAL NOT NULL
        )""",
    ],
    # v6: the stations of an office, one row per name and computer (siaptui.store.stations),
    # so two PCs cloned from one disk image cannot go on under one name.
    [
        """CREATE TABLE stations (
            name TEXT NOT NULL,
            machine TEXT NOT NULL,
            host TEXT NOT NULL,
            address TEXT,
            first_seen REAL NOT NULL,
            last_seen REAL NOT NULL,
            PRIMARY KEY (name, machine)
        )""",
    ],
    # v7: the portal's seal of an acuse (contract 2.2 `seal`), a signature, not personal data
    [
        """ALTER TABLE outbox ADD COLUMN seal TEXT""",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(db: "Database") -> int:
    """The highest migration applied (0 for a new database)."""
    conn = db.connection()
    for statement in db.dialect.ddl(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"):
        conn.execute(statement)
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: "Database") -> int:
    """Bring the database to SCHEMA_VERSION; safe when several processes (or stations) open it at once."""
    with db.transaction() as conn:
        db.dialect.lock(conn, "migrate")
        try:
            version = current_version(db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(str(exc), code="store_open_failed", file=db.location) from None
        if version > SCHEMA_VERSION:
            raise StoreError(str(version), code="store_schema_newer", file=db.location,
                             found=version, supported=SCHEMA_VERSION)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for step in MIGRATIONS[number - 1]:
                for statement in db.dialect.ddl(step):
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (number, db.clock()))
        return SCHEMA_VERSION
