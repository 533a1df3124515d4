"""Worker identity at rest: NSS, CURP and name (acuse text included) never in clear in the files,
rows still found by NSS, clear rows of an older database sealed when it is opened."""

from __future__ import annotations

import os
from pathlib import Path

from siaptui.store.db import Store, _attach_vault, open_store
from siaptui.store.outbox import TABLE, encode_request
from siaptui.store.personal import lookup_tag
from siaptui.store.schema import MIGRATIONS
from tests.store.helpers import CURP, NSS, OTHER_NSS, RFC, request_dict

NAME = "JUAN PEREZ LOPEZ"
ACUSE = f"ACUSE DE RECIBO — Registro biométrico de {NAME} (NSS {NSS}, CURP {CURP}). Folio F-1."
RECEIPT = {"folio": "F-1", "acuse": ACUSE, "received_at": "2026-01-05T10:00:00Z", "enrollment_id": "E-1"}


def files_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob("siaptui.db*")))


def identity_found(data: bytes) -> list[str]:
    """Which of the worker's identifiers appear in the raw bytes (UTF-8 and as the NSS digits)."""
    return [text for text in (NSS, CURP, NAME) if text.encode("utf-8") in data]


def test_nss_curp_name_and_acuse_are_not_in_the_files_but_everything_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    with open_store(path) as store:
        sent = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
        pending = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
        store.outbox.claim_due("me")
        store.outbox.mark_sent(sent.id, RECEIPT)
        store.gallery.enroll(NSS, 2, os.urandom(300))
        store.gallery.enroll(OTHER_NSS, 2, os.urandom(300))
        store.gallery.save_image(NSS, 2, os.urandom(500))
        store.audit.record("clerk", "consent_accepted", NSS, curp=CURP)

        assert store.outbox.get(sent.id).worker_nss == NSS
        assert store.outbox.get(sent.id).acuse == ACUSE
        assert store.outbox.get(pending.id).worker_nss == NSS
        assert store.gallery.workers() == sorted([NSS, OTHER_NSS])
        assert {nss for nss, _, _ in store.gallery.templates()} == {NSS, OTHER_NSS}
        assert len(store.gallery.images(NSS)) == 1 and store.gallery.images(OTHER_NSS) == []
        store.connection().execute("PRAGMA wal_checkpoint(PASSIVE)")
        assert identity_found(files_bytes(tmp_path)) == []
    assert identity_found(files_bytes(tmp_path)) == []


def test_arco_removes_the_workers_identity_from_sent_items_too(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    with open_store(path) as store:
        sent = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
        other = store.outbox.enqueue(request_dict(nss=OTHER_NSS), worker_nss=OTHER_NSS, employer_rfc=RFC,
                                     training=True)
        store.outbox.claim_due("me")
        store.outbox.mark_sent(sent.id, RECEIPT)
        tag = lookup_tag(store.vault, NSS)
        store.gallery.delete_worker(NSS)
        item = store.outbox.get(sent.id)
        assert (item.state, item.folio, item.worker_nss, item.acuse) == ("sent", "F-1", "", None)
        assert store.outbox.get(other.id).worker_nss == OTHER_NSS
    assert tag.encode("ascii") not in files_bytes(tmp_path)


def _older_database(path: Path) -> tuple[int, int]:
    """A database as siaptui wrote it before identity sealing: schema v1, NSS and acuse in clear."""
    store = Store(path)
    with store.transaction() as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
        for step in MIGRATIONS[0]:
            for statement in store.dialect.ddl(step):
                conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (1, 0)")
    _attach_vault(store, None)
    vault = store.vault
    with store.transaction() as conn:
        ids = []
        for state in ("sent", "pending"):
            row_id = int(conn.execute(
                "INSERT INTO outbox (idempotency_key, worker_nss, employer_rfc, training, state, acuse, "
                "created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, 0, 0)",
                (f"key-{state}", NSS, RFC, state, ACUSE if state == "sent" else None)).lastrowid)
            if state == "pending":  # a sent item's payload is already wiped
                conn.execute("UPDATE outbox SET payload = ? WHERE id = ?",
                             (vault.encrypt(encode_request(request_dict()), table=TABLE, row_id=row_id), row_id))
            ids.append(row_id)
        gallery_id = int(conn.execute("INSERT INTO gallery (nss, finger, template, created_at) "
                                      "VALUES (?, 2, x'', 0)", (NSS,)).lastrowid)
        conn.execute("UPDATE gallery SET template = ? WHERE id = ?",
                     (vault.encrypt(b"template", table="gallery", row_id=gallery_id), gallery_id))
    store.close()
    assert identity_found(files_bytes(path.parent))  # the old file really holds them in clear
    return ids[0], ids[1]


def test_an_older_database_is_sealed_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    sent_id, pending_id = _older_database(path)
    with open_store(path) as store:
        assert store.schema_version() == len(MIGRATIONS)
        assert store.outbox.get(sent_id).acuse == ACUSE
        assert store.outbox.get(pending_id).worker_nss == NSS
        assert store.outbox.request(pending_id)["nss"] == NSS
        assert list(store.gallery.templates()) == [(NSS, 2, b"template")]
        assert identity_found(files_bytes(tmp_path)) == []
        counts = store.gallery.delete_worker(NSS)  # lookups by NSS find the migrated rows
        assert (counts["templates"], counts["outbox"]) == (1, 1)
    with open_store(path) as store:  # a second open changes nothing
        assert store.outbox.get(sent_id).worker_nss == ""
