"""One data key for every station of an office, and a station without it reads nothing.

Why this shape: the templates and identities in the office's PostgreSQL server are encrypted
with AES-256-GCM under one random data key (`siaptui.store.vault`), so a copy of the server's
disk or a backup says nothing without it.  Every station must hold that same key, and the
server must not hold it in clear.  So:

- each station keeps the key in its own 0600 key file `siaptui-office.key` in its data dir,
  optionally wrapped by that station's passphrase (the same format as a single PC's key file);
- the server keeps only a copy wrapped by the **office passphrase** (scrypt → AES-GCM) in
  `meta.office_key`, and the key's public id in `meta.key_id`;
- a new station opens the store once with the office passphrase: it unwraps the office copy,
  writes its own key file, and never needs the office passphrase again;
- a station with neither a key file nor the office passphrase stops with
  `store_station_no_key` before reading a row (`store_office_no_copy` while no station has
  set the office passphrase yet: no passphrase could help then).  A key file of another office's key stops with
  `store_key_mismatch`.

The first station to open an empty server creates the key; giving the office passphrase then
(or at any later open, or with `set_office_passphrase`, which the TUI's passphrase dialog
calls) stores the office copy so further stations can join.  `needs_office_passphrase` tells
the TUI which of the two questions to ask (siaptui.screens.office_key).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Optional

from siaptui.store.audit import AuditLog
from siaptui.store.errors import StoreError
from siaptui.store.vault import Vault, unwrap_key

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.store.connection import Database

OFFICE_KEY = "office_key"
OFFICE_KEY_FILE_NAME = "siaptui-office.key"
MIN_OFFICE_PASSPHRASE = 12
"""Characters an office passphrase needs: the server's copy can be attacked offline by anyone
with a backup, and scrypt only slows each guess."""


def attach_office_vault(store: "Database", passphrase: Optional[str], office_passphrase: Optional[str]) -> bool:
    """Give `store` its vault from this station's key file or the office copy (see the module doc).

    Returns True when this station has just joined the office (its key file written from the
    office copy), which the caller records in the audit log.
    """
    assert store.key_dir is not None
    key_path = store.key_dir / OFFICE_KEY_FILE_NAME
    joined = False
    with store.transaction() as conn:
        store.dialect.lock(conn, "key")  # two stations opening an empty server create one key
        rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('key_id', ?)", (OFFICE_KEY,)).fetchall())
        known_id, office_doc = rows.get("key_id"), rows.get(OFFICE_KEY)
        if known_id is None:
            vault = Vault.open(key_path, passphrase, create=True)
            conn.execute("INSERT INTO meta (key, value) VALUES ('key_id', ?)", (vault.key_id,))
        elif key_path.exists():
            vault = Vault.open(key_path, passphrase, create=False)
            if vault.key_id != known_id:
                raise StoreError(str(key_path), code="store_key_mismatch", file=str(key_path))
        elif office_doc is not None and office_passphrase:
            key = unwrap_key(json.loads(office_doc), office_passphrase, store.location)
            vault = Vault.create(key_path, key, passphrase)
            joined = True
        else:  # no office copy yet: only a station that has the key can set the passphrase
            raise StoreError(store.station, code="store_station_no_key" if office_doc else "store_office_no_copy",
                             file=store.location, station=store.station, key_file=str(key_path))
        if office_passphrase and office_doc is None:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)",
                         (OFFICE_KEY, _office_copy(vault, office_passphrase)))
    store.attach_vault(vault)
    return joined



def has_office_copy(store: "Database") -> bool:
    """True when the server holds the key wrapped by the office passphrase (new stations can join)."""
    return store.meta(OFFICE_KEY) is not None


def set_office_passphrase(store: "Database", office_passphrase: str) -> None:
    """Store the office copy of this station's key, wrapped by a new office passphrase.

    Only once per office: when another station set it meanwhile, `store_office_passphrase_exists`
    (the first passphrase stays; the stations already joined use it).
    """
    wrapped = _office_copy(store.vault, office_passphrase)  # scrypt: before the lock
    with store.transaction() as conn:
        store.dialect.lock(conn, "key")
        if conn.execute("SELECT 1 FROM meta WHERE key = ?", (OFFICE_KEY,)).fetchone() is not None:
            raise StoreError(store.location, code="store_office_passphrase_exists", file=store.location)
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (OFFICE_KEY, wrapped))
    AuditLog(store).record("system", "office.passphrase_set", store.station)


def _office_copy(vault: Vault, office_passphrase: str) -> str:
    """The `meta.office_key` value: the data key wrapped by a long enough office passphrase."""
    if len(office_passphrase) < MIN_OFFICE_PASSPHRASE:
        raise StoreError("short", code="store_office_passphrase_short", minimum=MIN_OFFICE_PASSPHRASE)
    return json.dumps(vault.wrapped_copy(office_passphrase))
