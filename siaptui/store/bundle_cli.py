"""What `siaptui outbox export` and `outbox import` share: the passphrase and the store.

Why commands as well as the Bandeja's dialogs: the PC to export from may be reached only over
SSH by a supporter, and the PC that can reach the portal may be a server without the TUI
running, where cron's `python -m siaptui.store.sender --once` does the sending.  Both commands
call the Bandeja's own code (siaptui.store.export).  The passphrase is typed without echo
(twice when exporting); scripts give it in SIAPTUI_BUNDLE_PASSPHRASE or on the first line of
standard input (`--passphrase-stdin`), never as a flag (flags show in `ps`).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Optional

PASSPHRASE_ENV = "SIAPTUI_BUNDLE_PASSPHRASE"


def passphrase(args: argparse.Namespace, *, confirm: bool) -> tuple[str, Optional[str]]:
    """(passphrase, its second typing): from the environment, else standard input when asked to
    or when it is not a terminal, else typed without echo — twice when `confirm`."""
    from siaptui.i18n import t

    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV], None
    if getattr(args, "passphrase_stdin", False) or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n"), None
    import getpass

    try:
        first = getpass.getpass(t("store.import.passphrase_prompt"))
        if not confirm:
            return first, None
        from siaptui.store.export import check_passphrase

        check_passphrase(first)  # too short: say so now, not after the second typing
        return first, getpass.getpass(t("store.export.passphrase_again_prompt"))
    except EOFError:
        return "", None


def open_for_cli(settings: Any) -> Any:
    """The store the settings name (SIAPTUI_STORE_PASSPHRASE unlocks a passphrase-protected key)."""
    from siaptui.store.db import open_store

    return open_store(settings=settings, passphrase=os.environ.get("SIAPTUI_STORE_PASSPHRASE") or None)
