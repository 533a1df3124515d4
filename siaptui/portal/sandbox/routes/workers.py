"""Worker routes: `POST /v1/workers/lookup`."""

from __future__ import annotations

from typing import List

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from siaptui.portal.sandbox.registry import resolve_worker, status_for
from siaptui.portal.sandbox.state import PortalState
from siaptui.portal.sandbox.wire import read_json


def routes(state: PortalState) -> List[Route]:
    store = state.store

    async def lookup(request: Request) -> Response:
        session = state.sessions.authenticate(request)
        _, data = await read_json(request)
        worker = resolve_worker(store, data)
        status = status_for(worker, session["employer_rfc"])
        return JSONResponse({"nss": worker["nss"], "curp": worker["curp"], "name": worker["name"],
                             "biometric_status": status,
                             "enrolled_fingers": store.fingers_on_record(worker["nss"]) if status != "none" else []})

    return [Route("/v1/workers/lookup", lookup, methods=["POST"])]
