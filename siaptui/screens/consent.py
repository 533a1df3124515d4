"""Consentimiento: the privacy notice, and the worker's explicit yes or no.

Why this shape: the law (LFPDPPP) treats fingerprints as sensitive data, so consent must be
explicit and provable.  Nothing is pre-selected — the clerk presses A (acepta) or N (no acepta)
after reading the notice to the worker.  Either answer is recorded with time, employer and
terminal in the store's hash-chained audit log; a refusal stores nothing biometric and returns
to Trabajador with empty fields.  A worker whose fingers another employer registered is asked
to consent to the transfer of that record instead, and goes on to Transferencia.
"""

from __future__ import annotations

from typing import Iterable

from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Button, Static

from siaptui.enrollment.flow import Consent, Step
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, Plain

NOTICE_VERSION = "2026-01"
"""Version of the aviso de privacidad text in the catalog; recorded with every answer."""


class ConsentScreen(FlowScreen):
    SCREEN_ID = "consent"
    STEP = Step.CONSENT
    AUTO_FOCUS = "#notice"
    BINDINGS = [
        Binding("a", "accept", "key.consent_accept", id="consent-accept"),
        Binding("n", "refuse", "key.consent_refuse", id="consent-refuse"),
    ]

    def compose_body(self) -> Iterable[Widget]:
        worker = self.siaptui.flow.worker
        yield Plain(t("consent.for_worker", name=worker.name or "-", nss=worker.nss), classes="hint", id="for-worker")
        yield Plain(t("consent.notice", version=NOTICE_VERSION), id="notice", classes="notice")
        yield Plain(self._question(), classes="big", id="question")
        with Horizontal(classes="buttons"):
            yield Button(t("consent.accept"), id="accept", variant="success")
            yield Button(t("consent.refuse"), id="refuse", variant="error")

    def _question(self) -> str:
        """A transfer asks consent to move the registered fingers; otherwise, to capture them."""
        return t("transfer.consent_question") if self.siaptui.flow.wants_transfer else t("consent.question")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        worker = self.siaptui.flow.worker
        self.query_one("#for-worker", Static).update(t("consent.for_worker", name=worker.name or "-", nss=worker.nss))
        self.query_one("#question", Static).update(self._question())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "accept":
            self.action_accept()
        elif event.button.id == "refuse":
            self.action_refuse()

    def _record(self, accepted: bool) -> bool:
        """Write the answer to the audit log first; the flow state only after it is stored."""
        app = self.siaptui
        services = app.services
        employer = app.flow.employer
        now = services.now()
        terminal = services.terminal()
        try:
            services.audit(
                "consent_accepted" if accepted else "consent_refused",
                app.flow.worker.nss,
                actor=employer.rfc if employer else "",
                notice_version=NOTICE_VERSION,
                purpose="transfer" if app.flow.wants_transfer else "capture",
                terminal=terminal,
                at=now,
                training=services.training,
            )
        except Exception as exc:  # noqa: BLE001 - no record, no capture: say why and stay
            self.show_error(exc)
            return False
        app.flow.consent = Consent(
            accepted=accepted,
            refused=not accepted,
            notice_version=NOTICE_VERSION,
            recorded_at=now,
            terminal=terminal,
        )
        return True

    def action_accept(self) -> None:
        if not self.siaptui.flow.worker.confirmed:
            self.show_info(t("consent.no_worker"), "error")
            return
        if self._record(True):
            self.clear_status()
            self.siaptui.goto("transfer" if self.siaptui.flow.wants_transfer else "capture")

    def action_refuse(self) -> None:
        if not self._record(False):
            return
        self.siaptui.flow.fingers = {}
        self.siaptui.start_new_worker()
        self.siaptui.notify(t("consent.refused_done"), timeout=6)
