"""Pendientes as plain Python: the employer's roster from the portal, each worker's status
today, sorted by urgency, filtered, and written out as CSV.

Why here and not in the screen: "who is due" is a rule (5 business days after the alta,
Mexican federal holidays excluded) whose deadline the portal computes — it knows the official
calendar — while *today* is this terminal's clock (injectable, so tests freeze it across a
holiday).  The order is the clerk's to-do list: overdue first (the longest overdue at the top),
then the ones still in time by nearest deadline, the enrolled last.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

STATUSES = ("overdue", "pending", "transfer", "enrolled")
"""What a roster line needs: overdue (past the deadline without biometrics here), pending
(capture, still in time), transfer (registered by another employer, in time), enrolled."""

PAGE_SIZE = 100
"""The contract's largest page: the fewest round trips over a slow link."""

MAX_PAGES = 1000
"""A portal that keeps answering a next page is faulty; stop instead of looping for ever."""

_RANK = {"overdue": 0, "pending": 1, "transfer": 1, "enrolled": 2}


@dataclass(frozen=True)
class RosterLine:
    """One worker of the roster as Pendientes shows it."""

    nss: str
    curp: str
    name: str
    start_date: date
    deadline: date
    status: str

    def matches(self, text: str) -> bool:
        """Typed text found in the name (accents and case ignored), the NSS or the CURP."""
        wanted = _fold(text)
        return not wanted or wanted in _fold(self.name) or wanted in self.nss or wanted in _fold(self.curp)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


async def fetch_roster(client: Any) -> List[Any]:
    """Every `RosterEntry` of the employer's roster, all pages (`GET /v1/workers`)."""
    from siaptui.i18n import t
    from siaptui.portal.errors import PortalBadResponse

    entries: List[Any] = []
    cursor: Optional[str] = None
    seen = set()
    for _ in range(MAX_PAGES):
        page = await client.list_workers(limit=PAGE_SIZE, cursor=cursor)
        entries.extend(page.workers)
        cursor = page.next_cursor
        if cursor is None:
            return entries
        if cursor in seen:
            break
        seen.add(cursor)
    raise PortalBadResponse("roster pages do not end", reason=t("portal.bad.fields"), kind="fields")


def status_of(entry: Any, today: date) -> str:
    if entry.biometric_status == "enrolled":
        return "enrolled"
    if entry.overdue(today):
        return "overdue"
    return "transfer" if entry.biometric_status == "enrolled_elsewhere" else "pending"


def lines_for(entries: Iterable[Any], today: date) -> List[RosterLine]:
    """The roster as lines, most urgent first."""
    lines = [RosterLine(e.nss, e.curp, e.name, e.start_date, e.enrollment_deadline, status_of(e, today))
             for e in entries]
    return sorted(lines, key=lambda line: (_RANK[line.status], line.deadline, line.name))


def filtered(lines: Sequence[RosterLine], status: Optional[str] = None, text: str = "") -> List[RosterLine]:
    return [line for line in lines if (status is None or line.status == status) and line.matches(text)]


def write_roster_csv(path: Path, lines: Sequence[RosterLine], header: Sequence[str],
                     status_names: Dict[str, str]) -> Path:
    """Pendientes as CSV (atomic); NSS and CURP masked, as everywhere outside the encrypted store."""
    from siaptui.files import write_csv
    from siaptui.identity import mask_curp, mask_nss

    return write_csv(path, header, ([line.name, mask_nss(line.nss), mask_curp(line.curp),
                                     line.start_date.isoformat(), line.deadline.isoformat(),
                                     status_names[line.status]] for line in lines))
