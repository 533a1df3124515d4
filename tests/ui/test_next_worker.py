"""The next worker starts clean on every route, Ctrl+Q asks when quitting affects something,
and Enter typed in the same burst as the characters before it uses the whole value.

Driven by keys against the demo setup (sandbox on loopback, simulated scanner), reading the
screen as a clerk would.
"""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import Input

from siaptui.config import Settings
from siaptui.enrollment.flow import FINGERS
from tests.ui.conftest import SIZE, make_app, review_send_and_wait_for_receipt, screen_text, wait_until

FIRST = ("12058512349", "PELJ850412HJCRPN00", "JUAN PEREZ LOPEZ")  # seeded in the sandbox
SECOND = ("34109056787", "HEGG901123MDFRRD06", "MARIA GUADALUPE HERNANDEZ GARCIA")
REQUEST = {"nss": FIRST[0], "curp": FIRST[1], "fingers": []}


def shown(app: Any) -> str:
    """The screen's words in reading order, with line wraps and dialog borders taken out."""
    return " ".join(screen_text(app).replace("│", " ").split())


def screen_id(app: Any) -> str:
    return getattr(app.screen, "SCREEN_ID", "")


def demo_app(demo: Any) -> Any:
    sandbox, efirma, settings = demo
    settings.capture.impressions = 1
    return make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                    credential_dir=efirma.cer.parent, demo_password=efirma.password)


async def sign_in_in_one_burst(pilot: Any, password: str) -> None:
    """The password typed and Enter pressed in one burst (a paste): the whole password is used."""
    app = pilot.app
    await pilot.pause()
    field = app.screen.query_one("#password", Input)
    field.value = ""
    field.focus()
    await pilot.press(*password, "enter")
    await wait_until(pilot, lambda: screen_id(app) == "worker", 60)


async def confirm_worker(pilot: Any, worker: tuple) -> None:
    """NSS, Enter, CURP, Enter as one burst (a barcode reader): the portal confirms the worker."""
    app = pilot.app
    await pilot.press(*worker[0], "enter", *worker[1], "enter")
    await wait_until(pilot, lambda: app.flow.worker.confirmed and app.flow.worker.nss == worker[0], 30)


async def enroll_to_acuse(pilot: Any, worker: tuple) -> dict:
    """Confirm, consent, capture the first finger (the rest missing), review, send: the acuse."""
    app = pilot.app
    await confirm_worker(pilot, worker)
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen_id(app) == "consent")
    await pilot.press("a")
    await wait_until(pilot, lambda: screen_id(app) == "capture")
    capture = app.screen
    first = capture.enrollment.current
    await wait_until(pilot, lambda: app.flow.fingers.get(first) is not None
                     and app.flow.fingers[first].best is not None, 180)
    await wait_until(pilot, lambda: capture.enrollment.current != first, 30)
    for _ in range(len(FINGERS) - 1):
        position = capture.enrollment.current
        await pilot.press("f")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "MissingFingerScreen")
        await pilot.press("enter")
        await wait_until(pilot, lambda position=position: bool(app.flow.fingers[position].missing_reason))
    await review_send_and_wait_for_receipt(pilot)
    return dict(app.flow.receipt or {})


async def test_esc_back_to_trabajador_and_another_worker_starts_clean(demo: Any) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_in_one_burst(pilot, demo[1].password)
        receipt = await enroll_to_acuse(pilot, FIRST)
        assert receipt["folio"] and FIRST[2] in screen_text(app)
        for expected in ("submit", "review", "photo", "capture", "consent", "worker"):
            await pilot.press("escape")
            await wait_until(pilot, lambda expected=expected: screen_id(app) == expected)
        for name in ("nss", "curp"):
            app.screen.query_one(f"#{name}", Input).value = ""
        app.screen.query_one("#nss", Input).focus()
        await confirm_worker(pilot, SECOND)
        await wait_until(pilot, lambda: "receipt" not in app._instances)
        assert SECOND[2] in screen_text(app)
        flow = app.flow
        assert flow.fingers == {} and flow.receipt is None and flow.outbox_id is None
        assert not flow.consent.accepted and not flow.review.needs_attention
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "consent")
        second = await enroll_to_acuse_from_consent(pilot)
        assert second["folio"] != receipt["folio"]
        text = screen_text(app)
        assert SECOND[2] in text and second["folio"] in text and receipt["folio"] not in text
        sent = [item.worker_nss for item in app.services.store().outbox.items()]
        assert sorted(sent) == sorted([FIRST[0], SECOND[0]])


async def enroll_to_acuse_from_consent(pilot: Any) -> dict:
    """Envío before Enter shows no folio (the new worker's enrollment is not sent yet); then enroll."""
    app = pilot.app
    await pilot.press("escape")
    await wait_until(pilot, lambda: screen_id(app) == "worker")
    worker = (app.flow.worker.nss, app.flow.worker.curp)
    app.goto("submit")
    await wait_until(pilot, lambda: screen_id(app) == "submit")
    text = screen_text(app)
    assert "Recibido" not in text and "folio" not in text.lower()
    app.goto("worker")
    await wait_until(pilot, lambda: screen_id(app) == "worker")
    return await enroll_to_acuse(pilot, worker + ("",))


async def test_practice_scenario_after_an_acuse_starts_clean(demo: Any) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_in_one_burst(pilot, demo[1].password)
        await enroll_to_acuse(pilot, FIRST)
        await pilot.press("f6")
        await wait_until(pilot, lambda: screen_id(app) == "training")
        app.screen.choose("dry_finger")
        await wait_until(pilot, lambda: screen_id(app) == "worker" and app.flow.receipt is None, 30)
        await wait_until(pilot, lambda: "receipt" not in app._instances)
        assert app.flow.fingers == {} and not app.flow.consent.accepted
        assert app.screen.query_one("#nss", Input).value == ""


async def test_ctrl_q_says_unsent_items_stay_and_are_sent_at_next_start(tmp_path: Any) -> None:
    app = make_app(Settings(), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        app.services.store().outbox.enqueue(REQUEST, worker_nss=FIRST[0], employer_rfc="AAA010101AAA",
                                            training=False)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "QuitConfirmScreen")
        await wait_until(pilot, lambda: "1 envío(s)" in shown(app))
        assert "se enviarán al volver a iniciar" in shown(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: screen_id(app) == "login")


async def test_ctrl_q_in_practice_says_the_practice_outbox_is_discarded(demo: Any) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        app.services.store().outbox.enqueue(REQUEST, worker_nss=FIRST[0], employer_rfc="AAA010101AAA",
                                            training=True)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "QuitConfirmScreen")
        await wait_until(pilot, lambda: "la bandeja de práctica se descarta" in shown(app))


async def test_ctrl_q_with_nothing_to_lose_quits_at_once() -> None:
    app = make_app(Settings(), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code == 0


async def test_an_enrolled_worker_is_not_captured_again_and_held_fingers_are_never_lost_silently(demo: Any) -> None:
    sandbox, efirma, _settings = demo
    with sandbox.store.transaction() as db:  # Juan already enrolled with this employer at the portal
        db.execute("UPDATE workers SET biometrics_employer = ? WHERE nss = ?", (efirma.rfc, FIRST[0]))
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_in_one_burst(pilot, efirma.password)
        await confirm_worker(pilot, FIRST)
        assert "use Verificación (F7)" in shown(app)
        await pilot.press("enter")  # not consent and a second capture: what to do instead
        await pilot.pause()
        assert screen_id(app) == "worker" and "No se vuelven a capturar las huellas" in shown(app)

        # María's first finger captured, not yet in the outbox; then back to Trabajador.
        for name in ("nss", "curp"):
            app.screen.query_one(f"#{name}", Input).value = ""
        app.screen.query_one("#nss", Input).focus()
        await confirm_worker(pilot, SECOND)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "consent")
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_id(app) == "capture")
        await wait_until(pilot, lambda: app.flow.has_unsent_capture, 180)
        for expected in ("consent", "worker"):
            await pilot.press("escape")
            await wait_until(pilot, lambda expected=expected: screen_id(app) == expected)

        # Another NSS typed: asked, and N keeps María's fingers and takes the clerk back to her.
        for name in ("nss", "curp"):
            app.screen.query_one(f"#{name}", Input).value = ""
        app.screen.query_one("#nss", Input).focus()
        await pilot.press(*FIRST[0], "enter", *FIRST[1], "enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DiscardCaptureScreen", 30)
        assert "3410*****87" in shown(app) and "se perderán" in shown(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: screen_id(app) == "worker" and app.flow.worker.nss == SECOND[0]
                         and app.flow.worker.confirmed, 30)
        assert app.flow.has_unsent_capture and "Se conservan las huellas" in shown(app)

        # F8 Pendientes asks the same question; S discards them, explicitly, and Juan is looked up.
        await pilot.press("f8")
        await wait_until(pilot, lambda: screen_id(app) == "pending" and app.screen.loaded, 30)
        pending = app.screen
        await pilot.press("slash", *"juan", "enter")
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DiscardCaptureScreen")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is pending)
        assert app.flow.has_unsent_capture and "regrese con Esc" in shown(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DiscardCaptureScreen")
        await pilot.press("s")
        await wait_until(pilot, lambda: screen_id(app) == "worker" and app.flow.worker.nss == FIRST[0]
                         and app.flow.worker.confirmed, 30)
        assert not app.flow.has_unsent_capture and app.flow.fingers == {}
        await pilot.press("enter")
        await pilot.pause()
        assert screen_id(app) == "worker" and "No se vuelven a capturar las huellas" in shown(app)
