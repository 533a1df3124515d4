"""Foto: the photo step walked with Pilot — the sim camera takes itself, Space takes by hand,
a missing OpenCV or camera skips cleanly with the reason — and Captura leads to it."""

from __future__ import annotations

import io
import sys

import pytest

from siaptui.config import Settings
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until


def camera_settings(device: str, *, auto: bool = True) -> Settings:
    settings = Settings()
    settings.general.theme = "default"
    settings.camera.device = device
    settings.camera.auto_capture = auto
    return settings


def jpeg_size(data: bytes) -> tuple:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return img.format, img.size


async def test_the_sim_camera_guides_then_takes_the_token_photo_itself() -> None:
    app = make_app(camera_settings("sim"))
    async with app.run_test(size=SIZE) as pilot:
        app.goto("photo")
        screen = app.screen
        await wait_until(pilot, lambda: screen.state == "live" and screen.frames_seen > 0, 20)
        # The sim's face starts off-centre: the first words are about moving to the middle.
        assert "centro" in screen_text(app)
        await wait_until(pilot, lambda: screen.state == "taken", 60)
        photo = app.flow.photo
        assert photo is not None and all(photo.checks.values())
        assert jpeg_size(photo.jpeg) == ("JPEG", (240, 320))
        text = screen_text(app)
        assert "Foto tomada (240×320" in text and "[x] Fondo liso" in text
        await pilot.press("enter")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "review")
        app.flow.start_new_worker()
        assert app.flow.photo is None and app.flow.photo_skipped == ""


async def test_space_takes_the_photo_by_hand_and_r_takes_it_again() -> None:
    app = make_app(camera_settings("sim", auto=False))
    async with app.run_test(size=SIZE) as pilot:
        app.goto("photo")
        screen = app.screen
        await wait_until(pilot, lambda: screen.last is not None and screen.last[1].face is not None, 20)
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.state == "taken")
        first = app.flow.photo
        assert first is not None and jpeg_size(first.jpeg)[1] == (240, 320)
        if not all(first.checks.values()):  # taken while still off-centre: the screen says what fails
            assert "Foto tomada a mano aunque falta" in screen_text(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.state == "live")
        assert app.flow.photo is None


async def test_without_opencv_the_photo_is_skipped_with_the_install_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)  # what an install without siaptui[camera] has
    app = make_app(camera_settings("auto"))
    async with app.run_test(size=SIZE) as pilot:
        app.goto("photo")
        screen = app.screen
        await wait_until(pilot, lambda: screen.state == "skipped")
        text = screen_text(app)
        assert "La foto se omite" in text and "siaptui[camera]" in text
        assert app.flow.photo is None and "OpenCV" in app.flow.photo_skipped
        await pilot.press("enter")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "review")


async def test_no_camera_at_that_path_is_skipped_with_the_reason() -> None:
    app = make_app(camera_settings("/dev/video-absent"))
    async with app.run_test(size=SIZE) as pilot:
        app.goto("photo")
        screen = app.screen
        await wait_until(pilot, lambda: screen.state == "skipped", 20)
        assert "No se encontró la cámara «/dev/video-absent»" in screen_text(app)


def test_photo_skipped_snapshot(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)
    app = make_app(camera_settings("auto"))

    async def run_before(pilot) -> None:
        pilot.app.goto("photo")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "state", "") == "skipped")

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


def test_photo_taken_snapshot(snap_compare) -> None:
    app = make_app(camera_settings("sim"))

    async def run_before(pilot) -> None:
        pilot.app.goto("photo")
        await pilot.pause()
        screen = pilot.app.screen
        screen.view.forced_color_system = "standard"
        await wait_until(pilot, lambda: screen.state == "taken", 60)
        screen.view.set_mode("ascii")
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


async def test_help_over_the_live_preview_keeps_the_one_camera_stream() -> None:
    app = make_app(camera_settings("sim", auto=False))
    async with app.run_test(size=SIZE) as pilot:
        app.goto("photo")
        screen = app.screen
        await wait_until(pilot, lambda: screen.state == "live" and screen.frames_seen > 0, 20)
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.screen is not screen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        seen = screen.frames_seen
        await wait_until(pilot, lambda: screen.frames_seen > seen + 2)
        assert screen.streams_started == 1 and screen.state == "live"  # not stopped, not reopened


async def test_after_r_the_preview_waits_for_space_and_takes_nothing_by_itself() -> None:
    app = make_app(camera_settings("sim"))  # automatic capture on, as configured by default
    async with app.run_test(size=SIZE) as pilot:
        app.goto("photo")
        screen = app.screen
        await wait_until(pilot, lambda: screen.state == "taken", 60)  # the first photo takes itself
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.state == "taken"
                         or "Todo en orden: pulse Espacio" in screen_text(app), 60)
        seen = screen.frames_seen
        await wait_until(pilot, lambda: screen.state == "taken" or screen.frames_seen > seen + 8, 30)
        assert screen.state == "live" and app.flow.photo is None  # every check holds, and still no photo
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.state == "taken")
        assert app.flow.photo is not None


async def test_s_skips_a_taken_photo_and_the_skip_stays_until_space_asks_for_one() -> None:
    app = make_app(camera_settings("sim"))
    async with app.run_test(size=SIZE) as pilot:
        app.goto("photo")
        screen = app.screen
        await wait_until(pilot, lambda: screen.state == "taken", 60)
        await pilot.press("s")  # the photo is only in memory: S still skips it
        await wait_until(pilot, lambda: screen.state == "skipped")
        assert app.flow.photo is None and app.flow.photo_skipped
        await pilot.press("enter")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "review")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        started = screen.streams_started
        await pilot.pause(3)  # long enough for a restarted camera to take a photo by itself
        assert screen.state == "skipped" and app.flow.photo is None and screen.streams_started == started
        assert "Espacio" in screen_text(app)  # the hint says Space takes one after all
        await pilot.press("space")  # a photo after all: the preview, then Space takes it
        await wait_until(pilot, lambda: screen.state == "live" and screen.last is not None
                         and screen.last[1].face is not None, 20)
        assert app.flow.photo_skipped == ""
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.state == "taken")
        assert app.flow.photo is not None
