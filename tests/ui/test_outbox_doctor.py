"""Bandeja export and Diagnóstico's report, driven by keys against the real store and doctor."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from siaptui.config import Settings
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until

REQUEST = {"nss": "12058512349", "curp": "PELJ850412HJCRPN00"}


async def test_bandeja_exports_pending_items_encrypted(tmp_path: Path) -> None:
    from siaptui.store.db import open_store
    from siaptui.store.export import import_bundle

    app = make_app(Settings(), device="sim")
    bundle = tmp_path / "para-otro-equipo.siaptui"
    async with app.run_test(size=SIZE) as pilot:
        app.services.store().outbox.enqueue(REQUEST, worker_nss="12058512349", employer_rfc="AAA010101AAA",
                                            training=False)
        await pilot.press("f2")
        await wait_until(pilot, lambda: "Pendientes: 1" in screen_text(app))
        await pilot.press("e")
        await wait_until(pilot, lambda: "Exportar pendientes" in screen_text(app))
        dialog = app.screen
        dialog.query_one("#path", Input).value = str(bundle)
        dialog.query_one("#passphrase", Input).focus()
        await pilot.press(*"corta", "enter")
        await wait_until(pilot, lambda: "al menos 8" in screen_text(app))
        assert not bundle.exists()
        await pilot.press(*"-pero-segura", "tab", *"corta-pero-segurx", "enter")
        await wait_until(pilot, lambda: "no coinciden" in screen_text(app))
        assert not bundle.exists()
        await pilot.press(*"corta-pero-segura", "enter")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "outbox")
        assert "Se exportaron 1" in screen_text(app)
    assert bundle.exists() and b"12058512349" not in bundle.read_bytes()  # encrypted
    other = open_store(tmp_path / "otro" / "siaptui.db")
    try:
        assert import_bundle(other, bundle, "corta-pero-segura") == (1, 0)
        assert other.outbox.request(other.outbox.items()[0].id)["nss"] == "12058512349"
    finally:
        other.close()


async def test_doctor_runs_in_a_worker_and_saves_its_report_naming_the_file() -> None:
    """No claim of a copy the terminal may not have made: the report goes to a named file."""
    from siaptui import config

    settings = Settings()
    app = make_app(settings, device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await wait_until(pilot, lambda: getattr(app.screen, "report", None) is not None, 60)
        assert "[OK]" in screen_text(app) and "sim" in screen_text(app)
        await pilot.press("c")
        await wait_until(pilot, lambda: "Reporte guardado en" in screen_text(app))
        saved = list((config.data_dir(settings) / "reportes").glob("diagnostico-*.txt"))
        assert len(saved) == 1 and "siaptui doctor" in saved[0].read_text(encoding="utf-8")
        assert "siaptui doctor" in app.clipboard
        assert "copiado" not in screen_text(app)


async def test_bandeja_erases_a_workers_biometrics_only_after_the_typed_confirmation() -> None:
    app = make_app(Settings(), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        store = app.services.store()
        store.gallery.enroll("12058512349", 2, b"template-one")
        store.gallery.enroll("34109056787", 2, b"template-two")
        await pilot.press("f2")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "outbox")
        await pilot.press("b")
        await wait_until(pilot, lambda: "Cancelación ARCO" in screen_text(app))
        await pilot.press(*"12058512349", "tab", *"borra", "enter")
        await wait_until(pilot, lambda: "Escriba BORRAR" in screen_text(app))
        assert len(list(store.gallery.templates())) == 2  # nothing erased without the word
        await pilot.press("r", "enter")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "outbox")
        assert "1 plantillas" in screen_text(app)
        assert [nss for nss, _, _ in store.gallery.templates()] == ["34109056787"]
        assert any(entry["action"] == "arco.cancelled" for entry in store.audit.entries())


async def test_arco_while_another_terminal_reads_says_the_erasure_finishes_later() -> None:
    import sqlite3

    app = make_app(Settings(), device="sim")
    async with app.run_test(size=SIZE) as pilot:
        store = app.services.store()
        store.gallery.enroll("12058512349", 2, b"template-one")
        other = sqlite3.connect(str(store.path), isolation_level=None)  # a second terminal's Bandeja
        other.execute("BEGIN")
        other.execute("SELECT COUNT(*) FROM gallery").fetchone()
        try:
            await pilot.press("f2")
            await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "outbox")
            await pilot.press("b")
            await wait_until(pilot, lambda: "Cancelación ARCO" in screen_text(app))
            await pilot.press(*"12058512349", "tab", *"borrar", "enter")
            await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "outbox")
            await wait_until(pilot, lambda: "Otra ventana de siaptui" in screen_text(app))
            assert "se completará solo" in screen_text(app)
        finally:
            other.close()


async def test_a_damaged_database_is_named_with_the_way_out_not_a_traceback() -> None:
    import os

    from siaptui.store.db import default_path, open_store

    settings = Settings()
    path = default_path(settings)
    open_store(path).close()
    data = bytearray(path.read_bytes())
    data[100:] = os.urandom(len(data) - 100)  # every page after the header garbled
    path.write_bytes(bytes(data))
    app = make_app(settings, device="sim")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: "está dañada" in " ".join(screen_text(app).split()))
        text = " ".join(screen_text(app).split())
        assert str(path) in text
        assert "siaptui store recover" in text and "DatabaseError" not in text and "malformed" not in text
