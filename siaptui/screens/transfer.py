"""Transferencia: the worker's fingers are already registered by a previous employer, so this
employer asks the portal to move that record here instead of capturing them again.

Why through the outbox like an enrollment: the request is signed with the e.firma, carries the
worker's consent and a permanent Idempotency-Key, and must survive a closed terminal or a
saturated portal; the outbox commits it before any network call and the sender retries it.
Only a refusal that says there is nothing to transfer (`NEEDS_CAPTURE`) offers the capture;
any other refusal (not on the roster, NSS and CURP that do not match) is fixed elsewhere.
"""

from __future__ import annotations

from typing import Iterable, Optional

from textual import work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from siaptui.enrollment.flow import Consent
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, Plain
from siaptui.screens.submit import NothingToSend, consent_record, pick_up_receipt
from siaptui.services import send_outbox_item

NEEDS_CAPTURE = frozenset({"portal_nothing_to_transfer"})
"""Refusal codes after which the fingers have to be captured (the portal holds no record)."""


class TransferScreen(FlowScreen):
    SCREEN_ID = "transfer"
    STEP = None
    """No step bar: the enrollment's steps (capture, review) are not this path's."""
    BINDINGS = [
        Binding("enter", "send", "key.transfer.send", id="transfer-send"),
        Binding("c", "capture", "key.transfer.capture", id="transfer-capture"),
    ]

    def compose_body(self) -> Iterable[Widget]:
        yield Plain("", id="summary")
        yield Plain(t("transfer.why"), id="why", classes="hint")
        yield Plain("", id="stage-saved")
        yield Plain("", id="stage-sent")
        yield Plain("", id="offer", classes="warning")

    def check_action(self, action: str, parameters: tuple) -> Optional[bool]:
        """C (capture instead) exists only once the portal refused in a way that needs it."""
        if action == "capture":
            return bool(self.siaptui.flow.capture_instead)
        return True

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        flow = self.siaptui.flow
        worker = flow.worker
        lines = [t("submit.worker", name=worker.name, nss=worker.nss, curp=worker.curp)]
        if self.siaptui.services.training:
            lines.append(t("submit.training"))
        self.query_one("#summary", Static).update("\n".join(lines))
        if flow.outbox_id is None:
            self.query_one("#stage-saved", Static).update(t("transfer.ready"))
            self.query_one("#stage-sent", Static).update("")

    def action_send(self) -> None:
        flow = self.siaptui.flow
        pick_up_receipt(flow, self.siaptui.services)
        if flow.receipt is not None:
            self.siaptui.goto("receipt")
            return
        if flow.capture_instead:
            self.show_info(t("transfer.capture_offer"), "error")
            return
        self._send()

    def action_capture(self) -> None:
        """After a refusal that needs it: a fresh consent for the capture, then Captura."""
        flow = self.siaptui.flow
        if not flow.capture_instead:
            return
        flow.consent = Consent()
        flow.outbox_id = None
        self.siaptui.goto("consent")

    @work(exclusive=True, group="transfer")
    async def _send(self) -> None:
        from siaptui.store.submissions import transfer_payload

        app = self.siaptui
        flow, services = app.flow, app.services
        saved = self.query_one("#stage-saved", Static)
        sent = self.query_one("#stage-sent", Static)
        enrollment = flow.enrollment_id
        rfc = flow.employer.rfc if flow.employer else ""
        try:
            if flow.outbox_id is None:
                if not flow.consent.accepted:
                    raise NothingToSend("consent", code="submit_no_consent")
                payload = transfer_payload(flow.worker.nss, flow.worker.curp, consent_record(flow).to_dict())
                item = services.store().outbox.enqueue(payload, worker_nss=flow.worker.nss, employer_rfc=rfc,
                                                       training=services.training)
                flow.outbox_id = item.id
                services.audit("transfer_queued", flow.worker.nss, actor=rfc, outbox_id=item.id)
            saved.update(t("submit.saved", id=flow.outbox_id))
            sent.update(t("transfer.sending"))
            self.clear_status()
            item = await send_outbox_item(services, flow.outbox_id)
        except Exception as exc:  # noqa: BLE001 - message + next step; the outbox keeps it
            if flow.enrollment_id != enrollment:
                return
            code = str(getattr(exc, "code", ""))
            if code in NEEDS_CAPTURE:
                flow.capture_instead = code
                sent.update(t("transfer.refused"))
                self.query_one("#offer", Static).update(t("transfer.capture_offer"))
                self.refresh_bindings()
            else:
                sent.update(t("submit.not_sent") if flow.outbox_id is not None else "")
            self.show_error(exc)
            return
        if flow.enrollment_id != enrollment:
            return  # the clerk moved on to another worker; the Bandeja keeps this folio
        flow.receipt = dict(item.receipt or {})
        sent.update(t("submit.sent", folio=item.folio))
        app.goto("receipt")
