"""The sandbox's own control routes (outside the portal contract): fault switches and the
enrollment summary the crash tests compare.

They switch faults on for every employer and list every employer's idempotency keys, so each
needs the admin token (`Sandbox-Admin-Token` header) that `siaptui sandbox` prints at start and
`RunningSandbox.admin_token` holds; without it the answer is 401 admin_token_required."""

from __future__ import annotations

import secrets
from typing import Awaitable, Callable, List

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from siaptui.portal.sandbox.faults import FaultSpecError, apply as apply_faults
from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.state import PortalState
from siaptui.portal.sandbox.wire import read_json

ADMIN_HEADER = "Sandbox-Admin-Token"

Handler = Callable[[Request], Awaitable[Response]]


def routes(state: PortalState) -> List[Route]:
    faults, store = state.faults, state.store

    def admin(handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            given = request.headers.get(ADMIN_HEADER, "")
            if not secrets.compare_digest(given.encode(), state.admin_token.encode()):
                raise Problem("admin_token_required",
                              f"envíe {ADMIN_HEADER} con el token que «siaptui sandbox» mostró al iniciar")
            return await handler(request)

        return guarded

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
        Route("/sandbox/faults", admin(get_faults), methods=["GET"]),
        Route("/sandbox/faults", admin(put_faults), methods=["PUT"]),
        Route("/sandbox/enrollments", admin(enrollments_summary), methods=["GET"]),
    ]
