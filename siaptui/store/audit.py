"""Append-only, hash-chained audit log of who did what — and never anything biometric.

Why a hash chain: the employer carries the burden of proof for consent and deletions
(LFPDPPP), so a silently edited or deleted entry must be detectable.  Each row stores
`hash = sha256(prev_hash + canonical JSON of the row)`; the head (last id and hash) is kept in
`meta` in the same transaction, so removing the newest rows is caught as well as editing or
removing one in the middle.  SQLite triggers refuse UPDATE/DELETE through the app; `verify()`
catches whoever bypasses them with another tool.

Each entry names the station that wrote it (`store.station`, else the host name), inside the
hash, so an office whose stations share one server can tell which desk did what.

Why the scrubbing: an audit log is read by many people and copied into support tickets.
Bytes, templates, images and anything that looks like a long encoded blob are dropped, and
CURP / NSS values are masked (`HEGT7610******09`, `9291*****31`) wherever they appear.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from siaptui.store.dialect import set_meta

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.store.connection import Database

GENESIS = "0" * 64
REMOVED = "[biometric-removed]"  # a marker, not clerk text: the screen translates it
_BIOMETRIC_KEYS = re.compile(r"template|plantilla|image|imagen|minuti|pixel|huella|fingerprint|payload|wsq|iso19794",
                             re.IGNORECASE)
# 18 characters: 4 letters, birth date, then 8 more; loose on purpose (test data, sex X).
_CURP = re.compile(r"\b([A-Z]{4}\d{4})(\d{2}[A-Z0-9]{6})([A-Z0-9]{2})\b", re.IGNORECASE)
_NSS = re.compile(r"(?<!\d)(\d{4})(\d{5})(\d{2})(?!\d)")
_BLOB = re.compile(r"^[A-Za-z0-9+/=_\-\s]{200,}$")
MAX_TEXT = 1000


def mask(text: str) -> str:
    """Mask every CURP and NSS in `text` (keeps enough to tell records apart)."""
    text = _CURP.sub(lambda m: f"{m.group(1)}******{m.group(3)}", text)
    return _NSS.sub(lambda m: f"{m.group(1)}*****{m.group(3)}", text)


def _clean(value: Any, key: str = "") -> Any:
    """JSON-safe, masked, with biometric values replaced by a marker."""
    if key and _BIOMETRIC_KEYS.search(key):
        return REMOVED
    if isinstance(value, (bytes, bytearray, memoryview)):
        return REMOVED
    if not isinstance(value, (int, float, str)) and (hasattr(value, "tobytes") or hasattr(value, "to_bytes")):
        return REMOVED  # numpy images, Template objects
    if isinstance(value, str):
        if _BLOB.match(value):
            return REMOVED
        return mask(value[:MAX_TEXT])
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _clean(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(v, key) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return mask(str(value)[:MAX_TEXT])


def _canonical(row: Mapping[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _chain(prev_hash: str, row: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + _canonical(row)).hexdigest()


def _row(row_id: int, at: str, actor: str, action: str, subject: str, details: Any,
         station: Any) -> dict[str, Any]:
    """The hashed fields of an entry; `station` only when recorded (entries older than it hash without)."""
    row = {"id": row_id, "at": at, "actor": actor, "action": action, "subject": subject, "details": details}
    if station is not None:
        row["station"] = station
    return row


class AuditLog:
    """record() appends one entry; verify() re-walks the chain; entries() reads it."""

    def __init__(self, store: "Database") -> None:
        self._store = store

    def record(self, actor: str, action: str, subject: str = "", **details: Any) -> int:
        """Append an entry (biometric values dropped, CURP/NSS masked); returns its id."""
        at = _dt.datetime.fromtimestamp(self._store.clock(), _dt.timezone.utc).isoformat(timespec="seconds")
        clean_details = _clean(details)
        station = _clean(str(self._store.station))
        with self._store.transaction() as conn:
            self._store.dialect.lock(conn, "audit")  # stations append to one chain, one at a time
            last = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            row_id, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
            row = _row(row_id, at, _clean(str(actor)), _clean(str(action)), _clean(str(subject)), clean_details,
                       station)
            digest = _chain(prev, row)
            conn.execute(
                "INSERT INTO audit (id, at, actor, action, subject, details, prev_hash, hash, station) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (row_id, at, row["actor"], row["action"], row["subject"], _canonical(clean_details).decode("utf-8"),
                 prev, digest, station))
            set_meta(conn, "audit_head", f"{row_id}:{digest}")
        return row_id

    def entries(self) -> Iterator[dict[str, Any]]:
        rows = self._store.connection().execute(
            "SELECT id, at, actor, action, subject, details, station FROM audit ORDER BY id").fetchall()
        for row_id, at, actor, action, subject, details, station in rows:
            yield _row(row_id, at, actor, action, subject, json.loads(details), station)

    def verify(self) -> bool:
        """True only if no entry was edited, removed or inserted since it was written."""
        conn = self._store.connection()
        prev = GENESIS
        expected_id = 1
        try:
            rows = conn.execute("SELECT id, at, actor, action, subject, details, prev_hash, hash, station FROM audit "
                                "ORDER BY id").fetchall()
            for row_id, at, actor, action, subject, details, prev_hash, digest, station in rows:
                if row_id != expected_id or prev_hash != prev:
                    return False
                row = _row(row_id, at, actor, action, subject, json.loads(details), station)
                if _chain(prev, row) != digest:
                    return False
                prev = digest
                expected_id += 1
            head = conn.execute("SELECT value FROM meta WHERE key = 'audit_head'").fetchone()
        except (ValueError, TypeError):  # undecodable details = edited by hand
            return False
        if head is None:
            return not rows
        return bool(head[0] == f"{expected_id - 1}:{prev}")
