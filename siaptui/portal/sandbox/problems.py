"""Every refusal of the sandbox portal: the stable problem codes and their RFC 9457 answer.

Why one table: the contract's `Problem.code` enumeration, the client's error classes and the
sandbox's answers must name the same codes; tests compare the three sets."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Tuple

from starlette.responses import JSONResponse

PROBLEMS: Dict[str, Tuple[int, str]] = {
    "invalid_request": (422, "Solicitud no válida"),
    "unsupported_media_type": (415, "Tipo de contenido no admitido"),
    "payload_too_large": (413, "Solicitud demasiado grande"),
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


class ConnectionDropped(Exception):
    """Raised after the response started: uvicorn closes the connection mid-answer."""


class QuietDrops(logging.Filter):
    """Keeps uvicorn's log free of the tracebacks of connections dropped on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def problem_response(code: str, detail: str = "", *, status: Optional[int] = None,
                     headers: Optional[Dict[str, str]] = None, **extra: Any) -> JSONResponse:
    status = status or PROBLEMS[code][0]
    body: Dict[str, Any] = {"type": f"urn:siaptui:portal:problem:{code}", "title": PROBLEMS[code][1],
                            "status": status, "code": code, "detail": detail or PROBLEMS[code][1]}
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")
