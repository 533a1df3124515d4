"""`siaptui outbox import FILE`: add a bundle exported on another terminal to this outbox.

Why a command as well as the Bandeja's dialog: the PC that can reach the portal may be a
server without the TUI running, where cron's `python -m siaptui.store.sender --once` does the
sending.  The passphrase is asked without echo; scripts give it in SIAPTUI_BUNDLE_PASSPHRASE
or on the first line of standard input (`--passphrase-stdin`), never as a flag (flags show in
`ps`).  Importing is idempotent: every item keeps its idempotency key.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

PASSPHRASE_ENV = "SIAPTUI_BUNDLE_PASSPHRASE"


def _passphrase(args: argparse.Namespace) -> str:
    """From the environment, else standard input when asked to or when it is not a terminal,
    else typed without echo."""
    from siaptui.i18n import t

    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if getattr(args, "passphrase_stdin", False) or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    try:
        return getpass.getpass(t("store.import.passphrase_prompt"))
    except EOFError:
        return ""


def main(args: argparse.Namespace, settings: Any) -> int:
    """Import the bundle; prints how many were added and how many were already here."""
    from siaptui.i18n import t
    from siaptui.store.db import open_store
    from siaptui.store.errors import StoreError
    from siaptui.store.export import import_bundle

    path = Path(args.file).expanduser()
    if not path.is_file():  # say so before asking for a passphrase
        raise StoreError("no existe o no es un archivo", code="store_bundle_invalid", file=str(path))
    passphrase = _passphrase(args)
    with open_store(settings=settings, passphrase=os.environ.get("SIAPTUI_STORE_PASSPHRASE") or None) as store:
        imported, skipped = import_bundle(store, path, passphrase, actor="cli")
    print(t("store.import_done", imported=imported, skipped=skipped))
    if imported:
        print(t("store.import.next"))
    return 0
