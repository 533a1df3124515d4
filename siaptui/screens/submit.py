"""Envío: commit the enrollment to the local outbox first, then send it to the portal.

Why in this order: the portal is slow and overloaded at month-end; a power cut or a closed
terminal must never lose a worker's fingerprints.  Once the outbox holds the item (encrypted,
fsync'd) the screen says it is safe to close; the send can fail and be retried any number of
times under the same Idempotency-Key.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, List

from textual import work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from siaptui.enrollment.flow import Flow, Step
from siaptui.enrollment.protocol import Enrollment
from siaptui.errors import SiaptuiError
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, Plain
from siaptui.screens.outbox import describe_failure
from siaptui.services import Services, send_outbox_item

_MISSING = {"amputated": "amputated", "bandaged": "bandaged", "injured": "bandaged", "unusable": "unusable"}
"""Flow's missing-finger reasons -> the portal contract's MISSING_REASONS."""


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


def build_request(flow: Flow, services: Services) -> Any:
    """The portal's EnrollmentRequest from the flow: ISO 19794-2 templates, consent, device."""
    from siaptui.biometrics import template as template_mod
    from siaptui.portal import models

    if not flow.consent.accepted:
        raise NothingToSend("consent", code="submit_no_consent")
    fingers: List[Any] = []
    for position in sorted(flow.fingers):
        capture = flow.fingers[position]
        if capture.missing_reason:
            reason = _MISSING.get(capture.missing_reason, "other")
            fingers.append(models.FingerRecord(position=position, missing_reason=reason))
        elif capture.best is not None:
            # Every kept impression, the best first (view 0): the portal's duplicate search then
            # holds the same views as the office gallery (enrollment/protocol.gallery_record).
            best = capture.impressions[capture.best]
            kept = [best] + [imp for i, imp in enumerate(capture.impressions) if i != capture.best]
            views = [template_mod.Template.from_bytes(imp.template) for imp in kept]
            iso = template_mod.to_iso19794_2_views(views, position)
            fingers.append(models.FingerRecord(position=position, template=iso, quality=int(best.quality)))
    if not any(f.template is not None for f in fingers):
        raise NothingToSend("fingers")
    spec = services.scanner_spec
    device = models.CaptureDevice(model=spec, driver=spec.split(":", 1)[0])
    review = None
    if flow.review.gallery_hits and flow.review.review_reason:
        review = models.ReviewRequest(reason=flow.review.review_reason,
                                      candidate_nss=flow.review.gallery_hits[0][0],
                                      fingers=sorted({finger for _, finger, _ in flow.review.gallery_hits}))
    return models.EnrollmentRequest(
        nss=flow.worker.nss,
        curp=flow.worker.curp,
        fingers=fingers,
        device=device,
        consent=consent_record(flow),
        captured_at=datetime.fromtimestamp(services.now(), timezone.utc),
        review=review,
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


class SubmitScreen(FlowScreen):
    SCREEN_ID = "submit"
    STEP = Step.SUBMIT
    BINDINGS = [
        Binding("enter", "send", "key.send", id="send"),
    ]

    def compose_body(self) -> Iterable[Widget]:
        yield Plain("", id="summary")
        yield Plain("", id="stage-saved")
        yield Plain("", id="stage-sent")
        yield Plain("", id="safe", classes="warning")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        flow = self.siaptui.flow
        captured = sum(1 for f in flow.fingers.values() if f.best is not None)
        missing = sum(1 for f in flow.fingers.values() if f.missing_reason)
        lines = [
            t("submit.worker", name=flow.worker.name, nss=flow.worker.nss, curp=flow.worker.curp),
            t("submit.fingers", captured=captured, missing=missing),
        ]
        if flow.review.needs_attention:
            lines.append(t("submit.attention"))
        if self.siaptui.services.training:
            lines.append(t("submit.training"))
        self.query_one("#summary", Static).update("\n".join(lines))
        if flow.outbox_id is None:
            self.query_one("#stage-saved", Static).update(t("submit.ready"))
            self.query_one("#stage-sent", Static).update("")
            self.query_one("#safe", Static).update("")

    def action_send(self) -> None:
        flow = self.siaptui.flow
        pick_up_receipt(flow, self.siaptui.services)
        if flow.receipt is not None:
            self.siaptui.goto("receipt")
            return
        if flow.review.needs_attention:
            self.show_info(t("submit.attention_blocks"), "error")
            return
        self._send()

    @work(exclusive=True, group="submit")
    async def _send(self) -> None:
        app = self.siaptui
        flow, services = app.flow, app.services
        saved = self.query_one("#stage-saved", Static)
        sent = self.query_one("#stage-sent", Static)
        enrollment = flow.enrollment_id
        try:
            if flow.outbox_id is not None:
                queued = services.store().outbox.get(flow.outbox_id)
                if queued.rejected:
                    raise queued.failure() or SiaptuiError(code="submit_nothing")
                if queued.state == "failed":
                    services.store().outbox.retry(flow.outbox_id)  # Enter means "retry now"
            if flow.outbox_id is None:
                request = build_request(flow, services)
                store = services.store()
                item = store.outbox.enqueue(
                    request.to_dict(),
                    worker_nss=flow.worker.nss,
                    employer_rfc=flow.employer.rfc if flow.employer else "",
                    training=services.training,
                )
                flow.outbox_id = item.id
                services.audit("enrollment_queued", flow.worker.nss,
                               actor=flow.employer.rfc if flow.employer else "", outbox_id=item.id)
                # The office gallery learns the worker now, so the next desk's ghost check sees
                # today's enrollments before the portal answers.
                record = Enrollment(flow, impressions=app.settings.capture.impressions).gallery_record()
                store.gallery.enroll_worker(flow.worker.nss, record)
            saved.update(t("submit.saved", id=flow.outbox_id))
            self.query_one("#safe", Static).update(t("submit.safe_to_close"))
            sent.update(t("submit.sending"))
            self.clear_status()
            started = services.now()
            ticker = self.set_interval(
                1.0, lambda: sent.update(t("submit.sending_for", seconds=int(services.now() - started))))
            try:
                item = await send_outbox_item(services, flow.outbox_id)
            finally:
                ticker.stop()
        except Exception as exc:  # noqa: BLE001 - message + next step; the outbox keeps it
            rejected = flow.outbox_id is not None and self._rejected(flow.outbox_id)
            sent.update(t("submit.rejected" if rejected else "submit.not_sent") if flow.outbox_id is not None else "")
            message, fix = describe_failure(exc)
            self.show_info(f"{message}\n{fix}".strip(), "error")
            return
        if flow.enrollment_id != enrollment:
            return  # the clerk moved on to another worker; the Bandeja keeps this folio
        flow.receipt = dict(item.receipt or {})
        sent.update(t("submit.sent", folio=item.folio))
        app.goto("receipt")

    def _rejected(self, item_id: int) -> bool:
        """Did the portal refuse this item's data (so Enter must not be offered as "retry")?"""
        try:
            return bool(self.siaptui.services.store().outbox.get(item_id).rejected)
        except Exception:  # noqa: BLE001 - the error shown already says what went wrong
            return False
