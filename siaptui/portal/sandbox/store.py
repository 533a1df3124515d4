"""The sandbox portal's own SQLite database: registry, rosters (altas), sessions, enrollments,
templates, photos, the portal's seal key, and each employer's history of a worker's record.

Why SQLite and not dicts: the outbox crash test kills the *client* at random points and then
asks the portal how many times each enrollment arrived — the answer must survive a sandbox
restart too, and idempotency must hold across threads.  One connection behind one lock keeps
every check-then-commit (idempotency key, duplicate finger, enrollment) atomic; the sandbox
serves one office, not a country.

Tokens are stored as SHA-256 hashes, never in clear.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from siaptui.portal.sandbox import seed

log = logging.getLogger("siaptui.portal.sandbox")

SCHEMA = """
CREATE TABLE IF NOT EXISTS employers (
    rfc TEXT PRIMARY KEY, name TEXT NOT NULL, registro_patronal TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workers (
    nss TEXT PRIMARY KEY, curp TEXT NOT NULL UNIQUE, name TEXT NOT NULL, person_seed INTEGER,
    eligible INTEGER NOT NULL DEFAULT 1, biometrics_employer TEXT);
CREATE TABLE IF NOT EXISTS challenges (
    id TEXT PRIMARY KEY, nonce BLOB NOT NULL, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, refresh_hash TEXT NOT NULL UNIQUE, employer_rfc TEXT NOT NULL,
    cert_der BLOB NOT NULL, expires_at REAL NOT NULL, refresh_expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS enrollments (
    id TEXT PRIMARY KEY, folio TEXT NOT NULL UNIQUE, employer_rfc TEXT NOT NULL, nss TEXT NOT NULL,
    idem_key TEXT NOT NULL, body_hash TEXT NOT NULL, received_at REAL NOT NULL, status TEXT NOT NULL,
    duplicate_check TEXT NOT NULL, fingers TEXT NOT NULL, receipt TEXT NOT NULL,
    UNIQUE (employer_rfc, idem_key));
CREATE TABLE IF NOT EXISTS templates (
    nss TEXT NOT NULL, position INTEGER NOT NULL, template BLOB, employer_rfc TEXT NOT NULL,
    PRIMARY KEY (nss, position));
CREATE TABLE IF NOT EXISTS photos (
    nss TEXT PRIMARY KEY, enrollment_id TEXT NOT NULL, employer_rfc TEXT NOT NULL, photo BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS transfers (
    id TEXT PRIMARY KEY, employer_rfc TEXT NOT NULL, nss TEXT NOT NULL, idem_key TEXT NOT NULL,
    body_hash TEXT NOT NULL, result TEXT NOT NULL, UNIQUE (employer_rfc, idem_key));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS altas (
    employer_rfc TEXT NOT NULL, nss TEXT NOT NULL, start_date TEXT NOT NULL,
    PRIMARY KEY (employer_rfc, nss));
CREATE TABLE IF NOT EXISTS portal_keys (name TEXT PRIMARY KEY, private_key BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    employer_rfc TEXT NOT NULL, nss TEXT NOT NULL, event TEXT NOT NULL, folio TEXT NOT NULL,
    at REAL NOT NULL);
"""


def _seed_template(person_seed: int, position: int) -> Optional[bytes]:
    """The ISO record of a seeded finger; None (a position on record without template data, so a
    verification answers `unavailable`) when the biometric engine cannot be loaded."""
    try:
        from siaptui.enrollment import demo_fingers

        return demo_fingers.iso_record(person_seed, position)
    except Exception as exc:  # noqa: BLE001 - a missing or broken engine is reported, never faked
        log.warning("seeded finger %s of person %s has no template: %s", position, person_seed, exc)
        return None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SandboxStore:
    """All state of the sandbox portal.  Methods are thread-safe; `transaction()` groups
    several of them atomically."""

    def __init__(self, path: Optional[Path] = None, *, seed_date: Optional[date] = None) -> None:
        self.seed_date = seed_date or date.today()
        self.path = str(path) if path else ":memory:"
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        self._seal_key: Any = None
        with self.lock:
            if path:
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            self._seed()

    def close(self) -> None:
        with self.lock:
            self._db.close()

    # --- plumbing ---------------------------------------------------------------------------------

    class _Tx:
        def __init__(self, store: "SandboxStore") -> None:
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            self.store.lock.acquire()
            self.store._db.execute("BEGIN IMMEDIATE")
            return self.store._db

        def __exit__(self, kind: Any, *rest: Any) -> None:
            try:
                self.store._db.execute("ROLLBACK" if kind else "COMMIT")
            finally:
                self.store.lock.release()

    def transaction(self) -> "SandboxStore._Tx":
        return SandboxStore._Tx(self)

    def _one(self, sql: str, args: Tuple[Any, ...] = ()) -> Optional[sqlite3.Row]:
        with self.lock:
            row: Optional[sqlite3.Row] = self._db.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, args: Tuple[Any, ...] = ()) -> List[sqlite3.Row]:
        with self.lock:
            return self._db.execute(sql, args).fetchall()

    def _seed(self) -> None:
        with self.transaction() as db:
            for employer in seed.DEMO_EMPLOYERS:
                db.execute("INSERT OR IGNORE INTO employers VALUES (?, ?, ?)",
                           (employer["rfc"], employer["name"], employer["registro_patronal"]))
            for worker in [*seed.DEMO_WORKERS, *seed.OTHER_WORKERS]:
                elsewhere = seed.PREVIOUS_EMPLOYER_RFC if worker["case"] == "enrolled_elsewhere" else None
                inserted = db.execute(
                    "INSERT OR IGNORE INTO workers VALUES (?, ?, ?, ?, ?, ?)",
                    (worker["nss"], worker["curp"], worker["name"], worker["person_seed"],
                     0 if worker["case"] == "curp_not_eligible" else 1, elsewhere)).rowcount
                if inserted and elsewhere:
                    # The previous employer's record, with the fingers practice mode makes for this
                    # person, so a verification after the transfer compares real templates.
                    for position in seed.TRANSFER_FINGERS:
                        db.execute("INSERT OR IGNORE INTO templates VALUES (?, ?, ?, ?)",
                                   (worker["nss"], position, _seed_template(worker["person_seed"], position),
                                    elsewhere))
            for rfc, altas in seed.ROSTERS.items():
                for nss, days_before in altas:
                    start = self.seed_date - timedelta(days=days_before)
                    db.execute("INSERT OR IGNORE INTO altas VALUES (?, ?, ?)", (rfc, nss, start.isoformat()))

    def next_number(self, db: sqlite3.Connection, name: str) -> int:
        db.execute("INSERT OR IGNORE INTO counters VALUES (?, 0)", (name,))
        db.execute("UPDATE counters SET value = value + 1 WHERE name = ?", (name,))
        return int(db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    def seal_key(self) -> Any:
        """The portal's Ed25519 seal key (`siaptui.portal.seal`), made on first use and kept in
        the database, so acuses sealed before a restart still verify after it; read once, then
        held for the store's life."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

        if self._seal_key is not None:
            return self._seal_key
        with self.transaction() as db:  # under the store's lock: a second caller reads the row
            row = db.execute("SELECT private_key FROM portal_keys WHERE name = 'seal'").fetchone()
            if row is not None:
                key = Ed25519PrivateKey.from_private_bytes(bytes(row[0]))
            else:
                key = Ed25519PrivateKey.generate()
                raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
                db.execute("INSERT INTO portal_keys VALUES ('seal', ?)", (raw,))
        self._seal_key = key  # held only once it is in the database
        return key

    # --- registry ---------------------------------------------------------------------------------

    def employer(self, rfc: str) -> Optional[sqlite3.Row]:
        return self._one("SELECT * FROM employers WHERE rfc = ?", (rfc,))

    def worker_by_nss(self, nss: str) -> Optional[sqlite3.Row]:
        return self._one("SELECT * FROM workers WHERE nss = ?", (nss,))

    def worker_by_curp(self, curp: str) -> Optional[sqlite3.Row]:
        return self._one("SELECT * FROM workers WHERE curp = ?", (curp,))

    def add_employer(self, rfc: str, name: str, registro_patronal: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO employers VALUES (?, ?, ?)", (rfc, name, registro_patronal))

    def add_worker(self, nss: str, curp: str, name: str, *, person_seed: int = 0, eligible: bool = True) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO workers VALUES (?, ?, ?, ?, ?, NULL)",
                       (nss, curp, name, person_seed, 1 if eligible else 0))

    def add_alta(self, employer_rfc: str, nss: str, start: date) -> None:
        """Register a worker with an employer (its roster); an alta already there keeps its date."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO altas VALUES (?, ?, ?)", (employer_rfc, nss, start.isoformat()))

    def alta(self, employer_rfc: str, nss: str) -> Optional[sqlite3.Row]:
        return self._one("SELECT * FROM altas WHERE employer_rfc = ? AND nss = ?", (employer_rfc, nss))

    def roster_worker_by_curp(self, employer_rfc: str, curp: str) -> Optional[sqlite3.Row]:
        return self._one("SELECT w.* FROM workers w JOIN altas a ON a.nss = w.nss "
                         "WHERE a.employer_rfc = ? AND w.curp = ?", (employer_rfc, curp))

    def roster(self, employer_rfc: str, after: Optional[Tuple[str, int]], limit: int,
               status: Optional[str]) -> List[sqlite3.Row]:
        """One page of the employer's roster in (start date, alta) order, from after `after`
        (the last row's (start_date, rowid)); `status` filters on the caller's view."""
        sql = ("SELECT a.rowid AS alta_id, a.start_date, w.nss, w.curp, w.name, w.biometrics_employer "
               "FROM altas a JOIN workers w ON w.nss = a.nss WHERE a.employer_rfc = ?")
        args: List[Any] = [employer_rfc]
        if status == "none":
            sql += " AND w.biometrics_employer IS NULL"
        elif status == "enrolled":
            sql += " AND w.biometrics_employer = ?"
            args.append(employer_rfc)
        elif status == "enrolled_elsewhere":
            sql += " AND w.biometrics_employer IS NOT NULL AND w.biometrics_employer != ?"
            args.append(employer_rfc)
        if after is not None:
            sql += " AND (a.start_date > ? OR (a.start_date = ? AND a.rowid > ?))"
            args.extend([after[0], after[0], after[1]])
        sql += " ORDER BY a.start_date, a.rowid LIMIT ?"
        args.append(limit)
        return self._all(sql, tuple(args))

    def add_history(self, db: sqlite3.Connection, employer_rfc: str, nss: str, event: str, folio: str,
                    at: float) -> None:
        db.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?)", (employer_rfc, nss, event, folio, at))

    def history(self, employer_rfc: str, nss: str) -> List[sqlite3.Row]:
        """What happened to the worker's record as this employer saw it (oldest first)."""
        return self._all("SELECT event, folio, at FROM history WHERE employer_rfc = ? AND nss = ? ORDER BY at, rowid",
                         (employer_rfc, nss))

    def fingers_on_record(self, nss: str) -> List[int]:
        return [row[0] for row in self._all("SELECT position FROM templates WHERE nss = ? ORDER BY position", (nss,))]

    def template(self, nss: str, position: int) -> Tuple[bool, Optional[bytes]]:
        """(on record?, template bytes or None when the record holds no template data)."""
        row = self._one("SELECT template FROM templates WHERE nss = ? AND position = ?", (nss, position))
        return (row is not None, row[0] if row is not None else None)

    def photo(self, nss: str) -> Optional[Tuple[bytes, str]]:
        """(token JPEG, employer holding the record) of the worker's photo, None without one.

        Biometric personal data like the templates: only the record's holder moves it, and no
        route answers it (contract 2.2, Photos); tests read it here."""
        row = self._one("SELECT photo, employer_rfc FROM photos WHERE nss = ?", (nss,))
        return (bytes(row[0]), str(row[1])) if row is not None else None

    def has_photo(self, enrollment_id: str) -> bool:
        return self._one("SELECT 1 FROM photos WHERE enrollment_id = ?", (enrollment_id,)) is not None

    def templates_except(self, nss: str) -> Iterator[Tuple[str, int, bytes]]:
        for row in self._all("SELECT nss, position, template FROM templates WHERE nss != ? AND template IS NOT NULL",
                             (nss,)):
            yield row[0], row[1], row[2]

    # --- challenges and sessions ------------------------------------------------------------------

    def add_challenge(self, challenge_id: str, nonce: bytes, expires_at: float) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM challenges WHERE expires_at < ?", (time.time() - 3600,))
            db.execute("INSERT INTO challenges VALUES (?, ?, ?, 0)", (challenge_id, nonce, expires_at))

    def use_challenge(self, challenge_id: str) -> Optional[bytes]:
        """The nonce of a live, unused challenge (now marked used), else None."""
        with self.transaction() as db:
            row = db.execute("SELECT nonce, expires_at, used FROM challenges WHERE id = ?", (challenge_id,)).fetchone()
            if row is None or row["used"] or row["expires_at"] < time.time():
                return None
            db.execute("UPDATE challenges SET used = 1 WHERE id = ?", (challenge_id,))
            return bytes(row["nonce"])

    def add_session(self, token: str, refresh: str, employer_rfc: str, cert_der: bytes,
                    expires_at: float, refresh_expires_at: float) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, 0)",
                       (token_hash(token), token_hash(refresh), employer_rfc, cert_der, expires_at,
                        refresh_expires_at))

    def session(self, token: str) -> Optional[sqlite3.Row]:
        return self._one("SELECT * FROM sessions WHERE token_hash = ? AND revoked = 0", (token_hash(token),))

    def take_refresh(self, refresh: str) -> Optional[sqlite3.Row]:
        """The session of a live refresh token, revoked so the token works once."""
        with self.transaction() as db:
            row: Optional[sqlite3.Row] = db.execute("SELECT * FROM sessions WHERE refresh_hash = ? AND revoked = 0",
                                                    (token_hash(refresh),)).fetchone()
            if row is None or row["refresh_expires_at"] < time.time():
                return None
            db.execute("UPDATE sessions SET revoked = 1 WHERE token_hash = ?", (row["token_hash"],))
            return row

    def revoke(self, token: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE sessions SET revoked = 1 WHERE token_hash = ?", (token_hash(token),))

    def expire_sessions(self, scope: str) -> int:
        past = time.time() - 1
        with self.transaction() as db:
            if scope == "all":
                return db.execute("UPDATE sessions SET expires_at = ?, refresh_expires_at = ?", (past, past)).rowcount
            return db.execute("UPDATE sessions SET expires_at = ?", (past,)).rowcount

    # --- enrollments and transfers ----------------------------------------------------------------

    def enrollment_by_key(self, db: sqlite3.Connection, employer_rfc: str, key: str) -> Optional[sqlite3.Row]:
        row: Optional[sqlite3.Row] = db.execute("SELECT * FROM enrollments WHERE employer_rfc = ? AND idem_key = ?",
                                                (employer_rfc, key)).fetchone()
        return row

    def enrollment(self, enrollment_id: str, employer_rfc: str) -> Optional[sqlite3.Row]:
        return self._one("SELECT * FROM enrollments WHERE id = ? AND employer_rfc = ?", (enrollment_id, employer_rfc))

    def count_enrollments(self, nss: Optional[str] = None) -> int:
        if nss is None:
            row = self._one("SELECT COUNT(*) FROM enrollments")
        else:
            row = self._one("SELECT COUNT(*) FROM enrollments WHERE nss = ?", (nss,))
        return int(row[0]) if row is not None else 0

    def enrollment_keys(self) -> List[str]:
        """Idempotency keys of every accepted enrollment (the crash test compares them)."""
        return [row[0] for row in self._all("SELECT idem_key FROM enrollments ORDER BY received_at")]

    def transfer_by_key(self, db: sqlite3.Connection, employer_rfc: str, key: str) -> Optional[sqlite3.Row]:
        row: Optional[sqlite3.Row] = db.execute("SELECT * FROM transfers WHERE employer_rfc = ? AND idem_key = ?",
                                                (employer_rfc, key)).fetchone()
        return row

    @staticmethod
    def dumps(data: Dict[str, Any]) -> str:
        return json.dumps(data, sort_keys=True, ensure_ascii=False)
