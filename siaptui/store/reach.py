"""Can this station use its store?  The store half of `siaptui config check`.

Why a check apart from opening the store: whoever sets up a station wants to know, before a
clerk sits down, that the office server answers and accepts this station's credentials, or
that the local data folder can be written.  Opening the store would also create keys and
tables; this only looks.

- PostgreSQL (`store.url`): one connection with a short timeout.  The answer is reachable
  (with the server's version, the schema version and the stations it knows,
  siaptui.store.stations), or one of three refusals, each with its next step: the server does
  not answer (`store_check_unreachable`), it refuses the user or password
  (`store_check_auth`), or the database does not exist (`store_check_no_database`).  The server
  is named as host/database (`postgres.describe`), never with the password.
- SQLite: the data folder exists and a file can be written in it (`store_check_folder`).

libpq gives no SQLSTATE for a refused connection, only the server's text, so the refusals are
told apart by that text, in English and in the Spanish a server with lc_messages=es answers.
"""

from __future__ import annotations

import re
import tempfile
from typing import TYPE_CHECKING, Any, Optional

from siaptui.i18n import t
from siaptui.store.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.config import Settings

CHECK_TIMEOUT_S = 3
_NO_DATABASE = re.compile(r'database "[^"]*" does not exist|no existe la base de datos|base de datos «[^»]*» no existe')
_AUTH = re.compile(r"authentication failed|autentificaci[oó]n|autenticaci[oó]n|no pg_hba\.conf entry|"
                   r"no hay una l[ií]nea en pg_hba\.conf|role \"[^\"]*\" does not exist|no existe el rol|"
                   r"password|contraseña", re.IGNORECASE)


def refusal(location: str, exc: BaseException) -> StoreError:
    """The StoreError for a connection the server (or the network) refused, by its text."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    detail = first.split("FATAL:", 1)[1] if "FATAL:" in first else first.rsplit("failed: ", 1)[-1]
    detail = detail.strip()
    if _NO_DATABASE.search(text):
        code = "store_check_no_database"
    elif _AUTH.search(text):
        code = "store_check_auth"
    else:
        code = "store_check_unreachable"
    return StoreError(detail, code=code, file=location)


def check_server(url: str) -> list[str]:
    """Lines saying the server answers, or StoreError with the refusal (see the module doc)."""
    from siaptui.store.postgres import describe

    location = describe(url)
    try:
        import psycopg
    except ImportError:
        raise StoreError("psycopg no está instalado: pip install 'siaptui[postgres]'",
                         code="store_check_unreachable", file=location) from None
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=CHECK_TIMEOUT_S, application_name="siaptui-check")
    except psycopg.Error as exc:
        raise refusal(location, exc) from None
    from siaptui.store.postgres import PgConnection

    conn = PgConnection(raw, location)
    try:
        version = conn.execute("SHOW server_version").fetchone()[0]
        lines = [t("store.reach.server_ok", file=location, version=version)]
        lines += _schema_and_stations(conn)
    finally:
        conn.close()
    return lines


def _schema_and_stations(conn: Any) -> list[str]:
    """The schema version and the stations, when the first station has prepared the database."""
    from siaptui.store.stations import rows, when

    tables = {str(row[0]) for row in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").fetchall()}
    if "schema_version" not in tables:
        return [t("store.reach.empty")]
    schema = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    lines = [t("store.reach.schema", version=schema)]
    if "stations" not in tables:
        return lines
    seen = rows(conn)
    lines.append(t("store.reach.stations", count=len({r.name for r in seen})))
    for row in seen:
        state = t("store.reach.live") if row.live else t("store.reach.seen", seen=when(row.last_seen))
        lines.append(t("store.reach.station", name=row.name, machine=row.machine[:8], host=row.host,
                       address=row.address or "-", state=state))
    names = [r.name for r in seen]
    for name in sorted({n for n in names if names.count(n) > 1}):
        lines.append(t("store.reach.shared_name", name=name, count=names.count(name)))
    return lines


def check_folder(settings: Optional["Settings"]) -> list[str]:
    """The SQLite store's folder exists and takes a file, or StoreError store_check_folder."""
    from siaptui.config import data_dir

    try:
        folder = data_dir(settings)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".siaptui-check-"):
            pass
    except OSError as exc:
        where = getattr(exc, "filename", None) or (settings.store.data_dir if settings else "") or "-"
        raise StoreError(exc.strerror or str(exc), code="store_check_folder", file=str(where)) from None
    return [t("store.reach.folder_ok", file=folder)]


def check(settings: "Settings") -> list[str]:
    """What `config check` prints about the store: the server of store.url, else the data folder."""
    from siaptui.store.db import store_url

    url = store_url(settings)
    return check_server(url) if url else check_folder(settings)
