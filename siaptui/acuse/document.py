"""The acuse as files: a PDF to print and hand over, a PNG of its QR code, saved atomically.

Why a vector QR in the PDF (one filled square per dark module) rather than an embedded image:
it prints sharp on any printer at any scale and needs no image library.  The core Helvetica font
with the Windows-1252 encoding covers Spanish (á, ñ, ¿, —); a character outside it (rare in
portal text) prints as "?", never stops the document.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from siaptui.acuse.qr import QUIET_ZONE, modules
from siaptui.acuse.record import Acuse, AcuseError, file_stem, local_time, payload
from siaptui.files import atomic_write
from siaptui.i18n import t

ENCODING = "windows-1252"
QR_SIZE_MM = 55.0
PNG_SCALE = 8
"""Pixels per module in the PNG: a 37-module code is 360 px with its quiet zone."""


@dataclass(frozen=True)
class Saved:
    pdf: Path
    png: Path


def _latin(text: str) -> str:
    return text.encode(ENCODING, errors="replace").decode(ENCODING)


def pdf_bytes(acuse: Acuse, *, now: Optional[Callable[[], float]] = None) -> bytes:
    """The printable acuse: title, the fields of the QR, the code itself and the portal's text."""
    from datetime import datetime

    from fpdf import FPDF

    pdf = FPDF(format="letter", unit="mm")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_title(_latin(t("acuse.doc.title") + " " + acuse.folio))
    pdf.set_creator("siaptui")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, _latin(t("acuse.doc.title")), new_x="LMARGIN", new_y="NEXT")
    if acuse.training:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, _latin(t("acuse.doc.training")), new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 3
    _draw_qr(pdf, payload(acuse), x=pdf.w - pdf.r_margin - QR_SIZE_MM, y=top)
    pdf.set_y(top)
    label_w, value_w = 42.0, pdf.w - pdf.l_margin - pdf.r_margin - QR_SIZE_MM - 46.0
    fields = [
        (t("acuse.doc.folio"), acuse.folio),
        (t("acuse.doc.received"), f"{local_time(acuse.received_at)} ({acuse.received_at})"),
        (t("acuse.doc.employer"), acuse.employer_rfc or "-"),
        (t("acuse.doc.worker"), acuse.masked_nss or "-"),
        (t("acuse.doc.seal"), acuse.seal or t("acuse.doc.no_seal")),
    ]
    for label, value in fields:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(label_w, 6, _latin(label))
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(value_w, 6, _latin(value), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + QR_SIZE_MM) + 6)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, _latin(t("acuse.doc.portal_text")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", "", 9)
    pdf.multi_cell(0, 4.6, _latin(acuse.masked_text() or "-"), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    made = datetime.fromtimestamp((now or time.time)()).strftime("%d/%m/%Y %H:%M")
    pdf.multi_cell(0, 5, _latin(t("acuse.doc.instructions") + "\n" + t("acuse.doc.generated", when=made)),
                   align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _draw_qr(pdf: Any, text: str, *, x: float, y: float) -> None:
    matrix = modules(text, QUIET_ZONE)
    cell = QR_SIZE_MM / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row, line in enumerate(matrix):
        column = 0
        while column < len(line):
            if not line[column]:
                column += 1
                continue
            start = column
            while column < len(line) and line[column]:
                column += 1
            # One rectangle per run of dark modules: fewer operators, no hairline gaps.
            pdf.rect(x + start * cell, y + row * cell, (column - start) * cell, cell, style="F")


def png_bytes(acuse: Acuse) -> bytes:
    """The QR alone, for a phone, a message or a second print."""
    from siaptui.acuse.qr import symbol

    out = io.BytesIO()
    symbol(payload(acuse)).save(out, kind="png", scale=PNG_SCALE, border=QUIET_ZONE)
    return out.getvalue()


def save(acuse: Acuse, folder: Path, *, now: Optional[Callable[[], float]] = None) -> Saved:
    """Write `acuse-<folio>.pdf` and `.png` into `folder`, each atomically (never half a file)."""
    folder = Path(folder).expanduser()
    stem = file_stem(acuse.folio)
    saved = Saved(pdf=folder / f"{stem}.pdf", png=folder / f"{stem}.png")
    write_pdf(acuse, saved.pdf, now=now)
    write_png(acuse, saved.png)
    return saved


def write_pdf(acuse: Acuse, path: Path, *, now: Optional[Callable[[], float]] = None) -> Path:
    return _write(path, pdf_bytes(acuse, now=now))


def write_png(acuse: Acuse, path: Path) -> Path:
    return _write(path, png_bytes(acuse))


def _write(path: Path, data: bytes) -> Path:
    path = Path(path).expanduser()
    if path.is_dir():
        raise AcuseError(str(path), code="acuse_path_is_folder", path=str(path))
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise AcuseError(exc.strerror or str(exc), code="acuse_write_failed", path=str(path)) from None
    return path
