"""SVG snapshots of every screen of the shell at 80×24 (Spanish), and the login in English.

Deterministic by construction: fixed clock, fixed theme (not the test terminal's), fixed paths
typed into the fields, TZ=UTC for displayed times, no blinking cursor (`low_motion`).
Regenerate after an intended change with `make snapshots`.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

import pytest

from siaptui.config import Settings
from siaptui.enrollment.flow import Consent, Employer, FingerCapture, Impression, WorkerData
from tests.ui.conftest import FIXED_NOW, SIZE, make_app

EMPLOYER = Employer(rfc="DEPM800101AB2", name="MARIA DEMO PEREZ", training=True)
WORKER = WorkerData(nss="12058512349", curp="PELJ850412HJCRPN00", name="JUAN PEREZ LOPEZ", confirmed=True)


@pytest.fixture(autouse=True)
def stable_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setenv("SIAPTUI_CONFIG", "/home/oficina/.config/siaptui/siaptui.toml")
    yield
    monkeypatch.undo()
    time.tzset()


def snapshot_app(training: bool = False, device: str = "sim") -> Any:
    settings = Settings()
    settings.general.theme = "default"
    settings.general.training = training
    app = make_app(settings, device=device)
    app.ascii_glyphs = False
    return app


def with_flow(app: Any, *, consent: bool = False, fingers: bool = False) -> None:
    app.flow.employer = EMPLOYER
    app.flow.worker = WorkerData(**vars(WORKER))
    if consent:
        app.flow.consent = Consent(accepted=True, notice_version="2026-01", recorded_at=FIXED_NOW, terminal="caja-1")
    if fingers:
        for position in (1, 2, 6, 7):
            app.flow.fingers[position] = FingerCapture(
                position=position, impressions=[Impression(quality=80 + position, template=b"x")], best=0)
        app.flow.fingers[3] = FingerCapture(position=3, missing_reason="bandaged")


def go(screen_id: str, prepare: Optional[Callable[[Any], None]] = None, keys: tuple = ()) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        if prepare is not None:
            prepare(pilot.app)
        if screen_id != "login":
            pilot.app.goto(screen_id)
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await pilot.pause(0.2)

    return run_before


def fill_login(app: Any) -> None:
    from textual.widgets import Input

    screen = app.screen
    screen.query_one("#cer", Input).value = "/home/oficina/efirma/patron_fiel.cer"
    screen.query_one("#key", Input).value = "/home/oficina/efirma/Claveprivada_FIEL.key"


def test_login(snap_compare) -> None:
    assert snap_compare(snapshot_app(), run_before=go("login", fill_login), terminal_size=SIZE)


def test_login_english(snap_compare) -> None:
    from siaptui import i18n

    i18n.set_language("en")
    assert snap_compare(snapshot_app(), run_before=go("login", fill_login), terminal_size=SIZE)


def test_login_training_banner(snap_compare) -> None:
    assert snap_compare(snapshot_app(training=True), run_before=go("login", fill_login), terminal_size=SIZE)


def test_worker_confirmed(snap_compare) -> None:
    def prepare(app: Any) -> None:
        app.flow.employer = EMPLOYER

    async def run_before(pilot: Any) -> None:
        from textual.widgets import Static

        await go("worker", prepare, keys=(*WORKER.nss, "enter", *WORKER.curp))(pilot)
        pilot.app.flow.worker = WorkerData(**vars(WORKER))
        pilot.app.screen.query_one("#confirmed", Static).update("Confirmado por el portal: JUAN PEREZ LOPEZ")
        await pilot.pause()

    assert snap_compare(snapshot_app(), run_before=run_before, terminal_size=SIZE)


def test_worker_wrong_character(snap_compare) -> None:
    def prepare(app: Any) -> None:
        app.flow.employer = EMPLOYER

    assert snap_compare(snapshot_app(), run_before=go("worker", prepare, keys=tuple("120585O2349")), terminal_size=SIZE)


def test_consent(snap_compare) -> None:
    assert snap_compare(snapshot_app(), run_before=go("consent", with_flow), terminal_size=SIZE)


def test_submit(snap_compare) -> None:
    assert snap_compare(snapshot_app(), run_before=go("submit", lambda app: with_flow(app, consent=True, fingers=True)),
                        terminal_size=SIZE)


SANDBOX_ACUSE = "\n".join([
    "ACUSE DE RECIBO DE REGISTRO BIOMÉTRICO — PORTAL DE PRUEBA (sin validez oficial)",
    "Folio: SBX-20260528-000001",
    "Fecha de recepción: 2026-05-28T20:26:40Z",
    "Patrón: MARIA DEMO PEREZ (RFC DEPM800101AB2), registro patronal Y5412345100",
    "Trabajador: JUAN PEREZ LOPEZ, NSS 12058512349, CURP PELJ850412HJCRPN00",
    "Dedos registrados: 1, 2, 6, 7",
    "Dedos sin captura: 3 (vendado o lesionado)",
])
"""An acuse text in the sandbox portal's words."""


def sandbox_seal() -> str:
    """The seal a portal whose Ed25519 key is the bytes 0…31 puts on SANDBOX_ACUSE (Ed25519 is
    deterministic, so the snapshot is too)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from siaptui.portal import seal

    return seal.sign(Ed25519PrivateKey.from_private_bytes(bytes(range(32))), "SBX-20260528-000001", SANDBOX_ACUSE)


def sent_item(app: Any, training: bool = True) -> int:
    """One enrollment committed to the real outbox and acknowledged with the sandbox's acuse."""
    from datetime import datetime, timezone

    from siaptui.portal.models import Receipt

    outbox = app.services.store().outbox
    item = outbox.enqueue({"nss": WORKER.nss, "curp": WORKER.curp}, worker_nss=WORKER.nss,
                          employer_rfc=EMPLOYER.rfc, training=training)
    outbox.mark_sent(item.id, Receipt(folio="SBX-20260528-000001", acuse=SANDBOX_ACUSE,
                                      received_at=datetime(2026, 5, 28, 20, 26, 40, tzinfo=timezone.utc),
                                      enrollment_id="enr-1", seal=sandbox_seal()))
    return item.id


def prepare_receipt(app: Any) -> None:
    with_flow(app, consent=True, fingers=True)
    app.flow.outbox_id = sent_item(app)
    app.flow.receipt = dict(app.services.store().outbox.get(app.flow.outbox_id).receipt or {})


def test_receipt(snap_compare) -> None:
    assert snap_compare(snapshot_app(training=True), run_before=go("receipt", prepare_receipt), terminal_size=SIZE)


def test_receipt_english(snap_compare) -> None:
    from siaptui import i18n

    i18n.set_language("en")
    assert snap_compare(snapshot_app(training=True), run_before=go("receipt", prepare_receipt), terminal_size=SIZE)


def test_acuse_reopened_from_the_bandeja(snap_compare) -> None:
    def prepare(app: Any) -> None:
        app.screen_for("acuse").item_id = sent_item(app, training=False)

    assert snap_compare(snapshot_app(), run_before=go("acuse", prepare), terminal_size=SIZE)


def prepare_outbox(app: Any) -> None:
    """One of each: sent, failing for a passing reason (retried by itself), rejected, pending."""
    import random
    from datetime import datetime, timezone

    from siaptui.portal.models import Receipt

    outbox = app.services.store().outbox
    request = {"nss": "12058512349", "curp": "PELJ850412HJCRPN00"}
    sent = outbox.enqueue(request, worker_nss="12058512349", employer_rfc="DEPM800101AB2", training=True)
    outbox.mark_sent(sent.id, Receipt(folio="SBX-20260528-000001", acuse="acuse",
                                      received_at=datetime(2026, 5, 28, 20, 26, 40, tzinfo=timezone.utc),
                                      enrollment_id="enr-1"))
    failing = outbox.enqueue(request, worker_nss="34109056787", employer_rfc="DEPM800101AB2", training=True)
    outbox.mark_failed(failing.id, "portal_unreachable", detail="connection refused", retryable=True,
                       params={"url": "https://portal.imss.example"}, rng=random.Random(1))
    rejected = outbox.enqueue(request, worker_nss="56987800424", employer_rfc="DEPM800101AB2", training=True)
    outbox.mark_failed(rejected.id, "portal_problem", detail="CURP no válido para registro biométrico",
                       params={"problem": "curp_invalid"})
    outbox.enqueue(request, worker_nss="56987800424", employer_rfc="DEPM800101AB2", training=True)


def test_outbox(snap_compare) -> None:
    """The counts line apart from the two failure lines, the rejected item's detail under the table."""
    assert snap_compare(snapshot_app(), run_before=go("outbox", prepare_outbox, keys=("down",)), terminal_size=SIZE)


def test_outbox_english(snap_compare) -> None:
    from siaptui import i18n

    i18n.set_language("en")
    assert snap_compare(snapshot_app(), run_before=go("outbox", prepare_outbox, keys=("down",)), terminal_size=SIZE)


def test_doctor_sim(snap_compare) -> None:
    async def run_before(pilot: Any) -> None:
        pilot.app.goto("doctor")
        screen = pilot.app.screen
        for _ in range(200):
            await pilot.pause(0.05)
            if screen.report is not None:
                break
        await pilot.pause(0.1)

    app = snapshot_app(device="sim")
    app.settings.camera.device = "sim"  # the same findings on a machine with or without a webcam
    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


def test_settings(snap_compare) -> None:
    assert snap_compare(snapshot_app(), run_before=go("settings"), terminal_size=SIZE)


def test_help_on_worker(snap_compare) -> None:
    assert snap_compare(snapshot_app(), run_before=go("worker", with_flow, keys=("f1",)), terminal_size=SIZE)


def test_quit_confirm(snap_compare) -> None:
    prepare = go("login", lambda app: with_flow(app, fingers=True), keys=("ctrl+q",))
    assert snap_compare(snapshot_app(), run_before=prepare, terminal_size=SIZE)


def test_config_error(snap_compare, tmp_path) -> None:
    from siaptui import config

    bad = tmp_path / "siaptui.toml"
    bad.write_text("[general]\ntheme = \"neon\"\n", encoding="utf-8")
    try:
        config.load(bad, environ={})
    except config.ConfigError as exc:
        error = exc
    error.params["file"] = "/home/oficina/.config/siaptui/siaptui.toml"
    settings = Settings()
    settings.general.theme = "default"
    app = make_app(settings, config_error=error)
    app.ascii_glyphs = False
    assert snap_compare(app, run_before=go("login"), terminal_size=SIZE)


@pytest.mark.parametrize("theme", ["high-contrast", "mono"])
def test_login_in_other_themes(snap_compare, theme: str) -> None:
    app = snapshot_app()
    app.settings.general.theme = theme
    assert snap_compare(app, run_before=go("login", fill_login), terminal_size=SIZE)
