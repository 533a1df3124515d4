"""Verification route: `POST /v1/verifications`, one probe finger against the caller's own
record of the worker (1:1).

The answer is an outcome and a calibrated confidence band, never the score or the threshold
(a number to climb on is an oracle for forging templates), and it is rate-limited per employer
(counted before anything else, refusals included) and per worker (after authorization, so a
stranger cannot spend another employer's budget)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.ratelimit import RateLimit
from siaptui.portal.sandbox.registry import resolve_worker
from siaptui.portal.sandbox.state import PortalState
from siaptui.portal.sandbox.wire import b64_field, read_json


def _limited(limit: RateLimit, key: str, who: str) -> None:
    wait = limit.take(key)
    if wait is not None:
        raise Problem("rate_limited", f"límite de verificaciones por {who} alcanzado; espere {wait} s",
                      headers={"Retry-After": str(wait)})


def routes(state: PortalState) -> List[Route]:
    store = state.store

    def match(holder: Optional[str], employer_rfc: str, nss: str, position: int, probe_raw: bytes) -> Dict[str, Any]:
        on_record, enrolled = store.template(nss, position)
        if holder != employer_rfc or not on_record:
            return {"outcome": "not_enrolled", "confidence": None}
        bio = state.biometrics
        if enrolled is None or not bio.available:
            return {"outcome": "unavailable", "confidence": None}
        outcome, confidence = bio.verdict(bio.compare(probe_raw, enrolled, position))
        return {"outcome": outcome, "confidence": confidence}

    async def verify(request: Request) -> Response:
        session = state.sessions.authenticate(request)
        employer_rfc = session["employer_rfc"]
        _limited(state.verify_limits.per_employer, employer_rfc, "patrón")
        _, data = await read_json(request)
        position = data.get("position")
        if not isinstance(position, int) or isinstance(position, bool) or not 1 <= position <= 10:
            raise Problem("invalid_request", "«position» debe ser un entero de 1 a 10", status=422)
        probe_raw = b64_field(data.get("template"), "template")
        worker = resolve_worker(store, data, employer_rfc)
        _limited(state.verify_limits.per_worker, worker["nss"], "trabajador")
        answer = await run_in_threadpool(match, worker["biometrics_employer"], employer_rfc, worker["nss"],
                                         position, probe_raw)
        return JSONResponse(answer)

    return [Route("/v1/verifications", verify, methods=["POST"])]
