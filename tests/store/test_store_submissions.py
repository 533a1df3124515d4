"""Outbox items of either kind through the sender, against the real sandbox on loopback: a
transfer is committed, sent under its permanent Idempotency-Key and acknowledged with the
portal's folio and acuse; a damaged transfer payload is refused before any network call."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

import pytest

from siaptui.portal.models import ConsentRecord
from siaptui.portal.sandbox import seed
from siaptui.store.sender import OutboxSender, portal_client_factory
from siaptui.store.submissions import TRANSFER, kind_of, submission, transfer_payload
from tests.store.sandbox_support import sandbox_modules

ROBERTO = next(w for w in seed.DEMO_WORKERS if w["case"] == "enrolled_elsewhere")


@pytest.fixture()
def portal(tmp_path) -> Iterator[Any]:
    server = sandbox_modules()
    from siaptui.portal.sandbox.ca import issue_demo_efirma

    running = server.serve_in_thread(db=tmp_path / "sandbox.db")
    try:
        yield running, issue_demo_efirma(tmp_path / "efirma")
    finally:
        running.stop()


def factory(running: Any, efirma: Any) -> Any:
    return portal_client_factory(running.url, str(efirma.cer), str(efirma.key), efirma.password, timeout=5.0,
                                 max_attempts=1)


def consent(rfc: str) -> dict:
    return ConsentRecord("2026-01", datetime(2026, 5, 28, 10, tzinfo=timezone.utc), "aceptacion_en_pantalla",
                         rfc).to_dict()


def test_a_transfer_item_is_sent_once_and_keeps_the_acuse(store, portal) -> None:
    running, efirma = portal
    payload = transfer_payload(str(ROBERTO["nss"]), str(ROBERTO["curp"]), consent(efirma.rfc))
    item = store.outbox.enqueue(payload, worker_nss=str(ROBERTO["nss"]), employer_rfc=efirma.rfc, training=True)
    result = OutboxSender(store, factory(running, efirma)).run_once()
    sent = store.outbox.get(item.id)
    assert (result.sent, sent.state, sent.has_payload) == (1, "sent", False)
    assert sent.folio.startswith("SBX-T-") and "ACUSE DE TRANSFERENCIA" in sent.acuse
    assert sent.received_at and sent.enrollment_id.startswith("trf_")
    assert running.store.worker_by_nss(ROBERTO["nss"])["biometrics_employer"] == efirma.rfc
    with running.store.transaction() as db:
        keys = [row[0] for row in db.execute("SELECT idem_key FROM transfers")]
    assert keys == [item.idempotency_key]


def test_a_damaged_transfer_payload_is_refused_before_sending(store, portal) -> None:
    running, efirma = portal
    payload = transfer_payload(str(ROBERTO["nss"]), str(ROBERTO["curp"]), {"aviso_version": "2026-01"})
    item = store.outbox.enqueue(payload, worker_nss=str(ROBERTO["nss"]), employer_rfc=efirma.rfc, training=True)
    result = OutboxSender(store, factory(running, efirma)).run_once()
    failed = store.outbox.get(item.id)
    assert (result.failed, failed.state, failed.reason) == (1, "failed", "store_request_invalid")
    assert not failed.retryable
    assert running.store.worker_by_nss(ROBERTO["nss"])["biometrics_employer"] == seed.PREVIOUS_EMPLOYER_RFC


def test_the_kind_is_read_from_the_payload() -> None:
    assert kind_of(transfer_payload("1", "2", {})) == TRANSFER
    assert kind_of({"nss": "1", "fingers": []}) == "enrollment"  # enrollments carry no kind
    with pytest.raises(ValueError):
        kind_of({"kind": "verification"})
    with pytest.raises(ValueError):
        submission({"kind": "enrollment", "nss": "1"})  # checked before any call: no fingers
