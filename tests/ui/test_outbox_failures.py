"""Bandeja honesty: a rejection is shown as rejected with its finger named and is not retried
by R; R retries a waiting item now (real mode, whatever portal is configured); a bundle from
another terminal imports from the dialog, once."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from siaptui.config import Settings
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until

NSS = "12058512349"
REQUEST = {"nss": NSS, "curp": "PELJ850412HJCRPN00"}


def screen_id(app) -> str:
    return getattr(app.screen, "SCREEN_ID", "")


async def test_a_rejection_is_shown_as_rejected_with_its_finger_and_r_does_not_resend_it() -> None:
    app = make_app(Settings(), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        outbox = app.services.store().outbox
        item = outbox.enqueue(REQUEST, worker_nss=NSS, employer_rfc="AAA010101AAA", training=False)
        outbox.claim_due("sender")
        outbox.mark_failed(item.id, "portal_duplicate_finger", detail="el dedo 3 ya está registrado",
                           retryable=False, params={"finger": 3, "status": 409})
        await pilot.press("f2")
        await wait_until(pilot, lambda: "rechazado" in screen_text(app))
        text = screen_text(app)
        assert "Medio derecho" in text and "{finger}" not in text and "Qué hacer" in text
        assert "reintenta ahora" not in text
        await pilot.press("r")
        await wait_until(pilot, lambda: "daría la misma respuesta" in screen_text(app))
        after = outbox.get(item.id)
        assert (after.state, after.attempts, after.retryable) == ("failed", 1, False)


async def test_r_in_the_bandeja_sends_a_waiting_real_item_now_to_the_configured_sandbox(demo) -> None:
    sandbox, efirma, practice = demo
    settings = dataclasses.replace(practice, general=dataclasses.replace(practice.general, training=False))
    app = make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    async with app.run_test(size=SIZE) as pilot:
        outbox = app.services.store().outbox
        from tests.store.sandbox_support import enrollment

        request = enrollment("34109056787", "HEGG901123MDFRRD06", seed=7)
        item = outbox.enqueue(request, worker_nss="34109056787", employer_rfc=efirma.rfc, training=False)
        outbox.claim_due("sender")
        outbox.mark_failed(item.id, "portal_overloaded", retryable=True, retry_after=3600)  # next try in an hour
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "worker", 60)
        await pilot.press("f2")
        await wait_until(pilot, lambda: screen_id(app) == "outbox")
        await pilot.press("r")
        await wait_until(pilot, lambda: outbox.get(item.id).state == "sent", 60)
        sent = outbox.get(item.id)
        await wait_until(pilot, lambda: sent.folio in screen_text(app))
        assert "todavía no le toca" not in screen_text(app)


async def test_the_bandeja_imports_a_bundle_typed_in_one_burst_and_only_once(tmp_path: Path) -> None:
    from siaptui.store.db import open_store
    from siaptui.store.export import export_pending

    bundle = tmp_path / "de-la-otra-terminal.siaptui"
    with open_store(tmp_path / "otra" / "siaptui.db") as other:
        item = other.outbox.enqueue(REQUEST, worker_nss=NSS, employer_rfc="AAA010101AAA", training=False)
        export_pending(other, bundle, "frase-de-paso")
    app = make_app(Settings(), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: screen_id(app) == "outbox")
        await pilot.press("i")
        await wait_until(pilot, lambda: "Importar un paquete" in screen_text(app))
        await pilot.press(*str(bundle), "enter", *"frase-equivocada", "enter")
        await wait_until(pilot, lambda: "no abre el paquete" in screen_text(app))
        await pilot.press(*"frase-de-paso", "enter")
        await wait_until(pilot, lambda: screen_id(app) == "outbox" and "Se importaron 1" in screen_text(app))
        assert [i.idempotency_key for i in app.services.store().outbox.items()] == [item.idempotency_key]
        await pilot.press("i")
        await wait_until(pilot, lambda: "Importar un paquete" in screen_text(app))
        await pilot.press(*str(bundle), "enter", *"frase-de-paso", "enter")
        await wait_until(pilot, lambda: "Se importaron 0 enrolamientos; 1 ya estaban" in screen_text(app))
        assert len(app.services.store().outbox.items()) == 1
