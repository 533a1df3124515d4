"""The whole flow in the demo setup, by keyboard: sandbox over loopback HTTP, demo e.firma,
simulated scanner, temporary data dir — login → worker → consent → capture → review → submit
→ acuse, then back with Esc (nothing typed is lost, nothing is sent twice), then a new worker.
"""

from __future__ import annotations

import time

from textual.widgets import Input

from siaptui.enrollment.flow import FINGERS
from tests.ui.conftest import SIZE, make_app, review_send_and_wait_for_receipt, screen_text, wait_until

WORKER = ("12058512349", "PELJ850412HJCRPN00", "JUAN PEREZ LOPEZ")  # seeded in the sandbox


def screen_id(app) -> str:
    return getattr(app.screen, "SCREEN_ID", "")


async def test_login_to_acuse_and_back_again(demo) -> None:
    sandbox, efirma, settings = demo
    settings.capture.impressions = 2  # a public setting: fewer impressions keep the test short
    app = make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "MODO PRÁCTICA" in text and efirma.password in text

        # Inicio de sesión: the demo e.firma is pre-filled; Enter signs in against the sandbox.
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "worker", 60)
        assert app.flow.employer is not None and app.flow.employer.rfc == efirma.rfc
        assert app.flow.employer.training
        await pilot.pause()

        # Trabajador: typed, checked locally, confirmed by the portal.
        nss, curp, name = WORKER
        await pilot.press(*nss, "enter", *curp.lower(), "enter")
        await wait_until(pilot, lambda: app.flow.worker.confirmed, 30)
        assert name in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "consent")

        # Consentimiento: explicit acceptance.
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_id(app) == "capture")

        # Captura: the sim serves this worker's fingers; capture the right thumb, mark the rest missing.
        capture = app.screen
        first = capture.enrollment.current
        await wait_until(pilot, lambda: app.flow.fingers[first].best is not None, 180)
        await wait_until(pilot, lambda: capture.enrollment.current != first, 30)
        for _ in range(len(FINGERS) - 1):
            position = capture.enrollment.current
            await pilot.press("f")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "MissingFingerScreen")
            await pilot.press("enter")  # first reason in the list
            await wait_until(pilot, lambda position=position: bool(app.flow.fingers[position].missing_reason))
        assert sum(1 for f in app.flow.fingers.values() if f.best is not None) == 1
        assert app.flow.has_unsent_capture

        # Revisión → Envío → Acuse.
        await review_send_and_wait_for_receipt(pilot)
        await pilot.pause()
        receipt = app.flow.receipt
        assert receipt and receipt["folio"]
        text = screen_text(app)
        assert receipt["folio"] in text and "MODO PRÁCTICA" in text
        assert not app.flow.has_unsent_capture

        # The outbox committed it first and holds the portal's acknowledgement.
        store = app.services.store()
        items = store.outbox.items()
        assert [(i.state, i.folio, i.training) for i in items] == [("sent", receipt["folio"], True)]
        assert store.audit.verify()

        # Back with Esc: every screen still shows what was typed; nothing is sent twice.
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen_id(app) == "submit")
        await pilot.pause()
        assert receipt["folio"] in screen_text(app)
        await pilot.press("enter")  # already acknowledged: shows the acuse again, no new send
        await wait_until(pilot, lambda: screen_id(app) == "receipt")
        assert len(store.outbox.items()) == 1
        for expected in ("submit", "review", "capture", "consent", "worker"):
            await pilot.press("escape")
            await wait_until(pilot, lambda expected=expected: screen_id(app) == expected)
            if expected == "capture":
                await pilot.pause()
        assert app.screen.query_one("#nss", Input).value == nss
        assert app.screen.query_one("#curp", Input).value == curp

        # Forward again to the acuse, then a new worker keeps the e.firma session.
        for key, expected in (("enter", "consent"),):
            await pilot.press(key)
            await wait_until(pilot, lambda expected=expected: screen_id(app) == expected)
        app.goto("receipt")
        await wait_until(pilot, lambda: screen_id(app) == "receipt")
        await pilot.press("n")
        await wait_until(pilot, lambda: screen_id(app) == "worker")
        await pilot.pause()
        assert app.screen.query_one("#nss", Input).value == ""
        assert app.flow.employer is not None and app.flow.fingers == {} and app.flow.receipt is None
        assert len(app.screen_stack) == 3  # default, login, worker: the old steps are gone


async def test_wrong_password_and_unknown_worker_get_messages_not_tracebacks(demo) -> None:
    sandbox, efirma, settings = demo
    app = make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#password", Input).value = "no-es-la-clave"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "contraseña de la clave privada no es correcta" in screen_text(app), 60)
        assert app.flow.employer is None
        assert screen_id(app) == "login" and "Traceback" not in screen_text(app)
        app.screen.query_one("#password", Input).value = efirma.password
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "worker", 60)
        # Valid check digits, but NSS and CURP belong to nobody the portal knows together.
        await pilot.press(*"12345678903", "enter", *WORKER[1], "enter")
        await wait_until(pilot, lambda: "CURP o NSS no coinciden con el registro IMSS" in screen_text(app), 30)
        assert not app.flow.worker.confirmed
        await pilot.press("enter")  # still not confirmed: asks the portal again, never moves on
        await pilot.pause()
        assert screen_id(app) == "worker"
