"""The data that crosses the portal contract (portal-api.yaml beside this file), as plain dataclasses.

Why plain dataclasses with hand-written `to_dict`/`from_dict`: the outbox stores an
`EnrollmentRequest` as JSON and rebuilds it after a restart, the sandbox parses the same shapes,
and the client must refuse a malformed answer with a clear message instead of a KeyError deep in
the TUI.  `from_dict` therefore checks every field and raises `ValueError` naming the field;
the client turns that into `PortalBadResponse`, the sandbox into a 422 problem.

No heavy imports here: the TUI and the store import these names at start-up.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Dict, List, Mapping, Optional

MISSING_REASONS = ("amputated", "bandaged", "unusable", "other")
"""Why a finger has no template: amputado, vendado/lesión, ilegible tras varios intentos, otro."""

BIOMETRIC_STATUSES = ("none", "enrolled", "enrolled_elsewhere")
ENROLLMENT_STATUSES = ("received", "accepted", "rejected", "under_review")
DUPLICATE_CHECKS = ("passed", "unavailable", "under_review")
VERIFY_OUTCOMES = ("match", "no_match", "not_enrolled", "unavailable")
CONFIDENCE_BANDS = ("high", "medium", "low")
HISTORY_EVENTS = ("enrolled", "transferred_in", "transferred_out")


# --- small field readers: each names the field that is wrong ------------------------------------

def _get(data: Mapping[str, Any], name: str, kind: Any, *, optional: bool = False) -> Any:
    if not isinstance(data, Mapping):
        raise ValueError(f"se esperaba un objeto JSON, llegó {type(data).__name__}")
    if name not in data or data[name] is None:
        if optional:
            return None
        raise ValueError(f"falta el campo «{name}»")
    value = data[name]
    if kind is int and isinstance(value, bool):
        raise ValueError(f"el campo «{name}» debe ser un número entero")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind):
        raise ValueError(f"el campo «{name}» tiene un tipo inesperado ({type(value).__name__})")
    return value


def _choice(data: Mapping[str, Any], name: str, choices: tuple[str, ...], *, optional: bool = False) -> Any:
    value = _get(data, name, str, optional=optional)
    if value is not None and value not in choices:
        raise ValueError(f"el campo «{name}» tiene un valor desconocido: {value!r}")
    return value


def format_time(moment: datetime) -> str:
    """UTC ISO 8601 with a trailing Z, the one timestamp form on the wire."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(text: str, name: str = "fecha") -> datetime:
    """Parse a wire timestamp (Python 3.9's fromisoformat does not take 'Z')."""
    if not isinstance(text, str):
        raise ValueError(f"el campo «{name}» debe ser una fecha ISO 8601")
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(f"el campo «{name}» no es una fecha ISO 8601: {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        moment.astimezone(timezone.utc)  # every later use (wire form, comparisons) needs UTC
    except OverflowError:
        raise ValueError(f"el campo «{name}» queda fuera de los años 1 a 9999 en UTC: {text[:40]!r}") from None
    return moment


def _time(data: Mapping[str, Any], name: str) -> datetime:
    return parse_time(_get(data, name, str), name)


def _date(data: Mapping[str, Any], name: str) -> date:
    text = _get(data, name, str)
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"el campo «{name}» no es una fecha AAAA-MM-DD: {text[:20]!r}") from None


def _positions(data: Mapping[str, Any], name: str) -> List[int]:
    values = _get(data, name, list, optional=True) or []
    if not all(isinstance(p, int) and not isinstance(p, bool) for p in values):
        raise ValueError(f"el campo «{name}» debe ser una lista de enteros")
    return list(values)


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def b64decode(text: str, name: str = "dato") -> bytes:
    """Strict base64 (no stray characters), so a damaged template is refused, not half-read."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError, AttributeError):
        raise ValueError(f"el campo «{name}» no es base64 válido") from None


# --- session and employer -----------------------------------------------------------------------

@dataclass
class Session:
    """A logged-in employer.  Tokens stay out of repr() so a stray log line leaks nothing."""

    access_token: str = field(repr=False)
    expires_at: datetime
    refresh_token: str = field(repr=False)
    refresh_expires_at: datetime
    employer_rfc: str
    employer_name: str
    registro_patronal: str
    sandbox: bool

    def expired(self, now: Optional[datetime] = None) -> bool:
        return (now or datetime.now(timezone.utc)) >= self.expires_at

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Session":
        employer = _get(data, "employer", dict)
        return cls(
            access_token=_get(data, "access_token", str),
            expires_at=_time(data, "expires_at"),
            refresh_token=_get(data, "refresh_token", str),
            refresh_expires_at=_time(data, "refresh_expires_at"),
            employer_rfc=_get(employer, "rfc", str),
            employer_name=_get(employer, "name", str),
            registro_patronal=_get(employer, "registro_patronal", str),
            sandbox=_get(data, "sandbox", bool),
        )


@dataclass
class HistoryLine:
    """One event of the worker's record as this employer saw it; after a transfer away the
    previous employer keeps this line (folio, time), not the record."""

    event: str
    """enrolled | transferred_in | transferred_out."""
    folio: str
    at: datetime

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "HistoryLine":
        return cls(event=_choice(data, "event", HISTORY_EVENTS), folio=_get(data, "folio", str),
                   at=_time(data, "at"))


@dataclass
class Worker:
    """A worker on this employer's roster, answered to a lookup by NSS + CURP."""

    nss: str
    curp: str
    name: str
    biometric_status: str = "none"
    """none | enrolled (with this employer) | enrolled_elsewhere (a transfer is possible)."""
    enrolled_fingers: List[int] = field(default_factory=list)
    start_date: Optional[date] = None
    """The alta with this employer."""
    enrollment_deadline: Optional[date] = None
    """5 business days after the alta, Mexican federal holidays excluded (the portal computes it)."""
    history: List[HistoryLine] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Worker":
        history = _get(data, "history", list, optional=True) or []
        return cls(
            nss=_get(data, "nss", str),
            curp=_get(data, "curp", str),
            name=_get(data, "name", str),
            biometric_status=_choice(data, "biometric_status", BIOMETRIC_STATUSES),
            enrolled_fingers=_positions(data, "enrolled_fingers"),
            start_date=_date(data, "start_date"),
            enrollment_deadline=_date(data, "enrollment_deadline"),
            history=[HistoryLine.from_dict(line) for line in history],
        )


@dataclass
class RosterEntry:
    """One worker of the employer's roster (`GET /v1/workers`)."""

    nss: str
    curp: str
    name: str
    start_date: date
    biometric_status: str
    enrollment_deadline: date

    def overdue(self, today: date) -> bool:
        """Past the deadline with no biometrics held by this employer."""
        return self.biometric_status != "enrolled" and today > self.enrollment_deadline

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RosterEntry":
        return cls(
            nss=_get(data, "nss", str),
            curp=_get(data, "curp", str),
            name=_get(data, "name", str),
            start_date=_date(data, "start_date"),
            biometric_status=_choice(data, "biometric_status", BIOMETRIC_STATUSES),
            enrollment_deadline=_date(data, "enrollment_deadline"),
        )


@dataclass
class RosterPage:
    """One page of the roster; `next_cursor` asks for the next one (None on the last page)."""

    workers: List[RosterEntry]
    next_cursor: Optional[str] = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RosterPage":
        return cls(workers=[RosterEntry.from_dict(item) for item in _get(data, "workers", list)],
                   next_cursor=_get(data, "next_cursor", str, optional=True))


# --- enrollment ---------------------------------------------------------------------------------

@dataclass
class FingerRecord:
    """One finger: an ISO 19794-2 template with its quality, or the reason it is missing."""

    position: int
    """ISO finger position, 1 right thumb … 10 left little."""
    template: Optional[bytes] = field(default=None, repr=False)
    quality: Optional[int] = None
    missing_reason: Optional[str] = None

    def __post_init__(self) -> None:
        if not (isinstance(self.position, int) and 1 <= self.position <= 10):
            raise ValueError(f"posición de dedo inválida: {self.position!r} (se espera 1 a 10)")
        if self.template is None and self.missing_reason is None:
            raise ValueError(f"el dedo {self.position} no tiene plantilla ni motivo de ausencia")
        if self.template is not None and self.missing_reason is not None:
            raise ValueError(f"el dedo {self.position} tiene plantilla y motivo de ausencia a la vez")
        if self.missing_reason is not None and self.missing_reason not in MISSING_REASONS:
            raise ValueError(f"motivo de ausencia desconocido: {self.missing_reason!r}")
        if self.template is not None:
            if self.quality is None or not (0 <= self.quality <= 100):
                raise ValueError(f"el dedo {self.position} necesita una calidad de 0 a 100")

    def to_dict(self) -> Dict[str, Any]:
        if self.template is None:
            return {"position": self.position, "missing_reason": self.missing_reason}
        return {"position": self.position, "template": b64encode(self.template), "quality": self.quality}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FingerRecord":
        position = _get(data, "position", int)
        text = _get(data, "template", str, optional=True)
        return cls(
            position=position,
            template=b64decode(text, "template") if text is not None else None,
            quality=_get(data, "quality", int, optional=True),
            missing_reason=_choice(data, "missing_reason", MISSING_REASONS, optional=True),
        )


@dataclass
class CaptureDevice:
    """The scanner that took the impressions (the portal records it with the enrollment)."""

    model: str
    vendor_id: int = 0
    product_id: int = 0
    serial: str = ""
    driver: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {"model": self.model, "vendor_id": self.vendor_id, "product_id": self.product_id,
                "serial": self.serial, "driver": self.driver}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CaptureDevice":
        return cls(
            model=_get(data, "model", str),
            vendor_id=_get(data, "vendor_id", int, optional=True) or 0,
            product_id=_get(data, "product_id", int, optional=True) or 0,
            serial=_get(data, "serial", str, optional=True) or "",
            driver=_get(data, "driver", str, optional=True) or "",
        )


CONSENT_METHODS = ("firma_autografa", "firma_electronica", "aceptacion_en_pantalla")


@dataclass
class ConsentRecord:
    """Express consent for sensitive data (LFPDPPP 2025): which aviso, when, how, who recorded it."""

    aviso_version: str
    accepted_at: datetime
    method: str = "firma_autografa"
    recorded_by: str = ""
    """The clerk (RFC or name) who recorded the consent."""
    voluntary_purposes: bool = False
    """Whether the worker also accepted the voluntary purposes of the aviso."""

    def to_dict(self) -> Dict[str, Any]:
        return {"aviso_version": self.aviso_version, "accepted_at": format_time(self.accepted_at),
                "method": self.method, "recorded_by": self.recorded_by,
                "voluntary_purposes": self.voluntary_purposes}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ConsentRecord":
        return cls(
            aviso_version=_get(data, "aviso_version", str),
            accepted_at=_time(data, "accepted_at"),
            method=_choice(data, "method", CONSENT_METHODS),
            recorded_by=_get(data, "recorded_by", str, optional=True) or "",
            voluntary_purposes=bool(_get(data, "voluntary_purposes", bool, optional=True)),
        )


@dataclass
class ReviewRequest:
    """The office's duplicate check flagged this worker as a person already enrolled under
    another NSS, and a supervisor chose to send the enrollment for IMSS review instead of
    recapturing: the candidate, the fingers that matched and the supervisor's reason."""

    reason: str
    candidate_nss: str
    fingers: List[int]

    def to_dict(self) -> Dict[str, Any]:
        return {"reason": self.reason, "candidate_nss": self.candidate_nss, "fingers": sorted(self.fingers)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ReviewRequest":
        fingers = _get(data, "fingers", list)
        if not fingers or not all(isinstance(f, int) and not isinstance(f, bool) for f in fingers):
            raise ValueError("el campo «fingers» de la revisión debe listar posiciones de dedo")
        return cls(reason=_get(data, "reason", str), candidate_nss=_get(data, "candidate_nss", str),
                   fingers=list(fingers))


@dataclass
class EnrollmentRequest:
    """Everything one enrollment submits.  `to_dict()` is what the outbox stores and what is
    signed and sent, so its output must be stable across restarts (plain JSON types only)."""

    nss: str
    curp: str
    fingers: List[FingerRecord]
    device: CaptureDevice
    consent: ConsentRecord
    captured_at: datetime
    review: Optional[ReviewRequest] = None
    """Set only when a flagged enrollment is sent for IMSS review (contract 2.1)."""
    photo: Optional[bytes] = None
    """The ISO/IEC 19794-5 token JPEG (siaptui.camera.token), when the photo step took one."""

    def to_dict(self) -> Dict[str, Any]:
        body: Dict[str, Any] = {
            "nss": self.nss,
            "curp": self.curp,
            "fingers": [finger.to_dict() for finger in sorted(self.fingers, key=lambda f: f.position)],
            "device": self.device.to_dict(),
            "consent": self.consent.to_dict(),
            "captured_at": format_time(self.captured_at),
        }
        if self.review is not None:
            body["review"] = self.review.to_dict()
        if self.photo is not None:
            body["photo"] = b64encode(self.photo)
        return body

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EnrollmentRequest":
        fingers = _get(data, "fingers", list)
        if not fingers:
            raise ValueError("el campo «fingers» no puede estar vacío")
        records = [FingerRecord.from_dict(item) for item in fingers]
        positions = [record.position for record in records]
        if len(set(positions)) != len(positions):
            raise ValueError("el campo «fingers» repite una posición de dedo")
        return cls(
            nss=_get(data, "nss", str),
            curp=_get(data, "curp", str),
            fingers=records,
            device=CaptureDevice.from_dict(_get(data, "device", dict)),
            consent=ConsentRecord.from_dict(_get(data, "consent", dict)),
            captured_at=_time(data, "captured_at"),
            review=ReviewRequest.from_dict(data["review"]) if data.get("review") is not None else None,
            photo=b64decode(data["photo"], "photo") if isinstance(data.get("photo"), str) else None,
        )


@dataclass
class Receipt:
    """The portal's acknowledgement (acuse): only this marks an outbox item as sent."""

    folio: str
    acuse: str
    received_at: datetime
    enrollment_id: str
    duplicate_check: str = "passed"
    """passed, or unavailable when the portal could not run its duplicate-finger search."""
    seal: Optional[str] = None
    """The portal's signature of the folio and acuse text (`siaptui.portal.seal`); None from a
    portal older than contract 2.2."""

    def to_dict(self) -> Dict[str, Any]:
        body = {"folio": self.folio, "acuse": self.acuse, "received_at": format_time(self.received_at),
                "enrollment_id": self.enrollment_id, "duplicate_check": self.duplicate_check}
        if self.seal is not None:
            body["seal"] = self.seal
        return body

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Receipt":
        return cls(
            folio=_get(data, "folio", str),
            acuse=_get(data, "acuse", str),
            received_at=_time(data, "received_at"),
            enrollment_id=_get(data, "enrollment_id", str),
            duplicate_check=_choice(data, "duplicate_check", DUPLICATE_CHECKS, optional=True) or "passed",
            seal=_get(data, "seal", str, optional=True),
        )


@dataclass
class EnrollmentStatus:
    enrollment_id: str
    folio: str
    status: str
    received_at: datetime
    fingers: List[int] = field(default_factory=list)
    duplicate_check: str = "passed"
    photo: bool = False
    """The enrollment brought a photo, which the portal keeps (it never returns it)."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EnrollmentStatus":
        return cls(
            enrollment_id=_get(data, "enrollment_id", str),
            folio=_get(data, "folio", str),
            status=_choice(data, "status", ENROLLMENT_STATUSES),
            received_at=_time(data, "received_at"),
            fingers=list(_get(data, "fingers", list, optional=True) or []),
            duplicate_check=_choice(data, "duplicate_check", DUPLICATE_CHECKS, optional=True) or "passed",
            photo=bool(_get(data, "photo", bool, optional=True)),
        )


@dataclass
class TransferResult:
    """A worker's biometrics moved from a previous employer's record to this employer."""

    transfer_id: str
    folio: str
    acuse: str
    fingers: List[int]
    completed_at: datetime
    seal: Optional[str] = None
    """As `Receipt.seal`."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TransferResult":
        return cls(
            transfer_id=_get(data, "transfer_id", str),
            folio=_get(data, "folio", str),
            acuse=_get(data, "acuse", str),
            fingers=list(_get(data, "fingers", list)),
            completed_at=_time(data, "completed_at"),
            seal=_get(data, "seal", str, optional=True),
        )


@dataclass
class VerifyResult:
    """1:1 check of a fresh impression against the worker's finger held by this employer."""

    outcome: str
    """match | no_match | not_enrolled | unavailable (the portal's matcher is not running)."""
    confidence: Optional[str] = None
    """high | medium | low for match and no_match: how far from the decision line, never a score."""

    @property
    def matched(self) -> bool:
        return self.outcome == "match"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "VerifyResult":
        outcome = _choice(data, "outcome", VERIFY_OUTCOMES)
        confidence = _choice(data, "confidence", CONFIDENCE_BANDS, optional=True)
        if (confidence is None) != (outcome in ("not_enrolled", "unavailable")):
            raise ValueError(f"el campo «confidence» no corresponde al resultado {outcome!r}")
        return cls(outcome=outcome, confidence=confidence)
