"""Ajustes' camera field walked with Pilot: a malformed spec is refused with the camera's own
message, "Probar cámara" (Ctrl+T) reports found / not found with the very error `siaptui doctor
--camera` gives, and a good spec is saved to siaptui.toml and used at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from siaptui import config
from siaptui.camera.doctor import probe
from siaptui.errors import explain
from siaptui.screens.base import StatusLine
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until


def status(app) -> str:
    return " ".join(screen_text(app).split())


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def conf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "conf" / "siaptui.toml"
    monkeypatch.setenv("SIAPTUI_CONFIG", str(path))
    return path


async def test_a_malformed_camera_is_refused_and_a_good_one_saved_and_used_at_once(conf: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        field = app.screen.query_one("#camera", Input)
        assert field.value == "auto"
        field.value = "webcam de la oficina"
        await pilot.press("ctrl+s")
        await pilot.pause()
        text = status(app)
        assert "«webcam de la oficina» no es una cámara válida" in text and "campo Cámara" in text
        assert not conf.exists()

        field.value = "sim"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Guardado en" in status(app)
        assert app.settings.camera.device == "sim"  # the Foto step opens it from now on
    assert config.load(conf, environ={}).camera.device == "sim"


async def test_probar_reports_the_doctor_error_or_the_camera_found(conf: Path, tmp_path: Path) -> None:
    from PIL import Image
    from skimage import data

    missing = f"image:{tmp_path / 'no-existe.png'}"
    picture = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).save(picture)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        field = app.screen.query_one("#camera", Input)
        field.value = missing
        await pilot.press("ctrl+t")
        doctor_says = flat(explain(probe(missing).error))
        await wait_until(pilot, lambda: "No existe la imagen" in status(app), 30)
        # Word for word what `siaptui doctor --camera` reports (the status line may scroll a long path).
        assert doctor_says in flat(str(app.screen.query_one(StatusLine).content))

        field.value = f"image:{picture}"
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: "Cámara lista" in status(app), 30)
        assert "(512×512)" in status(app)
        assert not conf.exists()  # trying a camera saves nothing


async def test_probar_a_malformed_spec_says_so_without_opening_anything(conf: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one("#camera", Input).value = "image:"
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "«image:» no es una cámara válida" in status(app)
