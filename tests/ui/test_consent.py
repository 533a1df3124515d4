"""Consentimiento: explicit answer only, recorded in the audit log; refusal keeps nothing."""

from __future__ import annotations

from textual.widgets import Input

from siaptui.config import Settings
from siaptui.enrollment.flow import Employer, WorkerData
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until


def ready_app():
    app = make_app(Settings(), device="sim")
    return app


async def _at_consent(app, pilot) -> None:
    app.flow.employer = Employer(rfc="AAA010101AAA", name="PATRON DEMO")
    app.goto("worker")
    await pilot.pause()
    app.screen.query_one("#nss", Input).value = "12058512349"
    app.screen.query_one("#curp", Input).value = "PELJ850412HJCRPN00"
    app.flow.worker = WorkerData(nss="12058512349", curp="PELJ850412HJCRPN00", name="JUAN PEREZ LOPEZ", confirmed=True)
    app.goto("consent")
    await pilot.pause()


async def test_nothing_is_preselected_and_refusal_stores_nothing_biometric() -> None:
    app = ready_app()
    async with app.run_test(size=SIZE) as pilot:
        await _at_consent(app, pilot)
        text = screen_text(app)
        assert "AVISO DE PRIVACIDAD" in text and "JUAN PEREZ LOPEZ" in text
        assert not app.flow.consent.accepted and not app.flow.consent.refused
        await pilot.press("enter")  # Enter is not an answer
        await pilot.pause()
        assert app.screen.SCREEN_ID == "consent" and not app.flow.consent.accepted
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen.SCREEN_ID == "worker")
        await pilot.pause()
        assert app.screen.query_one("#nss", Input).value == ""
        assert app.flow.worker.nss == "" and app.flow.fingers == {}
        store = app.services.store()
        actions = [(e["action"], e.get("subject")) for e in store.audit.entries()]
        assert any(action == "consent_refused" for action, _ in actions)
        assert len(store.gallery) == 0 and store.outbox.items() == []
        assert store.audit.verify()
        assert app.flow.employer is not None  # the employer session is kept


async def test_acceptance_is_recorded_with_time_employer_and_terminal() -> None:
    app = ready_app()
    async with app.run_test(size=SIZE) as pilot:
        await _at_consent(app, pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: app.screen.SCREEN_ID == "capture")
        consent = app.flow.consent
        assert consent.accepted and consent.recorded_at == app.services.now() and consent.terminal
        entries = list(app.services.store().audit.entries())
        accepted = [e for e in entries if e["action"] == "consent_accepted"]
        assert accepted and accepted[-1]["actor"] == "AAA010101AAA"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.SCREEN_ID == "consent"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.query_one("#curp", Input).value == "PELJ850412HJCRPN00"  # kept
