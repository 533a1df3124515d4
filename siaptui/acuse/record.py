"""What an acuse says, read from the outbox's stored acknowledgement, and the QR payload.

Why from the outbox item and not from the screen's state: the Bandeja and the command line
reopen an acuse long after the enrollment screens are gone; the store's record (folio, acuse
text, time, employer RFC, worker NSS) is the one source for all three.

Why the NSS and CURP are masked on the document: the paper leaves the office (printer tray,
the worker's pocket); the folio and the portal's seal identify the record at the IMSS.  The
seal is the receipt's own field (contract 2.2), for enrollments and transfers alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Optional

from siaptui.errors import SiaptuiError
from siaptui.identity import mask_curp, mask_nss
from siaptui.portal.seal import short

CURP_LIKE = re.compile(r"\b[A-Z]{4}\d{6}[HMX][A-Z]{5}[0-9A-Z]\d\b")


class AcuseError(SiaptuiError):
    code = "acuse_failed"


@dataclass(frozen=True)
class Acuse:
    """One acknowledged enrollment, as the document shows it."""

    folio: str
    employer_rfc: str
    worker_nss: str
    received_at: str
    """The portal's UTC ISO 8601 timestamp (`2026-05-28T20:26:40Z`)."""
    text: str
    """The portal's acuse text, verbatim (the document prints it with NSS/CURP masked)."""
    training: bool
    seal: Optional[str] = None
    """The portal's seal (contract 2.2 `seal`, `siaptui.portal.seal`): its signature of the folio
    and text; None when the portal gave none."""

    @property
    def masked_nss(self) -> str:
        return mask_nss(self.worker_nss)

    @property
    def date(self) -> str:
        """The portal's date of receipt (UTC, as in the folio), `YYYY-MM-DD`."""
        return (self.received_at or "")[:10]

    def masked_text(self) -> str:
        """The portal's text with the worker's NSS and any CURP masked."""
        text = self.text or ""
        if self.worker_nss:
            text = text.replace(self.worker_nss, self.masked_nss)
        return CURP_LIKE.sub(lambda m: mask_curp(m.group(0)), text)


def local_time(text: str) -> str:
    """The portal's UTC ISO timestamp in this computer's local time, as a clerk reads it."""
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except (TypeError, ValueError, AttributeError):
        return text or "-"
    return moment.astimezone().strftime("%d/%m/%Y %H:%M:%S")


def payload(acuse: Acuse) -> str:
    """The QR content: labelled fields in QR alphanumeric characters (upper case, `:`, `-`, `*`).

    Why alphanumeric: 5.5 bits a character instead of 8, so the payload fits a version-5 symbol
    that a phone reads off an 80×24 terminal drawn with half-blocks.
    """
    parts = [f"FOLIO:{acuse.folio}", f"RFC:{acuse.employer_rfc}", f"NSS:{acuse.masked_nss}",
             f"FECHA:{acuse.date}"]
    if acuse.seal:
        # The seal's first 128 bits in hexadecimal: the whole seal is on the PDF.
        parts.append(f"SELLO:{short(acuse.seal)}")
    return " ".join(parts)


def from_item(item: Any) -> Acuse:
    """The acuse of a sent outbox item; AcuseError when the portal has not acknowledged it yet."""
    if getattr(item, "state", None) != "sent" or not getattr(item, "folio", None):
        raise AcuseError(str(getattr(item, "id", "")), code="acuse_not_sent", id=getattr(item, "id", "?"))
    return Acuse(folio=str(item.folio), employer_rfc=str(item.employer_rfc or ""),
                 worker_nss=str(item.worker_nss or ""), received_at=str(item.received_at or ""),
                 text=str(item.acuse or ""), training=bool(item.training), seal=getattr(item, "seal", None) or None)


def find(items: Iterable[Any], folio: str) -> Acuse:
    """The acuse with this folio among the outbox's items (case and blanks ignored)."""
    wanted = "".join(str(folio or "").split()).upper()
    for item in items:
        if getattr(item, "state", None) == "sent" and str(getattr(item, "folio", "") or "").upper() == wanted:
            return from_item(item)
    raise AcuseError(wanted, code="acuse_folio_unknown", folio=wanted or "-")


def file_stem(folio: str) -> str:
    """A file name from the folio that every file system accepts (`acuse-SBX-20260528-000001`)."""
    safe = re.sub(r"[^0-9A-Za-z._-]+", "_", folio).strip("._") or "sin-folio"
    return f"acuse-{safe}"
