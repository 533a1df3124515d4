"""Telling a damaged database apart from every other SQLite failure, wherever it surfaces.

Why a guarded connection: a truncated or page-corrupted file does not fail when it is opened —
SQLite reads pages lazily, so "database disk image is malformed" can come from any SELECT in
any screen, or halfway through iterating rows.  Every connection the store opens is a
`GuardedConnection`, whose cursors turn the damage codes (SQLITE_CORRUPT, SQLITE_NOTADB,
SQLITE_IOERR) into `StoreError(code="store_damaged")` naming the file and pointing to
`siaptui store check` / `siaptui store recover`.  Other SQLite errors (locked, disk full) pass
through unchanged so `Store.transaction()` keeps mapping them to store_busy / store_write_failed.

`quick_check` at open catches damage before the clerk enrolls into a broken file; `check()`
is the full `integrity_check` behind `siaptui store check`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, NoReturn, Optional

from siaptui.store.errors import StoreError

# Primary SQLite result codes that mean "the bytes on disk are wrong or cannot be read".
_DAMAGE_CODES = {10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 26: "SQLITE_NOTADB"}
_DAMAGE_WORDS = ("malformed", "not a database", "disk i/o error", "corrupt")
MAX_PROBLEMS = 20


def is_damage(exc: BaseException) -> bool:
    """True for SQLite errors caused by the file's content, not by locks, space or mistakes."""
    if not isinstance(exc, sqlite3.Error):
        return False
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if isinstance(code, int):
        return (code & 0xFF) in _DAMAGE_CODES
    return any(word in str(exc).lower() for word in _DAMAGE_WORDS)


def damaged(path: Any, detail: str = "") -> StoreError:
    return StoreError(detail or "database damaged", code="store_damaged", file=str(path))


def _reraise(exc: sqlite3.Error, cursor: sqlite3.Cursor) -> NoReturn:
    # Close the failed statement now: a traceback keeping the cursor alive would otherwise keep
    # the file open (and locked) after Connection.close(), until the garbage collector runs.
    cursor.close()
    if is_damage(exc):
        raise damaged(getattr(cursor.connection, "db_path", "?"), str(exc)) from None
    raise exc


class GuardedCursor(sqlite3.Cursor):
    """A cursor whose damage errors become store_damaged, also while rows are fetched."""

    def execute(self, sql: str, parameters: Any = ()) -> "GuardedCursor":
        try:
            super().execute(sql, parameters)
        except sqlite3.Error as exc:
            _reraise(exc, self)
        return self

    def executemany(self, sql: str, seq: Iterable[Any]) -> "GuardedCursor":
        try:
            super().executemany(sql, seq)
        except sqlite3.Error as exc:
            _reraise(exc, self)
        return self

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            _reraise(exc, self)

    def fetchmany(self, size: Optional[int] = None) -> list[Any]:
        try:
            return super().fetchmany(self.arraysize if size is None else size)
        except sqlite3.Error as exc:
            _reraise(exc, self)

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            _reraise(exc, self)

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            _reraise(exc, self)


class GuardedConnection(sqlite3.Connection):
    """sqlite3.Connection whose `execute` goes through a GuardedCursor; `db_path` names the file."""

    db_path: str = "?"

    def cursor(self, factory: Any = GuardedCursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq: Iterable[Any]) -> Any:
        return self.cursor().executemany(sql, seq)


@dataclass
class CheckResult:
    """What `integrity_check` (or `quick_check`) said about one file."""

    path: Path
    ok: bool
    problems: list[str] = field(default_factory=list)
    empty: bool = False  # 0 bytes: SQLite calls that a valid empty database, we call it lost data


def run_check(conn: sqlite3.Connection, path: Path, *, quick: bool) -> CheckResult:
    """Run the pragma on an open connection; a file too damaged to answer is not ok either."""
    pragma = "quick_check" if quick else "integrity_check"
    try:
        rows = conn.execute(f"PRAGMA {pragma}({MAX_PROBLEMS})").fetchall()
    except StoreError as exc:  # the guard already recognised damage
        return CheckResult(path, False, [exc.detail])
    except sqlite3.Error as exc:
        if not is_damage(exc):
            raise
        return CheckResult(path, False, [str(exc)])
    problems = [str(row[0]) for row in rows if str(row[0]).lower() != "ok"]
    return CheckResult(path, not problems, problems)


def require_intact(conn: sqlite3.Connection, path: Path) -> None:
    """Stop opening a damaged file (quick_check: structure only, fast enough for every start)."""
    result = run_check(conn, path, quick=True)
    if not result.ok:
        raise damaged(path, "; ".join(result.problems[:3]))


def check(path: Path) -> CheckResult:
    """Full integrity check of a database file, opened without changing it."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(str(path), code="store_open_failed", file=str(path))
    if path.stat().st_size == 0:
        return CheckResult(path, False, empty=True)
    try:
        conn = sqlite3.connect(str(path), factory=GuardedConnection, isolation_level=None)
    except sqlite3.Error as exc:
        if is_damage(exc):
            return CheckResult(path, False, [str(exc)])
        raise StoreError(str(exc), code="store_open_failed", file=str(path)) from None
    conn.db_path = str(path)
    try:
        return run_check(conn, path, quick=False)
    finally:
        conn.close()
