"""`siaptui store check|recover`: what the clerk runs when the database is damaged.

The damaged-database message (error.store_damaged) names these two commands; they work on the
file directly, without opening it as a store (opening refuses a damaged file on purpose).
A station on an office's PostgreSQL server (store.url) has no file to check: the command says
so (error.store_sqlite_only) and points to the server's own tools.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from siaptui.config import Settings
from siaptui.i18n import t


def _database(args: argparse.Namespace, settings: Optional[Settings]) -> Path:
    if getattr(args, "db", None):
        return Path(args.db)
    from siaptui.store.db import default_path

    return default_path(settings)


def check_command(path: Path) -> int:
    """0 when the file passes integrity_check, 1 when it is damaged (problems listed)."""
    from siaptui.store.integrity import check

    result = check(path)
    if result.ok:
        print(t("store.check.ok", file=path))
        return 0
    print(t("store.check.empty" if result.empty else "store.check.damaged", file=path))
    for problem in result.problems:
        print(f"  {problem}")
    print(t("store.check.next", file=path))
    return 1


def recover_command(path: Path) -> int:
    """0 when every row was copied, 1 when some were lost (the report says which)."""
    from siaptui.store.recover import describe_report, recover

    report = recover(path)
    print("\n".join(describe_report(report)))
    return 0 if report.complete else 1


def main(args: argparse.Namespace, settings: Optional[Settings]) -> int:
    from siaptui.store.db import store_url

    url = store_url(settings)
    if url and not getattr(args, "db", None):
        from siaptui.store.errors import StoreError
        from siaptui.store.postgres import describe

        raise StoreError(str(args.action), code="store_sqlite_only", file=describe(url))
    path = _database(args, settings)
    if args.action == "check":
        return check_command(path)
    return recover_command(path)
