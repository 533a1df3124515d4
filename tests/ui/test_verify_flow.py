"""Verificación by keyboard against the sandbox on loopback: a worker enrolled with this
employer is checked with one finger from the simulated reader — their own finger matches,
another person's finger does not — and each answer comes with its band and the next step."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from siaptui import efirma as efirma_mod
from siaptui.devices.sim import Practice
from siaptui.portal.sandbox import seed
from tests.ui.conftest import SIZE, make_app, screen_text, transfer_to_acuse, wait_until

JUAN = seed.DEMO_WORKERS[0]
ANDREA = seed.OTHER_WORKERS[1]
"""Her right index is far from Juan's (through ISO 19794-2, person 1002's is not: it scores
just above the FMR 0.1 % line against Juan's, a near-twin of the synthetic generator)."""
FINGER = 2  # right index


def flat(app: Any) -> str:
    return " ".join(screen_text(app).split())


async def enroll_through_the_portal(url: str, demo: Any, worker: dict) -> None:
    """The worker's right index enrolled with the demo employer, from an impression of the same
    synthetic finger the `sim` reader serves (another impression than the ones it shows)."""
    from siaptui.biometrics.extract import extract
    from siaptui.biometrics.template import to_iso19794_2
    from siaptui.portal import models
    from siaptui.portal.client import PortalClient
    from siaptui.synth import finger_image

    template = to_iso19794_2(extract(finger_image(int(worker["person_seed"]), FINGER, 40)), FINGER)
    now = datetime.now(timezone.utc)
    request = models.EnrollmentRequest(
        nss=str(worker["nss"]), curp=str(worker["curp"]),
        fingers=[models.FingerRecord(FINGER, template, 80), models.FingerRecord(1, missing_reason="bandaged")],
        device=models.CaptureDevice("sim", driver="sim"),
        consent=models.ConsentRecord("2026-01", now, "aceptacion_en_pantalla", demo.rfc),
        captured_at=now)
    credential = efirma_mod.load(demo.cer, demo.key, demo.password, allow_test_ca=True)
    async with PortalClient(url) as client:
        await client.login(credential)
        await client.submit_enrollment(request, "verify-test-" + str(worker["nss"]))


async def check_once(pilot: Any) -> None:
    """A (consent) → one finger on the sim reader → the portal's answer back on Verificación."""
    app = pilot.app
    store = app.services.store()

    def answers() -> int:
        return sum(1 for e in store.audit.entries() if e["action"] == "verification")

    before = answers()
    await pilot.press("a")
    await wait_until(pilot, lambda: answers() > before and app.screen.SCREEN_ID == "verify", 120)


async def test_enrolled_worker_matches_and_another_finger_does_not(demo) -> None:
    sandbox, efirma, settings = demo
    await enroll_through_the_portal(sandbox.url, efirma, JUAN)
    app = make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen.SCREEN_ID == "worker", 60)
            await pilot.press("f7")
            await wait_until(pilot, lambda: app.screen.SCREEN_ID == "verify")
            assert "sin portal no se puede verificar" in flat(app)

            await pilot.press(*str(JUAN["nss"]), "enter", *str(JUAN["curp"]).lower(), "enter")
            await wait_until(pilot, lambda: bool(app.verification.fingers), 30)
            assert app.verification.fingers == [FINGER] and app.verification.position == FINGER
            assert "Índice derecho" in flat(app)

            await check_once(pilot)
            assert (app.verification.outcome, app.verification.confidence) == ("match", "high")
            text = flat(app)
            assert "COINCIDE (confianza alta)" in text and "Es la persona registrada" in text

            # Somebody else's finger under Juan's NSS: the portal says no.
            Practice.set(impersonate=int(ANDREA["person_seed"]))
            await check_once(pilot)
            assert (app.verification.outcome, app.verification.confidence) == ("no_match", "high")
            text = flat(app)
            assert "NO COINCIDE (confianza alta)" in text and "pida una identificación oficial" in text

            store = app.services.store()
            actions = [e["action"] for e in store.audit.entries()]
            assert actions.count("verification_consent_accepted") == 2 and actions.count("verification") == 2
            # Nothing of the check touched the enrollment flow or the outbox.
            assert not app.flow.fingers and store.outbox.items() == []
    finally:
        Practice.reset()


async def test_verification_says_it_needs_the_portal_when_it_is_down(demo) -> None:
    sandbox, efirma, settings = demo
    await enroll_through_the_portal(sandbox.url, efirma, JUAN)
    app = make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.SCREEN_ID == "worker", 60)
        await pilot.press("f7")
        await wait_until(pilot, lambda: app.screen.SCREEN_ID == "verify")
        sandbox.stop()
        await pilot.press(*str(JUAN["nss"]), "enter", *str(JUAN["curp"]), "enter")
        await wait_until(pilot, lambda: "No hay conexión con el portal" in flat(app), 90)
        assert not app.verification.fingers and "Traceback" not in screen_text(app)


async def test_transferred_worker_is_verified_against_the_record_that_moved(demo) -> None:
    """ROBERTO's seeded record holds templates of his synthetic fingers: once transferred to this
    employer, his own finger on the sim reader matches and somebody else's does not — the
    portal compares, it never answers "could not compare"."""
    from tests.ui.test_transfer_flow import ROBERTO, sign_in_and_look_up

    sandbox, efirma, settings = demo
    app = make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await sign_in_and_look_up(pilot, ROBERTO)
            await transfer_to_acuse(pilot)

            await pilot.press("f7")
            await wait_until(pilot, lambda: app.screen.SCREEN_ID == "verify")
            await pilot.press(*str(ROBERTO["nss"]), "enter", *str(ROBERTO["curp"]), "enter")
            await wait_until(pilot, lambda: bool(app.verification.fingers), 30)
            assert app.verification.fingers == list(seed.TRANSFER_FINGERS)

            await check_once(pilot)
            assert app.verification.outcome == "match"
            assert "COINCIDE" in flat(app) and "no pudo comparar" not in flat(app)

            Practice.set(impersonate=int(ANDREA["person_seed"]))
            await check_once(pilot)
            assert app.verification.outcome == "no_match"
    finally:
        Practice.reset()
