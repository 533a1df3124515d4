"""One identity check (1:1) as plain data: which worker, which finger, the consent, the answer.

Why apart from the screens: what the clerk is told to do after a match or a no-match depends
only on the portal's outcome and confidence band, and must be testable without a terminal.
The portal never gives a score (a number to climb on would help forge templates), so the band
— how far from the decision line — is all the clerk sees, and the advice follows from it.
There is no offline verification: the enrolled fingers are held by the portal, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional


@dataclass
class Verification:
    nss: str = ""
    curp: str = ""
    name: str = ""
    fingers: List[int] = field(default_factory=list)
    """The positions the portal holds for this worker with this employer."""
    position: Optional[int] = None
    """The finger chosen to verify (one of `fingers`)."""
    consent_at: Optional[float] = None
    """When the worker accepted this check (None: not asked yet, or refused)."""
    outcome: str = ""
    """'' until answered; else the portal's match | no_match | not_enrolled | unavailable."""
    confidence: Optional[str] = None
    """high | medium | low for match and no_match."""

    @property
    def ready_to_capture(self) -> bool:
        return bool(self.nss) and self.position is not None and self.consent_at is not None

    def choose(self, step: int) -> None:
        """Move to the next (+1) or previous (-1) finger on record."""
        if not self.fingers:
            return
        index = self.fingers.index(self.position) if self.position in self.fingers else 0
        self.position = self.fingers[(index + step) % len(self.fingers)]

    def answered(self, outcome: str, confidence: Optional[str]) -> None:
        self.outcome, self.confidence = outcome, confidence
        self.consent_at = None  # one consent, one check: the next one is asked again


def advice_key(outcome: str, confidence: Optional[str]) -> str:
    """The catalog key of what to do next after the portal's answer."""
    if outcome == "match":
        return "verify.next.match_high" if confidence == "high" else "verify.next.match_unsure"
    if outcome == "no_match":
        return "verify.next.no_match_high" if confidence == "high" else "verify.next.no_match_unsure"
    if outcome == "not_enrolled":
        return "verify.next.not_enrolled"
    return "verify.next.unavailable"
