"""Worker identity at rest: NSS, names and CURP never sit in the database in clear.

Why: the SQLite file may be copied off an office PC, and a worker's NSS with their name and
CURP is personal data under the LFPDPPP just as the templates are.  So:
- the NSS of an outbox item, a gallery template or an image is sealed with the vault
  (AES-256-GCM, bound to its table, column and row), like the templates;
- the acuse text (which names the worker with NSS and CURP) is sealed the same way;
- rows are still found by worker through a keyed lookup tag, `HMAC-SHA256(subkey, NSS)`, in the
  old `nss` / `worker_nss` columns.  Without the key file the tag says nothing (an unkeyed hash
  of an 11-digit number is reversed by trying them all); with it, lookups stay one indexed query.

`seal_clear_rows` brings a database whose rows hold the NSS and acuse in clear (an older file) up to it when
the store opens; secure_delete and the scrub that follows leave no clear copy in the files.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.store.connection import Database
    from siaptui.store.vault import Vault

TAG_PREFIX = "k1:"
_LOOKUP_PURPOSE = "nss-lookup"


def lookup_tag(vault: "Vault", nss: str) -> str:
    """The keyed, stable stand-in for an NSS in indexed columns."""
    digest = hmac.new(vault.subkey(_LOOKUP_PURPOSE), str(nss).encode("utf-8"), hashlib.sha256).hexdigest()
    return TAG_PREFIX + digest[:40]


def seal(vault: "Vault", text: Optional[str], *, table: str, column: str, row_id: Any) -> Optional[bytes]:
    if text is None:
        return None
    return vault.encrypt(str(text).encode("utf-8"), table=f"{table}.{column}", row_id=row_id)


def unseal(vault: "Vault", blob: Optional[bytes], *, table: str, column: str, row_id: Any) -> Optional[str]:
    if blob is None:
        return None
    return vault.decrypt(blob, table=f"{table}.{column}", row_id=row_id).decode("utf-8")


def seal_clear_rows(store: "Database") -> int:
    """Seal the NSS and acuse of rows written in clear by an older siaptui; returns how many.

    One transaction: a crash leaves either every row clear (sealed at the next open) or none.
    """
    vault = store.vault
    changed = 0
    conn = store.connection()
    clear_outbox = "SELECT 1 FROM outbox WHERE (worker_nss_sealed IS NULL AND worker_nss != '') OR acuse IS NOT NULL"
    clear_nss = "SELECT 1 FROM {} WHERE nss_sealed IS NULL AND nss != ''"
    if not (conn.execute(clear_outbox).fetchone() or conn.execute(clear_nss.format("gallery")).fetchone()
            or conn.execute(clear_nss.format("images")).fetchone()):
        return 0  # the usual case: no write lock taken at every start
    with store.transaction() as conn:
        rows = conn.execute("SELECT id, worker_nss, acuse FROM outbox WHERE "
                            "(worker_nss_sealed IS NULL AND worker_nss != '') OR acuse IS NOT NULL").fetchall()
        for row_id, nss, acuse in rows:
            sealed_nss = None
            tag = nss
            if nss and not str(nss).startswith(TAG_PREFIX):
                sealed_nss = seal(vault, nss, table="outbox", column="worker_nss", row_id=row_id)
                tag = lookup_tag(vault, nss)
            conn.execute(
                "UPDATE outbox SET worker_nss = ?, worker_nss_sealed = COALESCE(?, worker_nss_sealed), "
                "acuse_sealed = COALESCE(?, acuse_sealed), acuse = NULL WHERE id = ?",
                (tag, sealed_nss, seal(vault, acuse, table="outbox", column="acuse", row_id=row_id), row_id))
            changed += 1
        for table in ("gallery", "images"):
            rows = conn.execute(f"SELECT id, nss FROM {table} WHERE nss_sealed IS NULL AND nss != ''").fetchall()
            for row_id, nss in rows:
                conn.execute(f"UPDATE {table} SET nss = ?, nss_sealed = ? WHERE id = ?",
                             (lookup_tag(vault, nss), seal(vault, nss, table=table, column="nss", row_id=row_id),
                              row_id))
                changed += 1
    return changed
