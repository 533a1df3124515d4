"""The outbox state machine: durable enqueue, permanent keys, claims, backoff, Retry-After."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from siaptui.store.db import open_store
from siaptui.store.errors import StoreError
from siaptui.store.outbox import BACKOFF_BASE_S, BACKOFF_CAP_S, backoff_delay
from tests.store.helpers import NSS, RFC, Clock, request_dict

RECEIPT = {"folio": "F-1", "acuse": "Acuse de recibo", "received_at": "2026-01-05T10:00:00Z", "enrollment_id": "E-1"}


def test_enqueue_is_committed_before_it_returns(store) -> None:
    request = request_dict()
    item = store.outbox.enqueue(request, worker_nss=NSS, employer_rfc=RFC, training=True)
    # another connection (as another process or station would) sees it immediately
    other = store._open_connection()
    row = other.execute("SELECT idempotency_key, state, training FROM outbox WHERE id = ?", (item.id,)).fetchone()
    other.close()
    assert row == (item.idempotency_key, "pending", 1)
    assert store.outbox.request(item.id) == request


def test_enqueue_survives_a_process_killed_right_after(tmp_path: Path) -> None:
    path = tmp_path / "siaptui.db"
    code = ("import os, sys\nfrom siaptui.store.db import open_store\nfrom tests.store.helpers import request_dict\n"
            "s = open_store(sys.argv[1])\n"
            "i = s.outbox.enqueue(request_dict(), worker_nss='1', employer_rfc='R', training=True)\n"
            "print(i.idempotency_key, flush=True)\nos._exit(9)  # no close, no cleanup\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2])
    key = out.stdout.strip()
    with open_store(path) as store:
        assert [i.idempotency_key for i in store.outbox.items()] == [key]


def test_idempotency_key_never_changes_across_retries_and_reopen(store, clock: Clock, open_any) -> None:
    item = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
    keys = {item.idempotency_key}
    for _ in range(3):
        claimed = store.outbox.claim_due("me")
        keys.add(claimed.idempotency_key)
        store.outbox.mark_failed(claimed.id, "portal_unreachable", retryable=True)
        clock.now += 10_000
    store.outbox.retry(item.id)
    with open_any() as again:
        keys.add(again.outbox.get(item.id).idempotency_key)
    assert keys == {item.idempotency_key}
    assert store.outbox.get(item.id).attempts == 3


def test_claims_are_exclusive(store, clock: Clock) -> None:
    first = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
    claimed = store.outbox.claim_due("sender-a")
    assert claimed.id == first.id and claimed.state == "sending" and claimed.attempts == 1
    # "sender-a" names no local process, so only its lease could void the claim
    assert store.outbox.claim_due("sender-b") is None


def test_a_claim_of_a_dead_process_is_taken_over(store, clock: Clock) -> None:
    import socket

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
    live_owner = f"{socket.gethostname()}:{__import__('os').getpid()}:x"
    dead_owner = f"{socket.gethostname()}:{dead.pid}:x"
    claimed = store.outbox.claim_due(dead_owner)
    assert store.outbox.claim_due(live_owner).id == claimed.id  # the dead owner's claim is void
    assert store.outbox.claim_due(dead_owner) is None  # the live one holds it now
    clock.now += 3600  # a lease that ran out is void too
    assert store.outbox.claim_due("elsewhere:1:y").id == claimed.id


def test_training_filter(store) -> None:
    real = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=False)
    practice = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
    assert store.outbox.claim_due("a", training=True).id == practice.id
    assert store.outbox.claim_due("a", training=True) is None
    assert store.outbox.claim_due("a", training=False).id == real.id


def test_backoff_schedule_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempt in range(1, 15):
        step = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
        delays = [backoff_delay(attempt, rng=rng) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays)
        assert len({round(d, 6) for d in delays}) > 150  # jittered, not a fixed schedule
    assert backoff_delay(30, rng=rng) <= BACKOFF_CAP_S


def test_retry_after_is_a_floor(store, clock: Clock) -> None:
    assert backoff_delay(1, 120, rng=random.Random(1)) >= 120
    item = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
    store.outbox.claim_due("me")
    failed = store.outbox.mark_failed(item.id, "portal_overloaded", retryable=True, retry_after=300)
    assert failed.state == "failed" and failed.retryable and failed.reason == "portal_overloaded"
    assert failed.next_attempt_at >= clock.now + 300
    clock.now += 299
    assert store.outbox.claim_due("me") is None
    clock.now = failed.next_attempt_at
    assert store.outbox.claim_due("me").attempts == 2


def test_permanent_failure_waits_for_the_clerk(store, clock: Clock) -> None:
    item = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
    store.outbox.claim_due("me")
    failed = store.outbox.mark_failed(item.id, "portal_curp_not_eligible",
                                      detail="CURP no válido para registro biométrico")
    assert (failed.state, failed.retryable, failed.next_attempt_at) == ("failed", False, None)
    clock.now += 10**6
    assert store.outbox.claim_due("me") is None
    assert store.outbox.retry(item.id).state == "pending"
    assert store.outbox.claim_due("me").id == item.id


def test_mark_sent_keeps_the_receipt_wipes_the_payload_and_is_final(store) -> None:
    item = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
    store.outbox.claim_due("me")
    sent = store.outbox.mark_sent(item.id, RECEIPT)
    assert sent.state == "sent" and sent.receipt["folio"] == "F-1" and not sent.has_payload
    # a late failure report (another sender's timeout) never downgrades an acknowledgement
    assert store.outbox.mark_failed(item.id, "portal_timeout", retryable=True).state == "sent"
    assert store.outbox.mark_sent(item.id, dict(RECEIPT, folio="F-2")).folio == "F-1"
    with pytest.raises(StoreError) as caught:
        store.outbox.retry(item.id)
    assert caught.value.code == "store_already_sent"
    with pytest.raises(StoreError) as gone:
        store.outbox.request(item.id)
    assert gone.value.code == "store_payload_deleted"
    assert store.outbox.counts() == {"pending": 0, "sending": 0, "sent": 1, "failed": 0}


def test_bad_input_gives_store_errors(store) -> None:
    with pytest.raises(StoreError) as caught:
        store.outbox.enqueue({"x": object()}, worker_nss=NSS, employer_rfc=RFC, training=True)
    assert caught.value.code == "store_request_invalid"
    with pytest.raises(StoreError) as missing:
        store.outbox.get(999)
    assert missing.value.code == "store_item_not_found"
    assert store.outbox.items() == []  # nothing half-written


def test_enqueue_accepts_the_portal_dataclass(store) -> None:
    from siaptui.portal import models

    request = models.EnrollmentRequest.from_dict(request_dict())
    item = store.outbox.enqueue(request, worker_nss=NSS, employer_rfc=RFC, training=True)
    assert models.EnrollmentRequest.from_dict(store.outbox.request(item.id)) == request


def test_reason_text_for_the_bandeja(store) -> None:
    from siaptui.errors import describe
    from siaptui.i18n import catalog
    from siaptui.store.errors import CODES

    for lang in ("es", "en"):
        for code in CODES:
            assert f"error.{code}" in catalog(lang) and f"error.{code}.fix" in catalog(lang)
    item = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
    assert item.failure() is None
    store.outbox.claim_due("me")
    failed = store.outbox.mark_failed(item.id, "store_send_failed", detail="RuntimeError", retryable=True)
    message, fix = describe(failed.failure())
    assert "RuntimeError" in message and "reintentará" in fix
    unknown = store.outbox.mark_failed(item.id, "some_future_code", detail="x")
    assert describe(unknown.failure())[0]  # falls back to the generic text, never a raw key


def test_a_rejection_keeps_the_values_of_its_message(store) -> None:
    """The portal named finger 3: the stored failure still fills «{finger}» (no placeholder shows)."""
    from siaptui.errors import describe

    item = store.outbox.enqueue(request_dict(), worker_nss=NSS, employer_rfc=RFC, training=True)
    store.outbox.claim_due("me")
    rejected = store.outbox.mark_failed(item.id, "portal_duplicate_finger", detail="el dedo 3 ya está registrado",
                                        params={"finger": 3, "status": 409, "detail": "not kept", "x": object()})
    assert rejected.rejected and rejected.reason_params == {"finger": 3, "status": 409}
    message, _ = describe(rejected.failure())
    assert "{" not in message and "dedo 3" in message
