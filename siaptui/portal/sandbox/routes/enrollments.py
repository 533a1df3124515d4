"""Enrollment routes: `POST /v1/enrollments` (signed, idempotent, duplicate-finger search) and
`GET /v1/enrollments/{id}`."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from typing import Any, List, Tuple

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from siaptui.portal import seal
from siaptui.portal.models import EnrollmentRequest, format_time
from siaptui.portal.sandbox import idempotency
from siaptui.portal.sandbox.faults import Dropped
from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.registry import resolve_worker
from siaptui.portal.sandbox.state import PortalState
from siaptui.portal.sandbox.wire import iso, now, read_json

#: The enrollment's status once the duplicate check has spoken (unavailable: still "received").
STATUS_AFTER_CHECK = {"passed": "accepted", "under_review": "under_review"}


def acuse(folio: str, received: float, employer: Any, worker: Any, enrollment: EnrollmentRequest) -> str:
    """The printable receipt text (the receipt's `seal` signs it with the folio)."""
    taken = [str(f.position) for f in enrollment.fingers if f.template is not None]
    reasons = {"amputated": "amputado", "bandaged": "vendado o lesionado", "unusable": "ilegible",
               "other": "otro motivo"}
    missing = [f"{f.position} ({reasons.get(str(f.missing_reason), f.missing_reason)})"
               for f in enrollment.fingers if f.template is None]
    lines = [
        "ACUSE DE RECIBO DE REGISTRO BIOMÉTRICO — PORTAL DE PRUEBA (sin validez oficial)",
        f"Folio: {folio}",
        f"Fecha de recepción: {iso(received)}",
        f"Patrón: {employer['name']} (RFC {employer['rfc']}), registro patronal {employer['registro_patronal']}",
        f"Trabajador: {worker['name']}, NSS {worker['nss']}, CURP {worker['curp']}",
        f"Dedos registrados: {', '.join(taken)}",
        f"Dedos sin captura: {', '.join(missing) if missing else 'ninguno'}",
        f"Lector: {enrollment.device.model}",
        f"Consentimiento: aviso {enrollment.consent.aviso_version}, {format_time(enrollment.consent.accepted_at)}",
    ]
    if enrollment.review is not None:
        lines.append("EN REVISIÓN POR EL IMSS: posible registro duplicado (NSS candidato "
                         f"{enrollment.review.candidate_nss}); motivo del supervisor: {enrollment.review.reason}")
    return "\n".join(lines)


def routes(state: PortalState) -> List[Route]:
    store, sessions = state.store, state.sessions

    def commit(session: Any, key: str, body_hash: str, enrollment: EnrollmentRequest,
               worker: Any, raws: List[Tuple[int, bytes]]) -> Any:
        employer_rfc = session["employer_rfc"]
        bio = state.biometrics
        duplicate_check = "unavailable"
        if enrollment.review is not None:
            # The office already found a candidate and a supervisor asked for review: IMSS
            # decides, so the portal keeps it aside whatever its own search would say.
            duplicate_check = "under_review"
        elif bio.available:
            for position, raw in raws:
                bio.decode_checked(raw, position)
            # 1:N search outside the database lock, so a slow search on an old PC never stalls
            # other requests; two different workers presenting one finger in the same instant
            # could both pass — acceptable for a sandbox, and idempotency stays exact below.
            hit = bio.duplicates(store, worker["nss"], raws)
            if hit is not None:
                raise Problem("duplicate_finger", "las huellas de esta persona ya están registradas para otro "
                              f"trabajador (coincide, entre otros, el dedo {hit[0]})", finger=hit[0])
            duplicate_check = "passed"
        seal_key = store.seal_key()
        with store.transaction() as db:
            twin = idempotency.check_replay(store.enrollment_by_key(db, employer_rfc, key), body_hash, "receipt")
            if twin is not None:  # a concurrent twin committed first
                return twin
            current = db.execute("SELECT biometrics_employer FROM workers WHERE nss = ?",
                                 (worker["nss"],)).fetchone()
            holder = current["biometrics_employer"]
            if holder == employer_rfc:
                raise Problem("already_enrolled",
                              "el trabajador ya está registrado con este patrón; consulte el acuse anterior")
            if holder is not None:
                raise Problem("already_enrolled",
                              "el registro biométrico lo tiene otro patrón: solicite la transferencia")
            received = now()
            number = store.next_number(db, "folio")
            folio = f"SBX-{datetime.fromtimestamp(received, timezone.utc):%Y%m%d}-{number:06d}"
            enrollment_id = "enr_" + secrets.token_hex(10)
            employer = store.employer(employer_rfc)
            text = acuse(folio, received, employer, worker, enrollment)
            receipt = {"enrollment_id": enrollment_id, "folio": folio, "received_at": iso(received),
                       "duplicate_check": duplicate_check, "acuse": text, "seal": seal.sign(seal_key, folio, text)}
            positions = [f.position for f in enrollment.fingers if f.template is not None]
            db.execute("INSERT INTO enrollments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (enrollment_id, folio, employer_rfc, worker["nss"], key, body_hash, received,
                        STATUS_AFTER_CHECK.get(duplicate_check, "received"), duplicate_check,
                        json.dumps(positions), store.dumps(receipt)))
            for position, raw in raws:
                db.execute("INSERT OR REPLACE INTO templates VALUES (?, ?, ?, ?)",
                           (worker["nss"], position, raw, employer_rfc))
            if enrollment.photo is not None:
                # Kept with the fingers as the worker's biometric record; never answered back.
                db.execute("INSERT OR REPLACE INTO photos VALUES (?, ?, ?, ?)",
                           (worker["nss"], enrollment_id, employer_rfc, enrollment.photo))
            db.execute("UPDATE workers SET biometrics_employer = ? WHERE nss = ?", (employer_rfc, worker["nss"]))
            store.add_history(db, employer_rfc, worker["nss"], "enrolled", folio, received)
        if duplicate_check == "passed":
            bio.remember(worker["nss"], raws)
        return receipt

    async def enroll(request: Request) -> Response:
        session = sessions.authenticate(request)
        key = idempotency.key_of(request)
        raw, data = await read_json(request)
        sessions.verify_body_signature(session, request, raw)
        try:
            enrollment = EnrollmentRequest.from_dict(data)
        except (ValueError, TypeError) as exc:
            raise Problem("invalid_request", str(exc), status=422) from None
        body_hash = idempotency.canonical_hash(data)
        replay = idempotency.replay(store, "enrollments", session["employer_rfc"], key, body_hash)
        if replay is not None:
            return replay
        worker = resolve_worker(store, data, session["employer_rfc"])
        if not enrollment.consent.aviso_version.strip():
            raise Problem("invalid_request", "falta la versión del aviso de privacidad aceptado", status=422)
        raws = [(f.position, f.template) for f in enrollment.fingers if f.template is not None]
        if not raws:
            raise Problem("invalid_request", "se necesita al menos un dedo con plantilla", status=422)
        result = await run_in_threadpool(commit, session, key, body_hash, enrollment, worker, raws)
        if isinstance(result, Response):
            return result
        if state.faults.take_drop():
            return Dropped()
        return JSONResponse(result, status_code=201)

    async def status(request: Request) -> Response:
        session = sessions.authenticate(request)
        row = store.enrollment(request.path_params["enrollment_id"], session["employer_rfc"])
        if row is None:
            raise Problem("enrollment_not_found", "revise el identificador del acuse")
        return JSONResponse({"enrollment_id": row["id"], "folio": row["folio"], "status": row["status"],
                             "received_at": iso(row["received_at"]), "fingers": json.loads(row["fingers"]),
                             "duplicate_check": row["duplicate_check"], "photo": store.has_photo(row["id"])})

    return [
        Route("/v1/enrollments", enroll, methods=["POST"]),
        Route("/v1/enrollments/{enrollment_id}", status, methods=["GET"]),
    ]
