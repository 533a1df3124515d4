"""Envío when the portal is saturated: the enrollment is committed to the outbox first, the
clerk is told it is safe and why it is not sent yet, and the Bandeja sends it later — once."""

from __future__ import annotations

import time

from siaptui.enrollment.flow import FINGERS, FingerCapture, Impression
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until

NSS, CURP = "34109056787", "HEGG901123MDFRRD06"  # a seeded sandbox worker


def real_impression(person_seed: int, finger: int) -> Impression:
    """A template extracted by the engine from a synthetic impression (what Captura stores)."""
    from siaptui import synth
    from siaptui.biometrics.extract import extract

    image = synth.finger_image(person_seed, finger, 0)
    template = extract(image)
    return Impression(quality=int(template.quality or 60), template=template.to_bytes())


def screen_id(app) -> str:
    return getattr(app.screen, "SCREEN_ID", "")


async def test_saturated_portal_keeps_it_in_the_outbox_and_the_bandeja_sends_it(demo) -> None:
    sandbox, efirma, settings = demo
    app = make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    impression = real_impression(1002, 2)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "worker", 60)
        await pilot.press(*NSS, "enter", *CURP, "enter")
        await wait_until(pilot, lambda: app.flow.worker.confirmed, 30)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "consent")
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_id(app) == "capture")
        # What Captura leaves in the flow: one finger captured, the others marked missing.
        app.flow.fingers = {p: FingerCapture(position=p, missing_reason="amputated") for p in FINGERS}
        app.flow.fingers[2] = FingerCapture(position=2, impressions=[impression], best=0)
        app.goto("submit")
        await wait_until(pilot, lambda: screen_id(app) == "submit")

        # Month-end: every /v1 call gets 503 + Retry-After 1 s (the client's own retries give up).
        sandbox.set_faults(overload_next=1000, overload_retry_after=1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Aún no enviado" in screen_text(app), 90)
        text = screen_text(app)
        assert "Ya puede cerrar el programa" in text and "saturado" in text
        item = app.services.store().outbox.get(app.flow.outbox_id)
        assert item.state in ("pending", "failed") and item.has_payload  # committed, not lost
        assert app.flow.receipt is None and not app.flow.has_unsent_capture  # safe to quit now

        sandbox.set_faults(overload_next=0)
        await pilot.press("f2")
        await wait_until(pilot, lambda: screen_id(app) == "outbox")
        assert "pendiente" in screen_text(app) or "con falla" in screen_text(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: app.services.store().outbox.get(item.id).state == "sent", 60)
        sent = app.services.store().outbox.get(item.id)
        await wait_until(pilot, lambda: (sent.folio or "") in screen_text(app))
        assert sent.folio and sent.idempotency_key == item.idempotency_key
        assert len(app.services.store().outbox.items()) == 1

        # Back on Envío the acuse is there without sending again.
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen_id(app) == "submit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "receipt")
        assert app.flow.receipt and app.flow.receipt["folio"] == sent.folio
        assert len(app.services.store().outbox.items()) == 1


async def test_a_sent_item_shows_local_time_and_r_says_it_needs_no_retry() -> None:
    from datetime import datetime, timezone

    from siaptui.acuse.record import local_time
    from siaptui.portal.models import Receipt

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        outbox = app.services.store().outbox
        sent = outbox.enqueue({"nss": "12058512349"}, worker_nss="12058512349", employer_rfc="DEPM800101AB2",
                              training=True)
        outbox.mark_sent(sent.id, Receipt(folio="SBX-20261203-000001", acuse="acuse",
                                          received_at=datetime(2026, 12, 3, 16, 35, 40, tzinfo=timezone.utc),
                                          enrollment_id="enr-1"))
        app.goto("outbox")
        await pilot.pause(0.3)
        text = " ".join(screen_text(app).split())  # the clerk's local time, not the portal's ISO
        assert local_time("2026-12-03T16:35:40+00:00") in text and "T16:35:40" not in text
        await pilot.press("r")
        await pilot.pause(0.3)
        text = " ".join(screen_text(app).split())
        assert "ya fue recibido por el portal" in text and "SBX-20261203-000001" in text
        assert outbox.get(sent.id).state == "sent"
