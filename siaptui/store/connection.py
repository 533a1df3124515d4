"""The open database the store's parts share: connections, transactions, clock and station.

Why SQLite in WAL mode with `synchronous=FULL`: an enrollment must survive a power cut the
instant `enqueue` returns, the TUI and a background sender process use the file at the same
time, and an old office PC has no server to run.  WAL lets readers proceed while one writer
commits; FULL makes every commit fsync the log before it returns.  `secure_delete` zeroes
deleted content so an ARCO cancellation does not leave template bytes in free pages.

Each thread gets its own connection (sqlite3 connections must not be shared across threads
while in use); each process opens its own database.  Writes go through `transaction()`, which
takes the write lock up front (`BEGIN IMMEDIATE`) so read-then-write sequences such as
"claim the next due item" are atomic across processes.

With a `postgresql://…` url the same `Database` talks to an office's server instead
(`siaptui.store.postgres`, docs/office.md); `siaptui.store.dialect` holds the few SQL
differences, so the migrations and every query are written once.

This module is the bottom of the store: the outbox, gallery, audit log, sealing and scrub
take a `Database`; `siaptui.store.db.Store` (a `Database` with those parts) sits on top.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from siaptui.store import postgres
from siaptui.store.dialect import POSTGRES, SQLITE
from siaptui.store.errors import StoreError
from siaptui.store.integrity import GuardedConnection, damaged, is_damage

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.config import Settings
    from siaptui.store.vault import Vault

BUSY_TIMEOUT_MS = 30_000
SCRUB_BUSY_TIMEOUT_MS = 1_000


def default_station(settings: Optional["Settings"] = None) -> str:
    """The station id the audit log and outbox claims record: `store.station`, else the host name."""
    chosen = settings.store.station.strip() if settings is not None else ""
    return chosen or socket.gethostname() or "station"


class Database:
    """One SQLite file or office server: a connection per thread, transactions, and the vault.

    `Database(path)` is a SQLite file; `Database(url="postgresql://…", key_dir=…)` an office
    server, whose station key file lives in `key_dir`.  The vault is attached once the key
    file has been checked against the database (`attach_vault`).
    """

    def __init__(self, path: Optional[Path] = None, *, url: Optional[str] = None,
                 clock: Callable[[], float] = time.time, station: Optional[str] = None,
                 key_dir: Optional[Path] = None) -> None:
        if (path is None) == (url is None):
            raise ValueError("a database needs a file path or a postgresql:// url")
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
        self.held: list[Any] = []
        """Connections kept for the store's lifetime (the station's name lock), closed with it."""
        self.closed = False

    @property
    def shared(self) -> bool:
        """True on an office server: other stations read and write the same rows."""
        return self.url is not None

    @property
    def vault(self) -> "Vault":
        assert self._vault is not None, "open the store with open_store()"
        return self._vault

    def attach_vault(self, vault: "Vault") -> None:
        """The key every sealed row of this database is read and written with."""
        self._vault = vault

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
                # ended, or a long-running app would pile up open files.
                dead = [c for thread, c in self._all if not thread.is_alive()]
                self._all = [(t, c) for t, c in self._all if t.is_alive()]
                self._all.append((threading.current_thread(), conn))
            for old in dead:
                _quiet_close(old)
        return conn

    def _open_connection(self) -> Any:
        if self.url is not None:
            return postgres.connect(self.url)
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
            return postgres.scrub(conn)
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

    def meta(self, key: str) -> Optional[str]:
        row = self.connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in [c for _, c in conns] + self.held:
            _quiet_close(conn)
        self.held = []
        self._local = threading.local()
        self.closed = True


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
