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


def rejected_item(outbox):
    """An enrollment the portal refused for good: finger 3 is another worker's."""
    item = outbox.enqueue(REQUEST, worker_nss=NSS, employer_rfc="AAA010101AAA", training=False)
    outbox.claim_due("sender", only=item.id)
    return outbox.mark_failed(item.id, "portal_duplicate_finger", detail="el dedo 3 ya está registrado",
                              retryable=False, params={"finger": 3, "status": 409})


async def test_a_rejection_is_shown_as_rejected_with_its_finger_and_r_does_not_resend_it() -> None:
    app = make_app(Settings(), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        outbox = app.services.store().outbox
        item = rejected_item(outbox)
        await pilot.press("f2")
        await wait_until(pilot, lambda: "rechazado" in screen_text(app))
        text = screen_text(app)
        assert "Medio derecho" in text and "{finger}" not in text and "Qué hacer" in text
        assert "reintenta ahora" not in text
        await pilot.press("r")
        await wait_until(pilot, lambda: "daría la misma respuesta" in screen_text(app))
        after = outbox.get(item.id)
        assert (after.state, after.attempts, after.retryable) == ("failed", 1, False)


def _real_mode_app(demo):
    """The demo's sandbox and e.firma with Modo práctica off: real items, sent to that portal."""
    sandbox, efirma, practice = demo
    settings = dataclasses.replace(practice, general=dataclasses.replace(practice.general, training=False))
    return make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                    credential_dir=efirma.cer.parent, demo_password=efirma.password), settings


async def test_r_in_the_bandeja_sends_a_waiting_real_item_now_to_the_configured_sandbox(demo) -> None:
    sandbox, efirma, _ = demo
    app, settings = _real_mode_app(demo)
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


async def test_envio_shows_a_duplicate_finger_as_rejected_with_the_finger_and_never_as_retry(demo) -> None:
    """The portal finds the worker's finger under another worker: Envío says rejected, names
    the finger, shows what to do — and Enter does not send it again."""
    import uuid
    from datetime import datetime, timezone

    from siaptui import efirma as efirma_mod
    from siaptui.biometrics import template as template_mod
    from siaptui.enrollment.flow import FINGERS, FingerCapture
    from siaptui.portal import models
    from siaptui.portal.client import PortalClient
    from tests.ui.test_outbox_flow import real_impression

    sandbox, efirma, settings = demo
    # Two fingers: one matching finger alone is no alarm at office scale (biometrics/person.py).
    impressions = {p: real_impression(1001, p) for p in (2, 7)}
    records = [models.FingerRecord(position=p, quality=80, template=template_mod.to_iso19794_2(
        template_mod.Template.from_bytes(imp.template), p)) for p, imp in impressions.items()]
    moment = datetime(2026, 5, 1, 10, 0, tzinfo=timezone.utc)
    first = models.EnrollmentRequest(  # the same person already enrolled for another worker
        nss="12058512349", curp="PELJ850412HJCRPN00",
        fingers=records,
        device=models.CaptureDevice(model="sim", driver="sim"),
        consent=models.ConsentRecord("2025-1", moment, "aceptacion_en_pantalla", efirma.rfc), captured_at=moment)
    async with PortalClient(sandbox.url, max_attempts=1) as client:
        await client.login(efirma_mod.load(efirma.cer, efirma.key, efirma.password, allow_test_ca=True))
        await client.submit_enrollment(first, str(uuid.uuid4()))

    app = make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "worker", 60)
        await pilot.press(*"34109056787", "enter", *"HEGG901123MDFRRD06", "enter")
        await wait_until(pilot, lambda: app.flow.worker.confirmed, 30)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "consent")
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_id(app) == "capture")
        app.flow.fingers = {p: FingerCapture(position=p, missing_reason="amputated") for p in FINGERS}
        for position, impression in impressions.items():
            app.flow.fingers[position] = FingerCapture(position=position, impressions=[impression], best=0)
        app.goto("submit")
        await wait_until(pilot, lambda: screen_id(app) == "submit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Rechazado por el portal" in screen_text(app), 60)
        text = screen_text(app)
        assert "Índice derecho" in text and "{finger}" not in text
        assert "reintentar" not in text.lower()
        item = app.services.store().outbox.get(app.flow.outbox_id)
        assert item.rejected and item.reason == "portal_duplicate_finger"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Rechazado por el portal" in screen_text(app))
        assert app.services.store().outbox.get(item.id).attempts == item.attempts  # not sent again


async def test_quitting_while_the_portal_is_slow_gives_the_claim_back_for_the_next_start(demo) -> None:
    """The sender is mid-send when the clerk quits: the item must come back pending and unclaimed,
    so the next start sends it at once instead of waiting out the claim's lease."""
    sandbox, efirma, _ = demo
    app, settings = _real_mode_app(demo)
    from tests.store.sandbox_support import enrollment

    async with app.run_test(size=SIZE) as pilot:
        outbox = app.services.store().outbox
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "worker", 60)
        sandbox.set_faults(latency=5_000)
        request = enrollment("34109056787", "HEGG901123MDFRRD06", seed=7)
        item = outbox.enqueue(request, worker_nss="34109056787", employer_rfc=efirma.rfc, training=False)
        app.wake_sender()
        await wait_until(pilot, lambda: outbox.get(item.id).state == "sending", 30)
    sandbox.set_faults(latency=0)
    from siaptui.store.db import open_store

    store = open_store(settings=settings)
    try:
        after = store.outbox.get(item.id)
        assert (after.state, after.claimed_by) == ("pending", None)
    finally:
        store.close()


async def test_the_bandeja_counts_failing_apart_from_rejected_with_what_to_do_and_s_shows_each(
        monkeypatch) -> None:
    """Under NO_COLOR, so the words alone must tell the two apart (no colour is left)."""
    import csv

    from textual.widgets import DataTable

    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(Settings(), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        outbox = app.services.store().outbox
        failing, waiting = (outbox.enqueue(REQUEST, worker_nss=NSS, employer_rfc="AAA010101AAA", training=False)
                            for _ in range(2))
        outbox.claim_due("sender", only=failing.id)
        outbox.mark_failed(failing.id, "portal_unreachable", retryable=True, params={"url": "https://portal"})
        rejected = rejected_item(outbox)
        await pilot.press("f2")
        await wait_until(pilot, lambda: "Rechazados: 1" in screen_text(app))
        text = screen_text(app)
        assert app.theme == "siaptui-mono"
        assert "Pendientes: 1" in text and "Mostrando: todos" in text
        assert "Con falla: 1 · se reintentan solos; usted no tiene que hacer nada." in text
        assert "Rechazados: 1 · no se reintentan; elija uno y haga lo que dice «Qué hacer»." in text
        table = app.screen.query_one(DataTable)

        def shown() -> list[str]:
            return [str(table.get_row_at(row)[0]) for row in range(table.row_count)]

        await pilot.press("s")
        await wait_until(pilot, lambda: "Mostrando: pendientes" in screen_text(app))
        assert shown() == [str(waiting.id)]
        await pilot.press("s")
        await wait_until(pilot, lambda: "Mostrando: con falla" in screen_text(app) and "no tiene que hacer nada."
                         in screen_text(app).split("Folio / motivo")[1])
        assert shown() == [str(failing.id)] and "R reintenta ahora" in screen_text(app)
        await pilot.press("s")
        await wait_until(pilot, lambda: "Mostrando: rechazados" in screen_text(app) and "Qué hacer:"
                         in screen_text(app).split("Folio / motivo")[1])
        assert shown() == [str(rejected.id)] and "Medio derecho" in screen_text(app)
        await pilot.press("s")
        await wait_until(pilot, lambda: "Ningún envío está en «enviados»" in screen_text(app))
        assert shown() == []
        await pilot.press("s", "c")  # all again; the CSV names the two apart as the screen does
        await wait_until(pilot, lambda: "Se exportaron 3 envíos" in screen_text(app))
        written = next((app.services.data_dir() / "exportes").glob("folios-*.csv"))
        with open(written, encoding="utf-8-sig", newline="") as handle:
            states = {row["N.º"]: row["Estado"] for row in csv.DictReader(handle)}
        assert states == {str(failing.id): "con falla", str(rejected.id): "rechazado", str(waiting.id): "pendiente"}


async def test_e_with_nothing_waiting_says_so_and_asks_no_passphrase() -> None:
    app = make_app(Settings(), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        rejected_item(app.services.store().outbox)
        await pilot.press("f2")
        await wait_until(pilot, lambda: screen_id(app) == "outbox")
        await pilot.press("e")
        await wait_until(pilot, lambda: "No hay envíos por enviar" in screen_text(app))
        assert screen_id(app) == "outbox" and "Los rechazados no se exportan" in " ".join(screen_text(app).split())
