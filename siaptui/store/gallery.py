"""The office's enrolled templates (and capture images), encrypted, for 1:N duplicate search.

Why keep them at all: before sending a new enrollment the app checks the new fingers against
every worker the office already enrolled, catching "the same person under two NSS" and
"wrong finger recorded" mistakes without a network round trip.  Why encrypted and why
`delete_worker` scrubs the files: these are biometric data under the LFPDPPP, and a
worker's ARCO cancellation must remove them for good — rows deleted with secure_delete,
outbox payloads wiped, then VACUUM and a truncated WAL so no page keeps the old bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Mapping

from siaptui.store.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.store.db import Store

TEMPLATES = "gallery"
IMAGES = "images"


def _check_finger(finger: int) -> int:
    if isinstance(finger, bool) or not isinstance(finger, int) or not 0 <= finger <= 15:
        raise StoreError(f"finger position {finger!r}", code="store_request_invalid")
    return finger


class LocalGallery:
    """enroll / enroll_worker / templates / delete_worker / load_into over the store's encrypted tables."""

    def __init__(self, store: "Store") -> None:
        self._store = store

    def enroll(self, nss: str, finger: int, template_bytes: bytes) -> int:
        """Store (or replace) one finger's template; returns the row id."""
        finger = _check_finger(finger)
        now = self._store.clock()
        with self._store.transaction() as conn:
            conn.execute("DELETE FROM gallery WHERE nss = ? AND finger = ?", (str(nss), finger))
            row_id = int(conn.execute(
                "INSERT INTO gallery (nss, finger, template, created_at) VALUES (?, ?, x'', ?)",
                (str(nss), finger, now)).lastrowid)
            blob = self._store.vault.encrypt(bytes(template_bytes), table=TEMPLATES, row_id=row_id)
            conn.execute("UPDATE gallery SET template = ? WHERE id = ?", (blob, row_id))
        return row_id

    def enroll_worker(self, nss: str, fingers: Mapping[int, bytes]) -> int:
        """Replace every finger of `nss` with `fingers` (position → record) in one transaction,
        so the duplicate search never sees half of a worker; returns how many were stored."""
        checked = {_check_finger(f): bytes(data) for f, data in fingers.items()}
        now = self._store.clock()
        with self._store.transaction() as conn:
            conn.execute("DELETE FROM gallery WHERE nss = ?", (str(nss),))
            for finger, data in sorted(checked.items()):
                row_id = int(conn.execute(
                    "INSERT INTO gallery (nss, finger, template, created_at) VALUES (?, ?, x'', ?)",
                    (str(nss), finger, now)).lastrowid)
                blob = self._store.vault.encrypt(data, table=TEMPLATES, row_id=row_id)
                conn.execute("UPDATE gallery SET template = ? WHERE id = ?", (blob, row_id))
        return len(checked)

    def templates(self) -> Iterator[tuple[str, int, bytes]]:
        """(nss, finger, template bytes) for every enrolled finger, decrypted one at a time."""
        rows = self._store.connection().execute("SELECT id, nss, finger, template FROM gallery ORDER BY id")
        for row_id, nss, finger, blob in rows.fetchall():
            yield nss, int(finger), self._store.vault.decrypt(blob, table=TEMPLATES, row_id=row_id)

    def workers(self) -> list[str]:
        rows = self._store.connection().execute("SELECT DISTINCT nss FROM gallery ORDER BY nss").fetchall()
        return [row[0] for row in rows]

    def __len__(self) -> int:
        return int(self._store.connection().execute("SELECT COUNT(*) FROM gallery").fetchone()[0])

    def save_image(self, nss: str, finger: int, image_bytes: bytes, *, impression: int = 0) -> int:
        """Keep an encoded capture image (e.g. PNG) encrypted, for review or re-extraction."""
        finger = _check_finger(finger)
        now = self._store.clock()
        with self._store.transaction() as conn:
            row_id = int(conn.execute(
                "INSERT INTO images (nss, finger, impression, image, created_at) VALUES (?, ?, ?, x'', ?)",
                (str(nss), finger, int(impression), now)).lastrowid)
            blob = self._store.vault.encrypt(bytes(image_bytes), table=IMAGES, row_id=row_id)
            conn.execute("UPDATE images SET image = ? WHERE id = ?", (blob, row_id))
        return row_id

    def images(self, nss: str) -> list[tuple[int, int, bytes]]:
        """(finger, impression, image bytes) kept for one worker."""
        rows = self._store.connection().execute(
            "SELECT id, finger, impression, image FROM images WHERE nss = ? ORDER BY id", (str(nss),)).fetchall()
        return [(int(f), int(i), self._store.vault.decrypt(blob, table=IMAGES, row_id=row_id))
                for row_id, f, i, blob in rows]

    def delete_worker(self, nss: str, *, actor: str = "system") -> dict[str, int]:
        """ARCO cancellation: templates, images and outbox payloads of `nss` gone from the files.

        Returns how many templates, images and outbox items were affected and whether the files
        were fully scrubbed (`scrubbed` 0 when another process held the WAL; the rows are gone
        either way and the next checkpoint overwrites the old frames).  The audit log records
        who asked and the counts — never the data.
        """
        nss = str(nss)
        now = self._store.clock()
        with self._store.transaction() as conn:
            templates = conn.execute("DELETE FROM gallery WHERE nss = ?", (nss,)).rowcount
            images = conn.execute("DELETE FROM images WHERE nss = ?", (nss,)).rowcount
            outbox = self._store.outbox.forget_worker(conn, nss, now)
        counts = {"templates": int(templates), "images": int(images), "outbox": int(outbox)}
        self._store.audit.record(actor, "arco.cancelled", nss, **counts)
        counts["scrubbed"] = 1 if self._store.scrub() else 0
        return counts

    def load_into(self, gallery: Any) -> int:
        """Fill a `siaptui.biometrics.person.PersonGallery` (person = NSS); returns the views added.

        Each row holds one or more views of a finger (`views_from_bytes`).  Records that the
        biometrics module cannot parse are skipped rather than stopping the duplicate search for
        everyone else; the count tells the caller.
        """
        from siaptui.biometrics.template import views_from_bytes
        from siaptui.errors import SiaptuiError

        added = 0
        for nss, finger, data in self.templates():
            try:
                views = views_from_bytes(data)
            except (SiaptuiError, ValueError):  # an older/foreign format: not searchable, not fatal
                continue
            for view in views:
                gallery.add(nss, finger, view)
            added += len(views)
        return added
