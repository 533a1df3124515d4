"""The simulated hard conditions of `siaptui bench accuracy --hard`: windows and pressure."""

from __future__ import annotations

import numpy as np

from siaptui.bench.hard import WINDOW, harden


def _ridges(rows: int = 200, cols: int = 160) -> np.ndarray:
    xx = np.arange(cols)[None, :].repeat(rows, axis=0)
    return (128 + 100 * np.cos(2 * np.pi * xx / 9.0)).astype(np.uint8)


def test_windows_sit_at_the_four_corners_and_overlap_partly() -> None:
    image = np.arange(200 * 160, dtype=np.uint32).reshape(200, 160)
    image = (image % 251).astype(np.uint8)
    shapes = {harden(image, k).shape for k in range(8)}
    assert shapes == {(round(200 * WINDOW), round(160 * WINDOW))}
    corner = harden(image, 5)  # 5 mod 4 = 1: bottom-right; 5 mod 3 = 2: pressure unchanged
    assert np.array_equal(corner, image[-corner.shape[0]:, -corner.shape[1]:])


def test_pressure_thickens_or_thins_the_dark_ridges() -> None:
    image = _ridges()
    wet, dry, plain = (harden(image, k) for k in (0, 4, 8))  # k mod 3 = 0, 1, 2
    def dark(window: np.ndarray) -> float:  # share of ridge pixels
        return float((window < 128).mean())

    assert dark(wet) > dark(plain) > dark(dry)
