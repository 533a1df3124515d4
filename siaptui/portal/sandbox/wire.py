"""How the sandbox reads a request body and writes a time: JSON objects within a size limit,
base64 fields, ISO 8601 UTC timestamps.  Every route reads its body through `read_json`, so
the limits and the refusals are the same everywhere."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any, Dict, List, Tuple

from starlette.requests import Request

from siaptui.portal.models import b64decode, format_time
from siaptui.portal.sandbox.problems import Problem

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
    """(raw bytes, parsed object): the raw bytes are what an e.firma body signature covers."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Problem("unsupported_media_type", f"se esperaba application/json, llegó «{kind or '-'}»")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise Problem("payload_too_large", f"máximo {MAX_REQUEST_BYTES} bytes")
    chunks: List[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise Problem("payload_too_large", f"máximo {MAX_REQUEST_BYTES} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Problem("invalid_request", "el cuerpo no es JSON válido", status=400) from None
    if not isinstance(data, dict):
        raise Problem("invalid_request", "el cuerpo debe ser un objeto JSON", status=422)
    return raw, data
