"""Verificación (1:1): is the person in front of the clerk the worker enrolled with this employer?

Why this shape: the enrolled fingers are held by the portal, never in this office, so the
check needs the portal and the screen says so before anything is typed.  The worker is found by
NSS and CURP (checked as typed, confirmed by the portal's lookup, which also names the fingers on
record); the worker consents to this one check (A / N, recorded in the audit log like an
enrollment's consent); one finger is captured (`verify_capture`); the portal answers match or no
match with a confidence band, and the screen says what to do next
(`siaptui.enrollment.verification.advice_key`).
"""

from __future__ import annotations

from typing import Iterable, Tuple

from textual import on, work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from siaptui.enrollment.protocol import finger_label
from siaptui.enrollment.verification import Verification, advice_key
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, Plain
from siaptui.screens.consent import NOTICE_VERSION
from siaptui.screens.worker import (
    CURP_LENGTH,
    NSS_LENGTH,
    IdentityField,
    field_feedback,
    refuse_invalid,
    stray_enter,
    typed_identity,
)


class VerifyScreen(FlowScreen):
    SCREEN_ID = "verify"
    FIELDS = ("nss", "curp")
    AUTO_FOCUS = ""
    """Focus is placed by hand: once the worker is found, A and N must reach the screen."""
    DEFAULT_CSS = """
    VerifyScreen #ids { height: auto; }
    VerifyScreen #ids > Vertical { width: 1fr; height: auto; margin-right: 1; }
    VerifyScreen #result { margin-top: 1; }
    """
    BINDINGS = [
        Binding("enter", "look_up", "key.verify.look_up", id="verify-look-up"),
        Binding("a", "accept", "key.verify.accept", id="verify-accept"),
        Binding("n", "refuse", "key.consent_refuse", id="verify-refuse"),
        Binding("right", "finger(1)", "key.verify.finger", id="verify-finger-next"),
        Binding("left", "finger(-1)", "key.verify.finger", id="verify-finger-prev", show=False),
    ]

    def compose_body(self) -> Iterable[Widget]:
        yield Plain(t("verify.needs_portal"), classes="hint")
        with Horizontal(id="ids"):
            with Vertical():
                yield Label(t("worker.nss"), classes="field-label")
                yield IdentityField(max_length=NSS_LENGTH, id="nss")
                yield Plain("", id="nss-check", classes="field-error")
            with Vertical():
                yield Label(t("worker.curp"), classes="field-label")
                yield IdentityField(max_length=CURP_LENGTH, id="curp")
                yield Plain("", id="curp-check", classes="field-error")
        yield Plain("", id="who", classes="big")
        yield Plain("", id="question")
        yield Plain("", id="result", classes="big")
        yield Plain("", id="advice")

    @property
    def verification(self) -> Verification:
        return self.siaptui.verification

    def check_action(self, action: str, parameters: tuple) -> bool:
        """A, N and the finger keys exist once the portal named the worker's fingers."""
        if action in ("accept", "refuse", "finger"):
            return bool(self.verification.fingers)
        return True

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self._show()
        if not self.verification.fingers:
            self.query_one("#nss", Input).focus()

    # -- what the screen says ------------------------------------------------------------------
    def _show(self) -> None:
        found = self.verification
        who = question = result = advice = ""
        if found.fingers and found.position is not None:
            who = t("verify.who", name=found.name, finger=finger_label(found.position),
                    count=len(found.fingers))
            question = t("verify.question")
        if found.outcome:
            band = t(f"verify.band.{found.confidence}") if found.confidence else ""
            result = t(f"verify.outcome.{found.outcome}", band=band)
            advice = t(advice_key(found.outcome, found.confidence))
        self.query_one("#who", Static).update(who)
        self.query_one("#question", Static).update(question)
        self.query_one("#result", Static).update(result)
        self.query_one("#advice", Static).update(advice)
        self.refresh_bindings()

    # -- the worker ----------------------------------------------------------------------------
    @on(Input.Changed, "#nss, #curp")
    def _typed(self, event: Input.Changed) -> None:
        if field_feedback(self, event) and (self.verification.nss, self.verification.curp) != self._values():
            self.siaptui.verification = Verification()
            self._show()

    def _values(self) -> Tuple[str, str]:
        return typed_identity(self)

    @on(Input.Submitted, "#nss, #curp")
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        if not stray_enter(self, event.input):
            self.action_look_up()

    def action_look_up(self) -> None:
        nss, curp = self._values()
        if refuse_invalid(self, nss, curp):
            return
        self.show_info(t("worker.looking_up"))
        self._look_up(nss, curp)

    @work(exclusive=True, group="verify")
    async def _look_up(self, nss: str, curp: str) -> None:
        try:
            client = await self.siaptui.services.client()
            found = await client.lookup_worker(nss, curp)
        except Exception as exc:  # noqa: BLE001 - shown as message + next step
            self.show_error(exc)
            return
        if self._values() != (nss, curp):
            return  # the fields changed meanwhile; this answer is stale
        status = str(getattr(found, "biometric_status", "none"))
        fingers = [int(p) for p in getattr(found, "enrolled_fingers", []) or []]
        if status != "enrolled" or not fingers:
            self.siaptui.verification = Verification()
            self._show()
            self.show_info(t(f"verify.not_here.{status}", name=found.name), "error")
            return
        self.siaptui.verification = Verification(nss=nss, curp=curp, name=found.name, fingers=fingers,
                                                 position=fingers[0])
        self._show()
        self.set_focus(None)  # A and N are keys now, not letters of the CURP
        self.show_info(t("verify.confirmed.next"), "ok")

    # -- consent and capture -------------------------------------------------------------------
    def action_finger(self, step: int) -> None:
        self.verification.choose(step)
        self._show()

    def _record(self, accepted: bool) -> bool:
        app = self.siaptui
        services = app.services
        employer = app.flow.employer
        try:
            services.audit(
                "verification_consent_accepted" if accepted else "verification_consent_refused",
                self.verification.nss,
                actor=employer.rfc if employer else "",
                notice_version=NOTICE_VERSION,
                terminal=services.terminal(),
                at=services.now(),
                training=services.training,
            )
        except Exception as exc:  # noqa: BLE001 - no record, no check: say why and stay
            self.show_error(exc)
            return False
        return True

    def action_accept(self) -> None:
        if not self.verification.fingers or not self._record(True):
            return
        self.verification.consent_at = self.siaptui.services.now()
        self.verification.outcome = ""
        self.clear_status()
        self.siaptui.goto("verify_capture")

    def action_refuse(self) -> None:
        if not self.verification.fingers or not self._record(False):
            return
        self.siaptui.verification = Verification()
        self.query_one("#nss", Input).value = ""
        self.query_one("#curp", Input).value = ""
        self._show()
        self.query_one("#nss", Input).focus()
        self.show_info(t("verify.refused"))
