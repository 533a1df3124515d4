"""One SQLite database for the outbox, the local gallery and the audit log.

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
from typing import TYPE_CHECKING, Callable, Iterator, Optional

from siaptui.store.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.config import Settings
    from siaptui.store.audit import AuditLog
    from siaptui.store.gallery import LocalGallery
    from siaptui.store.outbox import Outbox
    from siaptui.store.vault import Vault

DB_FILE_NAME = "siaptui.db"
BUSY_TIMEOUT_MS = 30_000
SCRUB_BUSY_TIMEOUT_MS = 1_000

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
    # v4: the worker's token photo (ISO/IEC 19794-5 JPEG), one per worker, encrypted like the
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
]
SCHEMA_VERSION = len(MIGRATIONS)


def default_path(settings: Optional["Settings"] = None) -> Path:
    from siaptui.config import data_dir

    return data_dir(settings) / DB_FILE_NAME


class Store:
    """The open database plus its vault; `outbox`, `gallery`, `audit` share both."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        self._vault: Optional["Vault"] = None
        self._outbox: Optional["Outbox"] = None
        self._gallery: Optional["LocalGallery"] = None
        self._audit: Optional["AuditLog"] = None
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
            except (sqlite3.Error, StoreError) as exc:  # StoreError: the guard saw a damaged file
                _rollback(conn)
                if isinstance(exc, StoreError):
                    raise
                raise StoreError(str(exc), code="store_write_failed", file=str(self.path)) from None

    def scrub(self) -> bool:
        """Make deleted bytes unrecoverable from the files: checkpoint, VACUUM, truncate the WAL.

        secure_delete already zeroes freed content in the database pages, but earlier versions
        of those pages can still sit in the WAL file until it is checkpointed and truncated.
        Returns False when another process kept the WAL busy (old frames may remain until the
        next checkpoint); `siaptui.store.scrub` records that and finishes later.  The wait for
        the other process is short (SCRUB_BUSY_TIMEOUT_MS): the clerk is told, not kept waiting.
        """
        conn = self.connection()
        conn.execute(f"PRAGMA busy_timeout = {SCRUB_BUSY_TIMEOUT_MS}")
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return int(busy) == 0

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for _, conn in conns:
            _quiet_close(conn)
        self._local = threading.local()
        self.closed = True

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- services ------------------------------------------------------------------------
    @property
    def vault(self) -> "Vault":
        assert self._vault is not None, "open the store with open_store()"
        return self._vault

    @property
    def outbox(self) -> "Outbox":
        if self._outbox is None:
            from siaptui.store.outbox import Outbox

            self._outbox = Outbox(self)
        return self._outbox

    @property
    def gallery(self) -> "LocalGallery":
        if self._gallery is None:
            from siaptui.store.gallery import LocalGallery

            self._gallery = LocalGallery(self)
        return self._gallery

    @property
    def audit(self) -> "AuditLog":
        if self._audit is None:
            from siaptui.store.audit import AuditLog

            self._audit = AuditLog(self)
        return self._audit

    def schema_version(self) -> int:
        return _current_version(self.connection())

    def meta(self, key: str) -> Optional[str]:
        row = self.connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])


def _rollback(conn: sqlite3.Connection) -> None:
    """ROLLBACK unless SQLite has already ended the transaction itself (it does on some errors)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _quiet_close(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:  # pragma: no cover - closing never matters more than the caller
        pass


def _connect(path: Path) -> sqlite3.Connection:
    from siaptui.store.integrity import GuardedConnection, damaged, is_damage

    conn = None
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False, factory=GuardedConnection)
        conn.db_path = str(path)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"journal_mode is {mode}, WAL unavailable")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
    except (sqlite3.Error, StoreError) as exc:
        if conn is not None:  # not yet the store's: nobody else would close it (and free the file)
            _quiet_close(conn)
        if isinstance(exc, StoreError):
            raise
        if is_damage(exc):
            raise damaged(path, str(exc)) from None
        raise StoreError(str(exc), code="store_open_failed", file=str(path)) from None
    return conn


def _current_version(conn: sqlite3.Connection) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(store: Store) -> int:
    """Bring the file to SCHEMA_VERSION; safe when several processes open it at once."""
    with store.transaction() as conn:
        try:
            version = _current_version(conn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(str(exc), code="store_open_failed", file=str(store.path)) from None
        if version > SCHEMA_VERSION:
            raise StoreError(str(version), code="store_schema_newer", file=str(store.path),
                             found=version, supported=SCHEMA_VERSION)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (number, store.clock()))
        return SCHEMA_VERSION


def _attach_vault(store: Store, passphrase: Optional[str]) -> None:
    """Open (or on a fresh database create) the key file and check it is this database's key.

    Done under the write lock so two processes opening a brand-new store cannot each create a
    different key.
    """
    from siaptui.store.vault import KEY_FILE_NAME, Vault

    key_path = store.path.parent / KEY_FILE_NAME
    with store.transaction() as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'key_id'").fetchone()
        if row is None:
            vault = Vault.open(key_path, passphrase, create=True)
            conn.execute("INSERT INTO meta (key, value) VALUES ('key_id', ?)", (vault.key_id,))
        else:
            vault = Vault.open(key_path, passphrase, create=False)
            if vault.key_id != row[0]:
                raise StoreError(str(key_path), code="store_key_mismatch", file=str(key_path))
    store._vault = vault


def _refuse_to_recreate(path: Path) -> None:
    """A missing or empty database beside an existing key file means lost pending work, not a new office.

    Creating a fresh schema there would make the outbox silently empty; stop with the file named.
    """
    from siaptui.store.vault import KEY_FILE_NAME

    if (path.parent / KEY_FILE_NAME).exists() and (not path.exists() or path.stat().st_size == 0):
        raise StoreError("la base de datos falta o está vacía junto a su archivo de llave",
                         code="store_open_failed", file=str(path))


def _restrict_files(path: Path) -> None:
    """The database and its WAL/SHM files are readable by their owner only (0600)."""
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            candidate.chmod(0o600)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StoreError(exc.strerror or str(exc), code="store_open_failed", file=str(candidate)) from None


def open_store(
    path: Optional[Path] = None,
    *,
    passphrase: Optional[str] = None,
    settings: Optional["Settings"] = None,
    clock: Callable[[], float] = time.time,
) -> Store:
    """Open (creating and migrating when needed) the store at `path` or in the data dir.

    The key file `siaptui.key` lives beside the database.  Raises StoreError with a catalog
    code: store_open_failed, store_damaged, store_schema_newer, store_key_missing, store_key_corrupt,
    store_key_mismatch, store_passphrase_required, store_wrong_passphrase.
    """
    path = Path(path) if path is not None else default_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.chmod(0o700)  # mkdir's mode does nothing for a folder that already existed
    except OSError as exc:
        raise StoreError(exc.strerror or str(exc), code="store_open_failed", file=str(path)) from None
    _refuse_to_recreate(path)
    store = Store(path, clock=clock)
    try:
        from siaptui.store.integrity import require_intact

        require_intact(store.connection(), path)
        migrate(store)
        _restrict_files(path)
        _attach_vault(store, passphrase)
        from siaptui.store.personal import seal_clear_rows
        from siaptui.store.scrub import finish_pending, mark_pending

        if seal_clear_rows(store):  # the clear values must not survive in free pages or the WAL
            with store.transaction() as conn:
                mark_pending(conn)
        finish_pending(store)
    except BaseException:
        store.close()
        raise
    return store
