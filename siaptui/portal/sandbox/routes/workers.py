"""Worker routes: the roster `GET /v1/workers` and `POST /v1/workers/lookup`, both limited to
the caller's own altas (see `registry`)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from typing import Any, Dict, List, Optional, Tuple

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from siaptui.portal.models import BIOMETRIC_STATUSES
from siaptui.portal.sandbox.deadlines import enrollment_deadline
from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.registry import resolve_worker, status_for
from siaptui.portal.sandbox.state import PortalState
from siaptui.portal.sandbox.wire import iso, read_json

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_CURSOR = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})\.([0-9]{1,12})$")


def encode_cursor(start_date: str, alta_id: int) -> str:
    """An opaque position in the roster: the last row's start date and alta number, never an NSS
    (the cursor travels in a URL and may end up in access logs)."""
    return base64.urlsafe_b64encode(f"{start_date}.{alta_id}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> Tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    found = _CURSOR.match(raw) if len(text) <= 64 else None
    if found is None:
        raise Problem("invalid_request", "«cursor» no es uno que este portal haya dado; pida la primera página",
                      status=422)
    return found.group(1), int(found.group(2))


def _limit(text: Optional[str]) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if re.fullmatch(r"[0-9]{1,3}", text) is None or not 1 <= int(text) <= MAX_LIMIT:
        raise Problem("invalid_request", f"«limit» debe ser un entero de 1 a {MAX_LIMIT}", status=422)
    return int(text)


def dates_of(start_date: str) -> Dict[str, str]:
    start = date.fromisoformat(start_date)
    return {"start_date": start.isoformat(), "enrollment_deadline": enrollment_deadline(start).isoformat()}


def routes(state: PortalState) -> List[Route]:
    store = state.store

    async def roster(request: Request) -> Response:
        session = state.sessions.authenticate(request)
        employer_rfc = session["employer_rfc"]
        query = request.query_params
        status = query.get("status")
        if status is not None and status not in BIOMETRIC_STATUSES:
            raise Problem("invalid_request", f"«status» acepta {', '.join(BIOMETRIC_STATUSES)}", status=422)
        limit = _limit(query.get("limit"))
        cursor = query.get("cursor")
        after = decode_cursor(cursor) if cursor is not None else None
        rows = store.roster(employer_rfc, after, limit + 1, status)
        page = rows[:limit]
        workers: List[Dict[str, Any]] = [
            {"nss": row["nss"], "curp": row["curp"], "name": row["name"],
             "biometric_status": status_for(row["biometrics_employer"], employer_rfc), **dates_of(row["start_date"])}
            for row in page]
        more = len(rows) > limit
        next_cursor = encode_cursor(page[-1]["start_date"], page[-1]["alta_id"]) if more else None
        return JSONResponse({"workers": workers, "next_cursor": next_cursor})

    async def lookup(request: Request) -> Response:
        session = state.sessions.authenticate(request)
        employer_rfc = session["employer_rfc"]
        _, data = await read_json(request)
        worker = resolve_worker(store, data, employer_rfc)
        status = status_for(worker["biometrics_employer"], employer_rfc)
        alta = store.alta(employer_rfc, worker["nss"])
        assert alta is not None  # resolve_worker answered only for a worker on the roster
        history = [{"event": row["event"], "folio": row["folio"], "at": iso(row["at"])}
                   for row in store.history(employer_rfc, worker["nss"])]
        return JSONResponse({"nss": worker["nss"], "curp": worker["curp"], "name": worker["name"],
                             "biometric_status": status,
                             "enrolled_fingers": store.fingers_on_record(worker["nss"]) if status != "none" else [],
                             **dates_of(alta["start_date"]), "history": history})

    return [
        Route("/v1/workers", roster, methods=["GET"]),
        Route("/v1/workers/lookup", lookup, methods=["POST"]),
    ]
