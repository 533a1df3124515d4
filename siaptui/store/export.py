"""Encrypted bundles of unsent enrollments, to finish the job from another terminal.

Why: when this PC cannot reach the portal (no internet at the branch, a broken sender), the
clerk carries the pending enrollments on a USB stick to a PC that can.  The bundle holds
biometric data, so it is sealed with AES-256-GCM under a key derived from a passphrase the
clerk chooses (scrypt); the header is authenticated too.  Every item keeps its idempotency
key, so importing the same bundle twice — or sending from both terminals — submits once.

Layout: b"SIAPTUI-BUNDLE\\n" | header JSON line | ciphertext+tag of the items JSON.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from siaptui.files import atomic_write
from siaptui.store.errors import StoreError
from siaptui.store.outbox import decode_request, encode_request
from siaptui.store.vault import SCRYPT_N, SCRYPT_P, SCRYPT_R, derive_key

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.store.db import Store

MAGIC = b"SIAPTUI-BUNDLE\n"
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
MIN_PASSPHRASE = 8
"""Characters a bundle's passphrase needs at least: it guards fingerprints on a USB stick."""


def check_passphrase(passphrase: str, again: Optional[str] = None) -> None:
    """Refuse a passphrase too short to protect biometric data, or one typed twice differently.

    `again` is the second typing (the Bandeja's dialog, a terminal); None where the passphrase
    came from a script (the environment, standard input), which cannot mistype it unseen.
    """
    if len(passphrase) < MIN_PASSPHRASE:
        raise StoreError("", code="store_bundle_passphrase_short", minimum=MIN_PASSPHRASE)
    if again is not None and again != passphrase:
        raise StoreError("", code="store_bundle_passphrase_mismatch")


def default_bundle_path(data_dir: Path, now: float) -> Path:
    """`<data folder>/bandeja-AAAAMMDD-HHMM.siaptui`: the name the Bandeja offers and the CLI uses."""
    from datetime import datetime

    return Path(data_dir) / datetime.fromtimestamp(now).strftime("bandeja-%Y%m%d-%H%M.siaptui")


def export_pending(store: "Store", path: Path, passphrase: str, *, actor: str = "system") -> int:
    """Write every item still to be sent (Outbox.pending()) to `path`, atomically; returns the count.

    The one export of the Bandeja (E) and of `siaptui outbox export`.  Rejected items stay here:
    another terminal would only be refused again, and their fix (recapture, ARCO) is local.
    With nothing to send no file is written and 0 is returned.
    """
    check_passphrase(passphrase)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    entries: list[dict[str, Any]] = []
    for item in store.outbox.pending():
        request = store.outbox.request(item.id)
        entries.append({
            "idempotency_key": item.idempotency_key, "worker_nss": item.worker_nss,
            "employer_rfc": item.employer_rfc, "training": item.training,
            "request": json.loads(encode_request(request).decode("utf-8")),
        })
    if not entries:
        return 0
    salt, nonce = os.urandom(16), os.urandom(12)
    header = json.dumps({"version": 1, "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                         "salt": base64.b64encode(salt).decode("ascii"),
                         "nonce": base64.b64encode(nonce).decode("ascii"), "count": len(entries)},
                        sort_keys=True).encode("utf-8") + b"\n"
    body = json.dumps({"items": entries}, sort_keys=True).encode("utf-8")
    sealed = AESGCM(derive_key(passphrase, salt)).encrypt(nonce, body, MAGIC + header)
    try:
        atomic_write(Path(path), MAGIC + header + sealed, mode=0o600)
    except OSError as exc:  # a read-only stick, a folder named like the file, a full disk
        raise StoreError(exc.strerror or str(exc), code="store_bundle_write_failed", file=str(path)) from None
    store.audit.record(actor, "outbox.exported", Path(path).name, count=len(entries))
    return len(entries)


def import_bundle(store: "Store", path: Path, passphrase: str, *, actor: str = "system") -> tuple[int, int]:
    """Add the bundle's items to this outbox; returns (imported, already here)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    path = Path(path)
    try:
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            raise StoreError("too large", code="store_bundle_invalid", file=str(path))
        raw = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):  # a mistyped path, not a damaged bundle
        raise StoreError(str(path), code="store_bundle_not_found", file=str(path)) from None
    except OSError as exc:
        raise StoreError(exc.strerror or str(exc), code="store_bundle_invalid", file=str(path)) from None
    try:
        if not raw.startswith(MAGIC):
            raise ValueError("not a siaptui bundle")
        header_end = raw.index(b"\n", len(MAGIC)) + 1
        header_bytes = raw[len(MAGIC):header_end]
        header = json.loads(header_bytes.decode("utf-8"))
        if header.get("version") != 1 or header.get("kdf") != "scrypt":
            raise ValueError("unsupported bundle version")
        salt = base64.b64decode(header["salt"], validate=True)
        nonce = base64.b64decode(header["nonce"], validate=True)
        n, r, p = int(header["n"]), int(header["r"]), int(header["p"])
        if not (2**10 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
            raise ValueError("implausible scrypt parameters")
        key = derive_key(passphrase or "", salt, n=n, r=r, p=p)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise StoreError(str(exc), code="store_bundle_invalid", file=str(path)) from None
    try:
        body = AESGCM(key).decrypt(nonce, raw[header_end:], MAGIC + header_bytes)
    except InvalidTag:
        # A wrong passphrase and a damaged file look the same to GCM; the passphrase is far likelier.
        raise StoreError(str(path), code="store_bundle_wrong_passphrase", file=str(path)) from None
    try:
        entries = json.loads(body.decode("utf-8"))["items"]
        parsed = [(str(e["idempotency_key"]), str(e["worker_nss"]), str(e["employer_rfc"]), bool(e["training"]),
                   decode_request(json.dumps(e["request"]).encode("utf-8"))) for e in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(str(exc), code="store_bundle_invalid", file=str(path)) from None
    imported = skipped = 0
    for key_text, nss, rfc, training, request in parsed:
        added = store.outbox.import_item(request, idempotency_key=key_text, worker_nss=nss, employer_rfc=rfc,
                                         training=training)
        if added is None:
            skipped += 1
        else:
            imported += 1
    store.audit.record(actor, "outbox.imported", path.name, imported=imported, skipped=skipped)
    return imported, skipped
