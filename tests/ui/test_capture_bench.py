"""`siaptui bench preview` measures real terminal output: bytes and times per frame, per mode."""

from __future__ import annotations

import numpy as np

from siaptui.config import Settings


def frames(count: int):
    from siaptui.biometrics.quality import QualityReport

    y, x = np.mgrid[0:300, 0:300].astype(np.float32)
    out = []
    for i in range(count):
        radius = np.hypot(y - 150 - 7 * i, x - 150)
        pixels = np.where(radius < 120, 128 + 100 * np.cos(2 * np.pi * radius / 9.0), 235).astype(np.uint8)
        report = QualityReport(score=60 + i, block_map=np.full((10, 10), 0.8, np.float32), block_size=30)
        out.append((pixels, report))
    return out


async def test_metered_run_reports_every_mode_with_bytes_and_times() -> None:
    from siaptui.bench.preview import MODES, _measure_size

    settings = Settings()
    settings.general.theme = "default"
    rows = await _measure_size(settings, frames(3), 80, 24)
    assert [row["mode"] for row in rows] == list(MODES)
    for row in rows:
        assert row["cols"] == 80 and row["rows"] == 24
        # something was really written, not a full repaint of 80x24 truecolor
        assert 200 < row["bytes_per_frame"] < 40_000
        assert row["ms_per_frame"] > 0 and row["fps"] > 0
    ascii_row, braille_row, half_row = rows
    assert ascii_row["bytes_per_frame"] <= half_row["bytes_per_frame"]
