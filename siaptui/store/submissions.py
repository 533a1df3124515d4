"""What an outbox item asks of the portal: an enrollment, or the transfer of a worker's record.

Why the kind travels inside the (encrypted) payload: an item is one signed, idempotent request
either way — committed before any network call, sent and retried under its permanent
Idempotency-Key, acknowledged with a folio and an acuse — so the outbox's table, claims, retries,
ARCO scrub and bundle export stay the same for both, and only the call made differs.  A payload
without a `kind` is an enrollment (`EnrollmentRequest.to_dict()`).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Mapping

ENROLLMENT = "enrollment"
TRANSFER = "transfer"
KINDS = (ENROLLMENT, TRANSFER)

Submission = Callable[[Any, str], Awaitable[Any]]
"""(logged-in PortalClient, Idempotency-Key) -> the acknowledgement `Outbox.mark_sent` keeps
(a `Receipt`, or the same fields as a mapping)."""


def transfer_payload(nss: str, curp: str, consent: Mapping[str, Any]) -> Dict[str, Any]:
    """The outbox payload of a transfer request (`consent` is `ConsentRecord.to_dict()`)."""
    return {"kind": TRANSFER, "nss": str(nss), "curp": str(curp), "consent": dict(consent)}


def kind_of(payload: Mapping[str, Any]) -> str:
    kind = payload.get("kind", ENROLLMENT)
    if kind not in KINDS:
        raise ValueError(f"unknown outbox item kind {kind!r}")
    return str(kind)


def submission(payload: Mapping[str, Any]) -> Submission:
    """The portal call for `payload`, checked now (ValueError/TypeError/KeyError if malformed),
    so a damaged item is rejected before any network call."""
    from siaptui.portal.models import ConsentRecord, EnrollmentRequest

    if kind_of(payload) == TRANSFER:
        nss, curp = payload["nss"], payload["curp"]
        if not isinstance(nss, str) or not isinstance(curp, str):
            raise TypeError("transfer: nss/curp")
        consent = ConsentRecord.from_dict(payload["consent"])

        async def transfer(client: Any, key: str) -> Dict[str, Any]:
            done = await client.transfer(nss, curp, consent, key)
            # The acuse of a transfer, in the fields every outbox receipt has.
            return {"folio": done.folio, "acuse": done.acuse, "received_at": done.completed_at,
                    "enrollment_id": done.transfer_id, "seal": done.seal}

        return transfer
    request = EnrollmentRequest.from_dict(payload)

    async def enroll(client: Any, key: str) -> Any:
        return await client.submit_enrollment(request, key)

    return enroll
