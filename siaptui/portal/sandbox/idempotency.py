"""Idempotency-Key rules of the sandbox: the key's form, what "the same body" means, and the
replay of a stored answer.

Why a canonical hash: a client that resends after a lost answer re-serialises the body; key
order or spacing must not turn a retry into a conflict, while any change of content must."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Mapping, Optional

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.store import SandboxStore

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,200}$")


def key_of(request: Request) -> str:
    key = request.headers.get("idempotency-key")
    if key is None:
        raise Problem("idempotency_key_required", "envíe Idempotency-Key con un valor único por operación")
    if not IDEMPOTENCY_KEY.match(key):
        raise Problem("invalid_request", "Idempotency-Key: 8 a 200 caracteres A-Z a-z 0-9 . _ : -", status=400)
    return key


def canonical_hash(data: Mapping[str, Any]) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def replayed(stored: str, status: int = 200) -> Response:
    """A stored answer sent again, marked so the client knows nothing new happened."""
    return JSONResponse(json.loads(stored), status_code=status, headers={"Idempotent-Replayed": "true"})


def check_replay(row: Any, body_hash: str, column: str) -> Optional[Response]:
    """The replay of `row` (an enrollment or transfer with this key), None when there is none;
    a different body under the same key is an idempotency_conflict."""
    if row is None:
        return None
    if row["body_hash"] != body_hash:
        raise Problem("idempotency_conflict", "use una Idempotency-Key nueva para datos distintos")
    return replayed(row[column])


def replay(store: SandboxStore, table: str, employer_rfc: str, key: str, body_hash: str) -> Optional[Response]:
    with store.transaction() as db:
        if table == "enrollments":
            row, column = store.enrollment_by_key(db, employer_rfc, key), "receipt"
        else:
            row, column = store.transfer_by_key(db, employer_rfc, key), "result"
    return check_replay(row, body_hash, column)
