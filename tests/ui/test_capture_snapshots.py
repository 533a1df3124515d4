"""Snapshots of Captura at 80×24 in each preview mode, from a deterministic synthetic frame."""

from __future__ import annotations

import pytest

from siaptui.config import Settings
from tests.ui.conftest import SIZE, make_app


@pytest.fixture(scope="module")
def frame():
    """A whorl drawn here and a fixed quality report: the snapshot must not change when the
    engine's synthetic fingers or quality scores are retuned (only when Captura changes)."""
    import numpy as np

    from siaptui.biometrics.quality import QualityReport

    y, x = np.mgrid[0:400, 0:300].astype(np.float32)
    radius = np.hypot((y - 200) * 0.8, x - 150)
    inside = ((x - 150) / 120) ** 2 + ((y - 200) / 170) ** 2 < 1
    pixels = np.where(inside, 128 + 100 * np.cos(2 * np.pi * radius / 9.0), 235).astype(np.uint8)
    block_map = np.zeros((13, 10), np.float32)
    block_map[1:12, 1:9] = 0.9
    block_map[1:12, 1:3] = 0.3  # left edge smeared: poor
    block_map[1:3, 3:9] = 0.55  # tip: fair
    report = QualityReport(score=72, block_map=block_map, block_size=32, flags=frozenset({"off_center"}),
                           foreground_ratio=0.5, center=(150.0, 200.0))
    return pixels, report


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
