"""Transfer route: `POST /v1/transfers` moves a worker's biometric record to the caller.

Only to an employer with the worker's alta (`registry`), with the worker's consent in a body
signed by the requesting employer's own e.firma (the session's certificate).  The record moves —
fingers and photo; the previous employer keeps a history line (`transferred_out`, folio, time),
not the record."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import List

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from siaptui.portal import seal
from siaptui.portal.models import ConsentRecord
from siaptui.portal.sandbox import idempotency
from siaptui.portal.sandbox.faults import Dropped
from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.registry import resolve_worker
from siaptui.portal.sandbox.state import PortalState
from siaptui.portal.sandbox.wire import iso, now, read_json


def routes(state: PortalState) -> List[Route]:
    store, sessions = state.store, state.sessions

    async def transfer(request: Request) -> Response:
        session = sessions.authenticate(request)
        key = idempotency.key_of(request)
        raw, data = await read_json(request)
        sessions.verify_body_signature(session, request, raw)
        consent = data.get("consent")
        try:
            ConsentRecord.from_dict(consent if isinstance(consent, dict) else {})
        except (ValueError, TypeError) as exc:
            raise Problem("invalid_request", f"consentimiento: {exc}", status=422) from None
        body_hash = idempotency.canonical_hash(data)
        employer_rfc = session["employer_rfc"]
        replay = idempotency.replay(store, "transfers", employer_rfc, key, body_hash)
        if replay is not None:
            return replay
        worker = resolve_worker(store, data, employer_rfc)
        seal_key = store.seal_key()
        with store.transaction() as db:
            if store.transfer_by_key(db, employer_rfc, key) is not None:
                raise Problem("idempotency_conflict", "use una Idempotency-Key nueva para datos distintos")
            holder = db.execute("SELECT biometrics_employer FROM workers WHERE nss = ?", (worker["nss"],)).fetchone()[0]
            if holder is None:
                raise Problem("nothing_to_transfer", "el trabajador no tiene registro biométrico: haga el enrolamiento")
            if holder == employer_rfc:
                raise Problem("nothing_to_transfer", "el registro biométrico ya pertenece a este patrón")
            done = now()
            number = store.next_number(db, "transfer")
            folio = f"SBX-T-{datetime.fromtimestamp(done, timezone.utc):%Y%m%d}-{number:06d}"
            fingers = [r[0] for r in db.execute("SELECT position FROM templates WHERE nss = ? ORDER BY position",
                                                (worker["nss"],))]
            text = ("ACUSE DE TRANSFERENCIA DE REGISTRO BIOMÉTRICO — PORTAL DE PRUEBA (sin validez oficial)\n"
                    f"Folio: {folio}\nFecha: {iso(done)}\n"
                    f"Trabajador: {worker['name']} NSS {worker['nss']}\n"
                    f"Patrón que recibe: {employer_rfc}\n"
                    f"Dedos transferidos: {', '.join(map(str, fingers))}")
            result = {"transfer_id": "trf_" + secrets.token_hex(10), "folio": folio, "fingers": fingers,
                      "completed_at": iso(done), "acuse": text, "seal": seal.sign(seal_key, folio, text)}
            db.execute("INSERT INTO transfers VALUES (?, ?, ?, ?, ?, ?)",
                       (result["transfer_id"], employer_rfc, worker["nss"], key, body_hash, store.dumps(result)))
            db.execute("UPDATE workers SET biometrics_employer = ? WHERE nss = ?", (employer_rfc, worker["nss"]))
            db.execute("UPDATE templates SET employer_rfc = ? WHERE nss = ?", (employer_rfc, worker["nss"]))
            db.execute("UPDATE photos SET employer_rfc = ? WHERE nss = ?", (employer_rfc, worker["nss"]))
            store.add_history(db, holder, worker["nss"], "transferred_out", folio, done)
            store.add_history(db, employer_rfc, worker["nss"], "transferred_in", folio, done)
        if state.faults.take_drop():
            return Dropped()
        return JSONResponse(result, status_code=201)

    return [Route("/v1/transfers", transfer, methods=["POST"])]
