"""Verification route: `POST /v1/verifications`, one probe finger against the record (1:1)."""

from __future__ import annotations

from typing import Any, Dict, List

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from siaptui.portal.sandbox.biometrics import check_iso_record
from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.registry import resolve_worker
from siaptui.portal.sandbox.state import PortalState
from siaptui.portal.sandbox.wire import b64_field, read_json


def routes(state: PortalState) -> List[Route]:
    store = state.store

    def match(nss: str, position: int, probe_raw: bytes) -> Dict[str, Any]:
        on_record, enrolled = store.template(nss, position)
        if not on_record:
            return {"outcome": "not_enrolled", "score": None, "threshold": None}
        bio = state.biometrics
        if enrolled is None or not bio.available:
            return {"outcome": "unavailable", "score": None, "threshold": None}
        probe = bio.decode_checked(probe_raw, position)
        score = float(bio.Matcher(probe).match(bio.template(enrolled, position)))
        return {"outcome": "match" if score >= bio.threshold else "no_match", "score": score,
                "threshold": bio.threshold}

    async def verify(request: Request) -> Response:
        state.sessions.authenticate(request)
        _, data = await read_json(request)
        position = data.get("position")
        if not isinstance(position, int) or isinstance(position, bool) or not 1 <= position <= 10:
            raise Problem("invalid_request", "«position» debe ser un entero de 1 a 10", status=422)
        probe_raw = b64_field(data.get("template"), "template")
        check_iso_record(probe_raw, position)
        worker = resolve_worker(store, data)
        return JSONResponse(await run_in_threadpool(match, worker["nss"], position, probe_raw))

    return [Route("/v1/verifications", verify, methods=["POST"])]
