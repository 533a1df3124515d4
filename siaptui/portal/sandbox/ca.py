"""The sandbox's own certificate authority: demo e.firma files and a TLS certificate.

Why a CA of our own: SAT's public test FIEL expired in 2021, so practice, the demo and the tests
need e.firma files that are valid today and shaped exactly like SAT's — DER `.cer` with RFC in
x500UniqueIdentifier and CURP in serialNumber, FIEL key usages and EKU (or a CSD's OU), and a
`.key` in SAT's PKCS#8 format: PBES2 / PBKDF2-HMAC-SHA1 (2048 rounds) / DES-EDE3-CBC.
`cryptography` cannot write that last format (its PKCS#8 writer only does AES), so the
EncryptedPrivateKeyInfo is assembled here from its few DER fields.

The CA key and certificate live in `<data dir>/sandbox/` (unencrypted PEM, mode 0600): it is a
practice CA whose certificates the real portal refuses (issuer name in
`siaptui.efirma.TEST_CA_NAMES`).  Files are written with `atomic_write`.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from siaptui.efirma import SANDBOX_CA_NAME
from siaptui.files import atomic_write

DEMO_PASSWORD = "demo12345"
"""Password of every demo .key the sandbox issues (printed by `siaptui sandbox --issue-efirma`)."""

KEY_BITS = 2048
_cache: Dict[str, "SandboxCA"] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class DemoEfirma:
    cer: Path
    key: Path
    password: str
    rfc: str
    curp: str


# --- SAT-format PKCS#8 (PBES2 / PBKDF2-SHA1 / 3DES) ---------------------------------------------

def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        head = bytes([length])
    else:
        raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + content


def _der_int(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return _der(0x02, raw)


_OID_PBES2 = _der(0x06, bytes.fromhex("2a864886f70d01050d"))
_OID_PBKDF2 = _der(0x06, bytes.fromhex("2a864886f70d01050c"))
_OID_DES_EDE3_CBC = _der(0x06, bytes.fromhex("2a864886f70d0307"))


def sat_pkcs8(private_key: Any, password: str, *, iterations: int = 2048) -> bytes:
    """Encrypt `private_key` as SAT does: EncryptedPrivateKeyInfo, PBES2 with PBKDF2 (PRF
    hmacWithSHA1, the default, so omitted), 8-byte salt, 3DES-CBC with an 8-byte IV."""
    from cryptography.hazmat.primitives import hashes, padding, serialization
    from cryptography.hazmat.primitives.ciphers import Cipher, modes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    except ImportError:  # cryptography < 43
        from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES

    plain = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    salt, iv = os.urandom(8), os.urandom(8)
    key = PBKDF2HMAC(algorithm=hashes.SHA1(), length=24, salt=salt, iterations=iterations).derive(
        password.encode("utf-8"))
    padder = padding.PKCS7(64).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(TripleDES(key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    kdf = _der(0x30, _OID_PBKDF2 + _der(0x30, _der(0x04, salt) + _der_int(iterations)))
    scheme = _der(0x30, _OID_DES_EDE3_CBC + _der(0x04, iv))
    algorithm = _der(0x30, _OID_PBES2 + _der(0x30, kdf + scheme))
    return _der(0x30, algorithm + _der(0x04, encrypted))


# --- the CA -------------------------------------------------------------------------------------

def default_directory() -> Path:
    from siaptui.config import data_dir

    return data_dir() / "sandbox"


def _sat_serial() -> int:
    """SAT-style certificate number: 20 ASCII digits stored as the serial's bytes."""
    digits = "30001000000" + "".join(secrets.choice("0123456789") for _ in range(9))
    return int.from_bytes(digits.encode("ascii"), "big")


class SandboxCA:
    """Key and self-signed certificate of the practice CA; issues e.firma and TLS certificates."""

    def __init__(self, certificate: Any, private_key: Any, directory: Path) -> None:
        self.certificate = certificate
        self.private_key = private_key
        self.directory = directory

    @property
    def certificate_pem_path(self) -> Path:
        return self.directory / "ca.crt.pem"

    @classmethod
    def load_or_create(cls, directory: Optional[Path] = None) -> "SandboxCA":
        """The CA in `directory` (default `<data dir>/sandbox`), created on first use.  Cached
        per folder: RSA key generation costs a noticeable fraction of a second on old PCs."""
        folder = Path(directory) if directory is not None else default_directory()
        key = str(folder.resolve())
        with _cache_lock:
            if key in _cache and _cache[key].certificate_pem_path.exists():
                return _cache[key]
            ca = cls._load(folder) or cls._create(folder)
            _cache[key] = ca
            return ca

    @classmethod
    def _load(cls, folder: Path) -> Optional["SandboxCA"]:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        cert_path, key_path = folder / "ca.crt.pem", folder / "ca.key.pem"
        if not (cert_path.exists() and key_path.exists()):
            return None
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            private = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (ValueError, TypeError, OSError):
            return None  # damaged: make a new one (demo files issued before stop verifying)
        return cls(cert, private, folder)

    @classmethod
    def _create(cls, folder: Path) -> "SandboxCA":
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        name = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, SANDBOX_CA_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "siaptui portal sandbox (PRUEBAS)"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "MX"),
        ])
        now = datetime.now(timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(private, hashes.SHA256())
        )
        atomic_write(folder / "ca.key.pem", private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()), 0o600)
        atomic_write(folder / "ca.crt.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)
        return cls(cert, private, folder)

    def issued(self, certificate: Any) -> bool:
        """True when `certificate` carries this CA's valid signature (chain of one)."""
        if certificate.issuer != self.certificate.subject:
            return False
        from cryptography.exceptions import InvalidSignature

        try:
            certificate.verify_directly_issued_by(self.certificate)
            return True
        except (ValueError, TypeError, InvalidSignature):
            return False

    def issue_efirma_certificate(self, public_key: Any, *, kind: str, rfc: str, curp: str, name: str,
                                 not_before: datetime, not_after: datetime) -> Any:
        """A certificate shaped like SAT's (notes §4.2–4.3): FIEL or CSD."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

        attributes = [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(ObjectIdentifier("2.5.4.41"), name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, rfc),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, curp),
        ]
        if kind == "csd":
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"CSD01_{rfc}"))
        else:
            attributes += [x509.NameAttribute(NameOID.EMAIL_ADDRESS, "demo@sandbox.invalid"),
                           x509.NameAttribute(NameOID.COUNTRY_NAME, "MX")]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attributes))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(_sat_serial())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        fiel = kind != "csd"
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=fiel, key_agreement=fiel, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        if fiel:
            builder = builder.add_extension(x509.UnrecognizedExtension(
                ObjectIdentifier("2.16.840.1.113730.1.1"), b"\x03\x02\x05\xa0"), critical=False)
            builder = builder.add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return builder.sign(self.private_key, hashes.SHA256())

    def server_certificate(self, hosts: Tuple[str, ...] = ("127.0.0.1", "localhost")) -> Tuple[Path, Path]:
        """(cert PEM, key PEM) for HTTPS on loopback, signed by this CA.  Clients trust it with
        `--ca-bundle <data dir>/sandbox/ca.crt.pem` (portal.ca_bundle in siaptui.toml)."""
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        names: List[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        now = datetime.now(timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(self.certificate.subject)
            .public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self.private_key, hashes.SHA256())
        )
        cert_path, key_path = self.directory / "server.crt.pem", self.directory / "server.key.pem"
        atomic_write(key_path, private.private_bytes(serialization.Encoding.PEM,
                                                     serialization.PrivateFormat.TraditionalOpenSSL,
                                                     serialization.NoEncryption()), 0o600)
        atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        return cert_path, key_path


EXPIRED_DAYS_AGO = 30
"""How long ago an `expired` demo e.firma ran out (the practice menu says the date beforehand)."""


def issue_demo_efirma(directory: Any, *, kind: str = "fiel", expired: bool = False,
                      rfc: Optional[str] = None, curp: Optional[str] = None, name: Optional[str] = None,
                      password: str = DEMO_PASSWORD, not_yet_valid: bool = False,
                      ca_directory: Optional[Path] = None) -> DemoEfirma:
    """Write `<rfc>.cer` and `Claveprivada_<KIND>_<RFC>.key` (SAT's 3DES PKCS#8) into `directory`.

    Defaults: the seeded demo employer (a persona física), a FIEL valid for four years.
    `expired` / `not_yet_valid` shift the validity window for practice and tests."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from siaptui.portal.sandbox import seed

    if kind not in ("fiel", "csd"):
        raise ValueError("kind must be 'fiel' or 'csd'")
    employer = seed.DEMO_EMPLOYERS[0]
    rfc = (rfc or employer["rfc"]).upper()
    curp = (curp or employer["curp"]).upper()
    name = name or employer["name"]
    ca = SandboxCA.load_or_create(ca_directory)
    now = datetime.now(timezone.utc)
    if expired:
        not_before = now - timedelta(days=4 * 365 + EXPIRED_DAYS_AGO)
        not_after = now - timedelta(days=EXPIRED_DAYS_AGO)
    elif not_yet_valid:
        not_before, not_after = now + timedelta(days=30), now + timedelta(days=4 * 365 + 30)
    else:
        not_before, not_after = now - timedelta(minutes=5), now + timedelta(days=4 * 365)
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    cert = ca.issue_efirma_certificate(private.public_key(), kind=kind, rfc=rfc, curp=curp, name=name,
                                       not_before=not_before, not_after=not_after)
    folder = Path(directory)
    stamp = not_before.strftime("%Y%m%d_%H%M%S")
    cer_path = folder / f"{rfc.lower()}_{kind}.cer"
    key_path = folder / f"Claveprivada_{kind.upper()}_{rfc}_{stamp}.key"
    atomic_write(cer_path, cert.public_bytes(serialization.Encoding.DER), 0o644)
    atomic_write(key_path, sat_pkcs8(private, password), 0o600)
    return DemoEfirma(cer=cer_path, key=key_path, password=password, rfc=rfc, curp=curp)
