"""The outbox: enrollments committed locally before any network call, sent until acknowledged.

States: pending -> sending -> sent | failed.
- `pending`: waiting for its first (or a clerk-requested) attempt.
- `sending`: claimed by one sender (owner and `lease_until` recorded).  A sender killed
  mid-send leaves the row here; another sender — on this PC or, on an office server, on any
  station — takes it over once the owner process is gone or the lease ran out, and resends
  with the same idempotency key, so the portal acknowledges it once.  On PostgreSQL the claim
  is `SELECT … FOR UPDATE SKIP LOCKED`: stations claiming at the same moment each get a
  different item instead of queueing behind one another.
- `sent`: the portal acknowledged it; folio, acuse and times are kept, the biometric payload
  is wiped (data minimisation: the portal holds it now).
- `failed`: the last attempt failed with `reason` (an error code with catalog text, its
  message's values in `reason_params`, the portal's own words in `reason_detail`).  When
  `retryable` is true the sender tries again at `next_attempt_at` (exponential backoff with
  jitter, never earlier than the portal's Retry-After); when false (the portal rejected the
  data) only the clerk's `retry()` puts it back in line.

The idempotency key is a uuid4 chosen at enqueue and never changed: retries, restarts,
take-overs and bundle imports all reuse it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import random
import socket
import sys
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional

from siaptui.errors import SiaptuiError
from siaptui.store.errors import StoreError
from siaptui.store.personal import lookup_tag, seal, unseal

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.store.connection import Database
    from siaptui.store.vault import Vault

STATES = ("pending", "sending", "sent", "failed")
STANDINGS = ("pending", "retrying", "rejected", "sent")
"""What an item means to the clerk (OutboxItem.standing), in the order the Bandeja lists them."""
TABLE = "outbox"
BACKOFF_BASE_S = 10.0
BACKOFF_CAP_S = 30 * 60.0
RETRY_AFTER_CAP_S = 24 * 3600.0
# How long a claim protects an item from other senders when its owner cannot be checked
# (another host, Windows): longer than any single submission with the client's own retries.
CLAIM_LEASE_S = 600.0


@dataclass(frozen=True)
class OutboxItem:
    """One row of the outbox, without its (encrypted) payload — see Outbox.request()."""

    id: int
    idempotency_key: str
    worker_nss: str
    employer_rfc: str
    training: bool
    state: str
    attempts: int
    retryable: bool
    next_attempt_at: Optional[float]
    reason: Optional[str]
    reason_detail: Optional[str]
    reason_params: dict[str, Any]
    claimed_by: Optional[str]
    created_at: float
    updated_at: float
    sent_at: Optional[float]
    folio: Optional[str]
    acuse: Optional[str]
    received_at: Optional[str]
    enrollment_id: Optional[str]
    has_payload: bool
    seal: Optional[str] = None
    """The portal's seal of the acuse (`siaptui.portal.seal`); not personal data: kept in clear,
    and kept after an ARCO cancellation as the folio is."""

    @property
    def rejected(self) -> bool:
        """Never retried by itself: the portal refused the data (resending gets the same answer),
        the data cannot be read back, or the worker cancelled it (ARCO); only the clerk can act."""
        return self.state == "failed" and not self.retryable

    @property
    def standing(self) -> str:
        """One of STANDINGS: `pending` (waiting or being sent), `retrying` (failed for a passing
        reason; the sender tries again by itself), `rejected` (needs the clerk) or `sent`.

        Why not the state: `failed` covers both a portal that was down and a portal that refused
        the data, and the clerk must do nothing about the first and act on the second.
        """
        if self.state in ("pending", "sending"):
            return "pending"
        if self.state == "failed":
            return "rejected" if self.rejected else "retrying"
        return "sent"

    def failure(self) -> Optional[SiaptuiError]:
        """The stored failure as an error the catalog can describe (its message values included)."""
        if not self.reason:
            return None
        return SiaptuiError(self.reason_detail or "", code=self.reason, **self.reason_params)

    @property
    def receipt(self) -> Optional[dict[str, Any]]:
        if self.state != "sent":
            return None
        return {"folio": self.folio, "acuse": self.acuse, "received_at": self.received_at,
                "enrollment_id": self.enrollment_id, "seal": self.seal}


# worker_nss_sealed and acuse_sealed: the identity columns are encrypted (siaptui.store.personal).
_COLUMNS = ("id, idempotency_key, worker_nss_sealed, employer_rfc, training, state, attempts, retryable, "
            "next_attempt_at, reason, reason_detail, reason_params, claimed_by, created_at, updated_at, sent_at, "
            "folio, acuse_sealed, received_at, enrollment_id, payload IS NOT NULL, seal")


def _item(row: Iterable[Any], vault: "Vault") -> OutboxItem:
    """An item with its NSS and acuse decrypted (an ARCO-cancelled worker's NSS reads as "")."""
    (id_, key, sealed_nss, rfc, training, state, attempts, retryable, next_at, reason, detail, params, claimed_by,
     created, updated, sent, folio, sealed_acuse, received, enrollment, has_payload, portal_seal) = tuple(row)
    nss = unseal(vault, sealed_nss, table=TABLE, column="worker_nss", row_id=id_) or ""
    acuse = unseal(vault, sealed_acuse, table=TABLE, column="acuse", row_id=id_)
    return OutboxItem(int(id_), key, nss, rfc, bool(training), state, int(attempts), bool(retryable), next_at,
                      reason, detail, _params(params), claimed_by, created, updated, sent, folio, acuse, received,
                      enrollment, bool(has_payload), portal_seal)


def _params(text: Optional[str]) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:  # a hand-edited row: the message shows without its values rather than not at all
        return {}
    return value if isinstance(value, dict) else {}


def message_params(params: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The values a failure's catalog message needs (a finger, an HTTP status), as stored JSON.

    Only plain scalars are kept: they fill `{placeholders}`; nothing else of the error (and no
    request data) belongs in the row.
    """
    kept = {str(k): v for k, v in (params or {}).items()
            if k != "detail" and isinstance(v, (str, int, float)) and not isinstance(v, bool)}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False)[:500] if kept else None


# -- payload codec: JSON with bytes tagged, so templates survive the round trip ------------
def _tag(value: Any, where: str = "request") -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):  # e.g. portal.models.EnrollmentRequest
        return _tag(to_dict(), where)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _tag(dataclasses.asdict(value), where)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise StoreError(f"{where}: non-text key {key!r}", code="store_request_invalid")
            out[key] = _tag(item, f"{where}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [_tag(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise StoreError(f"{where}: {type(value).__name__}", code="store_request_invalid")


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return base64.b64decode(value["$bytes"])
        return {key: _untag(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_untag(item) for item in value]
    return value


def encode_request(request: Any) -> bytes:
    """Canonical bytes of a request dict (bytes values allowed) — what the vault encrypts."""
    tagged = _tag(request)
    if not isinstance(tagged, dict):
        raise StoreError("request must be a dict", code="store_request_invalid")
    return json.dumps(tagged, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_request(data: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = _untag(json.loads(data.decode("utf-8")))
    return decoded


# -- retry schedule ---------------------------------------------------------------------
def backoff_delay(attempts: int, retry_after: Optional[float] = None, *, base: float = BACKOFF_BASE_S,
                  cap: float = BACKOFF_CAP_S, rng: Optional[random.Random] = None) -> float:
    """Seconds to wait after the `attempts`-th failed attempt.

    Exponential (base, 2·base, 4·base … up to cap) with "equal jitter" — half fixed, half
    random — so a roomful of terminals knocked out by the same month-end overload do not all
    come back in the same second, yet none retries absurdly early.  A Retry-After from the
    portal is a floor: we never come back before the portal asked us to.
    """
    source: Any = rng if rng is not None else random
    step = min(cap, base * float(2 ** max(0, attempts - 1)))
    delay = step / 2 + float(source.random()) * step / 2
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(float(retry_after), RETRY_AFTER_CAP_S))
    return delay


# -- claim owners -------------------------------------------------------------------------
def _place(station: Optional[str]) -> str:
    return (station or socket.gethostname()).replace(":", "-")


def new_owner(station: Optional[str] = None) -> str:
    """station:pid:token — enough to tell whether the claiming process is still alive.

    The station (`Database.station`: `store.station`, else the host name) says which PC the pid
    belongs to; stations of one office must have different names for that to hold.
    """
    return f"{_place(station)}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_gone(owner: Optional[str], station: Optional[str] = None) -> bool:
    """True when the owner was a process of this station (`station`, else this host) that no longer exists."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _place(station) or not pid_text.isdigit() or sys.platform == "win32":
        return False  # cannot tell (os.kill(pid, 0) would terminate it on Windows): the lease decides
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    return False


def _receipt_fields(receipt: Any) -> dict[str, Optional[str]]:
    def pick(name: str) -> Optional[str]:
        value = receipt.get(name) if isinstance(receipt, Mapping) else getattr(receipt, name, None)
        if value is None:
            return None
        isoformat = getattr(value, "isoformat", None)
        return isoformat() if callable(isoformat) else str(value)

    fields = {name: pick(name) for name in ("folio", "acuse", "received_at", "enrollment_id", "seal")}
    if not fields["folio"]:
        # The contract's folio is any string, "" included; an acuse without folio proves nothing
        # to the employer, so the item stays unsent and the same key asks again later.
        raise StoreError(fields["enrollment_id"] or "", code="store_receipt_incomplete")
    return fields


class Outbox:
    """Enqueue, claim, acknowledge, fail and retry enrollments; every change is one transaction."""

    def __init__(self, store: "Database") -> None:
        self._store = store

    # -- writing ----------------------------------------------------------------------------
    def enqueue(self, request: Any, *, worker_nss: str, employer_rfc: str, training: bool) -> OutboxItem:
        """Commit the enrollment (encrypted) and return it; durable on disk when this returns."""
        plaintext = encode_request(request)
        now = self._store.clock()
        key = str(uuid.uuid4())
        with self._store.transaction() as conn:
            item_id = self._insert(conn, key, worker_nss, employer_rfc, training, plaintext, now)
        return self.get(item_id)

    def _insert(self, conn: Any, key: str, worker_nss: str, employer_rfc: str, training: bool,
                plaintext: bytes, now: float) -> int:
        """Insert then encrypt with the row id as associated data (same transaction)."""
        vault = self._store.vault
        item_id = self._store.dialect.insert(
            conn, "INSERT INTO outbox (idempotency_key, worker_nss, employer_rfc, training, payload, state, "
            "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, 'pending', ?, ?, ?)",
            (key, lookup_tag(vault, str(worker_nss)), str(employer_rfc), 1 if training else 0, now, now, now))
        blob = vault.encrypt(plaintext, table=TABLE, row_id=item_id)
        sealed_nss = seal(vault, str(worker_nss), table=TABLE, column="worker_nss", row_id=item_id)
        conn.execute("UPDATE outbox SET payload = ?, worker_nss_sealed = ? WHERE id = ?", (blob, sealed_nss, item_id))
        return item_id

    def import_item(self, request: Any, *, idempotency_key: str, worker_nss: str, employer_rfc: str,
                    training: bool) -> Optional[OutboxItem]:
        """Add an item carried from another terminal, keeping its key; None if already here."""
        plaintext = encode_request(request)
        now = self._store.clock()
        with self._store.transaction() as conn:
            self._store.dialect.lock(conn, f"outbox/{idempotency_key}")  # two stations importing one bundle
            found = conn.execute("SELECT 1 FROM outbox WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            if found:
                return None
            item_id = self._insert(conn, idempotency_key, worker_nss, employer_rfc, training, plaintext, now)
        return self.get(item_id)

    def claim_due(self, owner: str, *, training: Optional[bool] = None, exclude: Iterable[int] = (),
                  retake: Iterable[int] = (), only: Optional[int] = None,
                  lease_s: float = CLAIM_LEASE_S) -> Optional[OutboxItem]:
        """Atomically take the oldest due item for `owner` (state -> sending, attempts + 1).

        Due means: pending and its time has come; failed-but-retryable whose next attempt is
        due; or sending under another owner's claim whose lease ran out or whose process (on
        this station) is gone.  The claim holds until `lease_s` from now.  `retake` names items
        `owner` itself still holds because recording their outcome failed (a full disk): a
        sender sends one item at a time, so such a claim is not in flight.  `only` restricts
        the claim to one item (the clerk's "send this one now").
        """
        now = self._store.clock()
        host_owners = f"{_place(self._store.station)}:%"
        sql = (f"SELECT {_COLUMNS}, COALESCE(lease_until, updated_at + ?) <= ? FROM outbox "
               "WHERE payload IS NOT NULL AND id > ? AND ("
               "(state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)) OR "
               "(state = 'failed' AND retryable = 1 AND next_attempt_at <= ?) OR "
               "(state = 'sending' AND (claimed_by IS NULL OR (claimed_by != ? AND "
               "(COALESCE(lease_until, updated_at + ?) <= ? OR claimed_by LIKE ?))))")
        params: list[Any] = [CLAIM_LEASE_S, now, 0, now, now, owner, CLAIM_LEASE_S, now, host_owners]
        again = sorted(int(i) for i in retake)
        if again:
            sql += f" OR (state = 'sending' AND claimed_by = ? AND id IN ({','.join('?' * len(again))}))"
            params += [owner, *again]
        sql += ")"
        if only is not None:
            sql += " AND id = ?"
            params.append(int(only))
        if training is not None:
            sql += " AND training = ?"
            params.append(1 if training else 0)
        skip = sorted(int(i) for i in exclude)
        if skip:
            sql += f" AND id NOT IN ({','.join('?' * len(skip))})"
            params.extend(skip)
        sql += " ORDER BY id LIMIT 1" + self._store.dialect.skip_locked()
        with self._store.transaction() as conn:
            while True:
                row = conn.execute(sql, params).fetchone()
                if row is None:
                    return None
                item, lease_over = _item(row[:-1], self._store.vault), bool(row[-1])
                params[2] = item.id  # a further look starts after this row
                # A `sending` row here is a retake of our own, expired, or maybe a dead local owner's.
                if (item.state != "sending" or item.claimed_by == owner or lease_over
                        or owner_is_gone(item.claimed_by, self._store.station)):
                    break
            conn.execute(
                "UPDATE outbox SET state = 'sending', claimed_by = ?, claimed_at = ?, lease_until = ?, "
                "attempts = attempts + 1, updated_at = ? WHERE id = ?", (owner, now, now + lease_s, now, item.id))
        return self.get(item.id)

    def mark_sent(self, item_id: int, receipt: Any) -> OutboxItem:
        """Record the portal's acknowledgement (only call with a real Receipt) and wipe the payload."""
        fields = _receipt_fields(receipt)
        now = self._store.clock()
        with self._store.transaction() as conn:
            row = conn.execute("SELECT state FROM outbox WHERE id = ?" + self._store.dialect.for_update(),
                               (item_id,)).fetchone()
            if row is None:
                raise StoreError(str(item_id), code="store_item_not_found", id=item_id)
            if row[0] != "sent":  # a second acknowledgement of the same key changes nothing
                conn.execute(
                    "UPDATE outbox SET state = 'sent', payload = NULL, folio = ?, acuse_sealed = ?, received_at = ?, "
                    "enrollment_id = ?, seal = ?, reason = NULL, reason_detail = NULL, reason_params = NULL, "
                    "retryable = 0, next_attempt_at = NULL, "
                    "claimed_by = NULL, sent_at = ?, updated_at = ? WHERE id = ?",
                    (fields["folio"], seal(self._store.vault, fields["acuse"], table=TABLE, column="acuse",
                                           row_id=item_id), fields["received_at"], fields["enrollment_id"],
                     fields["seal"], now, now, item_id))
        return self.get(item_id)

    def mark_failed(self, item_id: int, reason: str, *, detail: str = "", retryable: bool = False,
                    retry_after: Optional[float] = None, rng: Optional[random.Random] = None,
                    params: Optional[Mapping[str, Any]] = None) -> OutboxItem:
        """Record a failed attempt; retryable ones get their next time from backoff_delay().

        `params` are the values of the reason's catalog message (see message_params()).
        """
        now = self._store.clock()
        with self._store.transaction() as conn:
            row = conn.execute("SELECT state, attempts, payload IS NULL FROM outbox WHERE id = ?"
                               + self._store.dialect.for_update(), (item_id,)).fetchone()
            if row is None:
                raise StoreError(str(item_id), code="store_item_not_found", id=item_id)
            # Never downgrade an acknowledged enrollment, nor hide an ARCO cancellation that
            # happened while the send was in flight behind a late network error.
            if row[0] != "sent" and not (row[0] == "failed" and row[2]):
                next_at = now + backoff_delay(max(1, int(row[1])), retry_after, rng=rng) if retryable else None
                conn.execute(
                    "UPDATE outbox SET state = 'failed', reason = ?, reason_detail = ?, reason_params = ?, "
                    "retryable = ?, next_attempt_at = ?, claimed_by = NULL, updated_at = ? WHERE id = ?",
                    (reason, detail[:500], message_params(params), 1 if retryable else 0, next_at, now, item_id))
        return self.get(item_id)

    def release(self, item_id: int, owner: str) -> None:
        """Give a claim back untouched (the app is closing, the portal changed): pending, due now.

        The attempt is not counted: nothing reached the portal, or if it did, the resend with
        the same key returns the same receipt.
        """
        now = self._store.clock()
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'pending', claimed_by = NULL, lease_until = NULL, "
                "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, "
                "next_attempt_at = ?, updated_at = ? WHERE id = ? AND state = 'sending' AND claimed_by = ?",
                (now, now, item_id, owner))

    def retry(self, item_id: int) -> OutboxItem:
        """The clerk's "Reintentar": put a failed (or stuck) item back in line now.

        An item a live sender is sending right now is left alone (retrying it would only start a
        second, concurrent send of the same key).
        """
        now = self._store.clock()
        with self._store.transaction() as conn:
            row = conn.execute(
                "SELECT state, payload IS NOT NULL, claimed_by, COALESCE(lease_until, updated_at + ?) FROM outbox "
                "WHERE id = ?" + self._store.dialect.for_update(), (CLAIM_LEASE_S, item_id)).fetchone()
            if row is None:
                raise StoreError(str(item_id), code="store_item_not_found", id=item_id)
            if row[0] == "sent":
                raise StoreError(str(item_id), code="store_already_sent", id=item_id)
            if not row[1]:
                raise StoreError(str(item_id), code="store_payload_deleted", id=item_id)
            if row[0] == "sending" and not (owner_is_gone(row[2], self._store.station) or row[3] <= now):
                return self.get(item_id)  # a live sender is on it right now: nothing to do
            conn.execute(
                "UPDATE outbox SET state = 'pending', retryable = 1, next_attempt_at = ?, claimed_by = NULL, "
                "updated_at = ? WHERE id = ?", (now, now, item_id))
        return self.get(item_id)

    def forget_worker(self, conn: Any, nss: str, now: float) -> int:
        """ARCO cancellation (called inside the gallery's transaction): wipe payloads for good.

        Unsent items can no longer be sent (their data is gone): they become failed with
        reason store_arco_cancelled.  Sent items keep their folio and time for the employer's
        records; every item of the worker loses the NSS, its lookup tag and the acuse text (which
        names the worker).  Returns how many payloads were wiped.
        """
        tag = lookup_tag(self._store.vault, nss)
        cursor = conn.execute(
            "UPDATE outbox SET payload = NULL, updated_at = ?, "
            "state = CASE WHEN state = 'sent' THEN 'sent' ELSE 'failed' END, "
            "reason = CASE WHEN state = 'sent' THEN reason ELSE 'store_arco_cancelled' END, "
            "retryable = CASE WHEN state = 'sent' THEN retryable ELSE 0 END, "
            "next_attempt_at = CASE WHEN state = 'sent' THEN next_attempt_at ELSE NULL END "
            "WHERE worker_nss = ? AND payload IS NOT NULL", (now, tag))
        wiped = int(cursor.rowcount)
        conn.execute("UPDATE outbox SET worker_nss = '', worker_nss_sealed = NULL, acuse_sealed = NULL, acuse = NULL, "
                     "updated_at = ? WHERE worker_nss = ?", (now, tag))
        return wiped

    # -- reading -----------------------------------------------------------------------------
    def get(self, item_id: int) -> OutboxItem:
        row = self._store.connection().execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise StoreError(str(item_id), code="store_item_not_found", id=item_id)
        return _item(row, self._store.vault)

    def by_key(self, idempotency_key: str) -> Optional[OutboxItem]:
        row = self._store.connection().execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
        return None if row is None else _item(row, self._store.vault)

    def items(self, state: Optional[str] = None) -> list[OutboxItem]:
        """Items oldest first, optionally of one state (for the Bandeja screen)."""
        conn = self._store.connection()
        if state is None:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY id").fetchall()
        else:
            if state not in STATES:
                raise ValueError(f"unknown outbox state {state!r}")
            rows = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE state = ? ORDER BY id", (state,)).fetchall()
        vault = self._store.vault
        return [_item(row, vault) for row in rows]

    def pending(self) -> list[OutboxItem]:
        """Everything not yet acknowledged and still sendable (pending, sending, retryable failed)."""
        return [item for item in self.items() if item.state != "sent" and item.has_payload
                and (item.state != "failed" or item.retryable)]

    def counts(self) -> dict[str, int]:
        found = dict(self._store.connection().execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
        return {state: int(found.get(state, 0)) for state in STATES}

    def request(self, item_id: int) -> dict[str, Any]:
        """The decrypted enrollment request (templates as bytes)."""
        row = self._store.connection().execute("SELECT payload FROM outbox WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise StoreError(str(item_id), code="store_item_not_found", id=item_id)
        if row[0] is None:
            raise StoreError(str(item_id), code="store_payload_deleted", id=item_id)
        return decode_request(self._store.vault.decrypt(row[0], table=TABLE, row_id=item_id))
