"""Fault switches of the sandbox: the month-end portal, on demand, for tests and training.

Set at start (`siaptui sandbox --fault overload=5 --fault latency=800`), at run time through
`PUT /sandbox/faults` (JSON with the same names, with the admin token), or from Python with
`RunningSandbox.set_faults(...)`; `FaultMiddleware` applies them to the /v1 answers.  Counted
faults (`*_next`, `drop-after-commit`, `bad-answer`) fire on the next matching requests and
then switch themselves off, so a test can say exactly what happens to which request; rates draw
from a seeded random generator.

Names (`-` and `_` are interchangeable):

| name                 | value                       | effect |
|----------------------|-----------------------------|--------|
| latency              | milliseconds                | every /v1 answer waits this long |
| error500             | rate 0..1                   | that share of /v1 requests gets a 500 problem |
| error500-next        | count                       | the next N /v1 requests get a 500 |
| overload             | seconds (Retry-After)       | every /v1 request gets 503 + Retry-After while on |
| overload-next        | count                       | the next N /v1 requests get 503 + overload-retry-after |
| overload-rate        | rate 0..1                   | that share of /v1 requests gets 503 (month-end realism) |
| overload-retry-after | seconds                     | Retry-After sent with overload-next / overload-rate (default 1) |
| expire-session       | "access" (default) or "all" | one shot: expire every access token (or refresh tokens too) |
| session-ttl          | seconds                     | lifetime of new access tokens (default 900) |
| drop-after-commit    | count (default 1)           | commit N enrollments/transfers, then drop the connection |
| bad-answer           | one of BAD_ANSWERS          | the next /v1 answer (request processed) is damaged that way |

Bad answers: malformed, truncated, content-type, huge; drip sends the body one byte per second
(a per-read timeout never trips); no-folio empties the receipt's `folio` (the contract allows "");
bad-seal replaces the receipt's `seal` with a signature of the same folio and text by another
key (what a client must refuse: `PortalClient` checks every seal against `GET /v1/info`).

/v1/info, /openapi.yaml and /sandbox/* are never faulted: the app must always be able to tell
it is talking to a sandbox, and tests must always be able to switch faults off.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Iterable, List, Mapping, Optional

from starlette.responses import Response

from siaptui.portal.sandbox.problems import ConnectionDropped, problem_response

BAD_ANSWERS = ("malformed", "truncated", "content-type", "huge", "drip", "no-folio", "bad-seal")


class FaultSpecError(ValueError):
    """A fault name or value the sandbox does not understand (message in Spanish)."""


@dataclass
class Faults:
    latency_ms: int = 0
    error500_rate: float = 0.0
    error500_next: int = 0
    overload_seconds: int = 0
    overload_next: int = 0
    overload_rate: float = 0.0
    overload_retry_after: int = 1
    session_ttl: int = 900
    drop_after_commit: int = 0
    bad_answer: Optional[str] = None
    seed: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    def stop(self) -> None:
        """The server is stopping: requests waiting out `latency_ms` are answered now."""
        self._stopping.set()

    async def delay(self) -> bool:
        """Wait out `latency_ms`; True if the server began to stop meanwhile.

        Why not one long sleep: a request asleep when the server stops would outlast uvicorn's
        graceful shutdown, be cancelled and print a traceback; this way it gets an answer."""
        end = time.monotonic() + self.latency_ms / 1000.0
        while (left := end - time.monotonic()) > 0:
            if self._stopping.is_set():
                return True
            await asyncio.sleep(min(0.05, left))
        return False

    def snapshot(self) -> Dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    # Each `take_*` decides one request's fate and consumes counted faults atomically.
    def take_overload(self) -> Optional[int]:
        with self._lock:
            if self.overload_seconds > 0:
                return self.overload_seconds
            if self.overload_next > 0:
                self.overload_next -= 1
                return max(0, self.overload_retry_after)
            if self.overload_rate > 0 and self._random.random() < self.overload_rate:
                return max(0, self.overload_retry_after)
            return None

    def take_error500(self) -> bool:
        with self._lock:
            if self.error500_next > 0:
                self.error500_next -= 1
                return True
            return self.error500_rate > 0 and self._random.random() < self.error500_rate

    def take_drop(self) -> bool:
        with self._lock:
            if self.drop_after_commit > 0:
                self.drop_after_commit -= 1
                return True
            return False

    def take_bad_answer(self) -> Optional[str]:
        with self._lock:
            kind, self.bad_answer = self.bad_answer, None
            return kind


def _number(name: str, value: Any, kind: type, low: float, high: float) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise FaultSpecError(f"la falla «{name}» necesita un número, llegó {value!r}") from None
    if isinstance(value, bool) or not (low <= number <= high):
        raise FaultSpecError(f"la falla «{name}» debe estar entre {low:g} y {high:g}, llegó {value!r}")
    return number


def apply(faults: Faults, changes: Mapping[str, Any]) -> list[str]:
    """Apply {name: value} to `faults`; returns one-shot actions ("expire-session:access")."""
    actions = []
    with faults._lock:
        for raw_name, value in changes.items():
            name = str(raw_name).replace("_", "-").lower()
            if name == "latency":
                faults.latency_ms = _number(name, value, int, 0, 60000)
            elif name == "error500":
                faults.error500_rate = _number(name, value, float, 0.0, 1.0)
            elif name == "error500-next":
                faults.error500_next = _number(name, value, int, 0, 10000)
            elif name == "overload":
                faults.overload_seconds = _number(name, value, int, 0, 86400)
            elif name == "overload-next":
                faults.overload_next = _number(name, value, int, 0, 10000)
            elif name == "overload-rate":
                faults.overload_rate = _number(name, value, float, 0.0, 1.0)
            elif name == "overload-retry-after":
                faults.overload_retry_after = _number(name, value, int, 0, 86400)
            elif name == "session-ttl":
                faults.session_ttl = _number(name, value, int, 1, 86400)
            elif name == "drop-after-commit":
                faults.drop_after_commit = _number(name, 1 if value in (None, True, "") else value, int, 0, 10000)
            elif name == "bad-answer":
                if value not in BAD_ANSWERS and value is not None:
                    raise FaultSpecError(f"«bad-answer» acepta {', '.join(BAD_ANSWERS)}; llegó {value!r}")
                faults.bad_answer = value
            elif name == "expire-session":
                scope = "access" if value in (None, True, "", "access") else str(value)
                if scope not in ("access", "all"):
                    raise FaultSpecError("«expire-session» acepta access o all")
                actions.append(f"expire-session:{scope}")
            elif name == "seed":
                faults.seed = _number(name, value, int, 0, 2**31)
                faults._random.seed(faults.seed)
            elif name == "clear":
                fresh = Faults()
                for key in ("latency_ms", "error500_rate", "error500_next", "overload_seconds",
                            "overload_next", "overload_rate", "overload_retry_after", "drop_after_commit",
                            "bad_answer"):
                    setattr(faults, key, getattr(fresh, key))
            else:
                raise FaultSpecError(f"falla desconocida «{raw_name}»; vea «siaptui sandbox --help»")
    return actions


def parse_specs(specs: Iterable[str]) -> Dict[str, Any]:
    """`["latency=200", "expire-session"]` (CLI --fault) -> {"latency": "200", "expire-session": None}."""
    parsed: Dict[str, Any] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not name.strip():
            raise FaultSpecError(f"falla vacía en «{spec}»")
        parsed[name.strip()] = value.strip() if sep else None
    return parsed


class Dropped(Response):
    """Start an answer, then drop the connection: the portal committed, the client never hears."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=201)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"400")]})
        raise ConnectionDropped()


class FaultMiddleware:
    """Pure ASGI, outside Starlette: delays, rejects or damages /v1 answers per `Faults`."""

    def __init__(self, app: Any, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    @staticmethod
    def _faultable(path: str) -> bool:
        return path.startswith("/v1/") and path != "/v1/info"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self._faultable(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        faults = self.faults
        if faults.latency_ms and await faults.delay():
            await problem_response("overloaded", "el portal de prueba se está apagando",
                                   headers={"Retry-After": "1"})(scope, receive, send)
            return
        retry_after = faults.take_overload()
        if retry_after is not None:
            response = problem_response("overloaded", "demasiadas solicitudes en este momento",
                                        headers={"Retry-After": str(retry_after)})
            await response(scope, receive, send)
            return
        if faults.take_error500():
            await problem_response("internal_error", "falla simulada")(scope, receive, send)
            return
        kind = faults.take_bad_answer()
        if kind is None:
            await self.app(scope, receive, send)
            return
        messages: List[Dict[str, Any]] = []

        async def capture(message: Dict[str, Any]) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        status = messages[0]["status"] if messages else 500
        body = b"".join(m.get("body", b"") for m in messages[1:])
        if kind == "malformed":
            await Response(body[: max(1, len(body) // 2)] + b"\x00}{", status_code=status,
                           media_type="application/json")(scope, receive, send)
        elif kind == "content-type":
            await Response(b"<html><body>Servicio en mantenimiento</body></html>", status_code=status,
                           media_type="text/html")(scope, receive, send)
        elif kind in ("no-folio", "bad-seal"):
            altered = Response(_altered(kind, body), status_code=status, media_type="application/json")
            await altered(scope, receive, send)
        elif kind == "drip":
            await _drip(status, body, receive, send)
        elif kind == "huge":
            filler = b" " * (4 * 1024 * 1024)
            await Response(b"{" + filler + b'"padding": true}', status_code=status,
                           media_type="application/json")(scope, receive, send)
        else:  # truncated: declare the whole length, send half, close
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body) + 10).encode())]})
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            raise ConnectionDropped()


def _altered(kind: str, body: bytes) -> bytes:
    """The receipt in `body` without its folio, or sealed by a key that is not the portal's."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict) or "folio" not in data:
        return body
    if kind == "no-folio":
        data["folio"] = ""
    elif isinstance(data.get("acuse"), str):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from siaptui.portal import seal

        data["seal"] = seal.sign(Ed25519PrivateKey.generate(), str(data["folio"]), data["acuse"])
    return json.dumps(data).encode("utf-8")


async def _drip(status: int, body: bytes, receive: Any, send: Any) -> None:
    """A portal (or a proxy) that sends its answer one byte per second, until the client leaves."""
    left = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        left.set()

    watcher = asyncio.ensure_future(watch())
    try:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        for index in range(len(body)):
            if left.is_set():
                return
            await send({"type": "http.response.body", "body": body[index:index + 1],
                        "more_body": index + 1 < len(body)})
            try:
                await asyncio.wait_for(left.wait(), 1.0)
            except asyncio.TimeoutError:
                continue
    finally:
        watcher.cancel()

