"""`siaptui acuse FOLIO [--pdf FILE] [--png FILE] [--print]`: an acuse again, without the TUI.

Why: the worker lost the paper, or the office PC's screen is broken; the folio (from the Bandeja,
a CSV or the portal) is enough to write the PDF/PNG again or send it to the printer.  The store
is only read: a terminal without a store gets a message, not a new empty database.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from siaptui.acuse.record import AcuseError, file_stem, find
from siaptui.i18n import t


def main(args: argparse.Namespace, settings: Any) -> int:
    from siaptui import config
    from siaptui.acuse import document, printing
    from siaptui.store.db import default_path, open_store, store_url

    database = default_path(settings)
    if not store_url(settings) and not database.exists():  # an office server has no file here
        raise AcuseError(str(database), code="acuse_no_store", path=str(database.parent))
    store = open_store(settings=settings)
    try:
        acuse = find(store.outbox.items("sent"), args.folio)
    finally:
        store.close()
    pdf = Path(args.pdf) if args.pdf else None
    png = Path(args.png) if args.png else None
    if pdf is None and png is None:
        folder = config.acuse_dir(settings)
        pdf, png = folder / f"{file_stem(acuse.folio)}.pdf", folder / f"{file_stem(acuse.folio)}.png"
    written = []
    if pdf is not None:
        written.append(document.write_pdf(acuse, pdf))
    if png is not None:
        written.append(document.write_png(acuse, png))
    for path in written:
        print(t("cli.acuse.written", folio=acuse.folio, path=str(path)))
    if args.print:
        if pdf is None:
            folder = config.acuse_dir(settings)
            pdf = document.write_pdf(acuse, folder / f"{file_stem(acuse.folio)}.pdf")
            print(t("cli.acuse.written", folio=acuse.folio, path=str(pdf)))  # the print errors do not name it
        job = printing.send_to_printer(pdf)
        print(t("cli.acuse.printed", folio=acuse.folio, command=job.command, answer=job.answer).rstrip())
    sys.stdout.flush()
    return 0
