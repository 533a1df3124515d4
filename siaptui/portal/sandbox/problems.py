"""Every refusal of the sandbox portal: the stable problem codes and their RFC 9457 answer.

Why one table: the contract's `Problem.code` enumeration, the client's error classes and the
sandbox's answers must name the same codes; tests compare the three sets.  Some answers come
from before any handler has understood the request — the body reader (`validation`), the
router's 405 and the HTTP server's framing errors (`framing`, below the ASGI app, where no
handler runs) — and each must be the same problem+json document with a stable `code` as every
other refusal, so a client never has to parse text/plain.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, Iterable, List, Optional, Tuple

from starlette.responses import JSONResponse

PROBLEMS: Dict[str, Tuple[int, str]] = {
    "invalid_request": (422, "Solicitud no válida"),
    "unsupported_media_type": (415, "Tipo de contenido no admitido"),
    "malformed_json": (400, "El cuerpo no es JSON válido"),
    "body_too_deep": (400, "El cuerpo tiene demasiados niveles anidados"),
    "body_too_large": (413, "Solicitud demasiado grande"),
    "malformed_http": (400, "Solicitud HTTP mal formada"),
    "idempotency_key_required": (400, "Falta el encabezado Idempotency-Key"),
    "idempotency_conflict": (422, "La clave de idempotencia ya se usó con otros datos"),
    "unauthorized": (401, "Sesión no válida"),
    "session_expired": (401, "La sesión expiró"),
    "challenge_invalid": (401, "El reto de inicio de sesión no es válido o ya expiró"),
    "signature_invalid": (401, "La firma electrónica no es válida"),
    "certificate_rejected": (403, "Certificado no aceptado"),
    "employer_not_registered": (403, "Patrón no registrado en el portal"),
    "worker_not_in_roster": (404, "Trabajador no registrado con este patrón"),
    "identity_mismatch": (422, "CURP o NSS no coinciden con el registro IMSS"),
    "curp_not_eligible": (422, "CURP no válido para registro biométrico"),
    "already_enrolled": (409, "El trabajador ya tiene registro biométrico"),
    "duplicate_finger": (409, "Huella ya registrada para otro trabajador"),
    "enrollment_not_found": (404, "Enrolamiento no encontrado"),
    "nothing_to_transfer": (409, "No hay registro biométrico que transferir"),
    "not_found": (404, "Recurso no encontrado"),
    "method_not_allowed": (405, "Método no permitido"),
    "rate_limited": (429, "Demasiadas verificaciones, espere antes de repetir"),
    "admin_token_required": (401, "Falta el token de control del portal de prueba"),
    "overloaded": (503, "El portal está saturado, intente más tarde"),
    "internal_error": (500, "Error interno del portal"),
}
"""Stable problem codes -> (HTTP status, the portal's title).  Mirrored in portal-api.yaml."""


class Problem(Exception):
    """Raised by any handler; the app answers it as problem+json (see `problem_response`)."""

    def __init__(self, code: str, detail: str = "", *, status: Optional[int] = None,
                 headers: Optional[Dict[str, str]] = None, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status or PROBLEMS[code][0]
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class BodyRejected(Exception):
    """A request body refused by `validation`, which knows nothing of Starlette's answers;
    `wire.read_json` answers it as its problem `code`.  `field` is the JSON Pointer of the
    offending value when there is one."""

    def __init__(self, code: str, detail: str, *, status: Optional[int] = None, field: Optional[str] = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.status = status
        self.extra: Dict[str, Any] = {"field": field} if field is not None else {}


class ConnectionDropped(Exception):
    """Raised after the response started: uvicorn closes the connection mid-answer."""


class QuietDrops(logging.Filter):
    """Keeps uvicorn's log free of the tracebacks of connections dropped on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def problem_document(code: str, status: int, title: str, detail: str, **extra: Any) -> Dict[str, Any]:
    """The RFC 9457 body every refusal of the sandbox carries."""
    body: Dict[str, Any] = {"type": f"urn:siaptui:portal:problem:{code}", "title": title,
                            "status": status, "code": code, "detail": detail or title}
    body.update(extra)
    return body


def problem_response(code: str, detail: str = "", *, status: Optional[int] = None,
                     headers: Optional[Dict[str, str]] = None, **extra: Any) -> JSONResponse:
    status = status or PROBLEMS[code][0]
    body = problem_document(code, status, PROBLEMS[code][1], detail, **extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def request_problem_bytes(code: str, detail: str) -> bytes:
    """A problem document as UTF-8 JSON, for answers written below the ASGI app."""
    status, title = PROBLEMS[code]
    return json.dumps(problem_document(code, status, title, detail), ensure_ascii=False).encode("utf-8")


def allowed_methods(routes: Iterable[Any], scope: Any) -> str:
    """The `Allow` value for a 405: every method of every route whose path matches (Starlette
    reports only the first such route, and one path may be served by several routes)."""
    from starlette.routing import Match

    methods: List[str] = []
    for route in routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods.extend(m for m in sorted(getattr(route, "methods", None) or ()) if m not in methods)
    return ", ".join(methods)
