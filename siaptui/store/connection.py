"""The low-level store: one SQLite file (WAL), its connections, transactions and migrations.

Why SQLite in WAL mode with `synchronous=FULL`: an enrollment must survive a power cut the
instant `enqueue` returns, the TUI and a background sender process use the file at the same
time, and an old office PC has no server to run.  WAL lets readers proceed while one writer
commits; FULL makes every commit fsync the log before it returns.  `secure_delete` zeroes
deleted content so an ARCO cancellation does not leave template bytes in free pages.

Each thread gets its own connection (sqlite3 connections must not be shared across threads
while in use); each process opens its own `Store`.  Writes go through `transaction()`, which
takes the write lock up front (`BEGIN IMMEDIATE`) so read-then-write sequences such as
"claim the next due item" are atomic across processes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional, TypeVar

from siaptui.store.errors import StoreError
from siaptui.store.vault import Vault

BUSY_TIMEOUT_MS = 30_000
_Self = TypeVar("_Self", bound="Database")

# Each migration is a list of statements applied in one transaction; never edit a released
# one — append a new version instead.
MIGRATIONS: list[list[str]] = [
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
        """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
           BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
        """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
           BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


class Database:
    """One SQLite file opened per thread, its write transactions and its vault.

    The outbox, the gallery and the audit log each take a `Database`; `siaptui.store.db.Store`
    adds them to it as attributes.
    """

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        self._vault: Optional[Vault] = None
        self.closed = False

    # -- connections ---------------------------------------------------------------------
    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use with the store's pragmas."""
        if self.closed:
            raise StoreError("closed", code="store_open_failed", file=str(self.path))
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            self._local.conn = conn
            with self._lock:
                # Textual starts a new thread per worker: close the connections of threads that
                # ended, or a long session would pile up open files.
                dead = [c for thread, c in self._all if not thread.is_alive()]
                self._all = [(t, c) for t, c in self._all if t.is_alive()]
                self._all.append((threading.current_thread(), conn))
            for old in dead:
                _quiet_close(old)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (fsync'd by synchronous=FULL) or ROLLBACK on error."""
        conn = self.connection()
        if conn.in_transaction:  # nested use inside one thread: join the outer transaction
            yield conn
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # still locked after BUSY_TIMEOUT_MS: a stuck process
            code = "store_busy" if "locked" in str(exc) or "busy" in str(exc) else "store_write_failed"
            raise StoreError(str(exc), code=code, file=str(self.path)) from None
        try:
            yield conn
        except sqlite3.Error as exc:  # disk full, I/O error, damaged file: a clear message, no traceback
            _rollback(conn)
            raise StoreError(str(exc), code="store_write_failed", file=str(self.path)) from exc
        except BaseException:
            _rollback(conn)
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise StoreError(str(exc), code="store_write_failed", file=str(self.path)) from None

    def scrub(self) -> bool:
        """Make deleted bytes unrecoverable from the files: checkpoint, VACUUM, truncate the WAL.

        secure_delete already zeroes freed content in the database pages, but earlier versions
        of those pages can still sit in the WAL file until it is checkpointed and truncated.
        Returns False when another process kept the WAL busy (old frames may remain until the
        next checkpoint); the caller can try again later.
        """
        conn = self.connection()
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:
            return False
        return int(busy) == 0

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for _, conn in conns:
            _quiet_close(conn)
        self._local = threading.local()
        self.closed = True

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- contents ------------------------------------------------------------------------
    @property
    def vault(self) -> Vault:
        assert self._vault is not None, "open the store with open_store()"
        return self._vault

    def schema_version(self) -> int:
        return _current_version(self.connection())

    def meta(self, key: str) -> Optional[str]:
        row = self.connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The row id an INSERT just created (sqlite3 leaves `lastrowid` None after other statements)."""
    row_id = cursor.lastrowid
    if row_id is None:
        raise StoreError("INSERT created no row", code="store_write_failed")
    return row_id


def _rollback(conn: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not already ended it (it does on some I/O errors)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _quiet_close(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:  # pragma: no cover - closing never matters more than the caller
        pass


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"journal_mode is {mode}, WAL unavailable")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
    except sqlite3.Error as exc:
        raise StoreError(str(exc), code="store_open_failed", file=str(path)) from None
    return conn


def _current_version(conn: sqlite3.Connection) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: Database) -> int:
    """Bring the file to SCHEMA_VERSION; safe when several processes open it at once."""
    with db.transaction() as conn:
        try:
            version = _current_version(conn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(str(exc), code="store_open_failed", file=str(db.path)) from None
        if version > SCHEMA_VERSION:
            raise StoreError(str(version), code="store_schema_newer", file=str(db.path),
                             found=version, supported=SCHEMA_VERSION)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (number, db.clock()))
        return SCHEMA_VERSION
