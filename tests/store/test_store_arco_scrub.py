"""ARCO scrub of the main file and the WAL, read back from the raw bytes — also when a second
terminal holds the database open during the deletion (the scrub is then pending and finished
once that terminal lets go)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from siaptui.store.db import open_store
from siaptui.store.scrub import finish_pending, is_pending
from tests.store.helpers import CURP, NSS, OTHER_NSS, RFC, request_dict

NAME = "MARIA GUADALUPE SANCHEZ RUIZ"
RECEIPT = {"folio": "F-7", "acuse": f"Acuse de {NAME}, NSS {NSS}, CURP {CURP}", "received_at": "x",
           "enrollment_id": "E-7"}


def _raw(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob("siaptui.db*")))


def _worker_data(store, template: bytes) -> list[bytes]:
    """Enroll the worker everywhere the store keeps them; returns the ciphertexts written."""
    store.gallery.enroll(NSS, 2, template)
    store.gallery.enroll(OTHER_NSS, 2, b"keep-me" * 20)
    store.gallery.save_image(NSS, 2, os.urandom(2000))
    sent = store.outbox.enqueue(request_dict(template=template), worker_nss=NSS, employer_rfc=RFC, training=True)
    store.outbox.enqueue(request_dict(template=template), worker_nss=NSS, employer_rfc=RFC, training=True)
    store.outbox.claim_due("me")
    store.outbox.mark_sent(sent.id, RECEIPT)
    conn = store.connection()
    blobs = [bytes(row[0]) for row in conn.execute("SELECT template FROM gallery WHERE id = 1")]
    blobs += [bytes(row[0]) for row in conn.execute("SELECT image FROM images")]
    blobs += [bytes(row[0]) for row in conn.execute("SELECT payload FROM outbox WHERE payload IS NOT NULL")]
    blobs += [bytes(row[0]) for row in conn.execute("SELECT worker_nss_sealed FROM outbox")]
    blobs += [bytes(row[0]) for row in conn.execute("SELECT acuse_sealed FROM outbox WHERE acuse_sealed IS NOT NULL")]
    return blobs


def _leftovers(data: bytes, template: bytes, blobs: list[bytes]) -> list[str]:
    found = [text for text in (NSS, CURP, NAME) if text.encode("utf-8") in data]
    if template[:24] in data:
        found.append("template")
    for blob in blobs:
        if any(blob[i:i + 16] in data for i in range(0, len(blob) - 16, 16)):
            found.append(f"ciphertext {blob[:4].hex()}")
    return found


def test_arco_scrubs_the_database_and_the_wal(tmp_path: Path) -> None:
    template = os.urandom(400)
    with open_store(tmp_path / "siaptui.db") as store:
        blobs = _worker_data(store, template)
        assert _leftovers(_raw(tmp_path), template, blobs)  # the probe sees them while they exist
        counts = store.gallery.delete_worker(NSS)
        assert counts["scrubbed"] == 1 and not is_pending(store)
        assert _leftovers(_raw(tmp_path), template, blobs) == []
        assert [nss for nss, _, _ in store.gallery.templates()] == [OTHER_NSS]


def test_a_second_terminal_holding_the_file_delays_the_scrub_until_it_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    template = os.urandom(400)
    with open_store(path) as store:
        blobs = _worker_data(store, template)
        other = sqlite3.connect(str(path), isolation_level=None)  # the other terminal's Bandeja
        other.execute("BEGIN")
        other.execute("SELECT COUNT(*) FROM gallery").fetchone()  # a read in progress
        try:
            counts = store.gallery.delete_worker(NSS)
            assert counts["scrubbed"] == 0 and is_pending(store)  # told, and remembered
            assert _leftovers(_raw(tmp_path), template, blobs)  # the WAL still holds old frames
            assert finish_pending(store) is False  # still held: stays pending
        finally:
            other.close()
        assert finish_pending(store) is True and not is_pending(store)
        assert _leftovers(_raw(tmp_path), template, blobs) == []


def test_a_pending_scrub_is_finished_at_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    template = os.urandom(400)
    store = open_store(path)
    blobs = _worker_data(store, template)
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN")
    other.execute("SELECT COUNT(*) FROM outbox").fetchone()
    assert store.gallery.delete_worker(NSS)["scrubbed"] == 0
    other.close()
    # This terminal keeps running; another one (or a restart) opens the store.
    with open_store(path) as again:
        assert not is_pending(again)
        assert _leftovers(_raw(tmp_path), template, blobs) == []
    store.close()
    assert _leftovers(_raw(tmp_path), template, blobs) == []


def test_the_background_sender_finishes_a_pending_scrub(tmp_path: Path) -> None:
    import asyncio

    from siaptui.store.sender import OutboxSender

    path = tmp_path / "siaptui.db"
    template = os.urandom(400)
    with open_store(path) as store:
        blobs = _worker_data(store, template)
        other = sqlite3.connect(str(path), isolation_level=None)
        other.execute("BEGIN")
        other.execute("SELECT COUNT(*) FROM gallery").fetchone()
        assert store.gallery.delete_worker(NSS)["scrubbed"] == 0
        other.close()

        def no_portal() -> None:
            raise AssertionError("nothing is due: the sender must not log in")

        rounds = iter([False, True])
        asyncio.run(OutboxSender(store, no_portal).arun_forever(lambda: next(rounds, True)))
        assert not is_pending(store)
        assert _leftovers(_raw(tmp_path), template, blobs) == []


def test_an_idle_second_terminal_does_not_prevent_the_scrub(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    template = os.urandom(400)
    with open_store(path) as store, open_store(path) as other:
        blobs = _worker_data(store, template)
        assert other.outbox.items()  # the other terminal has read, and is now idle
        assert store.gallery.delete_worker(NSS)["scrubbed"] == 1
        assert _leftovers(_raw(tmp_path), template, blobs) == []
