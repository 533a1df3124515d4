"""Snapshots of Captura at 80×24 in each preview mode, from a deterministic synthetic frame."""

from __future__ import annotations

import pytest

from siaptui.config import Settings
from tests.ui.conftest import SIZE, make_app


@pytest.fixture(scope="module")
def frame():
    from siaptui.biometrics import synth
    from siaptui.biometrics.quality import assess

    pixels = synth.finger_image(11, 2, 1)
    return pixels, assess(pixels, dpi=synth.DPI)


@pytest.mark.parametrize(
    "mode,colors",
    [("ascii", "standard"), ("braille", "standard"), ("halfblock", "256"), ("ascii", "none")],
    ids=["ascii-16", "braille-16", "halfblock-256", "ascii-mono"],
)
def test_capture_screen_in_each_mode(snap_compare, frame, mode: str, colors: str) -> None:
    from siaptui.screens.capture import CaptureScreen

    settings = Settings()
    settings.general.theme = "default"
    app = make_app(settings)

    async def run_before(pilot) -> None:
        screen = CaptureScreen(scan=False)
        await pilot.app.push_screen(screen)
        screen.view.forced_color_system = colors
        screen.set_preview_mode(mode)
        screen.show_frame(*frame)
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)
