"""The problem+json answers the sandbox gives before a handler has understood the request: a
body that is not JSON, too deep or too big, a body the contract forbids, a method the path does
not allow, and HTTP framing the server could not parse.

Why a module of its own: these answers come from three places — the body reader
(`validation`), the router's 405 and the HTTP server's framing errors (`framing`, below the ASGI
app, where no handler runs) — and each must be the same RFC 9457 document with a stable `code`
as every other refusal, so a client never has to parse text/plain.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional, Tuple

REQUEST_PROBLEMS: Dict[str, Tuple[int, str]] = {
    "malformed_json": (400, "El cuerpo no es JSON válido"),
    "body_too_deep": (400, "El cuerpo tiene demasiados niveles anidados"),
    "body_too_large": (413, "Solicitud demasiado grande"),
    "malformed_http": (400, "Solicitud HTTP mal formada"),
}
"""Codes for requests refused before any handler runs -> (HTTP status, the portal's title).
Part of the portal's problem codes (app.PROBLEMS) and of portal-api.yaml."""


class BodyRejected(Exception):
    """A request body refused by `validation`; the app answers it as its problem `code`.
    `field` is the JSON Pointer of the offending value when there is one."""

    def __init__(self, code: str, detail: str, *, status: Optional[int] = None, field: Optional[str] = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.status = status
        self.extra: Dict[str, Any] = {"field": field} if field is not None else {}


def problem_document(code: str, status: int, title: str, detail: str, **extra: Any) -> Dict[str, Any]:
    """The RFC 9457 body every refusal of the sandbox carries."""
    body: Dict[str, Any] = {"type": f"urn:siaptui:portal:problem:{code}", "title": title,
                            "status": status, "code": code, "detail": detail or title}
    body.update(extra)
    return body


def request_problem_bytes(code: str, detail: str) -> bytes:
    """One of `REQUEST_PROBLEMS` as UTF-8 JSON, for answers written below the ASGI app."""
    status, title = REQUEST_PROBLEMS[code]
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
