"""Verificación's capture: one impression of the chosen finger, then the portal's 1:1 answer.

Why a Captura with a one-finger protocol: the preview, the guidance, the quality gate and a
reader that comes and goes are exactly the enrollment's; only what is captured differs.  The
screen keeps its own `Flow` (the enrollment in progress, if any, is never touched): the chosen
finger needs one accepted impression and the other nine are set aside, so the scanner loop stops
asking once it is taken.  The template goes to the portal as ISO 19794-2 and is not kept.
"""

from __future__ import annotations

from typing import Any, Optional

from rich.text import Text
from textual import work
from textual.widgets import Static

from siaptui.enrollment.flow import FINGERS, FingerCapture, Flow, WorkerData
from siaptui.enrollment.protocol import AddResult, Enrollment, finger_label
from siaptui.i18n import t
from siaptui.screens.capture import CaptureScreen

HIDDEN = frozenset({"missing", "restart", "next_finger", "prev_finger", "review"})
"""Captura's keys that belong to the ten-finger protocol, not to a one-finger check."""


class VerifyCaptureScreen(CaptureScreen):
    SCREEN_ID = "verify_capture"
    STEP = None
    DEFAULT_CSS = """
    VerifyCaptureScreen StepBar, VerifyCaptureScreen HandMap { display: none; }
    """
    """The enrollment's steps and the ten-finger map are not this check's: one finger, named above."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._own_flow = Flow()
        self.verifying = False
        """True while the portal is being asked (for tests)."""

    @property
    def flow(self) -> Any:
        return self._own_flow

    def check_action(self, action: str, parameters: tuple) -> Optional[bool]:
        return action not in HIDDEN

    def new_enrollment(self) -> Enrollment:
        """A fresh one-finger protocol for the finger chosen in Verificación."""
        check = self.siaptui.verification
        position = check.position or FINGERS[0]
        flow = Flow(worker=WorkerData(nss=check.nss, curp=check.curp, name=check.name, confirmed=True))
        for other in FINGERS:
            if other != position:
                flow.fingers[other] = FingerCapture(position=other, missing_reason="other")
        self._own_flow = flow
        enrollment = Enrollment(flow, impressions=1)
        enrollment.select(position)
        return enrollment

    def _refresh_panel(self) -> None:
        super()._refresh_panel()
        check = self.siaptui.verification
        if self.enrollment is not None and self.is_mounted:
            heading = t("verify.heading", name=check.name, finger=finger_label(self.enrollment.current))
            self.query_one("#heading", Static).update(Text(heading, no_wrap=True, overflow="ellipsis"))

    def _after_accept(self, result: AddResult, score: int) -> None:
        if not result.finger_done:
            super()._after_accept(result, score)
            return
        self.accepted_count += 1
        if self.settings.scanner.bell:
            self.app.bell()
        self._say(t("verify.asking"))
        capture = self.flow.fingers[result.position]
        assert capture.best is not None
        self._verify(result.position, capture.impressions[capture.best].template)

    @work(exclusive=True, group="verify-portal")
    async def _verify(self, position: int, template_bytes: bytes) -> None:
        from siaptui.biometrics.template import Template, to_iso19794_2

        app = self.siaptui
        check = app.verification
        self.verifying = True
        try:
            iso = to_iso19794_2(Template.from_bytes(template_bytes), position)
            client = await app.services.client()
            answer = await client.verify(check.nss, check.curp, position, iso)
        except Exception as exc:  # noqa: BLE001 - said here; the clerk may place the finger again
            self.verifying = False
            self.action_restart()  # a fresh placement of the same finger repeats the check
            self.show_error(exc)
            self._say(t("verify.not_answered"))
            return
        self.verifying = False
        check.answered(answer.outcome, answer.confidence)
        employer = app.flow.employer
        app.services.audit("verification", check.nss, actor=employer.rfc if employer else "",
                           position=position, outcome=answer.outcome, confidence=answer.confidence or "",
                           training=app.services.training)
        app.back()
