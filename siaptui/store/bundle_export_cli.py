"""`siaptui outbox export [--out FILE]`: this terminal's unsent work, encrypted, for another one.

The same export as the Bandeja's E (siaptui.store.export.export_pending): what waits to be sent,
never the rejected items.  Exit codes: 0 the bundle was written, 3 nothing was waiting to be
sent (no file written), 1 an error (its message and next step on stderr), 2 a bad command line.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from siaptui.store.bundle_cli import open_for_cli, passphrase

NOTHING_TO_EXPORT = 3


def main(args: argparse.Namespace, settings: Any) -> int:
    """Write this terminal's unsent enrollments to an encrypted bundle; says where and how many."""
    from siaptui import config
    from siaptui.i18n import t
    from siaptui.store.export import check_passphrase, default_bundle_path, export_pending

    with open_for_cli(settings) as store:
        path = Path(args.out).expanduser() if args.out else default_bundle_path(config.data_dir(settings),
                                                                                store.clock())
        if not store.outbox.pending():  # say so before asking for a passphrase
            print(t("outbox.export.nothing"))
            return NOTHING_TO_EXPORT
        secret, again = passphrase(args, confirm=True)
        check_passphrase(secret, again)
        count = export_pending(store, path, secret, actor="cli")
    if not count:  # the sender got them all out while the passphrase was typed
        print(t("outbox.export.nothing"))
        return NOTHING_TO_EXPORT
    print(t("outbox.export.done", count=count, path=str(path)))
    print(t("store.export.next", path=str(path)))
    return 0
