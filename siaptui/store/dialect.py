"""What differs between SQLite and PostgreSQL for the store, and nothing else.

Why a thin layer rather than two stores: the outbox, gallery, audit and identity code is the
same for one PC and for an office, so a fix in one is a fix in both.  The store's SQL is
written once in the common subset (`?` placeholders, `ON CONFLICT` upserts, CASE instead of
MAX/GREATEST); the few places that must differ ask the dialect:

- `ddl()` turns the migrations' SQLite column types into PostgreSQL ones (BLOB → BYTEA,
  AUTOINCREMENT → BIGSERIAL, REAL → DOUBLE PRECISION) and expands `AppendOnly` into each
  server's trigger syntax;
- `insert()` returns the new row's id: `lastrowid` on SQLite (no RETURNING before SQLite
  3.35, which older Linux distributions still ship), `RETURNING id` on PostgreSQL;
- `lock()` serialises a read-then-write sequence (next audit id, migrations, the first key):
  SQLite's `BEGIN IMMEDIATE` already holds the single write lock, PostgreSQL takes a
  transaction-scoped advisory lock;
- `for_update()` / `skip_locked()` add the row locks that let several stations claim outbox
  items without waiting for each other.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any, Sequence, Union


@dataclass(frozen=True)
class AppendOnly:
    """A migration step: refuse UPDATE and DELETE on `table` in the database itself."""

    table: str


Statement = Union[str, AppendOnly]

_PG_TYPES = (
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGSERIAL PRIMARY KEY"),
    (re.compile(r"\bid INTEGER PRIMARY KEY\b"), "id BIGINT PRIMARY KEY"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
)


class Dialect:
    """SQLite: the defaults, since the store's SQL is written for it first."""

    name = "sqlite"

    def ddl(self, statement: Statement) -> list[str]:
        if isinstance(statement, AppendOnly):
            table = statement.table
            return [f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} log is append-only'); END",
                    f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} log is append-only'); END"]
        return [statement]

    def insert(self, conn: Any, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT into a table with an `id` key and return the new row's id."""
        return int(conn.execute(sql, params).lastrowid)

    def lock(self, conn: Any, name: str) -> None:
        """Inside a transaction: one writer at a time for `name` (BEGIN IMMEDIATE already is)."""

    def for_update(self) -> str:
        return ""

    def skip_locked(self) -> str:
        return ""


class PostgresDialect(Dialect):
    name = "postgresql"

    def ddl(self, statement: Statement) -> list[str]:
        if isinstance(statement, AppendOnly):
            table = statement.table
            return [f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$fn$ BEGIN RAISE EXCEPTION '{table} log is append-only'; END $fn$",
                    f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"]
        for pattern, replacement in _PG_TYPES:
            statement = pattern.sub(replacement, statement)
        return [statement]

    def insert(self, conn: Any, sql: str, params: Sequence[Any]) -> int:
        return int(conn.execute(f"{sql} RETURNING id", params).fetchone()[0])

    def lock(self, conn: Any, name: str) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(?)", (zlib.crc32(f"siaptui/{name}".encode()),))

    def for_update(self) -> str:
        return " FOR UPDATE"

    def skip_locked(self) -> str:
        return " FOR UPDATE SKIP LOCKED"


def set_meta(conn: Any, key: str, value: str) -> None:
    """Insert or replace one `meta` row (the upsert both servers accept, SQLite from 3.24)."""
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 (key, value))


SQLITE = Dialect()
POSTGRES = PostgresDialect()
