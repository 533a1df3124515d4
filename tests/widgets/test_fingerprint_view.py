"""FingerprintView in a real Textual app: partial refresh, mode choice, frame-rate cap."""

from __future__ import annotations

import numpy as np
import pytest
from textual.app import App, ComposeResult

from siaptui.enrollment.flow import FingerCapture
from siaptui.widgets.fingerprint_view import FingerprintView, choose_mode, color_levels
from siaptui.widgets.hand_map import HandMap
from siaptui.widgets.quality_meter import QualityMeter
from tests.widgets.test_preview_render import ridges


class ViewApp(App):
    def __init__(self, mode: str = "ascii", fps: float = 0) -> None:
        super().__init__()
        self.mode, self.fps = mode, fps

    def compose(self) -> ComposeResult:
        yield FingerprintView(mode=self.mode, max_fps=self.fps)


@pytest.mark.parametrize(
    "setting,term,colors,ssh,expected",
    [
        ("auto", "linux", "standard", False, "ascii"),
        ("auto", "xterm-256color", "256", False, "halfblock"),
        ("auto", "xterm-256color", "256", True, "braille"),
        ("auto", "xterm", "standard", False, "braille"),
        ("auto", "xterm-256color", "truecolor", False, "halfblock"),
        ("braille", "linux", "standard", False, "braille"),
        ("halfblock", "xterm", None, False, "ascii"),
    ],
)
def test_mode_choice_follows_the_terminal(setting, term, colors, ssh, expected) -> None:
    assert choose_mode(setting, term=term, color_system=colors, over_ssh=ssh) == expected


def test_grey_levels_per_colour_system() -> None:
    assert color_levels("standard") == 4
    assert color_levels("256") == 24
    assert color_levels("truecolor") == 32


async def test_only_changed_rows_are_refreshed() -> None:
    app = ViewApp("halfblock")
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(FingerprintView)
        image = ridges()
        view.show(image)
        await pilot.pause()
        assert view.rows_refreshed == 20  # first frame: everything
        view.show(image.copy())
        await pilot.pause()
        assert view.rows_refreshed == 0  # same picture: nothing to send
        changed = image.copy()
        changed[:40] = 255  # the top of the print lifted off
        view.show(changed)
        await pilot.pause()
        assert 0 < view.rows_refreshed < 8
        assert len(view._styles) < 24 * 24  # styles reused, not one per cell


async def test_frame_rate_cap_draws_only_the_newest_frame() -> None:
    app = ViewApp("ascii", fps=2)
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(FingerprintView)
        blank = np.full((400, 300), 255, np.uint8)
        view.show(ridges())
        for _ in range(5):
            view.show(blank)
        assert view.frames_drawn == 1  # the rest wait for the next slot
        await pilot.pause(0.7)
        assert view.frames_drawn == 2  # one more draw, of the newest (blank) frame
        lines = [view.render_line(y).text for y in range(view.size.height)]
        assert all(not line.strip() for line in lines)


async def test_mode_key_cycle_and_redraw() -> None:
    app = ViewApp("ascii")
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(FingerprintView)
        view.show(ridges())
        await pilot.pause()
        ascii_lines = [view.render_line(y).text for y in range(12)]
        assert view.cycle_mode() == "braille"
        await pilot.pause()
        braille_lines = [view.render_line(y).text for y in range(12)]
        assert ascii_lines != braille_lines
        assert any(0x2800 < ord(ch) <= 0x28FF for line in braille_lines for ch in line)


class PanelApp(App):
    def compose(self) -> ComposeResult:
        yield HandMap()
        yield QualityMeter(minimum=40)


async def test_hand_map_and_meter_show_state() -> None:
    app = PanelApp()
    async with app.run_test(size=(60, 10)) as pilot:
        hands = app.query_one(HandMap)
        fingers = {p: FingerCapture(position=p) for p in range(1, 11)}
        fingers[1].best = 0
        fingers[6].missing_reason = "amputated"
        hands.update_state(fingers, current=2)
        assert hands.mark(1) == "[+]" and hands.mark(6) == "[x]" and hands.mark(2) == "[*]" and hands.mark(3) == "[ ]"
        meter = app.query_one(QualityMeter)
        meter.score = 62
        await pilot.pause()
        text = meter.render().plain
        assert "62/100" in text and "40" in text
