"""The office's enrolled templates (and capture images), encrypted, for 1:N duplicate search.

On an office server (store.url) the gallery is every station's: a worker enrolled at the next
desk is in the next duplicate search here.

Why keep them at all: before sending a new enrollment the app checks the new fingers against
every worker the office already enrolled, catching "the same person under two NSS" and
"wrong finger recorded" mistakes without a network round trip.  Why encrypted and why
`delete_worker` scrubs the files: these are biometric data under the LFPDPPP, and a
worker's ARCO cancellation must remove them for good — rows deleted with secure_delete,
outbox payloads wiped, then VACUUM and a truncated WAL so no page keeps the old bytes.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Optional

from siaptui.store.errors import StoreError
from siaptui.store.personal import lookup_tag, seal, unseal
from siaptui.store.scrub import finish_pending, mark_pending

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.store.audit import AuditLog
    from siaptui.store.connection import Database
    from siaptui.store.outbox import Outbox

TEMPLATES = "gallery"
IMAGES = "images"
PHOTOS = "photos"


def _check_finger(finger: int) -> int:
    if isinstance(finger, bool) or not isinstance(finger, int) or not 0 <= finger <= 15:
        raise StoreError(f"finger position {finger!r}", code="store_request_invalid")
    return finger


class LocalGallery:
    """enroll / enroll_worker / templates / delete_worker / load_into over the store's encrypted tables.

    An ARCO cancellation also wipes the worker's outbox payloads and is written to the audit
    log, so the gallery is given the store's outbox and audit log.
    """

    def __init__(self, store: "Database", *, outbox: "Outbox", audit: "AuditLog") -> None:
        self._store = store
        self._outbox = outbox
        self._audit = audit
        self._searchable: Optional[tuple[Any, int, int]] = None
        """(PersonGallery, rows in it, highest row id in it) kept between searches."""
        self._searchable_lock = threading.Lock()

    def enroll(self, nss: str, finger: int, template_bytes: bytes) -> int:
        """Store (or replace) one finger's template; returns the row id."""
        finger = _check_finger(finger)
        tag = lookup_tag(self._store.vault, str(nss))
        with self._store.transaction() as conn:
            self._store.dialect.lock(conn, f"gallery/{tag}")  # another station replacing the same worker
            conn.execute("DELETE FROM gallery WHERE nss = ? AND finger = ?", (tag, finger))
            return self._insert(conn, str(nss), tag, finger, bytes(template_bytes))

    def enroll_worker(self, nss: str, fingers: Mapping[int, bytes]) -> int:
        """Replace every finger of `nss` with `fingers` (position → record) in one transaction,
        so the duplicate search never sees half of a worker; returns how many were stored."""
        checked = {_check_finger(f): bytes(data) for f, data in fingers.items()}
        tag = lookup_tag(self._store.vault, str(nss))
        with self._store.transaction() as conn:
            self._store.dialect.lock(conn, f"gallery/{tag}")
            conn.execute("DELETE FROM gallery WHERE nss = ?", (tag,))
            for finger, data in sorted(checked.items()):
                self._insert(conn, str(nss), tag, finger, data)
        return len(checked)

    def _insert(self, conn: Any, nss: str, tag: str, finger: int, data: bytes) -> int:
        """One gallery row: the template and the NSS sealed to it, found again by its tag."""
        vault = self._store.vault
        row_id = self._store.dialect.insert(
            conn, "INSERT INTO gallery (nss, finger, template, created_at) VALUES (?, ?, ?, ?)",
            (tag, finger, b"", self._store.clock()))
        blob = vault.encrypt(data, table=TEMPLATES, row_id=row_id)
        sealed = seal(vault, nss, table=TEMPLATES, column="nss", row_id=row_id)
        conn.execute("UPDATE gallery SET template = ?, nss_sealed = ? WHERE id = ?", (blob, sealed, row_id))
        return row_id

    def templates(self) -> Iterator[tuple[str, int, bytes]]:
        """(nss, finger, template bytes) for every enrolled finger, decrypted one at a time."""
        for _, nss, finger, data in self._rows_after(0):
            yield nss, finger, data

    def _rows_after(self, after: int) -> Iterator[tuple[int, str, int, bytes]]:
        """(row id, nss, finger, template bytes) of the rows with an id above `after`, oldest first."""
        vault = self._store.vault
        names: dict[str, str] = {}  # lookup tag -> NSS: one decryption per worker, not per finger
        rows = self._store.connection().execute(
            "SELECT id, nss, nss_sealed, finger, template FROM gallery WHERE id > ? ORDER BY id", (after,))
        for row_id, tag, sealed, finger, blob in rows.fetchall():
            if tag not in names:
                names[tag] = unseal(vault, sealed, table=TEMPLATES, column="nss", row_id=row_id) or ""
            yield int(row_id), names[tag], int(finger), vault.decrypt(blob, table=TEMPLATES, row_id=row_id)

    def workers(self) -> list[str]:
        vault = self._store.vault
        rows = self._store.connection().execute(
            "SELECT id, nss_sealed FROM gallery WHERE id IN (SELECT MIN(id) FROM gallery GROUP BY nss)").fetchall()
        return sorted(unseal(vault, sealed, table=TEMPLATES, column="nss", row_id=row_id) or ""
                      for row_id, sealed in rows)

    def __len__(self) -> int:
        return int(self._store.connection().execute("SELECT COUNT(*) FROM gallery").fetchone()[0])

    def save_image(self, nss: str, finger: int, image_bytes: bytes, *, impression: int = 0) -> int:
        """Keep an encoded capture image (e.g. PNG) encrypted, for review or re-extraction."""
        finger = _check_finger(finger)
        now = self._store.clock()
        vault = self._store.vault
        with self._store.transaction() as conn:
            row_id = self._store.dialect.insert(
                conn, "INSERT INTO images (nss, finger, impression, image, created_at) VALUES (?, ?, ?, ?, ?)",
                (lookup_tag(vault, str(nss)), finger, int(impression), b"", now))
            blob = vault.encrypt(bytes(image_bytes), table=IMAGES, row_id=row_id)
            sealed = seal(vault, str(nss), table=IMAGES, column="nss", row_id=row_id)
            conn.execute("UPDATE images SET image = ?, nss_sealed = ? WHERE id = ?", (blob, sealed, row_id))
        return row_id

    def images(self, nss: str) -> list[tuple[int, int, bytes]]:
        """(finger, impression, image bytes) kept for one worker."""
        rows = self._store.connection().execute(
            "SELECT id, finger, impression, image FROM images WHERE nss = ? ORDER BY id",
            (lookup_tag(self._store.vault, str(nss)),)).fetchall()
        return [(int(f), int(i), self._store.vault.decrypt(blob, table=IMAGES, row_id=row_id))
                for row_id, f, i, blob in rows]

    def save_photo(self, nss: str, jpeg: bytes) -> int:
        """Keep (or replace) the worker's token photo, encrypted and bound to its row."""
        vault = self._store.vault
        tag = lookup_tag(vault, str(nss))
        with self._store.transaction() as conn:
            conn.execute("DELETE FROM photos WHERE nss = ?", (tag,))
            row_id = self._store.dialect.insert(conn, "INSERT INTO photos (nss, image, created_at) VALUES (?, ?, ?)",
                                                (tag, b"", self._store.clock()))
            blob = vault.encrypt(bytes(jpeg), table=PHOTOS, row_id=row_id)
            sealed = seal(vault, str(nss), table=PHOTOS, column="nss", row_id=row_id)
            conn.execute("UPDATE photos SET image = ?, nss_sealed = ? WHERE id = ?", (blob, sealed, row_id))
        return row_id

    def photo(self, nss: str) -> bytes | None:
        """The worker's token JPEG, or None when none was taken."""
        row = self._store.connection().execute(
            "SELECT id, image FROM photos WHERE nss = ?", (lookup_tag(self._store.vault, str(nss)),)).fetchone()
        return None if row is None else self._store.vault.decrypt(row[1], table=PHOTOS, row_id=row[0])

    def delete_worker(self, nss: str, *, actor: str = "system") -> dict[str, int]:
        """ARCO cancellation: templates, images, the photo and outbox payloads of `nss` gone from the files.

        Returns how many templates, images, photos and outbox items were affected and whether the files
        were fully scrubbed (`scrubbed` 0 when another terminal held the WAL: the rows are gone
        and the scrub stays pending until `siaptui.store.scrub.finish_pending` succeeds — at the
        next open or sender round).  The audit log records who asked and the counts — never the data.
        """
        nss = str(nss)
        now = self._store.clock()
        tag = lookup_tag(self._store.vault, nss)
        with self._store.transaction() as conn:
            templates = conn.execute("DELETE FROM gallery WHERE nss = ?", (tag,)).rowcount
            images = conn.execute("DELETE FROM images WHERE nss = ?", (tag,)).rowcount
            photos = conn.execute("DELETE FROM photos WHERE nss = ?", (tag,)).rowcount
            outbox = self._outbox.forget_worker(conn, nss, now)
            mark_pending(conn)
        counts = {"templates": int(templates), "images": int(images), "photos": int(photos), "outbox": int(outbox)}
        self._audit.record(actor, "arco.cancelled", nss, **counts)
        counts["scrubbed"] = 1 if finish_pending(self._store) else 0
        return counts

    def load_into(self, gallery: Any, after: int = 0) -> tuple[int, int, int]:
        """Fill a `siaptui.biometrics.person.PersonGallery` (person = NSS) with the rows above
        id `after`; returns (views added, rows read, highest row id read).

        Each row holds one or more views of a finger (`views_from_bytes`).  Records that the
        biometrics module cannot parse are skipped rather than stopping the duplicate search for
        everyone else; the count tells the caller.
        """
        from siaptui.biometrics.template import views_from_bytes
        from siaptui.errors import SiaptuiError

        added = rows = 0
        last = after
        for row_id, nss, finger, data in self._rows_after(after):
            rows, last = rows + 1, row_id
            try:
                views = views_from_bytes(data)
            except (SiaptuiError, ValueError):  # an older/foreign format: not searchable, not fatal
                continue
            for view in views:
                gallery.add(nss, finger, view)
            added += len(views)
        return added, rows, last

    def searchable(self) -> Any:
        """The office gallery as a `PersonGallery`, kept in memory between searches.

        Why: loading means decrypting and preparing every template (about 2 ms a view), minutes
        at 10,000 workers, while a search takes a second.  Rows added since the last call are
        read alone; when the table shows any row gone (an ARCO deletion, a worker enrolled
        again, another station's change), the gallery is read again whole.
        """
        from siaptui.biometrics.person import PersonGallery

        with self._searchable_lock:
            count, highest = self._store.connection().execute(
                "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM gallery").fetchone()
            count, highest = int(count), int(highest)
            if self._searchable is not None:
                gallery, seen, last = self._searchable
                if (seen, last) == (count, highest):
                    return gallery
                if highest > last:
                    _, rows, newest = self.load_into(gallery, after=last)
                    if seen + rows == count:  # nothing removed: the new rows were all that changed
                        self._searchable = (gallery, count, newest)
                        return gallery
            gallery = PersonGallery()
            _, rows, newest = self.load_into(gallery)
            self._searchable = (gallery, rows, newest)
            return gallery
