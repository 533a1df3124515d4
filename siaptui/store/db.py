"""The store: one database for the outbox, the gallery and the audit log, opened and ready.

SQLite on one PC, PostgreSQL in an office (`store.url = "postgresql://…"`, docs/office.md):
every station then shares the outbox, gallery, acuse list and audit log.  `open_store()`
opens the connection (`siaptui.store.connection`), checks a SQLite file for damage, brings the
schema up to date (`siaptui.store.schema`), attaches the vault whose key file belongs to this
database, seals rows an older siaptui wrote in clear and finishes a delayed scrub.  `Store` is
that database with its parts — `outbox`, `gallery`, `audit` — which share its connections and
vault.  The imports point one way: the parts know only the `Database` below them, this module
composes them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from siaptui.store.audit import AuditLog
from siaptui.store.connection import Database, default_station
from siaptui.store.errors import StoreError
from siaptui.store.gallery import LocalGallery
from siaptui.store.integrity import require_intact
from siaptui.store.keyring import attach_office_vault
from siaptui.store.outbox import Outbox
from siaptui.store.personal import seal_clear_rows
from siaptui.store.schema import current_version, migrate
from siaptui.store.scrub import finish_pending, mark_pending
from siaptui.store.vault import KEY_FILE_NAME, Vault

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.config import Settings

DB_FILE_NAME = "siaptui.db"


def default_path(settings: Optional["Settings"] = None) -> Path:
    from siaptui.config import data_dir

    return data_dir(settings) / DB_FILE_NAME


class Store(Database):
    """The open database plus its parts: `outbox`, `gallery` and `audit` share its connections and vault.

    `Store(path)` is a SQLite file; `Store(url="postgresql://…", key_dir=…)` an office server,
    whose station key file lives in `key_dir`.  `open_store()` is how the app gets one.
    """

    def __init__(self, path: Optional[Path] = None, *, url: Optional[str] = None,
                 clock: Callable[[], float] = time.time, station: Optional[str] = None,
                 key_dir: Optional[Path] = None) -> None:
        super().__init__(path, url=url, clock=clock, station=station, key_dir=key_dir)
        self.outbox = Outbox(self)
        self.audit = AuditLog(self)
        self.gallery = LocalGallery(self, outbox=self.outbox, audit=self.audit)

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        return current_version(self)


def _attach_vault(store: Store, passphrase: Optional[str]) -> None:
    """Open (or on a fresh database create) the key file and check it is this database's key.

    Done under the write lock so two processes opening a brand-new store cannot each create a
    different key.
    """
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
    store.attach_vault(vault)


def _refuse_to_recreate(path: Path) -> None:
    """A missing or empty database beside an existing key file means lost pending work, not a new office.

    Creating a fresh schema there would make the outbox silently empty; stop with the file named.
    """
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
            require_intact(store.connection(), store.path)
        migrate(store)
        if store.shared:
            from siaptui.store.stations import register

            store.held.append(register(store))
        if store.path is not None:
            _restrict_files(store.path)
            _attach_vault(store, passphrase)
        else:
            if office_passphrase is None:
                office_passphrase = os.environ.get("SIAPTUI_OFFICE_PASSPHRASE") or None
            if attach_office_vault(store, passphrase, office_passphrase):
                store.audit.record("system", "station.joined", store.station)
        if seal_clear_rows(store):  # the clear values must not survive in free pages or the WAL
            with store.transaction() as conn:
                mark_pending(conn)
        finish_pending(store)
    except BaseException:
        store.close()
        raise
    return store
