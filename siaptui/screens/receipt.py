"""Acuse: the portal's acknowledgement of the enrollment just sent — folio, QR, PDF, print —
and on to the next worker.

Why a screen of its own: the folio is what the employer quotes to IMSS if anything is ever
disputed, and the QR is what the worker shows at the IMSS biometric desk; both stay in the
Bandeja.  "Nuevo trabajador" keeps the e.firma session (no password again) and clears
everything about this worker.
"""

from __future__ import annotations

from typing import Optional

from textual.binding import Binding

from siaptui.enrollment.flow import Step
from siaptui.screens.acuse import AcuseScreen


class ReceiptScreen(AcuseScreen):
    SCREEN_ID = "receipt"
    STEP = Step.RECEIPT
    BINDINGS = [
        Binding("n", "new_worker", "key.new_worker", id="new-worker"),
        Binding("enter", "new_worker", "key.new_worker", id="new-worker-enter", show=False),
    ]

    def current_item_id(self) -> Optional[int]:
        return self.siaptui.flow.outbox_id

    def skipped_steps(self) -> frozenset[Step]:
        """A transfer reuses the fingers the portal holds: no Captura, no Revisión to tick."""
        return frozenset({Step.CAPTURE, Step.REVIEW}) if self.siaptui.flow.wants_transfer else frozenset()

    def worker_name(self) -> str:
        return self.siaptui.flow.worker.name

    def action_new_worker(self) -> None:
        self.siaptui.start_new_worker()
