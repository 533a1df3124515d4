"""`siaptui store recover`: copy what a damaged database still holds into a new file.

Why row by row and not `VACUUM INTO` or `iterdump`: both stop at the first unreadable page,
so one bad leaf would cost every row after it.  Here each table is read in rowid order; when
a read fails, the reader jumps ahead (1, 2, 4 … rowids) until it finds readable rows again, and
the skipped rowid range is reported as lost.  The new file gets the current schema from the
store's own migrations, so it opens like any other store (clear identity columns of an older
file are sealed by `open_store` as usual).

Nothing is ever overwritten: the new file is written under a temporary name, checked, fsync'd,
and only then the damaged file (with its -wal and -shm, which may hold the newest commits) is
renamed aside to `siaptui.damaged-<UTC time>.db` and the new one takes the database's name.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from siaptui.store.connection import Database
from siaptui.store.errors import StoreError
from siaptui.store.integrity import GuardedConnection, is_damage, run_check
from siaptui.store.schema import SCHEMA_VERSION, migrate

# Tables copied, in this order (meta first: it holds the key id that ties the file to its key).
# schema_version is not copied: the new file already has the current schema.
TABLES = ("meta", "outbox", "gallery", "images", "photos", "audit")
_MAX_JUMP = 1 << 40


@dataclass
class TableReport:
    """How much of one table made it into the new file."""

    name: str
    saved: int = 0
    lost_ranges: list[tuple[int, int]] = field(default_factory=list)  # rowids skipped, inclusive
    unreadable: bool = False  # the table's structure itself could not be read


@dataclass
class RecoveryReport:
    path: Path  # the database's name: now the recovered file
    damaged_copy: Path  # where the damaged file (and its -wal/-shm) now lies
    tables: list[TableReport]

    @property
    def complete(self) -> bool:
        return all(not table.lost_ranges and not table.unreadable for table in self.tables)


def _stamp(now: _dt.datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


def _free_name(folder: Path, stem: str, suffix: str) -> Path:
    """A name no file has yet (sidecar -wal/-shm included), so nothing is ever overwritten."""
    for n in range(1000):
        candidate = folder / (f"{stem}{suffix}" if n == 0 else f"{stem}-{n}{suffix}")
        if not any(Path(f"{candidate}{side}").exists() for side in ("", "-wal", "-shm", "-journal")):
            return candidate
    raise StoreError("no free name", code="store_write_failed", file=str(folder / stem))


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})").fetchall()]


def _read_rows(conn: sqlite3.Connection, table: str, columns: list[str],
               report: TableReport) -> Iterator[tuple[Any, ...]]:
    """Every readable row of `table` in rowid order, skipping (and recording) damaged stretches."""
    select = f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE rowid > ? ORDER BY rowid"
    last = -(1 << 62)
    jump = 0
    while True:
        start = last if jump == 0 else last + jump
        try:
            cursor = conn.execute(select, (start,))
            for row in cursor:
                if jump:
                    report.lost_ranges.append((last + 1, int(row[0]) - 1))
                    jump = 0
                last = int(row[0])
                yield tuple(row[1:])
            if jump:  # nothing readable after the damage: the rest of the table is lost
                report.lost_ranges.append((last + 1, -1))
            return
        except StoreError:
            pass  # the guard recognised damage: jump further ahead
        if last == -(1 << 62):
            last = 0
        jump = 1 if jump == 0 else jump * 2
        if jump > _MAX_JUMP:
            report.lost_ranges.append((last + 1, -1))
            return


def _copy_table(src: sqlite3.Connection, dst: sqlite3.Connection, table: str) -> TableReport:
    report = TableReport(table)
    try:
        src_columns = _columns(src, table)
    except StoreError:
        report.unreadable = True
        return report
    if not src_columns:  # absent in the damaged file (or its schema entry is gone)
        report.unreadable = True
        return report
    columns = [name for name in _columns(dst, table) if name in src_columns]
    insert = f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    dst.execute("BEGIN IMMEDIATE")
    try:
        for row in _read_rows(src, table, columns, report):
            dst.execute(insert, row)
            report.saved += 1
    except BaseException:
        dst.execute("ROLLBACK")
        raise
    dst.execute("COMMIT")
    return report


def _source_version(src: sqlite3.Connection) -> Optional[int]:
    try:
        row = src.execute("SELECT MAX(version) FROM schema_version").fetchone()
    except (StoreError, sqlite3.OperationalError):
        return None
    return None if row is None or row[0] is None else int(row[0])


def _fsync(path: Path) -> None:
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:  # a folder cannot be opened on Windows; its rename is durable there anyway
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hold_exclusively(path: Path) -> Optional[sqlite3.Connection]:
    """A connection holding the file exclusively, or store_busy while another siaptui has it open.

    Exclusive locking mode fails at once even against an idle connection, and keeps everyone
    else out while the rows are copied: moving the file under a running terminal would split
    its writes from the recovered copy.  None when the file is too damaged to take the lock.
    """
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=1.0)
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        conn.close()
        if is_damage(exc):
            return None
        raise StoreError(str(exc), code="store_busy", file=str(path)) from None
    return conn


def _reading_copy(path: Path, copy: Path) -> sqlite3.Connection:
    """Open a byte copy of the damaged file (and its WAL) to read from.

    Reading the damaged file itself would let SQLite write to it when the lenient connection
    closes; the copy keeps the file set aside exactly as it was found.
    """
    for side in ("", "-wal"):
        if Path(f"{path}{side}").exists():
            shutil.copyfile(f"{path}{side}", f"{copy}{side}")
    conn = sqlite3.connect(str(copy), factory=GuardedConnection, isolation_level=None)
    conn.db_path = str(path)
    # Read the schema leniently: a truncated file fails SQLite's schema checks (root pages past
    # the end) although most tables are still readable.
    conn.execute("PRAGMA writable_schema = ON")
    return conn


def _remove(path: Path) -> None:
    for side in ("", "-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)


def recover(path: Path, *,
            now: Callable[[], _dt.datetime] = lambda: _dt.datetime.now(_dt.timezone.utc)) -> RecoveryReport:
    """Rebuild `path` from its readable rows; the damaged file is kept aside, never deleted."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise StoreError(str(path), code="store_recover_nothing", file=str(path))
    stamp = _stamp(now())
    new_path = _free_name(path.parent, f"{path.stem}.recovered-{stamp}", ".tmp")
    reading = _free_name(path.parent, f"{path.stem}.reading-{stamp}", ".tmp")
    aside = _free_name(path.parent, f"{path.stem}.damaged-{stamp}", path.suffix)
    holder = _hold_exclusively(path)
    try:
        src = _reading_copy(path, reading)
        try:
            tables = _rebuild(src, path, new_path)
        finally:
            src.close()
            _remove(reading)
    except BaseException:
        _remove(new_path)
        if holder is not None:
            holder.close()
        raise
    if holder is not None:
        holder.close()
    for side in ("-wal", "-shm"):
        Path(f"{new_path}{side}").unlink(missing_ok=True)  # checkpointed and closed: empty
    new_path.chmod(0o600)
    _fsync(new_path)
    for side in ("", "-wal", "-shm"):
        if Path(f"{path}{side}").exists():
            os.rename(f"{path}{side}", f"{aside}{side}")
    os.rename(new_path, path)
    _fsync(path.parent)
    return RecoveryReport(path, aside, tables)


def _rebuild(src: sqlite3.Connection, path: Path, new_path: Path) -> list[TableReport]:
    """Write every readable row of `src` into a fresh store file at `new_path` and check it."""
    found = _source_version(src)
    if found is not None and found > SCHEMA_VERSION:
        raise StoreError(str(found), code="store_schema_newer", file=str(path), found=found,
                         supported=SCHEMA_VERSION)
    fresh = Database(new_path)
    try:
        migrate(fresh)
        dst = fresh.connection()
        tables = [_copy_table(src, dst, table) for table in TABLES]
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        result = run_check(dst, new_path, quick=False)
    finally:
        fresh.close()
    if not result.ok:
        raise StoreError("; ".join(result.problems[:3]), code="store_write_failed", file=str(new_path))
    return tables


def describe_report(report: RecoveryReport) -> list[str]:
    """The clerk's lines: what was saved, what was lost, where the damaged file is."""
    from siaptui.i18n import t

    lines = [t("store.recover.done", file=report.path)]
    for table in report.tables:
        if table.name == "meta":
            continue
        label = t(f"store.recover.table.{table.name}")
        lines.append(t("store.recover.saved", table=label, count=table.saved))
        if table.unreadable:
            lines.append(t("store.recover.unreadable", table=label))
        for first, last in table.lost_ranges:
            if last < 0:
                lines.append(t("store.recover.lost_tail", table=label, first=first))
            else:
                lines.append(t("store.recover.lost", table=label, first=first, last=last))
    lines.append(t("store.recover.complete") if report.complete else t("store.recover.incomplete"))
    lines.append(t("store.recover.aside", file=report.damaged_copy))
    return lines
