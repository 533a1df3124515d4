"""`siaptui outbox import FILE`: add a bundle exported on another terminal to this outbox.

The same import as the Bandeja's I (siaptui.store.export.import_bundle).  Importing is
idempotent: every item keeps its idempotency key, so importing twice, or on a terminal that
already sent the items, sends nothing twice.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from siaptui.store.bundle_cli import open_for_cli, passphrase


def main(args: argparse.Namespace, settings: Any) -> int:
    """Import the bundle; prints how many were added and how many were already here."""
    from siaptui.i18n import t
    from siaptui.store.errors import StoreError
    from siaptui.store.export import import_bundle

    path = Path(args.file).expanduser()
    if not path.is_file():  # say so before asking for a passphrase
        raise StoreError(str(path), code="store_bundle_not_found", file=str(path))
    secret, _ = passphrase(args, confirm=False)
    with open_for_cli(settings) as store:
        imported, skipped = import_bundle(store, path, secret, actor="cli")
    print(t("store.import_done", imported=imported, skipped=skipped))
    if imported:
        print(t("store.import.next"))
    return 0
