"""The store's connection to an office's PostgreSQL server (psycopg 3), shaped like sqlite3's.

Why an adapter: the outbox, gallery and audit code calls `conn.execute(sql, params)` with `?`
placeholders and reads tuples, as with sqlite3.  `PgConnection` gives the same surface over a
psycopg connection in autocommit mode (so `Store.transaction()` issues BEGIN/COMMIT itself,
as it does for SQLite), turns `?` into psycopg's `%s`, and turns a lost or refused server
into `StoreError(code="store_unreachable")` naming the server, never the password.

What a station does when the server is unreachable: it refuses (docs/office.md).  Nothing is
queued on the station's disk: an enrollment is either committed on the server, where every
station can see and send it, or the clerk is told it was not saved and why.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from siaptui.store.errors import StoreError

CONNECT_TIMEOUT_S = 5
SCRUB_LOCK_TIMEOUT = "1s"
# Tables whose deleted rows may hold (encrypted) biometric or identity data.
SCRUBBED_TABLES = ("gallery", "images", "outbox")


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def describe(url: str) -> str:
    """host/database of a connection URL, for messages (never the password)."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(url)
    except Exception:  # noqa: BLE001 - a URL psycopg cannot parse is described by its scheme only
        return "postgresql://?"
    host = str(parts.get("host") or "localhost")
    if host.startswith("/"):
        host = "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{host}{port}/{parts.get('dbname') or ''}"


def _placeholders(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class PgConnection:
    """A psycopg connection with sqlite3's `execute` and `in_transaction`."""

    def __init__(self, raw: Any, location: str) -> None:
        self._raw = raw
        self.location = location

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        import psycopg

        try:
            return self._raw.execute(_placeholders(sql), tuple(parameters))
        except psycopg.OperationalError as exc:
            if self.broken:  # the server went away mid-session: say so, reconnect next time
                raise unreachable(self.location, exc) from None
            raise

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self._raw.info.transaction_status != TransactionStatus.IDLE)

    @property
    def broken(self) -> bool:
        return bool(self._raw.closed or self._raw.broken)

    def close(self) -> None:
        try:
            self._raw.close()
        except Exception:  # noqa: BLE001 - closing never matters more than the caller
            pass


def unreachable(location: str, exc: BaseException) -> StoreError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreError(detail, code="store_unreachable", file=location)


def connect(url: str) -> PgConnection:
    """Open one connection, or store_unreachable with the server named."""
    location = describe(url)
    try:
        import psycopg
    except ImportError:
        raise StoreError("psycopg no está instalado: pip install 'siaptui[postgres]'", code="store_unreachable",
                         file=location) from None
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                              application_name="siaptui")
    except psycopg.Error as exc:
        raise unreachable(location, exc) from None
    return PgConnection(raw, location)


def errors() -> tuple[type[BaseException], ...]:
    """The driver's error classes (none without the driver: connect() then says it is missing)."""
    try:
        import psycopg
    except ImportError:
        return ()
    return (psycopg.Error,)


def scrub(conn: PgConnection) -> bool:
    """Rewrite the tables that held deleted rows (VACUUM FULL), so no dead tuple keeps their bytes.

    Returns False when another station holds one of the tables (the short lock timeout keeps
    the clerk from waiting); `siaptui.store.scrub` keeps the scrub pending and tries again.
    The server's WAL and backups are the server's: docs/office.md says how long they keep data.
    """
    import psycopg

    try:
        conn.execute(f"SET lock_timeout = '{SCRUB_LOCK_TIMEOUT}'")
        conn.execute(f"VACUUM (FULL) {', '.join(SCRUBBED_TABLES)}")
    except psycopg.errors.LockNotAvailable:
        return False
    finally:
        if not conn.broken:
            conn.execute("RESET lock_timeout")
    return True


def version(conn: PgConnection) -> Optional[str]:
    row = conn.execute("SHOW server_version").fetchone()
    return None if row is None else str(row[0])
