"""The sandbox portal as a Starlette ASGI app implementing portal-api.yaml.

Why a real server and not a mock: the client's retries, idempotent resubmission, session
renewal and bad-answer handling are only believable against real HTTP with real faults.  The
sandbox therefore does what the contract says a portal does — verifies the e.firma challenge
signature and the certificate chain (`sessions`), checks the signed body of each enrollment,
enforces Idempotency-Key semantics (`idempotency`), searches for duplicate fingers with our own
engine (`biometrics`) — and answers every failure as RFC 9457 problem+json with a stable `code`
(`problems`).  Every JSON body is held to the document's schema before a route reads it
(`wire.read_json`, `validation`).  The routes live one module per resource under `routes/`;
this module only assembles them behind the fault middleware (`faults`).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any, Callable, Optional

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from siaptui.portal.sandbox.ca import SandboxCA
from siaptui.portal.sandbox.faults import FaultMiddleware, Faults
from siaptui.portal.sandbox.problems import (
    Problem,
    QuietDrops,
    allowed_methods,
    problem_response,
)
from siaptui.portal.sandbox.ratelimit import VerifyLimits
from siaptui.portal.sandbox.routes import (
    auth,
    control,
    enrollments,
    transfers,
    verifications,
    workers,
)
from siaptui.portal.sandbox.sessions import Sessions
from siaptui.portal.sandbox.state import PortalState
from siaptui.portal.sandbox.store import SandboxStore

log = logging.getLogger("siaptui.portal.sandbox")


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc.code, exc.detail, status=exc.status, headers=exc.headers, **exc.extra)


async def _on_http(request: Request, exc: Exception) -> Response:
    code = getattr(exc, "status_code", 500)
    if code == 405:
        return problem_response("method_not_allowed", f"{request.method} no se admite en {request.url.path}",
                                headers={"Allow": allowed_methods(request.app.routes, request.scope)})
    if code == 404:
        return problem_response("not_found", f"no existe {request.url.path}")
    return problem_response("invalid_request", getattr(exc, "detail", ""), status=400)


async def _on_error(request: Request, exc: Exception) -> Response:
    log.exception("sandbox internal error on %s %s", request.method, request.url.path)
    return problem_response("internal_error", type(exc).__name__)


def build_app(store: SandboxStore, ca: SandboxCA, faults: Optional[Faults] = None, *,
              allow_test_ca: bool = False, cert_now: Optional[Callable[[], datetime]] = None,
              admin_token: Optional[str] = None, verify_limits: Optional[VerifyLimits] = None) -> Any:
    """The ASGI app; `cert_now` is the clock used for certificate validity only (tests, and the
    SAT test FIEL that expired in 2021); `admin_token` guards the control routes (a fresh random
    one when None: read it back from `.portal.admin_token`)."""
    faults = faults or Faults()
    sessions = Sessions(store, ca, faults, allow_test_ca=allow_test_ca, cert_now=cert_now)
    state = PortalState(store=store, ca=ca, faults=faults, sessions=sessions,
                        admin_token=admin_token or secrets.token_urlsafe(24),
                        verify_limits=verify_limits or VerifyLimits())
    logging.getLogger("uvicorn.error").addFilter(QuietDrops())
    routes = [route for module in (auth, workers, enrollments, transfers, verifications, control)
              for route in module.routes(state)]
    app = Starlette(routes=routes, exception_handlers={Problem: _on_problem, HTTPException: _on_http,
                                                       Exception: _on_error})
    app.state.portal = state
    wrapped = FaultMiddleware(app, faults)
    wrapped.portal = state  # type: ignore[attr-defined]  # tests and the demo reach the state here
    return wrapped
