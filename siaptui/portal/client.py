"""The async client for the portal contract (portal-api.yaml, v2).

Why it is built this way:

* **Month-end overload is normal.** Every call retries transient failures (connection refused or
  dropped, timeouts, 5xx, 503) with exponential backoff and jitter, and honours the portal's
  Retry-After — but only up to `max_retry_after`: a portal that asks for an hour gets a
  `PortalOverloaded` back at once so the outbox can schedule it instead of freezing the UI.
* **Resubmitting is safe.** An enrollment carries the outbox's permanent Idempotency-Key and is
  serialised canonically (sorted keys, compact), so the retried body is byte-identical and the
  portal answers the same receipt; a dropped connection after the portal committed costs nothing.
* **Sessions expire mid-work.** A 401 `session_expired` triggers one refresh (or a fresh
  e.firma login with the credential held in memory) and the call is repeated.
* **The answer is not trusted.** Bodies are read with a size cap, the content type and JSON are
  checked, and every field is validated by `models.*.from_dict`; anything else becomes a
  `PortalBadResponse` with a Spanish reason, never a traceback.
* **TLS is always verified** (system CAs plus an optional PEM bundle); plain http is allowed
  only to loopback (the local sandbox).  Nothing secret is logged: no token, no signature, no
  NSS/CURP (they travel in bodies, never in URLs), no template.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import random
import ssl
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Protocol, TypeVar, Union
from urllib.parse import urlencode, urlsplit

import httpx

from siaptui.errors import SiaptuiError
from siaptui.i18n import t
from siaptui.portal import errors as perr, seal as portal_seal
from siaptui.portal.models import (
    ConsentRecord,
    EnrollmentRequest,
    EnrollmentStatus,
    Receipt,
    RosterPage,
    Session,
    TransferResult,
    VerifyResult,
    Worker,
    b64decode,
    b64encode,
)

log = logging.getLogger("siaptui.portal.client")

MAX_BODY = 1024 * 1024
"""Largest answer accepted (bytes).  Real answers are a few hundred bytes; a huge one is a fault."""

SIGNATURE_HEADER = "Efirma-Signature"
"""Base64 RSA-SHA256 (PKCS#1 v1.5) signature of the exact request body bytes."""


_Model = TypeVar("_Model", covariant=True)
_Sealed = TypeVar("_Sealed", Receipt, TransferResult)  # the answers that carry the portal's seal


class _FromDict(Protocol[_Model]):
    """A portal model class: `Worker`, `Receipt`, … (their `from_dict` classmethod)."""

    def from_dict(self, data: Mapping[str, Any]) -> _Model: ...


class SigningCredential(Protocol):
    """What the client needs from `siaptui.efirma.Credential`."""

    certificate_der: bytes

    def sign(self, data: bytes) -> bytes: ...


def canonical_json(body: Mapping[str, Any]) -> bytes:
    """The one serialisation that is signed and sent: the same dict always gives the same bytes."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _ssl_context(ca_bundle: Optional[str]) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise perr.PortalTLSError(str(exc), reason=t("portal.tls.bundle_unreadable", file=str(ca_bundle))) from None
    return context


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (moment - datetime.now(timezone.utc)).total_seconds()
    return max(0.0, seconds)


def _bad(kind: str, detail: str = "", status: Optional[int] = None) -> perr.PortalBadResponse:
    return perr.PortalBadResponse(detail or kind, status=status, reason=t(f"portal.bad.{kind}"), kind=kind)


class PortalClient:
    """Async client; use as `async with PortalClient(url) as portal:`.

    `max_attempts` bounds the tries per call, `backoff`/`max_backoff` the exponential waits
    (seconds, with jitter), `max_retry_after` the longest Retry-After honoured in-line.
    `sleep` is the coroutine used to wait (tests pass one that records the waits).
    """

    def __init__(self, base_url: str, *, ca_bundle: Optional[str] = None, timeout: float = 20.0,
                 max_attempts: int = 4, backoff: float = 0.5, max_backoff: float = 20.0,
                 max_retry_after: float = 60.0, max_body: int = MAX_BODY,
                 sleep: Optional[Callable[[float], Awaitable[Any]]] = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise perr.PortalInsecureURL(base_url, url=base_url)
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise perr.PortalInsecureURL(base_url, url=base_url)
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max(1, int(max_attempts))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.max_body = max_body
        self.timeout = float(timeout)
        self._sleep = sleep or asyncio.sleep
        self._random = random.Random()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            verify=_ssl_context(ca_bundle) if parts.scheme == "https" else True,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            headers={"Accept": "application/json, application/problem+json",
                     "User-Agent": "siaptui-portal-client/2"},
        )
        self.session: Optional[Session] = None
        self._credential: Optional[SigningCredential] = None
        self._renew_lock: Optional[asyncio.Lock] = None  # made inside the loop (Python 3.9 binds locks to a loop)
        self._seal_key: Optional[str] = None
        """The portal's published seal key (`GET /v1/info`), to check every receipt's seal."""

    async def __aenter__(self) -> "PortalClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close connections and forget the session and the credential."""
        self.session = None
        self._credential = None
        await self._http.aclose()

    # --- public calls -----------------------------------------------------------------------------

    async def info(self) -> Dict[str, Any]:
        """`GET /v1/info`: {"sandbox": bool, "version": str, "name": str}."""
        data = await self._call("GET", "/v1/info", auth=False)
        if not isinstance(data.get("sandbox"), bool) or not isinstance(data.get("version"), str):
            raise _bad("fields", "info: sandbox/version")
        key = data.get("seal_public_key")
        self._seal_key = key if isinstance(key, str) else None
        return data

    async def login(self, credential: SigningCredential) -> Session:
        """Prove possession of the e.firma: sign the portal's challenge, send the certificate.

        The credential is kept (in memory only) so an expired session can be renewed without
        asking the clerk for the password again.
        """
        attempt = 0
        while True:
            attempt += 1
            challenge = await self._call("POST", "/v1/auth/challenge", body={}, auth=False)
            try:
                nonce = b64decode(challenge["challenge"], "challenge")
                challenge_id = challenge["challenge_id"]
                if not isinstance(challenge_id, str):
                    raise ValueError("challenge_id")
            except (KeyError, TypeError, ValueError) as exc:
                raise _bad("fields", f"challenge: {exc}") from None
            body = {"challenge_id": challenge_id,
                    "certificate": b64encode(credential.certificate_der),
                    "signature": b64encode(credential.sign(nonce))}
            try:
                data = await self._call("POST", "/v1/auth/login", body=body, auth=False)
            except perr.ChallengeInvalid:
                if attempt >= self.max_attempts:
                    raise
                continue  # the challenge expired while we waited out an overload: ask again
            self.session = self._parse(Session, data)
            self._credential = credential
            log.info("login ok (sandbox=%s)", self.session.sandbox)
            return self.session

    async def refresh(self) -> Session:
        """Exchange the refresh token for a new access token (`POST /v1/auth/refresh`)."""
        if self.session is None:
            raise perr.NotLoggedIn()
        data = await self._call("POST", "/v1/auth/refresh",
                                body={"refresh_token": self.session.refresh_token}, auth=False)
        self.session = self._parse(Session, data)
        return self.session

    async def logout(self) -> None:
        if self.session is not None:
            try:
                await self._call("POST", "/v1/auth/logout", body={}, retry=False)
            finally:
                self.session = None
                self._credential = None

    async def lookup_worker(self, nss: str, curp: str) -> Worker:
        """Ask the portal who NSS + CURP are (POST so identity never sits in a URL or proxy log)."""
        data = await self._call("POST", "/v1/workers/lookup", body={"nss": nss, "curp": curp})
        return self._parse(Worker, data)

    async def list_workers(self, *, status: Optional[str] = None, limit: int = 50,
                           cursor: Optional[str] = None) -> RosterPage:
        """One page of this employer's roster (`GET /v1/workers`), oldest alta first; pass the
        page's `next_cursor` for the next.  `status` filters: none | enrolled | enrolled_elsewhere."""
        query: Dict[str, str] = {"limit": str(int(limit))}
        if status is not None:
            query["status"] = status
        if cursor is not None:
            query["cursor"] = cursor
        data = await self._call("GET", "/v1/workers?" + urlencode(query))
        return self._parse(RosterPage, data)

    async def submit_enrollment(self, request: Union[EnrollmentRequest, Mapping[str, Any]],
                                idempotency_key: str) -> Receipt:
        """Send one enrollment, signed with the e.firma; retried safely under the same key.

        `request` may be the dataclass or its `to_dict()` (what the outbox stores)."""
        if isinstance(request, EnrollmentRequest):
            body: Mapping[str, Any] = request.to_dict()
        else:
            body = EnrollmentRequest.from_dict(request).to_dict()
        return await self._sealed(Receipt, "/v1/enrollments", body, idempotency_key)

    async def enrollment_status(self, enrollment_id: str) -> EnrollmentStatus:
        if not enrollment_id or "/" in enrollment_id:
            raise perr.EnrollmentNotFound(enrollment_id, status=None)
        data = await self._call("GET", f"/v1/enrollments/{enrollment_id}")
        return self._parse(EnrollmentStatus, data)

    async def transfer(self, nss: str, curp: str, consent: ConsentRecord, idempotency_key: str) -> TransferResult:
        """Move the worker's biometrics registered by a previous employer to this employer."""
        body = {"nss": nss, "curp": curp, "consent": consent.to_dict()}
        return await self._sealed(TransferResult, "/v1/transfers", body, idempotency_key)

    async def verify(self, nss: str, curp: str, position: int, template: bytes) -> VerifyResult:
        """1:1: does this fresh ISO 19794-2 template match the worker's finger held by this
        employer?  The answer is an outcome and a confidence band, never a score."""
        body = {"nss": nss, "curp": curp, "position": position, "template": b64encode(template)}
        data = await self._call("POST", "/v1/verifications", body=body)
        return self._parse(VerifyResult, data)

    # --- machinery --------------------------------------------------------------------------------

    async def _sealed(self, model: _FromDict[_Sealed], path: str, body: Mapping[str, Any],
                      idempotency_key: str) -> _Sealed:
        """POST a signed, idempotent request whose answer is a sealed receipt, and keep the
        receipt only when its seal is the portal's signature of its folio and text.

        The worker carries the acuse as proof, so one the portal did not sign (a proxy that
        rewrote it, a damaged answer) is never kept: it is asked for once more at once with
        the same Idempotency-Key, which returns the receipt the portal recorded, and then
        counts as an unreadable answer, which the outbox asks again for later.
        """
        for _ in range(2):
            data = await self._call("POST", path, body=body, sign=True, idempotency_key=idempotency_key)
            answer = self._parse(model, data)
            if await self._seal_holds(answer.folio, answer.acuse, answer.seal):
                return answer
        raise _bad("seal", answer.folio)

    async def _seal_holds(self, folio: str, acuse: str, seal: Optional[str]) -> bool:
        """Whether the seal checks against the key `GET /v1/info` publishes (read again once in
        case the portal has changed it).  A portal older than contract 2.2 sends no seal, and a
        receipt without a folio is incomplete, which the outbox already asks again for."""
        if seal is None or not folio:
            return True
        for fresh in (False, True):
            if fresh or self._seal_key is None:
                await self.info()
            if self._seal_key is not None and portal_seal.verify(self._seal_key, folio, acuse, seal):
                return True
        return False

    @staticmethod
    def _parse(model: _FromDict[_Model], data: Mapping[str, Any]) -> _Model:
        try:
            return model.from_dict(data)
        except (ValueError, TypeError, KeyError) as exc:
            raise _bad("fields", str(exc)) from None

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        """Exponential backoff with jitter; a Retry-After is a floor, plus a little jitter so a
        room of terminals does not come back in the same second."""
        base = min(self.max_backoff, self.backoff * (2.0 ** (attempt - 1)))
        jittered = base * self._random.uniform(0.5, 1.0)
        if retry_after is not None:
            return retry_after + self._random.uniform(0.0, min(1.0, self.backoff))
        return jittered

    async def _renew(self, stale_token: Optional[str]) -> None:
        """Refresh the session once (concurrent callers share the renewal), else log in again."""
        if self._renew_lock is None:
            self._renew_lock = asyncio.Lock()
        async with self._renew_lock:
            if self.session is not None and self.session.access_token != stale_token:
                return  # another call already renewed it
            try:
                if self.session is None:
                    raise perr.NotLoggedIn()
                await self.refresh()
                log.info("session refreshed")
                return
            except (perr.SessionExpired, perr.Unauthorized, perr.NotLoggedIn):
                pass
            if self._credential is None:
                raise perr.SessionExpired()
            try:
                await self.login(self._credential)
            except SiaptuiError as exc:
                if isinstance(exc, perr.PortalError) and exc.transient:
                    raise
                # The key was forgotten (logout) or the certificate is no longer accepted:
                # the clerk has to sign in again.
                self._credential = None
                raise perr.SessionExpired(exc.code) from None
            log.info("session renewed by a new e.firma login")

    async def _call(self, method: str, path: str, *, body: Optional[Mapping[str, Any]] = None,
                    auth: bool = True, sign: bool = False, idempotency_key: Optional[str] = None,
                    retry: bool = True) -> Dict[str, Any]:
        payload = canonical_json(body) if body is not None else None
        attempt = 0
        renewed = False
        while True:
            attempt += 1
            headers: Dict[str, str] = {}
            token = None
            if auth:
                if self.session is None:
                    raise perr.NotLoggedIn()
                token = self.session.access_token
                headers["Authorization"] = f"Bearer {token}"
            if payload is not None:
                headers["Content-Type"] = "application/json"
            if sign:
                if self._credential is None or payload is None:
                    raise perr.NotLoggedIn()
                try:
                    headers[SIGNATURE_HEADER] = b64encode(self._credential.sign(payload))
                except SiaptuiError:  # the key was forgotten (logout): sign in again
                    raise perr.SessionExpired() from None
            if idempotency_key is not None:
                headers["Idempotency-Key"] = idempotency_key
            try:
                return await self._once(method, path, payload, headers)
            except perr.SessionExpired:
                if not auth or renewed:
                    raise
                renewed = True
                attempt -= 1  # a renewal is not a failed try
                await self._renew(token)
                continue
            except perr.PortalError as exc:
                if not (retry and exc.transient) or isinstance(exc, perr.NotLoggedIn):
                    raise
                if exc.retry_after is not None and exc.retry_after > self.max_retry_after:
                    raise  # the portal asks for longer than we wait in-line: let the outbox schedule it
                if attempt >= self.max_attempts:
                    raise
                delay = self._delay(attempt, exc.retry_after)
                log.warning("%s %s failed (%s, status %s); retry %d/%d in %.1f s", method, path,
                            exc.code, exc.status, attempt, self.max_attempts - 1, delay)
                await self._sleep(delay)

    async def _once(self, method: str, path: str, payload: Optional[bytes],
                    headers: Dict[str, str]) -> Dict[str, Any]:
        """One HTTP exchange under one overall deadline.

        httpx's timeout bounds each socket read, so a portal dripping one byte per second never
        trips it; `asyncio.wait_for` bounds the whole exchange (connect, send, every body chunk).
        """
        try:
            return await asyncio.wait_for(self._exchange(method, path, payload, headers), self.timeout)
        except asyncio.TimeoutError:
            raise perr.PortalTimeout(f"{method} {path}: no complete answer in {self.timeout:g} s") from None

    async def _exchange(self, method: str, path: str, payload: Optional[bytes],
                        headers: Dict[str, str]) -> Dict[str, Any]:
        """One HTTP exchange: returns the JSON object of a 2xx answer or raises a PortalError."""
        try:
            async with self._http.stream(method, path, content=payload, headers=headers) as response:
                status = response.status_code
                try:
                    raw = await self._read_capped(response)
                except perr.PortalError:
                    raise
                except httpx.TimeoutException:
                    raise perr.PortalTimeout(status=status) from None
                except (httpx.RemoteProtocolError, httpx.ReadError, httpx.DecodingError) as exc:
                    raise _bad("truncated", type(exc).__name__, status) from None
        except perr.PortalError:
            raise
        except httpx.TimeoutException:
            raise perr.PortalTimeout() from None
        except httpx.ConnectError as exc:
            text = str(exc)
            if isinstance(exc.__context__, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
                raise perr.PortalTLSError(type(exc).__name__, reason=t("portal.tls.verify_failed")) from None
            raise perr.PortalUnreachable(type(exc).__name__, url=self.base_url) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.NetworkError) as exc:
            # The connection closed before an answer: the portal may or may not have committed.
            raise perr.PortalUnreachable(type(exc).__name__, url=self.base_url) from None
        log.debug("%s %s -> %s (%d bytes)", method, path, status, len(raw))
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        retry_after = _retry_after(response.headers.get("retry-after"))
        if 200 <= status < 300:
            if content_type != "application/json":
                raise _bad("content_type", content_type or "-", status)
            return self._json_object(raw, status)
        if content_type in ("application/problem+json", "application/json"):
            try:
                problem = self._json_object(raw, status)
            except perr.PortalBadResponse:
                problem = None
            if problem is not None and isinstance(problem.get("code"), str):
                raise perr.from_problem(status, problem, retry_after)
        # No usable problem document: judge by the status alone (a proxy's HTML page, say).
        if status == 503 or status == 429:
            raise perr.PortalOverloaded(status=status, retry_after=retry_after)
        if status >= 500:
            raise perr.PortalServerError(f"HTTP {status}", status=status, retry_after=retry_after)
        if status == 401:
            raise perr.Unauthorized(f"HTTP {status}", status=status)
        raise _bad("status", f"HTTP {status} {content_type}", status)

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body:
            raise _bad("too_large", declared, response.status_code)
        chunks: List[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_body:
                raise _bad("too_large", str(size), response.status_code)
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _json_object(raw: bytes, status: int) -> Dict[str, Any]:
        if not raw:
            raise _bad("empty", "", status)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _bad("malformed_json", "", status) from None
        except RecursionError:  # nesting deeper than the parser's stack: no contract answer looks like that
            raise _bad("too_deep", "", status) from None
        if not isinstance(data, dict):
            raise _bad("fields", "not an object", status)
        return data
