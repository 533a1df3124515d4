"""Encrypted bundles between terminals: round trip, double import, wrong passphrase, damage."""

from __future__ import annotations

from pathlib import Path

import pytest

from siaptui.errors import explain
from siaptui.store.db import open_store
from siaptui.store.errors import StoreError
from siaptui.store.export import export_pending, import_bundle
from tests.store.helpers import NSS, RFC, request_dict


def test_round_trip_preserves_keys_and_importing_twice_adds_nothing(tmp_path: Path, open_any) -> None:
    """From this backend's store (a single PC's file, or an office server) to another PC's file."""
    (tmp_path / "b").mkdir()
    source = open_any()
    requests = [request_dict() for _ in range(3)]
    items = [source.outbox.enqueue(r, worker_nss=NSS, employer_rfc=RFC, training=bool(i % 2))
             for i, r in enumerate(requests)]
    source.outbox.claim_due("me")
    source.outbox.mark_sent(items[0].id, {"folio": "F", "acuse": "a", "received_at": "t", "enrollment_id": "e"})
    bundle = tmp_path / "usb" / "pendientes.siaptui"
    assert export_pending(source, bundle, "frase larga") == 2
    assert bundle.stat().st_mode & 0o777 == 0o600
    raw = bundle.read_bytes()
    assert NSS.encode() not in raw and requests[1]["fingers"][0]["template"][:20].encode() not in raw

    target = open_store(tmp_path / "b" / "siaptui.db")
    assert import_bundle(target, bundle, "frase larga") == (2, 0)
    assert import_bundle(target, bundle, "frase larga") == (0, 2)
    imported = {i.idempotency_key: i for i in target.outbox.items()}
    assert set(imported) == {items[1].idempotency_key, items[2].idempotency_key}
    for original, request in zip(items[1:], requests[1:]):
        copy = imported[original.idempotency_key]
        assert copy.state == "pending" and copy.training == original.training
        assert target.outbox.request(copy.id) == request
    # the source still has its own copies: the shared key makes sending from both harmless
    assert import_bundle(source, bundle, "frase larga") == (0, 2)
    source.close()
    target.close()


def test_wrong_passphrase_and_damaged_bundles(tmp_path: Path) -> None:
    store = open_store(tmp_path / "siaptui.db")
    store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
    bundle = tmp_path / "b.siaptui"
    export_pending(store, bundle, "correcta")
    with pytest.raises(StoreError) as wrong:
        import_bundle(store, bundle, "otra")
    assert wrong.value.code == "store_bundle_wrong_passphrase"
    damaged = bytearray(bundle.read_bytes())
    damaged[-5] ^= 1
    (tmp_path / "damaged").write_bytes(bytes(damaged))
    with pytest.raises(StoreError):
        import_bundle(store, tmp_path / "damaged", "correcta")
    for name, content in {"text": b"hola", "truncated": bundle.read_bytes()[:30], "empty": b""}.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(StoreError) as caught:
            import_bundle(store, tmp_path / name, "correcta")
        assert caught.value.code == "store_bundle_invalid"
    with pytest.raises(StoreError) as absent:
        import_bundle(store, tmp_path / "nope", "correcta")
    assert absent.value.code == "store_bundle_not_found"
    assert "No se encontró el archivo" in explain(absent.value) and "No such file" not in explain(absent.value)
    assert len(store.outbox.items()) == 1
    store.close()
