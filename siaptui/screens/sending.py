"""What Envío and Transferencia share: commit the signed request to the outbox, then send it now.

Why one base screen: both requests must survive a power cut or a closed terminal, so both are
committed (encrypted, fsync'd) to the outbox before any network call, and both are then sent
at once through the same sender with the item's permanent Idempotency-Key.  The steps on
screen are the same too — "1. saved as item N", "2. sending… (N s)", then the folio and the
acuse, or why not and what to do.  A subclass says only what differs: the payload, what else
the enqueue records, and which refusals it answers itself.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar, Dict, Iterable, List, Optional

from textual import work
from textual.widget import Widget
from textual.widgets import Static

from siaptui.enrollment.flow import Flow
from siaptui.errors import SiaptuiError
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, Plain
from siaptui.screens.outbox import describe_failure
from siaptui.services import Services, send_outbox_item


class NothingToSend(SiaptuiError):
    code = "submit_nothing"


def consent_record(flow: Flow) -> Any:
    """The portal's ConsentRecord of the consent given on screen (enrollments and transfers)."""
    from siaptui.portal import models

    employer = flow.employer
    return models.ConsentRecord(
        aviso_version=flow.consent.notice_version,
        accepted_at=datetime.fromtimestamp(flow.consent.recorded_at, timezone.utc),
        method="aceptacion_en_pantalla",
        recorded_by=employer.rfc if employer else "",
    )


def pick_up_receipt(flow: Flow, services: Services) -> None:
    """The flow's item sent meanwhile from the Bandeja (or by the sender after a login)? Then
    its receipt is the flow's."""
    if flow.receipt is not None or flow.outbox_id is None:
        return
    try:
        item = services.store().outbox.get(flow.outbox_id)
    except Exception:  # noqa: BLE001 - the next send reports any store problem
        return
    if item.state == "sent":
        flow.receipt = dict(item.receipt or {})


SEND_GROUP = "queue-and-send"
"""The worker group of a send in progress (the office-day bench waits on it like a clerk on the screen)."""


class QueueAndSendScreen(FlowScreen):
    """Enter: the item is saved in the outbox once, then sent; its acuse opens when it is acknowledged.

    Subclasses set READY, SENDING and QUEUED_ACTION and write `payload()`; `summary_details()`,
    `refusal()`, `after_enqueue()`, `after_saved()` and `failed()` are theirs to extend.
    """

    READY: ClassVar[str] = ""
    """Catalog key of the line shown before anything is saved."""
    SENDING: ClassVar[str] = "submit.sending"
    """Catalog key of the line shown while the request is on its way."""
    QUEUED_ACTION: ClassVar[str] = ""
    """The audit log's action for "saved in the outbox"."""

    def compose_stages(self) -> Iterable[Widget]:
        yield Plain("", id="stage-saved")
        yield Plain("", id="stage-sent")

    def summary_details(self) -> List[str]:
        """Lines of the summary between the worker and the training notice."""
        return []

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        flow = self.siaptui.flow
        worker = flow.worker
        lines = [t("submit.worker", name=worker.name, nss=worker.nss, curp=worker.curp), *self.summary_details()]
        if self.siaptui.services.training:
            lines.append(t("submit.training"))
        self.query_one("#summary", Static).update("\n".join(lines))
        if flow.outbox_id is None:
            self.query_one("#stage-saved", Static).update(t(self.READY))
            self.query_one("#stage-sent", Static).update("")
            self.before_saved()
        else:
            self._show_received()

    def _show_received(self) -> bool:
        """The flow's item acknowledged, by this screen's send or another's (the background
        sender, the Bandeja's retry)? Then the line says so with its folio; True when it did."""
        flow = self.siaptui.flow
        pick_up_receipt(flow, self.siaptui.services)
        if flow.receipt is None:
            return False
        self.query_one("#stage-sent", Static).update(t("submit.sent", folio=flow.receipt.get("folio", "")))
        self.clear_status()
        return True

    def delivered_elsewhere(self) -> None:
        """The background sender delivered this flow's item after this screen's own try failed:
        the screen follows the outbox, and opens the acuse when it is the one in front, as its
        own successful send would (not from under a dialog)."""
        if self.siaptui.flow.receipt is None and self._show_received() and self.is_active:
            self.siaptui.goto("receipt")

    def before_saved(self) -> None:
        """What to clear while this flow has nothing in the outbox yet."""

    def refusal(self) -> Optional[str]:
        """The reason Enter may not send now (shown as an error), or None."""
        return None

    def status_subject(self) -> int:
        """Also what keeps Enter from sending: "No se puede enviar" goes once it is resolved."""
        return hash((super().status_subject(), self.refusal()))

    def payload(self) -> Dict[str, Any]:  # pragma: no cover - overridden
        """The outbox payload of this flow's request."""
        raise NotImplementedError

    def after_enqueue(self) -> None:
        """What the enqueue records besides the outbox item and its audit entry."""

    def after_saved(self) -> None:
        """What the screen says once the item is in the outbox."""

    def failed(self, error: BaseException) -> bool:
        """A refusal this screen answers itself (True), else the common "not sent" / "rejected" lines."""
        return False

    def action_send(self) -> None:
        flow = self.siaptui.flow
        pick_up_receipt(flow, self.siaptui.services)
        if flow.receipt is not None:
            self.siaptui.goto("receipt")
            return
        refusal = self.refusal()
        if refusal:
            self.show_info(refusal, "error")
            return
        self._send()

    def _enqueue(self) -> int:
        """Save the request once: the outbox item, its audit entry and what the subclass adds."""
        flow, services = self.siaptui.flow, self.siaptui.services
        rfc = flow.employer.rfc if flow.employer else ""
        item = services.store().outbox.enqueue(self.payload(), worker_nss=flow.worker.nss, employer_rfc=rfc,
                                               training=services.training)
        flow.outbox_id = item.id
        services.audit(self.QUEUED_ACTION, flow.worker.nss, actor=rfc, outbox_id=item.id)
        self.after_enqueue()
        return int(item.id)

    def _requeue(self, item_id: int) -> None:
        """Enter on a saved item: a rejected one gives its reason again, a failed one is retried now."""
        outbox = self.siaptui.services.store().outbox
        queued = outbox.get(item_id)
        if queued.rejected:
            raise queued.failure() or SiaptuiError(code="submit_nothing")
        if queued.state == "failed":
            outbox.retry(item_id)

    @work(exclusive=True, group=SEND_GROUP)
    async def _send(self) -> None:
        app = self.siaptui
        flow, services = app.flow, app.services
        saved = self.query_one("#stage-saved", Static)
        sent = self.query_one("#stage-sent", Static)
        enrollment = flow.enrollment_id
        try:
            if flow.outbox_id is None:
                item_id = self._enqueue()
            else:
                item_id = flow.outbox_id
                self._requeue(item_id)
            saved.update(t("submit.saved", id=item_id))
            self.after_saved()
            sent.update(t(self.SENDING))
            self.clear_status()
            started = services.now()
            ticker = self.set_interval(
                1.0, lambda: sent.update(t("submit.sending_for", seconds=int(services.now() - started))))
            try:
                item = await send_outbox_item(services, item_id)
            finally:
                ticker.stop()
        except Exception as exc:  # noqa: BLE001 - message + next step; the outbox keeps it
            if flow.enrollment_id != enrollment:
                return  # the clerk moved on to another worker; the Bandeja shows why
            if not self.failed(exc):
                self._not_sent(exc)
            return
        if flow.enrollment_id != enrollment:
            return  # the clerk moved on to another worker; the Bandeja keeps this folio
        flow.receipt = dict(item.receipt or {})
        sent.update(t("submit.sent", folio=item.folio))
        app.goto("receipt")

    def _not_sent(self, error: BaseException) -> None:
        flow = self.siaptui.flow
        line = ""
        if flow.outbox_id is not None:
            line = t("submit.rejected" if self._rejected(flow.outbox_id) else "submit.not_sent")
        self.query_one("#stage-sent", Static).update(line)
        message, fix = describe_failure(error)
        self.show_info(f"{message}\n{fix}".strip(), "error")

    def _rejected(self, item_id: int) -> bool:
        """Did the portal refuse this item's data (so Enter must not be offered as "retry")?"""
        try:
            return bool(self.siaptui.services.store().outbox.get(item_id).rejected)
        except Exception:  # noqa: BLE001 - the error shown already says what went wrong
            return False
