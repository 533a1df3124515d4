"""SVG snapshots at 80×24, Spanish and English, of the employer's screens besides a first
enrollment: Transferencia, Verificación (with an answer), its one-finger capture, Pendientes.

Deterministic like tests/ui/test_snapshots.py (fixed clock, theme, TZ=UTC, no blink); the
screens are shown with the state a session would have reached, without a portal."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest

from siaptui import i18n
from siaptui.enrollment.verification import Verification
from siaptui.portal.models import RosterEntry
from siaptui.portal.sandbox.deadlines import enrollment_deadline
from tests.ui.conftest import SIZE
from tests.ui.test_snapshots import snapshot_app, with_flow

LANGUAGES = pytest.mark.parametrize("lang", ["es", "en"])


@pytest.fixture(autouse=True)
def stable_environment(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
    i18n.set_language("es")


def app_in(lang: str, training: bool = False) -> Any:
    i18n.set_language(lang)
    return snapshot_app(training=training)


def roberto(app: Any) -> None:
    from siaptui.enrollment.flow import WorkerData

    with_flow(app, consent=True)
    app.flow.worker = WorkerData(nss="27957545455", curp="FONR750320HMCLVB03", name="ROBERTO FLORES NAVA",
                                 confirmed=True, biometric_status="enrolled_elsewhere")


@LANGUAGES
def test_transfer(snap_compare, lang: str) -> None:
    async def run_before(pilot: Any) -> None:
        roberto(pilot.app)
        pilot.app.goto("transfer")
        await pilot.pause(0.2)

    assert snap_compare(app_in(lang, training=True), run_before=run_before, terminal_size=SIZE)


@LANGUAGES
def test_verify_with_a_match(snap_compare, lang: str) -> None:
    async def run_before(pilot: Any) -> None:
        from textual.widgets import Input

        app = pilot.app
        with_flow(app)
        app.goto("verify")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#nss", Input).value = "12058512349"
        screen.query_one("#curp", Input).value = "PELJ850412HJCRPN00"
        await pilot.pause()
        app.verification = Verification(nss="12058512349", curp="PELJ850412HJCRPN00", name="JUAN PEREZ LOPEZ",
                                        fingers=[2, 7], position=2)
        app.verification.answered("match", "high")
        screen.set_focus(None)
        screen._show()
        await pilot.pause(0.2)

    assert snap_compare(app_in(lang), run_before=run_before, terminal_size=SIZE)


@LANGUAGES
def test_verify_capture(snap_compare, lang: str) -> None:
    async def run_before(pilot: Any) -> None:
        from siaptui.screens.verify_capture import VerifyCaptureScreen

        app = pilot.app
        with_flow(app)
        app.verification = Verification(nss="12058512349", curp="PELJ850412HJCRPN00", name="JUAN PEREZ LOPEZ",
                                        fingers=[2, 7], position=7, consent_at=1.0)
        await app.push_screen(VerifyCaptureScreen(scan=False))
        await pilot.pause(0.2)

    assert snap_compare(app_in(lang), run_before=run_before, terminal_size=SIZE)


def roster() -> list:
    """Altas around the snapshot clock (2026-05-28), deadlines as the portal computes them."""
    rows = [
        ("12058512349", "PELJ850412HJCRPN00", "JUAN PEREZ LOPEZ", date(2026, 5, 27), "none"),
        ("34109056787", "HEGG901123MDFRRD06", "MARIA GUADALUPE HERNANDEZ GARCIA", date(2026, 5, 20), "none"),
        ("56987800424", "RASL780205HNLMTS08", "JOSE LUIS RAMIREZ SOTO", date(2026, 5, 8), "none"),
        ("27957545455", "FONR750320HMCLVB03", "ROBERTO FLORES NAVA", date(2026, 5, 26), "enrolled_elsewhere"),
        ("21200133441", "TODA010730MPLRZNA0", "ANA SOFIA TORRES DIAZ", date(2026, 5, 4), "enrolled"),
        ("38028277770", "SAVP821201HVZNGD01", "PEDRO SANCHEZ VEGA", date(2026, 5, 28), "none"),
    ]
    return [RosterEntry(nss, curp, name, start, status, enrollment_deadline(start))
            for nss, curp, name, start, status in rows]


@LANGUAGES
def test_pending(snap_compare, lang: str) -> None:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        with_flow(app)
        app.goto("pending")
        await pilot.pause()
        app.screen.show_roster(roster())
        await pilot.pause(0.2)

    assert snap_compare(app_in(lang), run_before=run_before, terminal_size=SIZE)
