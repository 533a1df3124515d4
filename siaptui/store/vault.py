"""Encryption at rest: AES-256-GCM with one random data key kept in a 0600 key file.

Why this shape:
- Templates and images are sensitive personal data; the SQLite file may be copied off an
  office PC, so every biometric blob is encrypted before it reaches SQLite.
- The data key is random (not derived from anything the clerk types), so an office without a
  passphrase still gets real encryption: the database alone is useless without the key file.
  Back up the key file separately from the database.
- An optional passphrase wraps the data key (scrypt -> key-encryption key -> AES-GCM), so a
  stolen disk with both files still needs the passphrase.
- Associated data binds each ciphertext to its row (`table`, `row id`): a blob copied into
  another row (one worker's template moved to another NSS) fails to decrypt instead of
  silently lying.

Blob layout: 1 byte version (1) | 12 bytes nonce | ciphertext+tag.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Optional

from siaptui.files import atomic_write
from siaptui.store.errors import StoreError

KEY_FILE_NAME = "siaptui.key"
_FORMAT = "siaptui-data-key"
_BLOB_VERSION = 1
_NONCE_BYTES = 12
_WRAP_AAD = b"siaptui/key-wrap/v1"
# scrypt cost: 2**15 * 8 * 128 B = 32 MiB and ~0.1-0.3 s on an old 2-core PC — noticeable
# once per start, ruinous for a brute-force guesser.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1


def derive_key(passphrase: str, salt: bytes, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> bytes:
    """A 32-byte key from a passphrase (scrypt); shared by the key file and export bundles."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def key_id(key: bytes) -> str:
    """A short public fingerprint of a data key, stored in the database to detect a wrong key file."""
    return hashlib.sha256(b"siaptui/key-id/v1" + key).hexdigest()[:16]


def row_aad(table: str, row_id: Any) -> bytes:
    return f"siaptui/{table}/{row_id}".encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def wrap_key(key: bytes, passphrase: Optional[str]) -> dict[str, Any]:
    """The key as JSON fields: wrapped by the passphrase (scrypt -> AES-GCM), or as is without one.

    The key file holds these fields; the office's copy in a shared database holds them too.
    """
    doc: dict[str, Any] = {"key_id": key_id(key)}
    if not passphrase:
        return doc | {"wrapped": False, "key": _b64(key)}
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt = os.urandom(16)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(derive_key(passphrase, salt)).encrypt(nonce, key, _WRAP_AAD)
    return doc | {"wrapped": True, "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                  "salt": _b64(salt), "nonce": _b64(nonce), "key": _b64(sealed)}


def unwrap_key(doc: dict[str, Any], passphrase: Optional[str], where: str) -> bytes:
    """The 32-byte key from `wrap_key` fields; `where` names the file (or database) in errors."""
    try:
        if not doc.get("wrapped"):
            key = _unb64(doc["key"])
            if len(key) != 32 or key_id(key) != doc.get("key_id"):
                raise ValueError("key does not match its checksum")
            return key
        salt = _unb64(doc["salt"])
        nonce = _unb64(doc["nonce"])
        sealed = _unb64(doc["key"])
        n, r, p = int(doc["n"]), int(doc["r"]), int(doc["p"])
        expected_id = doc.get("key_id")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise StoreError(str(exc), code="store_key_corrupt", file=where) from None
    if not passphrase:
        raise StoreError(where, code="store_passphrase_required", file=where)
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        kek = derive_key(passphrase, salt, n=n, r=r, p=p)
    except (ValueError, MemoryError) as exc:  # absurd scrypt parameters = a damaged file
        raise StoreError(str(exc), code="store_key_corrupt", file=where) from None
    try:
        key = AESGCM(kek).decrypt(nonce, sealed, _WRAP_AAD)
    except InvalidTag:
        raise StoreError(where, code="store_wrong_passphrase", file=where) from None
    if len(key) != 32 or key_id(key) != expected_id:
        raise StoreError("unwrapped key does not match its id", code="store_key_corrupt", file=where)
    return key


class Vault:
    """Holds the data key in memory; encrypts and decrypts blobs bound to their row."""

    def __init__(self, key: bytes, path: Path, *, wrapped: bool) -> None:
        if len(key) != 32:
            raise StoreError("data key must be 32 bytes", code="store_key_corrupt", file=str(path))
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)
        self._key = key
        self._subkeys: dict[str, bytes] = {}
        self.path = Path(path)
        self.wrapped = wrapped
        self.key_id = key_id(key)

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, passphrase: Optional[str] = None, *, create: bool = True) -> "Vault":
        """Read the key file (creating a fresh random key when allowed and absent).

        A passphrase given for a key file that is not yet wrapped wraps it from now on: "open
        with a passphrase" is how an office turns the protection on.
        """
        path = Path(path)
        if not path.exists():
            if not create:
                raise StoreError(str(path), code="store_key_missing", file=str(path))
            vault = cls(os.urandom(32), path, wrapped=False)
            vault._write(passphrase)
            return vault
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise StoreError(exc.strerror or str(exc), code="store_key_corrupt", file=str(path)) from None
        vault = cls._parse(raw, path, passphrase)
        if passphrase and not vault.wrapped:
            vault._write(passphrase)
        return vault

    @classmethod
    def _parse(cls, raw: bytes, path: Path, passphrase: Optional[str]) -> "Vault":
        try:
            doc = json.loads(raw.decode("utf-8"))
            if not isinstance(doc, dict) or doc.get("format") != _FORMAT or doc.get("version") != 1:
                raise ValueError("not a siaptui key file")
        except (ValueError, UnicodeDecodeError) as exc:
            raise StoreError(str(exc), code="store_key_corrupt", file=str(path)) from None
        return cls(unwrap_key(doc, passphrase, str(path)), path, wrapped=bool(doc.get("wrapped")))

    @classmethod
    def create(cls, path: Path, key: bytes, passphrase: Optional[str] = None) -> "Vault":
        """A key file at `path` for a data key obtained elsewhere (the office's, see keyring)."""
        vault = cls(key, path, wrapped=False)
        vault._write(passphrase)
        return vault

    def change_passphrase(self, passphrase: Optional[str]) -> None:
        """Re-wrap the key with a new passphrase, or store it unwrapped with None (atomically)."""
        self._write(passphrase)

    def _write(self, passphrase: Optional[str]) -> None:
        doc: dict[str, Any] = {"format": _FORMAT, "version": 1, **wrap_key(self._key, passphrase)}
        atomic_write(self.path, (json.dumps(doc, indent=1) + "\n").encode("utf-8"), mode=0o600)
        self.wrapped = bool(passphrase)

    def wrapped_copy(self, passphrase: str) -> dict[str, Any]:
        """The data key wrapped by `passphrase`, for the office's copy on a shared server."""
        return wrap_key(self._key, passphrase)

    def subkey(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (HKDF-SHA256 of the data key), e.g. the NSS lookup HMAC.

        Separate keys per purpose mean a lookup tag never reveals anything about the
        encryption key, and one purpose can be rotated without the other.
        """
        if purpose not in self._subkeys:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF

            info = f"siaptui/subkey/{purpose}/v1".encode()
            self._subkeys[purpose] = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(self._key)
        return self._subkeys[purpose]

    # -- blobs ---------------------------------------------------------------------------
    def encrypt(self, plaintext: bytes, *, table: str, row_id: Any) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return bytes([_BLOB_VERSION]) + nonce + self._aead.encrypt(nonce, bytes(plaintext), row_aad(table, row_id))

    def decrypt(self, blob: bytes, *, table: str, row_id: Any) -> bytes:
        """Plaintext of a blob written for exactly this (table, row); anything else is an error."""
        from cryptography.exceptions import InvalidTag

        blob = bytes(blob)
        if len(blob) < 1 + _NONCE_BYTES + 16 or blob[0] != _BLOB_VERSION:
            raise StoreError(f"{table}/{row_id}", code="store_data_corrupt", table=table, row=row_id)
        try:
            return self._aead.decrypt(blob[1:1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES:], row_aad(table, row_id))
        except InvalidTag:
            raise StoreError(f"{table}/{row_id}", code="store_data_corrupt", table=table, row=row_id) from None
