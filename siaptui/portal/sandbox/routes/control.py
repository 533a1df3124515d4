"""The sandbox's own control routes (outside the portal contract): fault switches and the
enrollment summary the crash tests compare."""

from __future__ import annotations

from typing import List

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from siaptui.portal.sandbox.faults import FaultSpecError, apply as apply_faults
from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.state import PortalState
from siaptui.portal.sandbox.wire import read_json


def routes(state: PortalState) -> List[Route]:
    faults, store = state.faults, state.store

    async def get_faults(request: Request) -> Response:
        return JSONResponse(faults.snapshot())

    async def put_faults(request: Request) -> Response:
        _, data = await read_json(request)
        try:
            actions = apply_faults(faults, data)
        except FaultSpecError as exc:
            raise Problem("invalid_request", str(exc), status=422) from None
        for action in actions:
            store.expire_sessions(action.split(":", 1)[1])
        return JSONResponse(faults.snapshot())

    async def enrollments_summary(request: Request) -> Response:
        keys = store.enrollment_keys()
        return JSONResponse({"count": len(keys), "idempotency_keys": keys})

    return [
        Route("/sandbox/faults", get_faults, methods=["GET"]),
        Route("/sandbox/faults", put_faults, methods=["PUT"]),
        Route("/sandbox/enrollments", enrollments_summary, methods=["GET"]),
    ]
