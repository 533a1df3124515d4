"""Acuse: the portal's acknowledgement — folio, acuse text, time — and on to the next worker.

Why a screen of its own: the folio is what the employer quotes to IMSS if anything is ever
disputed, so it is shown big and stays in the Bandeja.  "Nuevo trabajador" keeps the e.firma
session (no password again) and clears everything about this worker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from siaptui.enrollment.flow import Step
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, Plain


def local_time(text: str) -> str:
    """The portal's UTC ISO timestamp in the terminal's local time, as a clerk reads it."""
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except (TypeError, ValueError, AttributeError):
        return text or "-"
    return moment.astimezone().strftime("%d/%m/%Y %H:%M:%S")


class ReceiptScreen(FlowScreen):
    SCREEN_ID = "receipt"
    STEP = Step.RECEIPT
    BINDINGS = [
        Binding("n", "new_worker", "key.new_worker", id="new-worker"),
        Binding("enter", "new_worker", "key.new_worker", id="new-worker-enter", show=False),
    ]

    def compose_body(self) -> Iterable[Widget]:
        yield Plain("", id="folio", classes="big")
        yield Plain("", id="when")
        yield Plain("", id="acuse", classes="notice")
        yield Plain("", id="training", classes="warning")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        receipt = self.siaptui.flow.receipt or {}
        worker = self.siaptui.flow.worker
        self.query_one("#folio", Static).update(t("receipt.folio", folio=receipt.get("folio") or "-"))
        self.query_one("#when", Static).update(
            t("receipt.when", when=local_time(str(receipt.get("received_at") or "")), name=worker.name, nss=worker.nss)
        )
        self.query_one("#acuse", Static).update(str(receipt.get("acuse") or ""))
        if self.siaptui.services.training:
            self.query_one("#training", Static).update(t("receipt.training"))

    def action_new_worker(self) -> None:
        self.siaptui.start_new_worker()
