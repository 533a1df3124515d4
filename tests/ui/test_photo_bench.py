"""`siaptui bench photo` measures the real Foto screen's output and the analysis per frame."""

from __future__ import annotations

from siaptui import config
from siaptui.bench.photo import MODES, measure_preview, time_analysis


def test_the_photo_bench_counts_bytes_and_times_every_mode() -> None:
    import asyncio

    timing = time_analysis(2)
    assert timing["frames"] == 2 and timing["detect_ms_per_frame"] > 0 and timing["crop_ms_per_frame"] > 0
    assert 0 < timing["token_bytes_median"] <= 24 * 1024
    rows = asyncio.run(measure_preview(config.load(use_file=False), 3))
    assert [row["mode"] for row in rows] == list(MODES)
    for row in rows:
        assert (row["cols"], row["rows"]) == (80, 24) and row["frames"] == 3
        assert row["bytes_per_frame"] > 0 and row["fps"] and row["fps"] > 0
