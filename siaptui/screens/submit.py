"""Envío: commit the enrollment to the local outbox first, then send it to the portal.

Why in this order: the portal is slow and overloaded at month-end; a power cut or a closed
terminal must never lose a worker's fingerprints.  Once the outbox holds the item (encrypted,
fsync'd) the screen says it is safe to close; the send can fail and be retried any number of
times under the same Idempotency-Key.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from siaptui.enrollment.flow import Flow, Step
from siaptui.enrollment.protocol import Enrollment, describe_pairs
from siaptui.i18n import t
from siaptui.screens.base import Plain
from siaptui.screens.sending import NothingToSend, QueueAndSendScreen, consent_record
from siaptui.services import Services

_MISSING = {"amputated": "amputated", "bandaged": "bandaged", "injured": "bandaged", "unusable": "unusable"}
"""Flow's missing-finger reasons -> the portal contract's MISSING_REASONS."""


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
        photo=flow.photo.jpeg if flow.photo is not None else None,
    )


class SubmitScreen(QueueAndSendScreen):
    SCREEN_ID = "submit"
    STEP = Step.SUBMIT
    READY = "submit.ready"
    QUEUED_ACTION = "enrollment_queued"
    BINDINGS = [
        Binding("enter", "send", "key.send", id="send"),
    ]

    def compose_body(self) -> Iterable[Widget]:
        yield Plain("", id="summary")
        yield from self.compose_stages()
        yield Plain("", id="safe", classes="warning")

    def summary_details(self) -> List[str]:
        flow = self.siaptui.flow
        captured = sum(1 for f in flow.fingers.values() if f.best is not None)
        missing = sum(1 for f in flow.fingers.values() if f.missing_reason)
        lines = [t("submit.fingers", captured=captured, missing=missing)]
        if flow.review.needs_attention:
            lines.append(t("submit.attention"))
        return lines

    def before_saved(self) -> None:
        self.query_one("#safe", Static).update("")

    def refusal(self) -> Optional[str]:
        """Revisión's gate, said the way Revisión says it, in case Envío is reached another way."""
        review = self.siaptui.flow.review
        if review.duplicate_fingers:
            return t("submit.duplicates_block", pairs=describe_pairs(review.duplicate_fingers))
        return t("submit.gallery_blocks") if review.needs_attention else None

    def payload(self) -> Dict[str, Any]:
        return dict(build_request(self.siaptui.flow, self.siaptui.services).to_dict())

    def after_enqueue(self) -> None:
        """The office gallery learns the worker now, so the next desk's ghost check sees
        today's enrollments before the portal answers."""
        app = self.siaptui
        flow, store = app.flow, app.services.store()
        record = Enrollment(flow, impressions=app.settings.capture.impressions).gallery_record()
        store.gallery.enroll_worker(flow.worker.nss, record)
        if flow.photo is not None:
            store.gallery.save_photo(flow.worker.nss, flow.photo.jpeg)

    def after_saved(self) -> None:
        self.query_one("#safe", Static).update(t("submit.safe_to_close"))
