"""The portal's seal on an acuse: what it signs, with what, and how anyone checks it.

Why a signature and not a hash: a hash of the receipt proves nothing — anyone can compute one.
The seal is an Ed25519 signature by the portal's own seal key over the acuse as the employer
keeps it (folio and text), so whoever holds the folio and the text (the office's outbox, an
inspector, the IMSS module) can check it against the key the portal publishes in
`GET /v1/info` (`seal_public_key`) without asking the portal.  The same function builds the
message the portal signs and the one a checker verifies (contract 2.2, `seal`).

The QR code carries the seal's first 128 bits in hexadecimal (`short`): QR alphanumeric, so
the payload still fits a version-5 symbol on an 80×24 screen; the PDF prints the whole seal.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

ALGORITHM = "Ed25519"
SHORT_BYTES = 16


def message(folio: str, acuse: str) -> bytes:
    """The signed bytes: canonical JSON (UTF-8, sorted keys, no spaces) of the folio and the
    acuse text — the text names the employer, the worker, the date and what was registered."""
    return json.dumps({"acuse": acuse, "folio": folio}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def sign(private_key: Any, folio: str, acuse: str) -> str:
    """The seal (base64 of the 64-byte signature) with an Ed25519PrivateKey."""
    return base64.b64encode(private_key.sign(message(folio, acuse))).decode("ascii")


def public_key_b64(private_key: Any) -> str:
    """The raw 32-byte public key in base64, as `GET /v1/info` publishes it."""
    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def verify(public_key: str, folio: str, acuse: str, seal: str) -> bool:
    """True when `seal` is the portal's signature of this folio and text; False for any other
    seal, text or key (a malformed one included)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(seal, validate=True), message(folio, acuse))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def short(seal: str) -> str:
    """The seal's first 128 bits in upper-case hexadecimal (the QR's `SELLO:`)."""
    try:
        raw = base64.b64decode(seal, validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    return raw[:SHORT_BYTES].hex().upper() if len(raw) >= SHORT_BYTES else seal.upper()
