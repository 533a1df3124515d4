"""One database for the outbox, the gallery and the audit log: SQLite on one PC, PostgreSQL in an office.

Why SQLite in WAL mode with `synchronous=FULL`: an enrollment must survive a power cut the
instant `enqueue` returns, the TUI and a background sender process use the file at the same
time, and an old office PC has no server to run.  WAL lets readers proceed while one writer
commits; FULL makes every commit fsync the log before it returns.  `secure_delete` zeroes
deleted content so an ARCO cancellation does not leave template bytes in free pages.

Each thread gets its own connection (sqlite3 connections must not be shared across threads
while in use); each process opens its own `Store`.  Writes go through `transaction()`, which
takes the write lock up front (`BEGIN IMMEDIATE`) so read-then-write sequences such as
"claim the next due item" are atomic across processes.

With `store.url = "postgresql://…"` the same `Store` talks to an office's server instead
(`siaptui.store.postgres`, docs/office.md): every station shares the outbox, gallery, acuse
list and audit log; `siaptui.store.dialect` holds the few SQL differences, so the migrations
and every query are written once.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from siaptui.store.dialect import POSTGRES, SQLITE, AppendOnly, Statement
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
    # v6: the portal's seal of an acuse (contract 2.2 `seal`), a signature, not personal data
    [
        """ALTER TABLE outbox ADD COLUMN seal TEXT""",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


def default_path(settings: Optional["Settings"] = None) -> Path:
    from siaptui.config import data_dir

    return data_dir(settings) / DB_FILE_NAME


def default_station(settings: Optional["Settings"] = None) -> str:
    """The station id the audit log and outbox claims record: `store.station`, else the host name."""
    chosen = settings.store.station.strip() if settings is not None else ""
    return chosen or socket.gethostname() or "station"


class Store:
    """The open database plus its vault; `outbox`, `gallery`, `audit` share both.

    `Store(path)` is a SQLite file; `Store(url="postgresql://…", key_dir=…)` an office server,
    whose station key file lives in `key_dir`.
    """

    def __init__(self, path: Optional[Path] = None, *, url: Optional[str] = None,
                 clock: Callable[[], float] = time.time, station: Optional[str] = None,
                 key_dir: Optional[Path] = None) -> None:
        from siaptui.store import postgres

        if (path is None) == (url is None):
            raise ValueError("a Store needs a file path or a postgresql:// url")
        self.url = url
        self.path = Path(path) if path is not None else None
        self.dialect = POSTGRES if url else SQLITE
        self.location = postgres.describe(url) if url else str(self.path)
        self.key_dir = Path(key_dir) if key_dir is not None else (self.path.parent if self.path else None)
        self.station = station or default_station()
        self.clock = clock
        # What the driver raises for a failed statement (sqlite3.Error or psycopg.Error).
        self.driver_errors: tuple[type[BaseException], ...] = postgres.errors() if url else (sqlite3.Error,)
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, Any]] = []
        self._lock = threading.Lock()
        self._vault: Optional["Vault"] = None
        self._outbox: Optional["Outbox"] = None
        self._gallery: Optional["LocalGallery"] = None
        self._audit: Optional["AuditLog"] = None
        self.closed = False

    @property
    def shared(self) -> bool:
        """True on an office server: other stations read and write the same rows."""
        return self.url is not None

    # -- connections ---------------------------------------------------------------------
    def connection(self) -> Any:
        """This thread's connection, opened on first use (with the store's pragmas on SQLite).

        A PostgreSQL connection the server dropped is replaced on the next call, so a station
        whose server came back carries on without a restart.
        """
        if self.closed:
            raise StoreError("closed", code="store_open_failed", file=self.location)
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(conn, "broken", False):
            _quiet_close(conn)
            conn = None
        if conn is None:
            conn = self._open_connection()
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

    def _open_connection(self) -> Any:
        if self.url is not None:
            from siaptui.store.postgres import connect

            return connect(self.url)
        assert self.path is not None
        return _connect(self.path)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """BEGIN (IMMEDIATE on SQLite) ... COMMIT, or ROLLBACK on error; durable when it returns."""
        conn = self.connection()
        if conn.in_transaction:  # nested use inside one thread: join the outer transaction
            yield conn
            return
        try:
            conn.execute("BEGIN" if self.shared else "BEGIN IMMEDIATE")
        except self.driver_errors as exc:  # still locked after BUSY_TIMEOUT_MS: a stuck process
            code = "store_busy" if "locked" in str(exc) or "busy" in str(exc) else "store_write_failed"
            raise StoreError(str(exc), code=code, file=self.location) from None
        try:
            yield conn
        except self.driver_errors as exc:  # disk full, I/O error, damaged file: a clear message, no traceback
            _rollback(conn)
            raise StoreError(str(exc), code=_write_code(exc), file=self.location) from exc
        except BaseException:
            _rollback(conn)
            raise
        else:
            try:
                conn.execute("COMMIT")
            except self.driver_errors + (StoreError,) as exc:  # StoreError: the guard saw a damaged file
                _rollback(conn)
                if isinstance(exc, StoreError):
                    raise
                raise StoreError(str(exc), code=_write_code(exc), file=self.location) from None

    def scrub(self) -> bool:
        """Make deleted bytes unrecoverable from the files: checkpoint, VACUUM, truncate the WAL.

        secure_delete already zeroes freed content in the database pages, but earlier versions
        of those pages can still sit in the WAL file until it is checkpointed and truncated.
        Returns False when another process kept the WAL busy (old frames may remain until the
        next checkpoint); `siaptui.store.scrub` records that and finishes later.  The wait for
        the other process is short (SCRUB_BUSY_TIMEOUT_MS): the clerk is told, not kept waiting.
        On PostgreSQL the tables are rewritten instead (`siaptui.store.postgres.scrub`).
        """
        conn = self.connection()
        if self.shared:
            from siaptui.store.postgres import scrub

            return scrub(conn)
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

    def checkpoint(self) -> None:
        """Copy committed WAL frames back into the SQLite file without waiting (nothing on a server)."""
        if not self.shared:
            self.connection().execute("PRAGMA wal_checkpoint(PASSIVE)")

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
        return _current_version(self)

    def meta(self, key: str) -> Optional[str]:
        row = self.connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])


def _write_code(exc: BaseException) -> str:
    """store_busy for a lock another station holds (deadlock, lock timeout), else store_write_failed."""
    busy = type(exc).__name__ in ("DeadlockDetected", "LockNotAvailable", "SerializationFailure")
    return "store_busy" if busy else "store_write_failed"


def _rollback(conn: Any) -> None:
    """ROLLBACK unless the transaction already ended (SQLite does on some errors; a dropped server has none)."""
    if getattr(conn, "broken", False) or not conn.in_transaction:
        return
    conn.execute("ROLLBACK")


def _quiet_close(conn: Any) -> None:
    try:
        conn.close()
    except sqlite3.Error:  # pragma: no cover - closing never matters more than the caller
        pass


def _wal_mode(conn: sqlite3.Connection) -> str:
    """Switch to WAL, waiting for a process that is creating the same file at the same moment:
    SQLite answers that switch with "database is locked" at once, without its busy handler."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _connect(path: Path) -> sqlite3.Connection:
    from siaptui.store.integrity import GuardedConnection, damaged, is_damage

    conn = None
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False, factory=GuardedConnection)
        conn.db_path = str(path)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = _wal_mode(conn)
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


def _current_version(store: Store) -> int:
    conn = store.connection()
    for statement in store.dialect.ddl(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"):
        conn.execute(statement)
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(store: Store) -> int:
    """Bring the database to SCHEMA_VERSION; safe when several processes (or stations) open it at once."""
    with store.transaction() as conn:
        store.dialect.lock(conn, "migrate")
        try:
            version = _current_version(store)
        except sqlite3.DatabaseError as exc:
            raise StoreError(str(exc), code="store_open_failed", file=store.location) from None
        if version > SCHEMA_VERSION:
            raise StoreError(str(version), code="store_schema_newer", file=store.location,
                             found=version, supported=SCHEMA_VERSION)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for step in MIGRATIONS[number - 1]:
                for statement in store.dialect.ddl(step):
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (number, store.clock()))
        return SCHEMA_VERSION


def _attach_vault(store: Store, passphrase: Optional[str]) -> None:
    """Open (or on a fresh database create) the key file and check it is this database's key.

    Done under the write lock so two processes opening a brand-new store cannot each create a
    different key.
    """
    from siaptui.store.vault import KEY_FILE_NAME, Vault

    assert store.key_dir is not None
    key_path = store.key_dir / KEY_FILE_NAME
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


def _private_folder(folder: Path, shown: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)  # mkdir's mode does nothing for a folder that already existed
    except OSError as exc:
        raise StoreError(exc.strerror or str(exc), code="store_open_failed", file=shown) from None


def store_url(settings: Optional["Settings"]) -> str:
    """The office server's URL from the settings ("" = the SQLite file on this PC).

    Modo práctica never uses the office server: its scenarios (a pre-enrolled "duplicate",
    training enrollments) stay in the station's own practice file, out of the office's gallery.
    """
    if settings is None or settings.general.training:
        return ""
    return settings.store.url.strip()


def open_store(
    path: Optional[Path] = None,
    *,
    url: Optional[str] = None,
    passphrase: Optional[str] = None,
    office_passphrase: Optional[str] = None,
    settings: Optional["Settings"] = None,
    clock: Callable[[], float] = time.time,
    station: Optional[str] = None,
    key_dir: Optional[Path] = None,
) -> Store:
    """Open (creating and migrating when needed) the store at `path`, `url` or as the settings say.

    SQLite: the key file `siaptui.key` lives beside the database.  PostgreSQL (`url`, or
    `store.url` in the settings when no path is given): the station's key file
    `siaptui-office.key` lives in `key_dir` (default the data dir) and the office passphrase
    (argument, else $SIAPTUI_OFFICE_PASSPHRASE) lets a new station obtain the office's key —
    see `siaptui.store.keyring`.  Raises StoreError with a catalog code: store_open_failed,
    store_unreachable, store_damaged, store_schema_newer, store_key_missing, store_key_corrupt,
    store_key_mismatch, store_passphrase_required, store_wrong_passphrase, store_station_no_key.
    """
    if path is None and url is None:
        url = store_url(settings) or None
    station = station or default_station(settings)
    if url is not None:
        from siaptui.config import data_dir

        folder = Path(key_dir) if key_dir is not None else data_dir(settings)
        store = Store(url=url, clock=clock, station=station, key_dir=folder)
        _private_folder(folder, str(folder))
    else:
        path = Path(path) if path is not None else default_path(settings)
        _private_folder(path.parent, str(path))
        _refuse_to_recreate(path)
        store = Store(path, clock=clock, station=station)
    try:
        if store.path is not None:
            from siaptui.store.integrity import require_intact

            require_intact(store.connection(), store.path)
        migrate(store)
        if store.path is not None:
            _restrict_files(store.path)
            _attach_vault(store, passphrase)
        else:
            import os

            from siaptui.store.keyring import attach_office_vault

            if office_passphrase is None:
                office_passphrase = os.environ.get("SIAPTUI_OFFICE_PASSPHRASE") or None
            attach_office_vault(store, passphrase, office_passphrase)
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
