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


# -- a message belongs to the data it describes ------------------------------------------------
CONFIRMED_NEXT = "Verifique que es la persona presente"


async def test_a_refusal_leaves_no_message_for_the_next_worker(demo: Any) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_in_one_burst(pilot, demo[1].password)
        await confirm_worker(pilot, FIRST)
        await wait_until(pilot, lambda: CONFIRMED_NEXT in shown(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "consent")
        await pilot.press("n")
        await wait_until(pilot, lambda: screen_id(app) == "worker" and app.flow.consent.refused is False
                         and app.screen.query_one("#nss", Input).value == "")
        assert CONFIRMED_NEXT not in shown(app)


async def test_a_transfers_acuse_leaves_no_message_for_the_next_worker(demo: Any) -> None:
    from tests.ui.test_transfer_flow import ROBERTO

    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_in_one_burst(pilot, demo[1].password)
        await confirm_worker(pilot, (ROBERTO["nss"], ROBERTO["curp"]))
        await wait_until(pilot, lambda: "solicitar la transferencia" in shown(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "consent")
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_id(app) == "transfer")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "receipt", 60)
        await pilot.press("n")
        await wait_until(pilot, lambda: screen_id(app) == "worker" and app.flow.outbox_id is None)
        await pilot.pause()
        assert "solicitar la transferencia" not in shown(app)


async def test_editing_the_nss_drops_what_was_said_about_the_old_one(demo: Any) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_in_one_burst(pilot, demo[1].password)
        await confirm_worker(pilot, FIRST)
        await wait_until(pilot, lambda: CONFIRMED_NEXT in shown(app))
        app.screen.query_one("#nss", Input).focus()
        await pilot.press("backspace", "7")  # another worker's NSS, not looked up yet
        await pilot.pause()
        assert CONFIRMED_NEXT not in shown(app)

        # A wrong NSS refused at Enter: the refusal goes once the NSS is corrected.
        nss, curp = app.screen.query_one("#nss", Input), app.screen.query_one("#curp", Input)
        nss.value, curp.value = "", ""
        nss.focus()
        await pilot.press(*"12058512348", "enter", *FIRST[1], "enter")
        await wait_until(pilot, lambda: "El NSS no es válido" in str(app.screen.query_one("#status").content))
        assert app.focused is nss
        await pilot.press("backspace", "9")
        await pilot.pause()
        assert "El NSS no es válido" not in str(app.screen.query_one("#status").content)
        assert "debería ser" not in shown(app)


async def test_signing_out_from_practice_drops_the_signed_in_message(demo: Any) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_in_one_burst(pilot, demo[1].password)
        login = app.screen_for("login")
        assert "Sesión iniciada" in str(login.query_one("#status").content)
        await pilot.press("f6")
        await wait_until(pilot, lambda: screen_id(app) == "training")
        app.screen.choose("all_clear")  # signs the employer out: back to Inicio de sesión
        await wait_until(pilot, lambda: screen_id(app) == "login" and app.flow.employer is None, 30)
        await pilot.pause()
        assert "Sesión iniciada" not in shown(app)


# -- focus and separators in NSS and CURP --------------------------------------------------------
async def test_a_wrong_nss_keeps_a_visible_focus_and_a_right_one_moves_on(demo: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # as the tester's Linux console: focus shown by the border only
    monkeypatch.setenv("TERM", "linux")
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_in_one_burst(pilot, demo[1].password)
        nss, curp = app.screen.query_one("#nss", Input), app.screen.query_one("#curp", Input)
        await pilot.press(*"12058512348")
        await pilot.pause()
        assert app.focused is nss and nss.has_class("-invalid")
        assert nss.styles.border_top[0] == "double"  # still reads as the field being typed in
        await pilot.press("backspace", "9")
        await pilot.pause()
        assert app.focused is curp  # a complete, valid NSS: on to the CURP
        await pilot.press(*"PELJ")
        await pilot.press("f7")
        await wait_until(pilot, lambda: screen_id(app) == "verify")
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen_id(app) == "worker")
        await pilot.pause()
        assert (nss.value, curp.value) == ("12058512349", "PELJ") and app.focused is curp


async def test_separators_in_nss_and_curp_are_left_out_as_typed(demo: Any) -> None:
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_in_one_burst(pilot, demo[1].password)
        nss, curp = app.screen.query_one("#nss", Input), app.screen.query_one("#curp", Input)
        await pilot.press(*"120 5851 2349")
        await pilot.pause()
        assert nss.value == FIRST[0] and not nss.has_class("-invalid") and app.focused is curp
        await pilot.press(*f" {FIRST[1]} ", "enter")
        await wait_until(pilot, lambda: app.flow.worker.confirmed and app.flow.worker.name == FIRST[2], 30)
        assert curp.value == FIRST[1]
        nss.value = ""
        nss.focus()
        await pilot.press(*"120-5851-2349")
        await pilot.pause()
        assert nss.value == FIRST[0]


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
