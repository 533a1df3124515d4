"""Transferencia by keyboard against the sandbox on loopback: the seeded worker whose fingers a
previous employer registered is transferred — consent, a signed request through the outbox,
the acuse — and no capture ever happens; capture is offered only when the portal refuses the
transfer because there is nothing to transfer."""

from __future__ import annotations

import time
from typing import Any

from siaptui.portal import seal
from siaptui.portal.sandbox import seed
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until

ROBERTO = next(w for w in seed.DEMO_WORKERS if w["case"] == "enrolled_elsewhere")


def question(app: Any) -> str:
    """The consent screen's question (below the notice, so maybe scrolled out of the 24 rows)."""
    return str(app.screen.query_one("#question").content)


def flat(app: Any) -> str:
    """The screen's text with line wraps undone."""
    return " ".join(screen_text(app).split())


def screen_id(app: Any) -> str:
    return getattr(app.screen, "SCREEN_ID", "")


async def sign_in_and_look_up(pilot: Any, worker: dict) -> None:
    app = pilot.app
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen_id(app) == "worker", 60)
    await pilot.press(*str(worker["nss"]), "enter", *str(worker["curp"]), "enter")
    await wait_until(pilot, lambda: app.flow.worker.confirmed, 30)


async def test_seeded_worker_is_transferred_without_capture(demo) -> None:
    sandbox, efirma, settings = demo
    app = make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in_and_look_up(pilot, ROBERTO)
        assert app.flow.worker.biometric_status == "enrolled_elsewhere"
        assert "solicitar la transferencia" in flat(app)

        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "consent")
        assert "se transfiera a este patrón" in question(app)
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_id(app) == "transfer")
        assert "sin volver a capturarlas" in flat(app)

        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "receipt", 60)
        receipt = app.flow.receipt
        assert receipt and receipt["folio"].startswith("SBX-T-")
        text = flat(app)
        assert receipt["folio"] in text and ROBERTO["name"] in text
        # The step bar does not claim a capture or a review that never happened.
        assert "–Capt." in text and "–Rev." in text and "✓Capt." not in text
        assert "ACUSE DE TRANSFERENCIA" in app.services.store().outbox.get(app.flow.outbox_id).acuse

        # No capture happened: the capture screen was never built, no finger is in the flow.
        assert "capture" not in app._instances and not app.flow.fingers
        # The outbox committed the transfer first and holds the portal's acknowledgement.
        store = app.services.store()
        [item] = store.outbox.items()
        assert (item.state, item.folio, item.worker_nss) == ("sent", receipt["folio"], ROBERTO["nss"])
        # The transfer's acuse carries the portal's seal (the receipt's field), shown and kept.
        portal_key = seal.public_key_b64(sandbox.store.seal_key())
        assert item.seal and seal.verify(portal_key, item.folio, item.acuse, item.seal)
        assert "Sello del portal" in text and "no trae sello" not in text
        assert [e["action"] for e in store.audit.entries() if e["action"] == "transfer_queued"] == ["transfer_queued"]
        [consent] = [e for e in store.audit.entries() if e["action"] == "consent_accepted"]
        assert consent["details"]["purpose"] == "transfer"
        # The portal moved the record to this employer.
        assert sandbox.store.worker_by_nss(ROBERTO["nss"])["biometrics_employer"] == efirma.rfc


async def test_transfer_resend_after_a_dropped_answer_keeps_one_transfer(demo) -> None:
    """The portal commits, the connection drops before the answer: the outbox resends with the
    same Idempotency-Key and the portal answers the same folio (one transfer, not two)."""
    sandbox, efirma, settings = demo
    app = make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in_and_look_up(pilot, ROBERTO)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "consent")
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_id(app) == "transfer")
        sandbox.set_faults(drop_after_commit=1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "receipt", 90)
        [item] = app.services.store().outbox.items()
        assert item.state == "sent" and item.folio == app.flow.receipt["folio"]
        with sandbox.store.transaction() as db:
            count = db.execute("SELECT COUNT(*) FROM transfers").fetchone()[0]
        assert count == 1


async def test_capture_is_offered_only_when_there_is_nothing_to_transfer(demo) -> None:
    sandbox, efirma, settings = demo
    app = make_app(settings, now=time.time, portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in_and_look_up(pilot, ROBERTO)
        # Meanwhile the previous employer's record is gone (cancelled at the IMSS).
        with sandbox.store.transaction() as db:
            db.execute("UPDATE workers SET biometrics_employer = NULL WHERE nss = ?", (ROBERTO["nss"],))
            db.execute("DELETE FROM templates WHERE nss = ?", (ROBERTO["nss"],))
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_id(app) == "consent")
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_id(app) == "transfer")
        assert not app.screen.check_action("capture", ())  # no capture before the portal says so
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.flow.capture_instead == "portal_nothing_to_transfer", 60)
        text = flat(app)
        assert "No hay registro biométrico que transferir" in text and "presione C" in text
        [item] = app.services.store().outbox.items()
        assert item.state == "failed" and not item.retryable  # refused: not retried behind the clerk's back

        await pilot.press("c")
        await wait_until(pilot, lambda: screen_id(app) == "consent")
        assert "se capturen sus huellas" in question(app)
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_id(app) == "capture")
