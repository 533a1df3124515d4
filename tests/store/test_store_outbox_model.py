"""Property test: random sequences of outbox operations keep the outbox's promises.

Promises checked after every step: an idempotency key never changes; an acknowledged item
stays acknowledged with its first folio; a claim never hands out an item that is sent, failed
for good, not yet due, or held by another sender whose lease is still running.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from siaptui.store.db import open_store
from siaptui.store.errors import StoreError
from siaptui.store.outbox import CLAIM_LEASE_S
from tests.store.helpers import NSS, RFC, Clock, request_dict

OWNERS = ("far-host:1:a", "far-host:2:b")  # other hosts: only the lease can void their claims


class OutboxModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="outbox-model-"))
        self.clock = Clock(1_900_000_000.0)
        self.store = open_store(self.folder / "siaptui.db", clock=self.clock)
        self.keys: dict[int, str] = {}
        self.folios: dict[int, str] = {}
        self.claims: dict[int, tuple[str, float]] = {}

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(training=st.booleans())
    def enqueue(self, training: bool) -> None:
        item = self.store.outbox.enqueue(request_dict(template=b"t"), worker_nss=NSS, employer_rfc=RFC,
                                         training=training)
        self.keys[item.id] = item.idempotency_key

    @rule(owner=st.sampled_from(OWNERS))
    def claim(self, owner: str) -> None:
        before = {i.id: i for i in self.store.outbox.items()}
        item = self.store.outbox.claim_due(owner)
        if item is None:
            return
        old = before[item.id]
        assert old.state != "sent"
        assert not (old.state == "failed" and not old.retryable)
        if old.state in ("pending", "failed"):
            assert old.next_attempt_at is None or old.next_attempt_at <= self.clock.now
        else:  # taking over a claim: only when it is not this owner's and its lease ran out
            holder, since = self.claims[item.id]
            assert holder != owner and since <= self.clock.now - CLAIM_LEASE_S
        assert item.state == "sending" and item.attempts == old.attempts + 1
        self.claims[item.id] = (owner, self.clock.now)

    @precondition(lambda self: self.claims)
    @rule(data=st.data(), retryable=st.booleans(), retry_after=st.sampled_from([None, 0, 30, 600]))
    def fail(self, data: st.DataObject, retryable: bool, retry_after) -> None:
        item_id = data.draw(st.sampled_from(sorted(self.claims)))
        self.store.outbox.mark_failed(item_id, "portal_timeout", retryable=retryable, retry_after=retry_after)
        self.claims.pop(item_id, None)
        item = self.store.outbox.get(item_id)
        if item.state == "failed" and item.retryable and retry_after:
            assert item.next_attempt_at >= self.clock.now + retry_after

    @precondition(lambda self: self.claims)
    @rule(data=st.data())
    def acknowledge(self, data: st.DataObject) -> None:
        item_id = data.draw(st.sampled_from(sorted(self.claims)))
        folio = f"F-{item_id}-{len(self.folios)}"
        self.store.outbox.mark_sent(item_id, {"folio": folio, "acuse": "a", "received_at": "t", "enrollment_id": "e"})
        self.folios.setdefault(item_id, folio)
        self.claims.pop(item_id, None)

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def clerk_retry(self, data: st.DataObject) -> None:
        item_id = data.draw(st.sampled_from(sorted(self.keys)))
        try:
            item = self.store.outbox.retry(item_id)
        except StoreError as exc:
            assert exc.code == "store_already_sent" and item_id in self.folios
            return
        if item_id in self.claims and self.claims[item_id][1] > self.clock.now - CLAIM_LEASE_S:
            assert item.state == "sending"  # a live claim is left alone
            return
        assert item.state == "pending"
        self.claims.pop(item_id, None)

    @rule(seconds=st.sampled_from([1, 60, 900, CLAIM_LEASE_S + 1, 7200]))
    def wait(self, seconds: float) -> None:
        self.clock.now += seconds

    @invariant()
    def promises_hold(self) -> None:
        items = self.store.outbox.items()
        assert {i.id: i.idempotency_key for i in items} == self.keys
        for item in items:
            if item.id in self.folios:
                assert item.state == "sent" and item.folio == self.folios[item.id] and not item.has_payload
        assert sum(self.store.outbox.counts().values()) == len(items)


TestOutboxModel = OutboxModel.TestCase
TestOutboxModel.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
