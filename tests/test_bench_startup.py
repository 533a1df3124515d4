"""`siaptui bench startup` starts the real TUI in a pty and reads back its first paint and memory."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_startup_reports_first_paint_and_memory_for_the_tui() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "siaptui", "bench", "startup", "--only", "tui", "--runs", "1", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    line = json.loads(out.stdout.strip().splitlines()[-1])
    assert line["command"] == "siaptui" and (line["cols"], line["rows"]) == (80, 24)
    assert line["painted"] == 1 and line["first_paint_ms_median"] > 0
    assert line["max_rss_mb_max"] > 5
    assert line["machine"]["nproc"] >= 1
