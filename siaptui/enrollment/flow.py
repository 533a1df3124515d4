"""The state of one enrollment as the clerk walks the screens, without any Textual.

Screens read and write this; services fill it.  Keeping it plain data lets the Pilot tests
assert on it, lets Esc go back without losing what was typed, and lets the app ask before
quitting when an enrollment is captured but not yet in the outbox.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Optional, Tuple

FINGERS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
"""ISO/IEC 19794 finger positions: 1 right thumb … 5 right little, 6 left thumb … 10 left little."""


class Step(enum.Enum):
    LOGIN = "login"
    WORKER = "worker"
    CONSENT = "consent"
    CAPTURE = "capture"
    REVIEW = "review"
    SUBMIT = "submit"
    RECEIPT = "receipt"


STEPS = tuple(Step)


@dataclass
class Employer:
    rfc: str
    name: str
    curp: str = ""
    session_token: str = ""
    session_expires_at: float = 0.0
    training: bool = False


@dataclass
class WorkerData:
    nss: str = ""
    curp: str = ""
    name: str = ""
    confirmed: bool = False
    """True once the portal confirmed that NSS and CURP belong together."""
    biometric_status: str = "none"
    """The lookup's answer: none | enrolled (here) | enrolled_elsewhere (a transfer is possible)."""

    @property
    def transferable(self) -> bool:
        """The portal holds this worker's fingers for another employer: transfer, do not re-scan."""
        return self.confirmed and self.biometric_status == "enrolled_elsewhere"


@dataclass
class Consent:
    accepted: bool = False
    refused: bool = False
    notice_version: str = ""
    recorded_at: float = 0.0
    terminal: str = ""


@dataclass
class Impression:
    quality: int
    template: bytes
    """Compact own-format template (siaptui.biometrics.template.Template.to_bytes())."""
    image_png: bytes = b""
    """Kept only in memory until the enrollment is committed (encrypted) to the store."""


@dataclass
class FingerCapture:
    position: int
    impressions: list[Impression] = field(default_factory=list)
    best: Optional[int] = None
    """Index into impressions of the one kept."""
    missing_reason: str = ""
    """'' when captured; else amputated | bandaged | injured | other."""
    consistency: dict[str, Any] = field(default_factory=dict)
    """Pairwise scores between impressions and whether they agree."""

    @property
    def done(self) -> bool:
        return bool(self.missing_reason) or self.best is not None


@dataclass
class Review:
    duplicate_fingers: list[tuple[int, int, float]] = field(default_factory=list)
    """(finger a, finger b, score): two positions that look like the same finger."""
    gallery_hits: list[tuple[str, int, float]] = field(default_factory=list)
    """(other NSS, finger, score): the fingers by which this person matches someone else
    enrolled here (siaptui.biometrics.person)."""
    review_reason: str = ""
    """A supervisor's reason to send a flagged person for IMSS review instead of recapturing
    (as MOSIP's registration client lets a supervisor approve an exception)."""

    @property
    def needs_attention(self) -> bool:
        """Two positions with one finger always block (a capture mistake); a match with another
        person blocks until it is recaptured or a supervisor sends it for review."""
        return bool(self.duplicate_fingers or (self.gallery_hits and not self.review_reason))


@dataclass
class Flow:
    employer: Optional[Employer] = None
    worker: WorkerData = field(default_factory=WorkerData)
    consent: Consent = field(default_factory=Consent)
    fingers: dict[int, FingerCapture] = field(default_factory=dict)
    review: Review = field(default_factory=Review)
    outbox_id: Optional[int] = None
    receipt: Optional[dict[str, Any]] = None
    step: Step = Step.LOGIN
    enrollment_id: int = 0
    """Which enrollment the per-worker state belongs to: a send started for one enrollment
    must never write its receipt into the next."""
    enrolled: Tuple[str, str] = ("", "")
    """(NSS, CURP) of the worker the fingers, consent and receipt were collected for."""
    capture_instead: str = ""
    """The error code of a transfer the portal refused in a way that needs a fresh capture
    ('' while the transfer is the way): from then on consent leads to Captura."""
    prefill: Optional[Tuple[str, str]] = None
    """(NSS, CURP) another screen (Pendientes) asks Trabajador to fill in and look up."""

    @property
    def wants_transfer(self) -> bool:
        """Consent leads to the transfer request instead of Captura."""
        return self.worker.transferable and not self.capture_instead

    @property
    def has_unsent_capture(self) -> bool:
        """Captured fingerprints exist that are not yet committed to the outbox."""
        return self.outbox_id is None and any(f.best is not None for f in self.fingers.values())

    def start_new_worker(self) -> None:
        """Keep the employer session; forget everything about the previous worker."""
        self.worker = WorkerData()
        self.consent = Consent()
        self.fingers = {}
        self.review = Review()
        self.outbox_id = None
        self.receipt = None
        self.step = Step.WORKER
        self.enrollment_id += 1
        self.enrolled = ("", "")
        self.capture_instead = ""

    def needs_new_enrollment(self, nss: str, curp: str) -> bool:
        """True when confirming this worker must start clean: the state held is another
        worker's, or this worker's enrollment already went to the outbox."""
        held = bool(self.fingers or self.consent.accepted or self.consent.refused
                    or self.outbox_id is not None or self.receipt is not None)
        return held and (self.enrolled != (nss, curp) or self.outbox_id is not None
                         or self.receipt is not None)

    def confirm_worker(self, worker: WorkerData) -> None:
        """The portal confirmed this worker: the enrollment state from here on is theirs."""
        self.worker = worker
        self.enrolled = (worker.nss, worker.curp)
