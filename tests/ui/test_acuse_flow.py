"""The acuse in the TUI: an enrollment finished in the demo flow, its QR read off the 80×24
screen, the PDF saved and read back, reopened from the Bandeja and sent to the printer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from siaptui import config
from tests.acuse.test_acuse_document import fake_command
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until
from tests.ui.test_next_worker import (
    FIRST,
    demo_app,
    enroll_to_acuse,
    screen_id,
    sign_in_in_one_burst,
)
from tests.ui.test_snapshots import prepare_receipt, snapshot_app

MODULE_PX = 4


def screen_bitmap(app: Any) -> Any:
    """The whole screen as a picture a phone would see: every cell dark (a dark terminal), except
    the QR widget's cells, drawn from their half-block characters (▀ ▄ █ ink dark on light; with
    NO_COLOR the glyphs are the terminal's light foreground on its dark ground)."""
    from PIL import Image

    from siaptui.widgets.acuse_view import AcuseQR

    region = app.screen.query_one(AcuseQR).region
    lines = screen_text(app).splitlines()
    width, height = app.size
    picture = Image.new("L", (width * MODULE_PX, height * 2 * MODULE_PX), 0)
    dark = {" ": (False, False), "▀": (True, False), "▄": (False, True), "█": (True, True)}
    for y in range(region.y, region.y + region.height):
        for x in range(region.x, region.x + region.width):
            glyph = lines[y][x] if x < len(lines[y]) else " "
            for half, drawn in enumerate(dark[glyph]):
                if drawn == app.no_color:  # a light half
                    box = (x * MODULE_PX, (2 * y + half) * MODULE_PX, (x + 1) * MODULE_PX,
                           (2 * y + half + 1) * MODULE_PX)
                    picture.paste(255, box)
    return picture


def result_text(app: Any) -> str:
    """What saving or printing reported, beside the code."""
    return str(app.screen.query_one("#acuse-result").render())


def read_screen_qr(app: Any) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp has no wheel for Python 3.9 here")

    return [found.text for found in zxingcpp.read_barcodes(screen_bitmap(app))]


async def test_enrollment_acuse_saved_read_back_reopened_and_printed(demo, tmp_path: Path, monkeypatch) -> None:
    from pypdf import PdfReader

    bin_dir = tmp_path / "bin"
    fake_command(bin_dir, "lp", f'echo "$@" >> "{tmp_path / "printed.txt"}"\necho "request id is Caja-3 (1 file(s))"\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_in_one_burst(pilot, demo[1].password)
        receipt = await enroll_to_acuse(pilot, FIRST)
        folio = receipt["folio"]
        assert screen_id(app) == "receipt" and folio in screen_text(app)

        # The code on the 80×24 screen decodes to the acuse's payload, seal included.
        decoded = read_screen_qr(app)
        assert len(decoded) == 1 and decoded[0].startswith(f"FOLIO:{folio} RFC:{demo[1].rfc} NSS:1205*****49 ")
        assert "SELLO:" in decoded[0]

        # G saves the PDF and PNG in the acuse folder (Modo práctica: its own sub-folder).
        await pilot.press("g")
        pdf = config.acuse_dir(app.settings) / f"acuse-{folio}.pdf"
        await wait_until(pilot, lambda: "Guardado en" in result_text(app), 30)
        assert pdf.parent.name == "practica" and pdf.with_suffix(".png").exists()
        text = PdfReader(str(pdf)).pages[0].extract_text()
        assert folio in text and demo[1].rfc in text and "1205*****49" in text and "12058512349" not in text

        # The next worker, then the Bandeja reopens this acuse and prints it.
        await pilot.press("n")
        await wait_until(pilot, lambda: screen_id(app) == "worker")
        await pilot.press("f2")
        await wait_until(pilot, lambda: screen_id(app) == "outbox")
        await pilot.pause()
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_id(app) == "acuse")
        await pilot.pause()
        assert folio in screen_text(app) and read_screen_qr(app) == decoded
        pdf.unlink()
        await pilot.press("i")
        await wait_until(pilot, lambda: "Enviado a la impresora" in result_text(app), 30)
        assert "request id is Caja-3" in result_text(app) and pdf.exists()
        assert (tmp_path / "printed.txt").read_text().split() == [str(pdf)]
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen_id(app) == "outbox")


async def test_the_bandeja_refuses_the_acuse_of_an_unsent_item() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.services.store().outbox.enqueue({"nss": "12058512349"}, worker_nss="12058512349",
                                            employer_rfc="DEPM800101AB2", training=False)
        app.goto("outbox")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert screen_id(app) == "outbox" and "aún no tiene acuse" in screen_text(app)


@pytest.fixture
def office_acuse_folder() -> Any:
    """A folder as long as an office's (/home/<user>/Documentos/siaptui/acuses); pytest's own
    temporary folders are longer than any clerk's."""
    import shutil

    root = Path("/tmp/siaptui-test-acuses")
    yield root / "Documentos" / "siaptui" / "acuses"
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("key", ["i", "g"])
async def test_saving_or_printing_without_a_printer_says_where_both_files_are(
        monkeypatch, key: str, office_acuse_folder: Path) -> None:
    """Beside the code at 80×24: the folder once and both file names, none of it cut off."""
    monkeypatch.setenv("PATH", "/nonexistent")
    app = snapshot_app(training=True)
    app.settings.acuse.folder = str(office_acuse_folder)
    async with app.run_test(size=SIZE) as pilot:
        prepare_receipt(app)
        app.goto("receipt")
        await pilot.pause()
        await pilot.press(key)
        pdf = config.acuse_dir(app.settings) / "acuse-SBX-20260528-000001.pdf"
        await wait_until(pilot, lambda: "Guardado en" in result_text(app), 30)
        result = app.screen.query_one("#acuse-result")
        assert result.region.height == result.virtual_size.height
        assert result.region.bottom <= SIZE[1] - 1  # above the footer, not scrolled away
        shown = screen_text(app)
        assert pdf.name in shown and pdf.with_suffix(".png").name in shown and pdf.exists()
        assert str(pdf.parent) in result_text(app).replace("\n", "")
        assert ("No hay lp ni lpr" in shown) == (key == "i")
        assert "Enviado" not in shown


@pytest.mark.parametrize("no_color", [False, True])
async def test_qr_is_dark_ink_on_light_ground_with_and_without_colour(monkeypatch, no_color: bool) -> None:
    """Black modules on white with colour; with NO_COLOR no colour at all, and the code is drawn
    with the light modules as glyphs, so it still reads dark on light on a dark terminal."""
    from textual.color import Color

    from siaptui.widgets.acuse_view import AcuseQR

    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = snapshot_app(training=True)
    if no_color:
        app.settings.general.theme = "auto"  # NO_COLOR picks the mono (ANSI) theme
    async with app.run_test(size=SIZE) as pilot:
        prepare_receipt(app)
        app.goto("receipt")
        await pilot.pause()
        widget = app.screen.query_one(AcuseQR)
        strips = widget.render_lines(widget.region.reset_offset)
        background = Color.parse("#000000")
        for strip in strips:
            segments = list(strip)
            for line_filter in app._filters:
                if line_filter.enabled:
                    segments = line_filter.apply(segments, background)
            for segment in segments:
                style = segment.style
                assert style is not None and style.bgcolor is not None and style.color is not None
                if no_color:  # the terminal's own colours only; the glyphs draw the light ground
                    assert style.color.is_default and style.bgcolor.is_default, segment
                    continue
                assert Color.from_rich_color(style.bgcolor).brightness > 0.8, segment
                assert Color.from_rich_color(style.color).brightness < 0.2, segment
        assert read_screen_qr(app)[0].startswith("FOLIO:SBX-20260528-000001 ")


async def test_ajustes_saves_the_acuse_folder(tmp_path: Path) -> None:
    from textual.widgets import Input

    from siaptui.config import load

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.goto("settings")
        await pilot.pause()
        field = app.screen.query_one("#acuse_folder", Input)
        assert field.region.bottom <= SIZE[1] - 1  # visible at 80×24 without scrolling
        field.value = str(tmp_path / "papeles")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.settings.acuse.folder == str(tmp_path / "papeles")
        assert load(environ={}).acuse.folder == str(tmp_path / "papeles")
        field.value = str(Path(__file__))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "una carpeta (no un archivo)" in " ".join(screen_text(app).split())
        assert app.settings.acuse.folder == str(tmp_path / "papeles")
