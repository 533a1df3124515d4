"""The pure preview renderer: every mode fills the area exactly, merges runs, marks quality."""

from __future__ import annotations

import numpy as np
import pytest

from siaptui.widgets import fingerprint_render as pr


def ridges(height: int = 400, width: int = 300, period: float = 9.0) -> np.ndarray:
    """Dark vertical ridges on a light background inside an elliptic 'finger', like a scan."""
    y, x = np.mgrid[0:height, 0:width]
    wave = (np.sin(2 * np.pi * x / period) > 0).astype(np.uint8)
    finger = ((x - width / 2) / (width * 0.4)) ** 2 + ((y - height / 2) / (height * 0.45)) ** 2 < 1
    image = np.full((height, width), 235, np.uint8)
    image[finger & (wave == 1)] = 40
    image[finger & (wave == 0)] = 200
    return image


def row_text(row) -> str:
    return "".join(text for text, _ in row)


@pytest.mark.parametrize("mode", pr.MODES)
@pytest.mark.parametrize("cols,rows", [(32, 18), (80, 24), (7, 3), (1, 1)])
def test_every_row_is_exactly_the_area_width(mode: str, cols: int, rows: int) -> None:
    out = pr.render(ridges(), cols, rows, mode, levels=24)
    assert len(out) == rows
    for row in out:
        assert len(row_text(row)) == cols


@pytest.mark.parametrize("mode", pr.MODES)
def test_runs_are_merged(mode: str) -> None:
    out = pr.render(ridges(), 40, 20, mode, levels=4)
    for row in out:
        keys = [key for _, key in row]
        assert all(a != b for a, b in zip(keys, keys[1:])), "adjacent runs with the same key"


def test_fit_keeps_proportions_and_centres() -> None:
    layout = pr.fit(300, 400, 80, 24)
    # 400 px high in 24 rows of 2 "pixels" each -> 8.33 px per cell, 36 cols wide.
    assert layout.used_rows == 24
    assert layout.used_cols == 36
    assert layout.left == (80 - 36) // 2


def test_ascii_draws_dark_ridges_dense_and_background_blank() -> None:
    image = np.full((100, 100), 255, np.uint8)
    image[:, :50] = 0
    out = pr.render(image, 10, 5, "ascii")
    text = row_text(out[2])
    assert text.strip()[0] == pr.ASCII_RAMP[-1]
    assert text.endswith(" ")


def test_braille_dots_follow_ridges_and_empty_cells_are_spaces() -> None:
    out = pr.render(ridges(), 40, 20, "braille")
    glyphs = "".join(row_text(row) for row in out)
    dots = [ch for ch in glyphs if 0x2801 <= ord(ch) <= 0x28FF]
    assert len(dots) > 100
    assert "\u2800" not in glyphs  # the empty pattern is sent as a 1-byte space
    # Ridges are vertical: the dot columns repeat along a row.
    assert any(ch in glyphs for ch in "\u2847\u28b8\u28ff")


def test_halfblock_levels_are_quantised() -> None:
    levels = 4
    out = pr.render(ridges(), 40, 20, "halfblock", levels=levels)
    seen = set()
    for row in out:
        for text, key in row:
            if key is None:
                continue
            if key[0] == "h":
                assert set(text) == {"\u2580"}
                seen.update((key[1], key[2]))
            else:
                assert key[0] == "b" and set(text) == {" "}
                seen.add(key[1])
    assert seen <= set(range(levels)) and len(seen) > 1


def test_quality_map_classes_reach_the_cells() -> None:
    image = ridges(320, 320)
    block_map = np.zeros((10, 10), np.float32)
    block_map[:, :5] = 0.2  # left half poor
    block_map[:, 5:] = 0.9  # right half good
    out = pr.render(image, 40, 20, "ascii", block_map=block_map, block_size=32)
    classes = {key[1] for row in out for _, key in row if key is not None}
    assert {pr.POOR, pr.GOOD} <= classes
    middle = out[10]
    first = next(key for _, key in middle if key is not None)
    last = [key for _, key in middle if key is not None][-1]
    assert first == ("t", pr.POOR) and last == ("t", pr.GOOD)


def test_unknown_mode_and_bad_shape_are_refused() -> None:
    with pytest.raises(ValueError):
        pr.render(ridges(), 10, 10, "sixel")
    with pytest.raises(ValueError):
        pr.render(np.zeros((4, 4, 3), np.uint8), 10, 10, "ascii")


def test_same_frame_gives_equal_rows_so_nothing_is_redrawn() -> None:
    a = pr.render(ridges(), 40, 20, "halfblock", levels=24)
    b = pr.render(ridges(), 40, 20, "halfblock", levels=24)
    assert a == b
