"""The local gallery and ARCO cancellation: deleted biometrics leave no bytes in the files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from siaptui.store.db import open_store
from siaptui.store.errors import StoreError
from tests.store.helpers import NSS, OTHER_NSS, RFC, request_dict


def _files_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob("siaptui.db*")))


def test_enroll_replaces_and_lists(open_any) -> None:
    with open_any() as store:
        store.gallery.enroll(NSS, 2, b"old")
        store.gallery.enroll(NSS, 2, b"new")
        store.gallery.enroll(OTHER_NSS, 7, b"other")
        assert sorted(store.gallery.templates()) == [(OTHER_NSS, 7, b"other"), (NSS, 2, b"new")]
        assert len(store.gallery) == 2 and store.gallery.workers() == sorted([NSS, OTHER_NSS])
        with pytest.raises(StoreError):
            store.gallery.enroll(NSS, 42, b"x")


def test_arco_deletion_leaves_no_bytes_in_the_database_files(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    template = os.urandom(400)
    image = os.urandom(3000)
    with open_store(path) as store:
        store.gallery.enroll(NSS, 2, template)
        store.gallery.enroll(OTHER_NSS, 2, b"keep-me")
        store.gallery.save_image(NSS, 2, image)
        photo = os.urandom(2000)
        store.gallery.save_photo(NSS, photo)
        store.gallery.save_photo(OTHER_NSS, b"other-photo")
        assert store.gallery.photo(NSS) == photo
        pending = store.outbox.enqueue(request_dict(template=template), worker_nss=NSS, employer_rfc=RFC,
                                       training=True)
        sent = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
        store.outbox.claim_due("me")
        store.outbox.claim_due("me")
        store.outbox.mark_sent(sent.id, {"folio": "F-9", "acuse": "a", "received_at": "x", "enrollment_id": "e"})
        conn = store.connection()
        ciphertexts = [row[0] for row in conn.execute("SELECT template FROM gallery WHERE nss = ?", (NSS,))]
        ciphertexts += [row[0] for row in conn.execute("SELECT image FROM images")]
        first_photo = "SELECT image FROM photos WHERE id = (SELECT MIN(id) FROM photos)"  # NSS's, not OTHER_NSS's
        ciphertexts += [row[0] for row in conn.execute(first_photo)]
        ciphertexts += [row[0] for row in conn.execute("SELECT payload FROM outbox WHERE id = ?", (pending.id,))]
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        before = _files_bytes(tmp_path)
        assert all(bytes(c)[20:60] in before for c in ciphertexts)  # the probe finds them while they exist

        counts = store.gallery.delete_worker(NSS)
        assert counts == {"templates": 1, "images": 1, "photos": 1, "outbox": 1, "scrubbed": 1}
        assert list(store.audit.entries())[-1]["action"] == "arco.cancelled" and store.audit.verify()
        assert list(store.gallery.templates()) == [(OTHER_NSS, 2, b"keep-me")]
        assert store.gallery.images(NSS) == []
        assert store.gallery.photo(NSS) is None and store.gallery.photo(OTHER_NSS) == b"other-photo"
        cancelled = store.outbox.get(pending.id)
        assert (cancelled.state, cancelled.reason, cancelled.has_payload) == ("failed", "store_arco_cancelled", False)
        assert store.outbox.get(sent.id).folio == "F-9"  # the employer keeps the receipt
        with pytest.raises(StoreError) as caught:
            store.outbox.retry(pending.id)
        assert caught.value.code == "store_payload_deleted"
        after = _files_bytes(tmp_path)
    for blob in ciphertexts:
        blob = bytes(blob)
        for start in range(0, len(blob) - 16, 16):  # no 16-byte window of any deleted ciphertext
            assert blob[start:start + 16] not in after
    assert template[:32] not in after and image[:32] not in after and photo[:32] not in after


def test_load_into_a_person_gallery_with_every_view(open_any, backend: str, tmp_path: Path) -> None:
    from siaptui.biometrics import person as person_mod, template as template_mod

    Template, Minutia = template_mod.Template, template_mod.Minutia
    views = [Template(width=300, height=400, dpi=500, quality=70,
                      minutiae=[Minutia(10 + 7 * i + shift, 20 + 11 * i, 0.3 * i, "ending", 80) for i in range(25)])
             for shift in (0, 3)]
    with open_any() as store:
        assert store.gallery.enroll_worker(NSS, {2: template_mod.views_to_bytes(views)}) == 1
        store.gallery.enroll(OTHER_NSS, 2, b"not a template")
        target = person_mod.PersonGallery()
        assert store.gallery.load_into(target)[0] == 2
        assert len(target) == 1 and NSS in target
        assert target.search({2: views[0]}, top=1)[0].person == NSS
        # Enrolling the worker again replaces all of its fingers at once.
        store.gallery.enroll_worker(NSS, {3: views[1].to_bytes()})
        assert sorted((nss, f) for nss, f, _ in store.gallery.templates()) == sorted([(NSS, 3), (OTHER_NSS, 2)])
        rows = store.connection().execute("SELECT nss, nss_sealed, template FROM gallery").fetchall()
    assert all(NSS.encode() not in str(tag).encode() + bytes(sealed) + bytes(blob) for tag, sealed, blob in rows)
    if backend == "sqlite":
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("siaptui.db*"))
        assert NSS.encode() not in raw  # the worker's NSS is sealed, also in rows enroll_worker wrote


def test_the_searchable_gallery_is_kept_and_follows_additions_removals_and_other_stations(
        open_any, backend: str) -> None:
    """Kept between searches (loading is minutes at 10,000 workers), yet never stale: a new
    worker is added to it, an ARCO deletion or a re-enrollment makes it read again."""
    from siaptui.biometrics import template as template_mod

    Template, Minutia = template_mod.Template, template_mod.Minutia

    def record(shift: int) -> bytes:
        return Template(width=300, height=400, dpi=500, quality=70,
                        minutiae=[Minutia(10 + 7 * i + shift, 20 + 11 * i, 0.3 * i, "ending", 80)
                                  for i in range(25)]).to_bytes()

    with open_any() as store, open_any() as other_station:
        assert len(store.gallery.searchable()) == 0
        store.gallery.enroll_worker(NSS, {2: record(0)})
        first = store.gallery.searchable()
        assert NSS in first and store.gallery.searchable() is first  # nothing changed: the same one
        other_station.gallery.enroll_worker(OTHER_NSS, {2: record(5)})
        grown = store.gallery.searchable()
        assert grown is first and OTHER_NSS in grown  # only the new rows were read
        other_station.gallery.delete_worker(NSS, actor="test")
        after_arco = store.gallery.searchable()
        assert NSS not in after_arco and OTHER_NSS in after_arco
        store.gallery.enroll_worker(OTHER_NSS, {3: record(9)})  # enrolled again: fingers replaced
        again = store.gallery.searchable()
        assert again.persons() == [OTHER_NSS] and again is not after_arco
