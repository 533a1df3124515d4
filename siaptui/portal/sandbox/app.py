"""The sandbox portal as a Starlette ASGI app implementing portal-api.yaml (contract v1).

Why a real server and not a mock: the client's retries, idempotent resubmission, session
renewal and bad-answer handling are only believable against real HTTP with real faults.  The
sandbox therefore does what the contract says a portal does — verifies the e.firma challenge
signature and the certificate chain, checks the signed body of each enrollment, enforces
Idempotency-Key semantics, searches for duplicate fingers with our own engine — and answers
every failure as RFC 9457 problem+json with a stable `code`.

Certificate trust: certificates issued by the sandbox CA are verified cryptographically.  SAT's
test FIEL is issued by "A.C. 2 de pruebas(4096)", whose certificate is not available to us; with
`allow_test_ca` the sandbox accepts certificates whose issuer *name* is one of SAT's test CAs,
without verifying that issuer's signature (only the login challenge signature, which proves
possession of the key).  That is a sandbox-only convenience, never a production rule.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from siaptui import efirma
from siaptui.errors import SiaptuiError, describe
from siaptui.portal import API_VERSION, OPENAPI_PATH
from siaptui.portal.models import (
    ConsentRecord,
    EnrollmentRequest,
    b64decode,
    format_time,
)
from siaptui.portal.sandbox import validation
from siaptui.portal.sandbox.ca import SandboxCA
from siaptui.portal.sandbox.faults import Faults, FaultSpecError, apply as apply_faults
from siaptui.portal.sandbox.problems import (
    REQUEST_PROBLEMS,
    BodyRejected,
    allowed_methods,
    problem_document,
)
from siaptui.portal.sandbox.store import SandboxStore

log = logging.getLogger("siaptui.portal.sandbox")

MAX_REQUEST_BYTES = 256 * 1024
CHALLENGE_TTL = 120
REFRESH_TTL = 8 * 3600
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,200}$")

PROBLEMS: Dict[str, Tuple[int, str]] = {
    "invalid_request": (422, "Solicitud no válida"),
    "unsupported_media_type": (415, "Tipo de contenido no admitido"),
    **REQUEST_PROBLEMS,
    "idempotency_key_required": (400, "Falta el encabezado Idempotency-Key"),
    "idempotency_conflict": (422, "La clave de idempotencia ya se usó con otros datos"),
    "unauthorized": (401, "Sesión no válida"),
    "session_expired": (401, "La sesión expiró"),
    "challenge_invalid": (401, "El reto de inicio de sesión no es válido o ya expiró"),
    "signature_invalid": (401, "La firma electrónica no es válida"),
    "certificate_rejected": (403, "Certificado no aceptado"),
    "employer_not_registered": (403, "Patrón no registrado en el portal"),
    "worker_not_found": (404, "Trabajador no encontrado"),
    "identity_mismatch": (422, "CURP o NSS no coinciden con el registro IMSS"),
    "curp_not_eligible": (422, "CURP no válido para registro biométrico"),
    "already_enrolled": (409, "El trabajador ya tiene registro biométrico"),
    "duplicate_finger": (409, "Huella ya registrada para otro trabajador"),
    "enrollment_not_found": (404, "Enrolamiento no encontrado"),
    "nothing_to_transfer": (409, "No hay registro biométrico que transferir"),
    "not_found": (404, "Recurso no encontrado"),
    "method_not_allowed": (405, "Método no permitido"),
    "overloaded": (503, "El portal está saturado, intente más tarde"),
    "internal_error": (500, "Error interno del portal"),
}
"""Stable problem codes -> (HTTP status, the portal's title).  Mirrored in portal-api.yaml."""


class Problem(Exception):
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


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def problem_response(code: str, detail: str = "", *, status: Optional[int] = None,
                     headers: Optional[Dict[str, str]] = None, **extra: Any) -> JSONResponse:
    status = status or PROBLEMS[code][0]
    body = problem_document(code, status, PROBLEMS[code][1], detail, **extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def _now() -> float:
    return time.time()


def _iso(ts: float) -> str:
    return format_time(datetime.fromtimestamp(ts, timezone.utc))


def _canonical_hash(data: Mapping[str, Any]) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def _b64(text: Any, name: str) -> bytes:
    if not isinstance(text, str):
        raise Problem("invalid_request", f"el campo «{name}» debe ser texto base64", status=422)
    try:
        return b64decode(text, name)
    except ValueError as exc:
        raise Problem("invalid_request", str(exc), status=422) from None


class Biometrics:
    """Our engine, imported lazily: `siaptui.biometrics` (template codec, matcher, gallery).

    When it is missing the sandbox still works and says so (`duplicate_check: unavailable`,
    verification outcome `unavailable`) instead of pretending a search happened."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False
        self.error: Optional[str] = None
        self._gallery: Any = None
        self._keys: Set[str] = set()

    def _load(self) -> bool:
        with self._lock:
            if not self._loaded:
                self._loaded = True
                try:
                    from siaptui.biometrics.gallery import Gallery
                    from siaptui.biometrics.match import THRESHOLDS, Matcher
                    from siaptui.biometrics.template import from_iso19794_2

                    self.Gallery, self.Matcher, self.decode = Gallery, Matcher, from_iso19794_2
                    self.threshold = float(THRESHOLDS["fmr_0.1"])
                except ImportError as exc:  # the engine is not installed: report, never fake
                    self.error = f"{type(exc).__name__}: {exc}"
                    log.warning("duplicate-finger check unavailable: %s", self.error)
        return self.error is None

    @property
    def available(self) -> bool:
        return self._load()

    def template(self, raw: bytes, position: int) -> Any:
        """One Template from an ISO record: the view at `position` (else the first view)."""
        decoded = self.decode(raw)
        if not decoded:
            raise ValueError("no views")
        return next((t for p, t in decoded if p == position), decoded[0][1])

    def decode_checked(self, raw: bytes, position: int) -> Any:
        try:
            return self.template(raw, position)
        except (SiaptuiError, ValueError):  # TemplateError, or a record without views
            raise Problem("invalid_request", f"la plantilla del dedo {position} no se pudo leer", status=422) from None

    def duplicates(self, store: SandboxStore, nss: str, probes: List[Tuple[int, Any]]) -> Optional[Tuple[int, str]]:
        """(position, other worker's nss) of the first submitted finger found on someone else."""
        with self._lock:
            if self._gallery is None:
                self._gallery = self.Gallery()
                for other, position, raw in store.templates_except(""):
                    try:
                        self._gallery.add(f"{other}:{position}", self.template(raw, position))
                        self._keys.add(f"{other}:{position}")
                    except (SiaptuiError, ValueError):  # an unreadable stored record is not searchable
                        continue
            for position, template in probes:
                for key, score in self._gallery.search(template, top=5, threshold=self.threshold):
                    other = key.split(":", 1)[0]
                    if other != nss and score >= self.threshold:
                        return position, other
        return None

    def remember(self, nss: str, probes: List[Tuple[int, Any]]) -> None:
        with self._lock:
            if self._gallery is None:
                return  # built from the database on first search
            for position, template in probes:
                key = f"{nss}:{position}"
                if key in self._keys:
                    self._gallery.remove(key)
                self._gallery.add(key, template)
                self._keys.add(key)


class Portal:
    """The handlers.  One instance per app; state lives in `store`, `faults`, `ca`."""

    def __init__(self, store: SandboxStore, ca: SandboxCA, faults: Faults, *, allow_test_ca: bool,
                 cert_now: Optional[Callable[[], datetime]] = None) -> None:
        self.store = store
        self.ca = ca
        self.faults = faults
        self.allow_test_ca = allow_test_ca
        self.cert_now = cert_now or (lambda: datetime.now(timezone.utc))
        self.biometrics = Biometrics()

    # --- request helpers --------------------------------------------------------------------------

    async def read_json(self, request: Request) -> Tuple[bytes, Dict[str, Any]]:
        try:
            return await validation.read_json(request, MAX_REQUEST_BYTES)
        except BodyRejected as exc:
            raise Problem(exc.code, exc.detail, status=exc.status, **exc.extra) from None

    def authenticate(self, request: Request) -> Any:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or len(header) > 600:
            raise Problem("unauthorized", "falta el encabezado Authorization: Bearer <token>")
        row = self.store.session(header[7:].strip())
        if row is None:
            raise Problem("unauthorized", "el token no corresponde a ninguna sesión")
        if row["expires_at"] < _now():
            raise Problem("session_expired", "renueve la sesión con /v1/auth/refresh o inicie sesión de nuevo")
        return row

    @staticmethod
    def idempotency_key(request: Request) -> str:
        key = request.headers.get("idempotency-key")
        if key is None:
            raise Problem("idempotency_key_required", "envíe Idempotency-Key con un valor único por operación")
        if not IDEMPOTENCY_KEY.match(key):
            raise Problem("invalid_request", "Idempotency-Key: 8 a 200 caracteres A-Z a-z 0-9 . _ : -", status=400)
        return key

    @staticmethod
    def verify_body_signature(session: Any, request: Request, raw: bytes) -> None:
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        header = request.headers.get("efirma-signature")
        if not header:
            raise Problem("signature_invalid", "falta el encabezado Efirma-Signature")
        try:
            signature = base64.b64decode(header, validate=True)
            public_key = x509.load_der_x509_certificate(bytes(session["cert_der"])).public_key()
            if not isinstance(public_key, rsa.RSAPublicKey):  # e.firma keys are RSA; anything else cannot verify
                raise ValueError(type(public_key).__name__)
            public_key.verify(signature, raw, padding.PKCS1v15(), hashes.SHA256())
        except (binascii.Error, ValueError, InvalidSignature):
            raise Problem("signature_invalid",
                          "la firma del cuerpo no corresponde al certificado de la sesión") from None

    def resolve_worker(self, data: Mapping[str, Any]) -> Any:
        from siaptui.identity import IdentityError, validate_curp, validate_nss

        nss, curp = data.get("nss"), data.get("curp")
        if not isinstance(nss, str) or not isinstance(curp, str):
            raise Problem("invalid_request", "faltan «nss» y «curp» (texto)", status=422)
        try:
            nss = validate_nss(nss)
            curp = validate_curp(curp)
        except IdentityError as exc:
            raise Problem("invalid_request", describe(exc)[0], status=422) from None
        by_nss, by_curp = self.store.worker_by_nss(nss), self.store.worker_by_curp(curp)
        if by_nss is None and by_curp is None:
            raise Problem("worker_not_found", "el NSS y la CURP no están en el registro del IMSS")
        if by_nss is None or by_nss["curp"] != curp:
            raise Problem("identity_mismatch", "verifique ambos datos con la constancia del trabajador")
        if not by_nss["eligible"]:
            raise Problem("curp_not_eligible", "la CURP debe validarse ante RENAPO antes del registro biométrico")
        return by_nss

    def _status_for(self, worker: Any, employer_rfc: str) -> str:
        holder = worker["biometrics_employer"]
        return "none" if holder is None else ("enrolled" if holder == employer_rfc else "enrolled_elsewhere")

    # --- handlers ---------------------------------------------------------------------------------

    async def openapi(self, request: Request) -> Response:
        return Response(OPENAPI_PATH.read_bytes(), media_type="application/yaml")

    async def info(self, request: Request) -> Response:
        available = await run_in_threadpool(lambda: self.biometrics.available)
        return JSONResponse({
            "sandbox": True, "version": API_VERSION, "name": "Portal de prueba siaptui (sandbox)",
            "allow_test_ca": self.allow_test_ca,
            "duplicate_check": "available" if available else "unavailable",
        })

    async def challenge(self, request: Request) -> Response:
        if request.headers.get("content-type"):
            await self.read_json(request)  # body optional; when sent it must be JSON
        challenge_id = "chl_" + secrets.token_hex(12)
        nonce = secrets.token_bytes(32)
        expires = _now() + CHALLENGE_TTL
        self.store.add_challenge(challenge_id, nonce, expires)
        return JSONResponse({"challenge_id": challenge_id, "challenge": base64.b64encode(nonce).decode(),
                             "expires_at": _iso(expires)})

    def trusted(self, der: bytes) -> efirma.CertificateInfo:
        """Chain and rules for a login certificate, answered as certificate_rejected problems."""
        from cryptography import x509

        try:
            cert = x509.load_der_x509_certificate(der)
            info = efirma.inspect_certificate(cert)
        except ValueError:
            raise Problem("certificate_rejected", "el certificado no es un X.509 DER válido") from None
        except efirma.EfirmaError as exc:
            raise Problem("certificate_rejected", describe(exc)[0]) from None
        if self.ca.issued(cert):
            pass
        elif info.issuer_name in efirma.SAT_TEST_CA_NAMES and self.allow_test_ca:
            pass  # by issuer name only: SAT's test CA certificate is not available (module docstring)
        elif info.issuer_name in efirma.SAT_TEST_CA_NAMES:
            raise Problem("certificate_rejected", "este portal de prueba no acepta los certificados de prueba del SAT; "
                                                  "inícielo con --allow-test-ca")
        else:
            raise Problem("certificate_rejected", f"emisor no reconocido: «{info.issuer_name}»")
        try:
            efirma.check_usable(info, now=self.cert_now(), allow_test_ca=True)
        except efirma.EfirmaError as exc:
            raise Problem("certificate_rejected", describe(exc)[0]) from None
        return info

    def _new_session(self, employer_rfc: str, cert_der: bytes) -> Dict[str, Any]:
        employer = self.store.employer(employer_rfc)
        if employer is None:
            raise Problem("employer_not_registered", f"el RFC {employer_rfc} no tiene registro patronal en este portal")
        token, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = _now()
        expires, refresh_expires = now + self.faults.session_ttl, now + REFRESH_TTL
        self.store.add_session(token, refresh, employer_rfc, cert_der, expires, refresh_expires)
        return {"access_token": token, "token_type": "Bearer", "expires_at": _iso(expires),
                "refresh_token": refresh, "refresh_expires_at": _iso(refresh_expires), "sandbox": True,
                "employer": {"rfc": employer["rfc"], "name": employer["name"],
                             "registro_patronal": employer["registro_patronal"]}}

    async def login(self, request: Request) -> Response:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        _, data = await self.read_json(request)
        challenge_id = data.get("challenge_id")
        if not isinstance(challenge_id, str):
            raise Problem("invalid_request", "falta «challenge_id»", status=422)
        der = _b64(data.get("certificate"), "certificate")
        signature = _b64(data.get("signature"), "signature")
        nonce = self.store.use_challenge(challenge_id)
        if nonce is None:
            raise Problem("challenge_invalid", "pida un reto nuevo en /v1/auth/challenge")
        info = self.trusted(der)
        from cryptography import x509

        public = x509.load_der_x509_certificate(der).public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            raise Problem("certificate_rejected", "la llave del certificado no es RSA")
        try:
            public.verify(signature, nonce, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise Problem("signature_invalid", "la firma del reto no corresponde al certificado") from None
        return JSONResponse(self._new_session(info.rfc, der))

    async def refresh(self, request: Request) -> Response:
        _, data = await self.read_json(request)
        token = data.get("refresh_token")
        if not isinstance(token, str):
            raise Problem("invalid_request", "falta «refresh_token»", status=422)
        row = self.store.take_refresh(token)
        if row is None:
            raise Problem("session_expired", "inicie sesión de nuevo con su e.firma")
        return JSONResponse(self._new_session(row["employer_rfc"], bytes(row["cert_der"])))

    async def logout(self, request: Request) -> Response:
        self.authenticate(request)
        self.store.revoke(request.headers["authorization"][7:].strip())
        return JSONResponse({"logged_out": True})

    async def lookup(self, request: Request) -> Response:
        session = self.authenticate(request)
        _, data = await self.read_json(request)
        worker = self.resolve_worker(data)
        status = self._status_for(worker, session["employer_rfc"])
        fingers = self.store.fingers_on_record(worker["nss"]) if status != "none" else []
        return JSONResponse({"nss": worker["nss"], "curp": worker["curp"], "name": worker["name"],
                             "biometric_status": status, "enrolled_fingers": fingers})

    async def enroll(self, request: Request) -> Response:
        session = self.authenticate(request)
        key = self.idempotency_key(request)
        raw, data = await self.read_json(request)
        self.verify_body_signature(session, request, raw)
        try:
            enrollment = EnrollmentRequest.from_dict(data)
        except (ValueError, TypeError) as exc:
            raise Problem("invalid_request", str(exc), status=422) from None
        body_hash = _canonical_hash(data)
        replay = self._replay(session["employer_rfc"], key, body_hash)
        if replay is not None:
            return replay
        worker = self.resolve_worker(data)
        if not enrollment.consent.aviso_version.strip():
            raise Problem("invalid_request", "falta la versión del aviso de privacidad aceptado", status=422)
        raws = [(f.position, f.template) for f in enrollment.fingers if f.template is not None]
        if not raws:
            raise Problem("invalid_request", "se necesita al menos un dedo con plantilla", status=422)
        result = await run_in_threadpool(self._commit_enrollment, session, key, body_hash, enrollment, worker, raws)
        if isinstance(result, Response):
            return result
        if self.faults.take_drop():
            return _Dropped()
        return JSONResponse(result, status_code=201)

    def _replay(self, employer_rfc: str, key: str, body_hash: str, table: str = "enrollments") -> Optional[Response]:
        with self.store.transaction() as db:
            lookup = self.store.enrollment_by_key if table == "enrollments" else self.store.transfer_by_key
            row = lookup(db, employer_rfc, key)
        if row is None:
            return None
        if row["body_hash"] != body_hash:
            raise Problem("idempotency_conflict", "use una Idempotency-Key nueva para datos distintos")
        stored = row["receipt"] if table == "enrollments" else row["result"]
        return JSONResponse(json.loads(stored), status_code=200, headers={"Idempotent-Replayed": "true"})

    def _commit_enrollment(self, session: Any, key: str, body_hash: str, enrollment: EnrollmentRequest,
                           worker: Any, raws: List[Tuple[int, bytes]]) -> Any:
        employer_rfc = session["employer_rfc"]
        bio = self.biometrics
        probes: List[Tuple[int, Any]] = []
        duplicate_check = "unavailable"
        if bio.available:
            probes = [(position, bio.decode_checked(raw, position)) for position, raw in raws]
            # 1:N search outside the database lock, so a slow search on an old PC never stalls
            # other requests; two different workers presenting one finger in the same instant
            # could both pass — acceptable for a sandbox, and idempotency stays exact below.
            hit = bio.duplicates(self.store, worker["nss"], probes)
            if hit is not None:
                raise Problem("duplicate_finger", f"el dedo {hit[0]} ya está registrado para otro trabajador",
                              finger=hit[0])
            duplicate_check = "passed"
        with self.store.transaction() as db:
            existing = self.store.enrollment_by_key(db, employer_rfc, key)
            if existing is not None:  # a concurrent twin committed first
                if existing["body_hash"] != body_hash:
                    raise Problem("idempotency_conflict", "use una Idempotency-Key nueva para datos distintos")
                return JSONResponse(json.loads(existing["receipt"]), headers={"Idempotent-Replayed": "true"})
            current = db.execute("SELECT biometrics_employer FROM workers WHERE nss = ?", (worker["nss"],)).fetchone()
            holder = current["biometrics_employer"]
            if holder == employer_rfc:
                raise Problem("already_enrolled",
                              "el trabajador ya está registrado con este patrón; consulte el acuse anterior")
            if holder is not None:
                raise Problem("already_enrolled",
                              "el registro biométrico lo tiene otro patrón: solicite la transferencia")
            now = _now()
            number = self.store.next_number(db, "folio")
            folio = f"SBX-{datetime.fromtimestamp(now, timezone.utc):%Y%m%d}-{number:06d}"
            enrollment_id = "enr_" + secrets.token_hex(10)
            employer = self.store.employer(employer_rfc)
            receipt = {"enrollment_id": enrollment_id, "folio": folio, "received_at": _iso(now),
                       "duplicate_check": duplicate_check,
                       "acuse": _acuse(folio, now, employer, worker, enrollment, body_hash)}
            positions = [f.position for f in enrollment.fingers if f.template is not None]
            db.execute("INSERT INTO enrollments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (enrollment_id, folio, employer_rfc, worker["nss"], key, body_hash, now,
                        "accepted" if duplicate_check == "passed" else "received", duplicate_check,
                        json.dumps(positions), self.store.dumps(receipt)))
            for position, raw in raws:
                db.execute("INSERT OR REPLACE INTO templates VALUES (?, ?, ?, ?)",
                           (worker["nss"], position, raw, employer_rfc))
            db.execute("UPDATE workers SET biometrics_employer = ? WHERE nss = ?", (employer_rfc, worker["nss"]))
        if probes:
            bio.remember(worker["nss"], probes)
        return receipt

    async def enrollment_status(self, request: Request) -> Response:
        session = self.authenticate(request)
        row = self.store.enrollment(request.path_params["enrollment_id"], session["employer_rfc"])
        if row is None:
            raise Problem("enrollment_not_found", "revise el identificador del acuse")
        return JSONResponse({"enrollment_id": row["id"], "folio": row["folio"], "status": row["status"],
                             "received_at": _iso(row["received_at"]), "fingers": json.loads(row["fingers"]),
                             "duplicate_check": row["duplicate_check"]})

    async def transfer(self, request: Request) -> Response:
        session = self.authenticate(request)
        key = self.idempotency_key(request)
        raw, data = await self.read_json(request)
        self.verify_body_signature(session, request, raw)
        consent = data.get("consent")
        try:
            ConsentRecord.from_dict(consent if isinstance(consent, dict) else {})
        except (ValueError, TypeError) as exc:
            raise Problem("invalid_request", f"consentimiento: {exc}", status=422) from None
        body_hash = _canonical_hash(data)
        replay = self._replay(session["employer_rfc"], key, body_hash, table="transfers")
        if replay is not None:
            return replay
        worker = self.resolve_worker(data)
        employer_rfc = session["employer_rfc"]
        with self.store.transaction() as db:
            if self.store.transfer_by_key(db, employer_rfc, key) is not None:
                raise Problem("idempotency_conflict", "use una Idempotency-Key nueva para datos distintos")
            holder = db.execute("SELECT biometrics_employer FROM workers WHERE nss = ?", (worker["nss"],)).fetchone()[0]
            if holder is None:
                raise Problem("nothing_to_transfer", "el trabajador no tiene registro biométrico: haga el enrolamiento")
            if holder == employer_rfc:
                raise Problem("nothing_to_transfer", "el registro biométrico ya pertenece a este patrón")
            now = _now()
            number = self.store.next_number(db, "transfer")
            folio = f"SBX-T-{datetime.fromtimestamp(now, timezone.utc):%Y%m%d}-{number:06d}"
            fingers = [r[0] for r in db.execute("SELECT position FROM templates WHERE nss = ? ORDER BY position",
                                                (worker["nss"],))]
            result = {"transfer_id": "trf_" + secrets.token_hex(10), "folio": folio, "fingers": fingers,
                      "completed_at": _iso(now),
                      "acuse": ("ACUSE DE TRANSFERENCIA DE REGISTRO BIOMÉTRICO — PORTAL DE PRUEBA "
                                "(sin validez oficial)\n"
                                f"Folio: {folio}\nFecha: {_iso(now)}\n"
                                f"Trabajador: {worker['name']} NSS {worker['nss']}\n"
                                f"Patrón que recibe: {employer_rfc}\n"
                                f"Dedos transferidos: {', '.join(map(str, fingers))}")}
            db.execute("INSERT INTO transfers VALUES (?, ?, ?, ?, ?, ?)",
                       (result["transfer_id"], employer_rfc, worker["nss"], key, body_hash, self.store.dumps(result)))
            db.execute("UPDATE workers SET biometrics_employer = ? WHERE nss = ?", (employer_rfc, worker["nss"]))
            db.execute("UPDATE templates SET employer_rfc = ? WHERE nss = ?", (employer_rfc, worker["nss"]))
        if self.faults.take_drop():
            return _Dropped()
        return JSONResponse(result, status_code=201)

    async def verify(self, request: Request) -> Response:
        self.authenticate(request)
        _, data = await self.read_json(request)
        position = data.get("position")
        if not isinstance(position, int) or isinstance(position, bool) or not 1 <= position <= 10:
            raise Problem("invalid_request", "«position» debe ser un entero de 1 a 10", status=422)
        probe_raw = _b64(data.get("template"), "template")
        worker = self.resolve_worker(data)
        return JSONResponse(await run_in_threadpool(self._match, worker["nss"], position, probe_raw))

    def _match(self, nss: str, position: int, probe_raw: bytes) -> Dict[str, Any]:
        on_record, enrolled = self.store.template(nss, position)
        if not on_record:
            return {"outcome": "not_enrolled", "score": None, "threshold": None}
        bio = self.biometrics
        if enrolled is None or not bio.available:
            return {"outcome": "unavailable", "score": None, "threshold": None}
        probe = bio.decode_checked(probe_raw, position)
        score = float(bio.Matcher(probe).match(bio.template(enrolled, position)))
        return {"outcome": "match" if score >= bio.threshold else "no_match", "score": score,
                "threshold": bio.threshold}

    # --- sandbox administration (not part of the portal contract) ----------------------------------

    async def get_faults(self, request: Request) -> Response:
        return JSONResponse(self.faults.snapshot())

    async def put_faults(self, request: Request) -> Response:
        _, data = await self.read_json(request)
        try:
            actions = apply_faults(self.faults, data)
        except FaultSpecError as exc:
            raise Problem("invalid_request", str(exc), status=422) from None
        for action in actions:
            self.store.expire_sessions(action.split(":", 1)[1])
        return JSONResponse(self.faults.snapshot())

    async def enrollments_summary(self, request: Request) -> Response:
        keys = self.store.enrollment_keys()
        return JSONResponse({"count": len(keys), "idempotency_keys": keys})


def _acuse(folio: str, now: float, employer: Any, worker: Any, enrollment: EnrollmentRequest, body_hash: str) -> str:
    taken = [str(f.position) for f in enrollment.fingers if f.template is not None]
    reasons = {"amputated": "amputado", "bandaged": "vendado o lesionado", "unusable": "ilegible",
               "other": "otro motivo"}
    missing = [f"{f.position} ({reasons.get(str(f.missing_reason), f.missing_reason)})"
               for f in enrollment.fingers if f.template is None]
    seal = hashlib.sha256(f"{folio}|{body_hash}".encode()).hexdigest()[:32]
    lines = [
        "ACUSE DE RECIBO DE REGISTRO BIOMÉTRICO — PORTAL DE PRUEBA (sin validez oficial)",
        f"Folio: {folio}",
        f"Fecha de recepción: {_iso(now)}",
        f"Patrón: {employer['name']} (RFC {employer['rfc']}), registro patronal {employer['registro_patronal']}",
        f"Trabajador: {worker['name']}, NSS {worker['nss']}, CURP {worker['curp']}",
        f"Dedos registrados: {', '.join(taken)}",
        f"Dedos sin captura: {', '.join(missing) if missing else 'ninguno'}",
        f"Lector: {enrollment.device.model}",
        f"Consentimiento: aviso {enrollment.consent.aviso_version}, {format_time(enrollment.consent.accepted_at)}",
        f"Sello: {seal}",
    ]
    return "\n".join(lines)


class _Dropped(Response):
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
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000.0)
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
        elif kind == "no-folio":
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict) and "folio" in data:
                data["folio"] = ""
                body = json.dumps(data).encode("utf-8")
            await Response(body, status_code=status, media_type="application/json")(scope, receive, send)
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


def build_app(store: SandboxStore, ca: SandboxCA, faults: Optional[Faults] = None, *,
              allow_test_ca: bool = False, cert_now: Optional[Callable[[], datetime]] = None) -> Any:
    """The ASGI app; `cert_now` is the clock used for certificate validity only (tests, and the
    SAT test FIEL that expired in 2021)."""
    faults = faults or Faults()
    portal = Portal(store, ca, faults, allow_test_ca=allow_test_ca, cert_now=cert_now)
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc.code, exc.detail, status=exc.status, headers=exc.headers, **exc.extra)

    async def on_http(request: Request, exc: Exception) -> Response:
        code = getattr(exc, "status_code", 500)
        if code == 405:
            return problem_response("method_not_allowed", f"{request.method} no se admite en {request.url.path}",
                                    headers={"Allow": allowed_methods(request.app.routes, request.scope)})
        if code == 404:
            return problem_response("not_found", f"no existe {request.url.path}")
        return problem_response("invalid_request", getattr(exc, "detail", ""), status=400)

    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("sandbox internal error on %s %s", request.method, request.url.path)
        return problem_response("internal_error", type(exc).__name__)

    routes = [
        Route("/openapi.yaml", portal.openapi, methods=["GET"]),
        Route("/v1/info", portal.info, methods=["GET"]),
        Route("/v1/auth/challenge", portal.challenge, methods=["POST"]),
        Route("/v1/auth/login", portal.login, methods=["POST"]),
        Route("/v1/auth/refresh", portal.refresh, methods=["POST"]),
        Route("/v1/auth/logout", portal.logout, methods=["POST"]),
        Route("/v1/workers/lookup", portal.lookup, methods=["POST"]),
        Route("/v1/enrollments", portal.enroll, methods=["POST"]),
        Route("/v1/enrollments/{enrollment_id}", portal.enrollment_status, methods=["GET"]),
        Route("/v1/transfers", portal.transfer, methods=["POST"]),
        Route("/v1/verifications", portal.verify, methods=["POST"]),
        Route("/sandbox/faults", portal.get_faults, methods=["GET"]),
        Route("/sandbox/faults", portal.put_faults, methods=["PUT"]),
        Route("/sandbox/enrollments", portal.enrollments_summary, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={Problem: on_problem, HTTPException: on_http,
                                                       Exception: on_error})
    app.state.portal = portal
    return FaultMiddleware(app, faults)
