"""The employer's SAT e.firma (FIEL): load the .cer/.key pair, check it, sign with it.

Why so many checks before the first network call: a clerk at month-end picks files from a USB
stick, often the wrong ones — the CSD ("sello digital") instead of the FIEL, the .cer and .key
swapped, last year's expired pair, a colleague's key.  Each of these gets its own `EfirmaError`
subclass with a stable code and a Spanish message that says what to do, instead of a portal
rejection three screens later.

Facts (shared/notes/mexico-identity.md §4): the .cer is X.509 DER (PEM accepted too); the .key
is PKCS#8 EncryptedPrivateKeyInfo (SAT uses PBES2/PBKDF2-SHA1/3DES; `cryptography` reads it and
any other PBES2 variant); RFC lives in x500UniqueIdentifier (2.5.4.45, "RFC / RFC del
representante"), CURP in serialNumber (2.5.4.5, "CURP" or " / CURP del representante"); a FIEL
has the EKU clientAuth/emailProtection and no OU, a CSD has an OU (the branch) and no EKU.

Secrets: the password is used once to decrypt and never stored; the private key lives only in
the `Credential` object (memory), is never written, and never appears in repr() or logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional, Union

from siaptui.errors import SiaptuiError

MAX_FILE_BYTES = 64 * 1024
"""A .cer or .key is 1–2 KB; anything far bigger is the wrong file (a PDF, a photo)."""

SAT_TEST_CA_NAMES = ("A.C. 2 de pruebas(4096)", "AC UAT")
"""Issuer CNs of SAT's public test CAs (notes §4.5): never accepted outside the sandbox."""

SANDBOX_CA_NAME = "siaptui AC de pruebas (portal sandbox)"
"""Issuer CN of the sandbox's own CA (siaptui.portal.sandbox.ca); a test CA as well."""

TEST_CA_NAMES = SAT_TEST_CA_NAMES + (SANDBOX_CA_NAME,)

_PBES2_OID = bytes.fromhex("2a864886f70d01050d")  # 1.2.840.113549.1.5.13 in DER


# --- errors -------------------------------------------------------------------------------------

class EfirmaError(SiaptuiError):
    code = "efirma_error"


class EfirmaFileNotFound(EfirmaError):
    code = "efirma_not_found"


class EfirmaFileEmpty(EfirmaError):
    code = "efirma_empty"


class EfirmaCorrupt(EfirmaError):
    """The file is not a certificate / private key at all, or is damaged."""
    code = "efirma_corrupt"


class EfirmaSwapped(EfirmaError):
    """The .key was chosen as the certificate and the .cer as the key."""
    code = "efirma_swapped"


class EfirmaWrongPassword(EfirmaError):
    code = "efirma_wrong_password"


class EfirmaMismatch(EfirmaError):
    """The key does not belong to the certificate (different person, or another renewal)."""
    code = "efirma_mismatch"


class EfirmaIsCSD(EfirmaError):
    code = "efirma_csd"


class EfirmaExpired(EfirmaError):
    code = "efirma_expired"


class EfirmaNotYetValid(EfirmaError):
    code = "efirma_not_yet_valid"


class EfirmaTestCA(EfirmaError):
    code = "efirma_test_ca"


class EfirmaNotSAT(EfirmaError):
    """A valid certificate without the SAT subject fields (no RFC): not an e.firma."""
    code = "efirma_not_sat"


class EfirmaUnsupportedKey(EfirmaError):
    code = "efirma_unsupported_key"


# --- certificate facts (shared with the sandbox, which checks certificates server-side) ----------

@dataclass(frozen=True)
class CertificateInfo:
    """What a SAT certificate says about its holder; no secrets."""

    rfc: str
    curp: str
    name: str
    serial: str
    not_before: datetime
    not_after: datetime
    is_fiel: bool
    issuer_name: str
    is_test_ca: bool
    representative_rfc: str = ""
    """For a persona moral: the legal representative's RFC (after the slash); else empty."""
    certificate_der: bytes = field(default=b"", repr=False)


def _attribute(name: Any, oid: Any) -> str:
    values = name.get_attributes_for_oid(oid)
    if not values:
        return ""
    value = values[0].value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _split_slash(text: str) -> tuple[str, str]:
    """"AAA010101AAA / HEGT7610034S2" -> ("AAA010101AAA", "HEGT7610034S2"); " / X" -> ("", "X")."""
    first, _, second = text.partition("/")
    return first.strip().upper(), second.strip().upper()


def sat_certificate_number(serial_number: int) -> str:
    """SAT's "número de certificado": the serial's bytes read as ASCII digits (notes §4.2);
    serials that are not ASCII digits (foreign certificates) are shown in hex."""
    raw = serial_number.to_bytes(max(1, (serial_number.bit_length() + 7) // 8), "big")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    return text if text.isdigit() else format(serial_number, "x")


def _is_fiel(cert: Any) -> bool:
    """FIEL vs CSD (notes §4.3): a CSD carries an OU (its branch) and no extended key usage;
    a FIEL has clientAuth/emailProtection and dataEncipherment/keyAgreement."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME):
        return False
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.CLIENT_AUTH in eku or ExtendedKeyUsageOID.EMAIL_PROTECTION in eku:
            return True
    except x509.ExtensionNotFound:
        pass
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        return bool(usage.data_encipherment or usage.key_agreement)
    except x509.ExtensionNotFound:
        return False


def _parse_certificate(data: bytes) -> Any:
    from cryptography import x509

    stripped = data.lstrip()
    if stripped.startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(stripped)
    return x509.load_der_x509_certificate(data)


def inspect_certificate(certificate: Union[bytes, Any]) -> CertificateInfo:
    """Read holder, validity and kind from a certificate (DER/PEM bytes or a cryptography object).

    Raises `EfirmaCorrupt` for bytes that are not a certificate, `EfirmaNotSAT` when the subject
    has no RFC (x500UniqueIdentifier)."""
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    if isinstance(certificate, (bytes, bytearray)):
        try:
            cert = _parse_certificate(bytes(certificate))
        except ValueError as exc:
            raise EfirmaCorrupt(str(exc), file="certificado", kind=".cer") from None
    else:
        cert = certificate
    subject = cert.subject
    rfc, rep_rfc = _split_slash(_attribute(subject, NameOID.X500_UNIQUE_IDENTIFIER))
    curp_text = _attribute(subject, NameOID.SERIAL_NUMBER)
    own_curp, rep_curp = _split_slash(curp_text)
    if not rfc:
        raise EfirmaNotSAT(subject.rfc4514_string()[:120])
    issuer_cn = _attribute(cert.issuer, NameOID.COMMON_NAME)
    issuer_mail = _attribute(cert.issuer, NameOID.EMAIL_ADDRESS).lower()
    try:
        not_before = cert.not_valid_before_utc
        not_after = cert.not_valid_after_utc
    except AttributeError:  # cryptography < 42
        not_before = cert.not_valid_before.replace(tzinfo=timezone.utc)
        not_after = cert.not_valid_after.replace(tzinfo=timezone.utc)
    return CertificateInfo(
        rfc=rfc,
        curp=own_curp or rep_curp,
        name=_attribute(subject, NameOID.COMMON_NAME),
        serial=sat_certificate_number(cert.serial_number),
        not_before=not_before,
        not_after=not_after,
        is_fiel=_is_fiel(cert),
        issuer_name=issuer_cn,
        is_test_ca=issuer_cn in TEST_CA_NAMES or issuer_mail.endswith("pruebas.sat.gob.mx"),
        representative_rfc=rep_rfc,
        certificate_der=cert.public_bytes(Encoding.DER),
    )


def check_usable(info: CertificateInfo, *, now: Optional[datetime] = None, allow_test_ca: bool = False) -> None:
    """The login rules, in the order a clerk can fix them: FIEL not CSD, trusted CA, in date."""
    if not info.is_fiel:
        raise EfirmaIsCSD(info.serial, serial=info.serial)
    if info.is_test_ca and not allow_test_ca:
        raise EfirmaTestCA(info.issuer_name, issuer=info.issuer_name)
    moment = _utc(now)
    if moment > info.not_after:
        raise EfirmaExpired(info.serial, date=info.not_after.date().isoformat())
    if moment < info.not_before:
        raise EfirmaNotYetValid(info.serial, date=info.not_before.date().isoformat())


def _utc(now: Optional[datetime]) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


# --- the credential -----------------------------------------------------------------------------

class Credential:
    """A loaded, checked e.firma.  Holds the private key in memory for the session only."""

    def __init__(self, info: CertificateInfo, private_key: Any) -> None:
        self._info = info
        self._key = private_key

    rfc = property(lambda self: self._info.rfc)
    curp = property(lambda self: self._info.curp)
    name = property(lambda self: self._info.name)
    serial = property(lambda self: self._info.serial)
    not_before = property(lambda self: self._info.not_before)
    not_after = property(lambda self: self._info.not_after)
    is_fiel = property(lambda self: self._info.is_fiel)
    issuer_name = property(lambda self: self._info.issuer_name)
    is_test_ca = property(lambda self: self._info.is_test_ca)
    representative_rfc = property(lambda self: self._info.representative_rfc)
    certificate_der = property(lambda self: self._info.certificate_der)

    @property
    def info(self) -> CertificateInfo:
        return self._info

    def sign(self, data: bytes) -> bytes:
        """RSA-SHA256 PKCS#1 v1.5 signature (what the portal verifies against the certificate)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        if self._key is None:
            raise EfirmaError("credential closed")
        signature: bytes = self._key.sign(bytes(data), padding.PKCS1v15(), hashes.SHA256())
        return signature

    def forget(self) -> None:
        """Drop the private key (logout); later `sign` calls fail."""
        self._key = None

    def __repr__(self) -> str:
        return f"Credential(rfc={self.rfc!r}, serial={self.serial!r}, fiel={self.is_fiel})"


def _read(path: Union[str, Path], kind: str) -> bytes:
    file = Path(path).expanduser()
    try:
        if file.is_dir():
            raise EfirmaCorrupt(str(file), file=str(file), kind=kind)
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise EfirmaCorrupt(f"{size} bytes", file=str(file), kind=kind)
        data = file.read_bytes()
    except FileNotFoundError:
        raise EfirmaFileNotFound(str(file), file=str(file), kind=kind) from None
    except PermissionError:
        raise EfirmaFileNotFound(str(file), file=str(file), kind=kind) from None
    except OSError as exc:
        raise EfirmaCorrupt(str(exc), file=str(file), kind=kind) from None
    if not data.strip():
        raise EfirmaFileEmpty(str(file), file=str(file), kind=kind)
    return data


def _looks_like_key(data: bytes) -> bool:
    head = data.lstrip()[:64]
    if head.startswith(b"-----BEGIN") and b"PRIVATE KEY" in head:
        return True
    return data[:1] == b"\x30" and _PBES2_OID in data[:40]


def _looks_like_certificate(data: bytes) -> bool:
    try:
        _parse_certificate(data)
        return True
    except ValueError:
        return False


def _load_key(data: bytes, password: bytes, file: str) -> Any:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    pem = data.lstrip().startswith(b"-----BEGIN")
    loader = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    try:
        return loader(data.lstrip() if pem else data, password=password or None)
    except TypeError:
        # "Password was given but private key is not encrypted": an unencrypted PEM key exported
        # by the holder.  Nothing is gained by refusing it.
        try:
            return loader(data.lstrip() if pem else data, password=None)
        except (TypeError, ValueError):
            raise EfirmaWrongPassword(file, file=file) from None
    except ValueError as exc:
        text = str(exc).lower()
        if "password" in text or "decrypt" in text:
            raise EfirmaWrongPassword(file, file=file) from None
        raise EfirmaCorrupt(str(exc), file=file, kind=".key") from None
    except UnsupportedAlgorithm as exc:
        raise EfirmaCorrupt(type(exc).__name__, file=file, kind=".key") from None


def load(cer_path: Union[str, Path], key_path: Union[str, Path], password: Union[str, bytes], *,
         now: Optional[datetime] = None, allow_test_ca: bool = False) -> Credential:
    """Load and check an e.firma; return a `Credential` ready to sign, or raise an `EfirmaError`.

    `now` freezes the clock (tests; SAT's public test pair expired in 2021).  `allow_test_ca`
    accepts certificates from SAT's test CAs and the sandbox CA — only when the portal says it
    is a sandbox (`GET /v1/info`).
    """
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    cer_data = _read(cer_path, ".cer")
    key_data = _read(key_path, ".key")
    try:
        cert = _parse_certificate(cer_data)
    except ValueError:
        if _looks_like_key(cer_data) and _looks_like_certificate(key_data):
            raise EfirmaSwapped(str(cer_path), cer=str(cer_path), key=str(key_path)) from None
        if _looks_like_key(cer_data):
            raise EfirmaSwapped(str(cer_path), cer=str(cer_path), key=str(key_path)) from None
        raise EfirmaCorrupt(str(cer_path), file=str(cer_path), kind=".cer") from None
    if _looks_like_certificate(key_data):
        raise EfirmaSwapped(str(key_path), cer=str(cer_path), key=str(key_path))
    info = inspect_certificate(cert)
    secret = password.encode("utf-8") if isinstance(password, str) else bytes(password)
    key = _load_key(key_data, secret, str(key_path))
    del secret
    if not isinstance(key, rsa.RSAPrivateKey):
        raise EfirmaUnsupportedKey(type(key).__name__)
    spki = PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(Encoding.DER, spki) != cert.public_key().public_bytes(Encoding.DER, spki):
        raise EfirmaMismatch(str(key_path), cer=str(cer_path), key=str(key_path), rfc=info.rfc)
    check_usable(info, now=now, allow_test_ca=allow_test_ca)
    return Credential(info, key)
