"""The store as callers use it: the database with its outbox, gallery and audit log.

`open_store()` creates or opens the file, migrates it and attaches the vault.  The modules
import one way: this facade imports `outbox`, `gallery` and `audit`, which build on the
low-level `connection.Database` (pragmas, transactions, migrations) and never on this module.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from siaptui.store.audit import AuditLog
from siaptui.store.connection import Database, migrate
from siaptui.store.errors import StoreError
from siaptui.store.gallery import LocalGallery
from siaptui.store.outbox import Outbox
from siaptui.store.vault import KEY_FILE_NAME, Vault

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.config import Settings

DB_FILE_NAME = "siaptui.db"


def default_path(settings: Optional[Settings] = None) -> Path:
    from siaptui.config import data_dir

    return data_dir(settings) / DB_FILE_NAME


class Store(Database):
    """The open database plus its vault; `outbox`, `gallery` and `audit` share both."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(path, clock=clock)
        self.outbox = Outbox(self)
        self.audit = AuditLog(self)
        self.gallery = LocalGallery(self, outbox=self.outbox, audit=self.audit)


def _attach_vault(store: Store, passphrase: Optional[str]) -> None:
    """Open (or on a fresh database create) the key file and check it is this database's key.

    Done under the write lock so two processes opening a brand-new store cannot each create a
    different key.
    """
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
    settings: Optional[Settings] = None,
    clock: Callable[[], float] = time.time,
) -> Store:
    """Open (creating and migrating when needed) the store at `path` or in the data dir.

    The key file `siaptui.key` lives beside the database.  Raises StoreError with a catalog
    code: store_open_failed, store_schema_newer, store_key_missing, store_key_corrupt,
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
        migrate(store)
        _restrict_files(path)
        _attach_vault(store, passphrase)
    except BaseException:
        store.close()
        raise
    return store
