"""How the sandbox reads a request body and writes a time: JSON objects within a size limit and
valid against the contract (`validation`), base64 fields, ISO 8601 UTC timestamps.  Every route
reads its body through `read_json`, so the limits and the refusals are the same everywhere."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Dict, Tuple

from starlette.requests import Request

from siaptui.portal.models import b64decode, format_time
from siaptui.portal.sandbox import validation
from siaptui.portal.sandbox.problems import BodyRejected, Problem

MAX_REQUEST_BYTES = 256 * 1024


def now() -> float:
    return time.time()


def iso(ts: float) -> str:
    return format_time(datetime.fromtimestamp(ts, timezone.utc))


def b64_field(text: Any, name: str) -> bytes:
    if not isinstance(text, str):
        raise Problem("invalid_request", f"el campo «{name}» debe ser texto base64", status=422)
    try:
        return b64decode(text, name)
    except ValueError as exc:
        raise Problem("invalid_request", str(exc), status=422) from None


async def read_json(request: Request) -> Tuple[bytes, Dict[str, Any]]:
    """(raw bytes, parsed object): the raw bytes are what an e.firma body signature covers.
    `validation` holds the body to the contract; its refusal is answered as its problem code."""
    try:
        return await validation.read_json(request, MAX_REQUEST_BYTES)
    except BodyRejected as exc:
        raise Problem(exc.code, exc.detail, status=exc.status, **exc.extra) from None
