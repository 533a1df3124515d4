"""Portal failures as values the clerk can act on.

Two families share `PortalError`:

* transport failures the client detects itself (portal unreachable, timeout, TLS refused, an
  answer that is not what the contract promises, 5xx, overload);
* RFC 9457 problems the portal sends (`application/problem+json` with a stable `code`), one
  subclass per code, so callers can `except IdentityMismatch` and the TUI can show the message
  users already know from the IMSS portal ("CURP o NSS no coinciden con el registro IMSS").

`transient` tells the outbox what to do with a failed submission: transient → keep it pending
and retry later with the same Idempotency-Key; permanent → mark it failed with the reason and
let the clerk correct the data.  The catalog code of each class is `portal_<problem code>`.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type

from siaptui.errors import SiaptuiError


class PortalError(SiaptuiError):
    """Any portal failure.  `status` is the HTTP status (None when no answer came back),
    `retry_after` seconds the portal asked us to wait, `detail` the portal's own text."""

    code = "portal_error"
    problem_code: Optional[str] = None
    transient = False

    def __init__(self, detail: str = "", *, status: Optional[int] = None,
                 retry_after: Optional[float] = None, code: Optional[str] = None, **params: Any) -> None:
        params.setdefault("status", status if status is not None else "-")
        if "retry_after" not in params:
            from siaptui.i18n import t

            params["retry_after"] = (t("portal.retry_after.seconds", seconds=int(round(retry_after)))
                                     if retry_after is not None else t("portal.retry_after.none"))
        super().__init__(detail, code=code, **params)
        self.status = status
        self.retry_after = retry_after


# --- detected by the client ---------------------------------------------------------------------

class PortalUnreachable(PortalError):
    """No connection (network down, wrong address, portal stopped, connection dropped)."""
    code = "portal_unreachable"
    transient = True


class PortalTimeout(PortalError):
    code = "portal_timeout"
    transient = True


class PortalTLSError(PortalError):
    """The portal's certificate did not verify.  Never retried, never bypassed."""
    code = "portal_tls"


class PortalBadResponse(PortalError):
    """An answer the contract does not allow: malformed or truncated JSON, wrong content type,
    a body over the size cap, missing fields.  Transient: a resubmission with the same
    Idempotency-Key is safe, and a proxy glitch usually goes away."""
    code = "portal_bad_response"
    transient = True


class PortalServerError(PortalError):
    code = "portal_server_error"
    transient = True


class PortalOverloaded(PortalError):
    code = "portal_overloaded"
    problem_code = "overloaded"
    transient = True


class PortalInsecureURL(PortalError):
    """A plain http:// portal address that is not loopback: tokens and signed bodies would
    cross the network unencrypted, so the client refuses before connecting."""
    code = "portal_insecure_url"


class NotLoggedIn(PortalError):
    """A call that needs a session was made before `login()`."""
    code = "portal_not_logged_in"
    transient = True


class SessionExpired(PortalError):
    code = "portal_session_expired"
    problem_code = "session_expired"
    transient = True


# --- problems the portal reports (one class per stable problem code) ------------------------------

class PortalProblem(PortalError):
    """A problem+json answer whose code this client does not know (a newer portal)."""
    code = "portal_problem"


def _problem(name: str, problem: str, *, transient: bool = False, doc: str = "") -> Type[PortalProblem]:
    cls = type(name, (PortalProblem,), {"code": f"portal_{problem}", "problem_code": problem,
                                        "transient": transient, "__doc__": doc,
                                        "__module__": __name__})
    return cls


InvalidRequest = _problem("InvalidRequest", "invalid_request",
                          doc="The request broke the contract (a bug or bad data).")
UnsupportedMediaType = _problem("UnsupportedMediaType", "unsupported_media_type")
MalformedJson = _problem("MalformedJson", "malformed_json", doc="The body sent was not JSON (a client bug).")
BodyTooDeep = _problem("BodyTooDeep", "body_too_deep")
BodyTooLarge = _problem("BodyTooLarge", "body_too_large")
MalformedHttp = _problem("MalformedHttp", "malformed_http", doc="The portal could not frame the HTTP request.")
IdempotencyKeyRequired = _problem("IdempotencyKeyRequired", "idempotency_key_required")
IdempotencyConflict = _problem("IdempotencyConflict", "idempotency_conflict",
                               doc="The same Idempotency-Key was used with a different body.")
Unauthorized = _problem("Unauthorized", "unauthorized")
ChallengeInvalid = _problem("ChallengeInvalid", "challenge_invalid",
                            doc="Repeating the same login body cannot help; `login()` asks for a new challenge.")
SignatureInvalid = _problem("SignatureInvalid", "signature_invalid")
CertificateRejected = _problem("CertificateRejected", "certificate_rejected")
EmployerNotRegistered = _problem("EmployerNotRegistered", "employer_not_registered")
WorkerNotInRoster = _problem("WorkerNotInRoster", "worker_not_in_roster",
                             doc="Not on this employer's roster — the same answer whether or not the worker exists "
                                 "elsewhere.")
RateLimited = _problem("RateLimited", "rate_limited", transient=True,
                       doc="Too many verifications for this worker or employer; wait Retry-After.")
AdminTokenRequired = _problem("AdminTokenRequired", "admin_token_required",
                              doc="A sandbox control route without its admin token.")
IdentityMismatch = _problem("IdentityMismatch", "identity_mismatch",
                            doc="«CURP o NSS no coinciden con el registro IMSS».")
CurpNotEligible = _problem("CurpNotEligible", "curp_not_eligible",
                           doc="«CURP no válido para registro biométrico».")
AlreadyEnrolled = _problem("AlreadyEnrolled", "already_enrolled")
DuplicateFinger = _problem("DuplicateFinger", "duplicate_finger",
                           doc="A submitted finger matches another worker's enrolled finger.")
EnrollmentNotFound = _problem("EnrollmentNotFound", "enrollment_not_found")
NothingToTransfer = _problem("NothingToTransfer", "nothing_to_transfer")
NotFound = _problem("NotFound", "not_found")
MethodNotAllowed = _problem("MethodNotAllowed", "method_not_allowed")
InternalError = _problem("InternalError", "internal_error", transient=True)

PROBLEM_CLASSES: Dict[str, Type[PortalError]] = {
    cls.problem_code: cls  # type: ignore[misc]  # every subclass sets problem_code; mypy cannot see it on cls
    for cls in (InvalidRequest, MalformedJson, BodyTooDeep, BodyTooLarge, MalformedHttp,
                UnsupportedMediaType, IdempotencyKeyRequired,
                IdempotencyConflict, Unauthorized, ChallengeInvalid, SignatureInvalid,
                CertificateRejected, EmployerNotRegistered, WorkerNotInRoster, IdentityMismatch,
                CurpNotEligible, AlreadyEnrolled, DuplicateFinger, EnrollmentNotFound,
                NothingToTransfer, NotFound, MethodNotAllowed, InternalError, PortalOverloaded,
                SessionExpired, RateLimited, AdminTokenRequired)
}
"""Problem code -> class; the same codes are listed (with their HTTP status) in portal-api.yaml."""


def from_problem(status: int, problem: Mapping[str, Any], retry_after: Optional[float] = None) -> PortalError:
    """Build the error for one problem+json answer; unknown codes keep their text."""
    code = problem.get("code")
    raw_detail = problem.get("detail")
    detail = raw_detail if isinstance(raw_detail, str) else ""
    cls = PROBLEM_CLASSES.get(code) if isinstance(code, str) else None
    params: Dict[str, Any] = {}
    finger = problem.get("finger")
    params["finger"] = finger if isinstance(finger, int) and not isinstance(finger, bool) else "?"
    if cls is None:
        if status >= 500:
            return PortalServerError(detail or str(problem.get("title") or ""), status=status,
                                     retry_after=retry_after)
        return PortalProblem(detail or str(problem.get("title") or code or ""), status=status,
                             retry_after=retry_after, problem=str(code or "?"))
    return cls(detail, status=status, retry_after=retry_after, **params)
