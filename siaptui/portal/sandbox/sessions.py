"""The sandbox's session rules: which certificates may log in, how long tokens live, which
token a request carries, and whether a body was signed with the session's e.firma.

Certificate trust: certificates issued by the sandbox CA are verified cryptographically.  SAT's
test FIEL is issued by "A.C. 2 de pruebas(4096)", whose certificate is not available to us; with
`allow_test_ca` the sandbox accepts certificates whose issuer *name* is one of SAT's test CAs,
without verifying that issuer's signature (only the login challenge signature, which proves
possession of the key).  That is a sandbox-only convenience, never a production rule.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Optional

from starlette.requests import Request

from siaptui import efirma
from siaptui.errors import describe
from siaptui.portal.sandbox.ca import SandboxCA
from siaptui.portal.sandbox.faults import Faults
from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.store import SandboxStore
from siaptui.portal.sandbox.wire import iso, now

CHALLENGE_TTL = 120
REFRESH_TTL = 8 * 3600


class Sessions:
    """Login trust and per-request authentication over the sandbox store."""

    def __init__(self, store: SandboxStore, ca: SandboxCA, faults: Faults, *, allow_test_ca: bool,
                 cert_now: Optional[Callable[[], datetime]] = None) -> None:
        self.store = store
        self.ca = ca
        self.faults = faults
        self.allow_test_ca = allow_test_ca
        self.cert_now = cert_now or (lambda: datetime.now(timezone.utc))

    def authenticate(self, request: Request) -> Any:
        """The live session row of the request's bearer token, else an unauthorized problem."""
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or len(header) > 600:
            raise Problem("unauthorized", "falta el encabezado Authorization: Bearer <token>")
        row = self.store.session(header[7:].strip())
        if row is None:
            raise Problem("unauthorized", "el token no corresponde a ninguna sesión")
        if row["expires_at"] < now():
            raise Problem("session_expired", "renueve la sesión con /v1/auth/refresh o inicie sesión de nuevo")
        return row

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

    def new_session(self, employer_rfc: str, cert_der: bytes) -> Dict[str, Any]:
        employer = self.store.employer(employer_rfc)
        if employer is None:
            raise Problem("employer_not_registered", f"el RFC {employer_rfc} no tiene registro patronal en este portal")
        token, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        started = now()
        expires, refresh_expires = started + self.faults.session_ttl, started + REFRESH_TTL
        self.store.add_session(token, refresh, employer_rfc, cert_der, expires, refresh_expires)
        return {"access_token": token, "token_type": "Bearer", "expires_at": iso(expires),
                "refresh_token": refresh, "refresh_expires_at": iso(refresh_expires), "sandbox": True,
                "employer": {"rfc": employer["rfc"], "name": employer["name"],
                             "registro_patronal": employer["registro_patronal"]}}

    @staticmethod
    def verify_body_signature(session: Any, request: Request, raw: bytes) -> None:
        """The raw body must carry an Efirma-Signature made with the session's certificate key."""
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        header = request.headers.get("efirma-signature")
        if not header:
            raise Problem("signature_invalid", "falta el encabezado Efirma-Signature")
        try:
            signature = base64.b64decode(header, validate=True)
            public = x509.load_der_x509_certificate(bytes(session["cert_der"])).public_key()
            if not isinstance(public, rsa.RSAPublicKey):  # login admits RSA keys only (routes/auth.py)
                raise InvalidSignature
            public.verify(signature, raw, padding.PKCS1v15(), hashes.SHA256())
        except (binascii.Error, ValueError, InvalidSignature):
            raise Problem("signature_invalid",
                          "la firma del cuerpo no corresponde al certificado de la sesión") from None
