"""Transferencia: the worker's fingers are already registered by a previous employer, so this
employer asks the portal to move that record here instead of capturing them again.

Why through the outbox like an enrollment: the request is signed with the e.firma, carries the
worker's consent and a permanent Idempotency-Key, and must survive a closed terminal or a
saturated portal; the outbox commits it before any network call and the sender retries it.
Only a refusal that says there is nothing to transfer (`NEEDS_CAPTURE`) offers the capture;
any other refusal (not on the roster, NSS and CURP that do not match) is fixed elsewhere.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from siaptui.enrollment.flow import Consent
from siaptui.i18n import t
from siaptui.screens.base import Plain
from siaptui.screens.sending import NothingToSend, QueueAndSendScreen, consent_record

NEEDS_CAPTURE = frozenset({"portal_nothing_to_transfer"})
"""Refusal codes after which the fingers have to be captured (the portal holds no record)."""


class TransferScreen(QueueAndSendScreen):
    SCREEN_ID = "transfer"
    STEP = None
    """No step bar: the enrollment's steps (capture, review) are not this path's."""
    READY = "transfer.ready"
    SENDING = "transfer.sending"
    QUEUED_ACTION = "transfer_queued"
    BINDINGS = [
        Binding("enter", "send", "key.transfer.send", id="transfer-send"),
        Binding("c", "capture", "key.transfer.capture", id="transfer-capture"),
    ]

    def compose_body(self) -> Iterable[Widget]:
        yield Plain("", id="summary")
        yield Plain(t("transfer.why"), id="why", classes="hint")
        yield from self.compose_stages()
        yield Plain("", id="offer", classes="warning")

    def check_action(self, action: str, parameters: tuple) -> Optional[bool]:
        """C (capture instead) exists only once the portal refused in a way that needs it."""
        if action == "capture":
            return bool(self.siaptui.flow.capture_instead)
        return True

    def refusal(self) -> Optional[str]:
        return t("transfer.capture_offer") if self.siaptui.flow.capture_instead else None

    def payload(self) -> Dict[str, Any]:
        from siaptui.store.submissions import transfer_payload

        flow = self.siaptui.flow
        if not flow.consent.accepted:
            raise NothingToSend("consent", code="submit_no_consent")
        return transfer_payload(flow.worker.nss, flow.worker.curp, consent_record(flow).to_dict())

    def failed(self, error: BaseException) -> bool:
        """`nothing_to_transfer`: the fingers are captured instead (C), after a fresh consent."""
        code = str(getattr(error, "code", ""))
        if code not in NEEDS_CAPTURE:
            return False
        self.siaptui.flow.capture_instead = code
        self.query_one("#stage-sent", Static).update(t("transfer.refused"))
        self.query_one("#offer", Static).update(t("transfer.capture_offer"))
        self.refresh_bindings()
        self.show_error(error)
        return True

    def action_capture(self) -> None:
        """After a refusal that needs it: a fresh consent for the capture, then Captura."""
        flow = self.siaptui.flow
        if not flow.capture_instead:
            return
        flow.consent = Consent()
        flow.outbox_id = None
        self.siaptui.goto("consent")
