"""`siaptui bench preview`: bytes written to the terminal and time per preview frame.

Why measure bytes: over SSH into an old office PC the preview's cost is what crosses the link.
Textual's headless driver writes nothing, so this bench runs the real capture screen under a
*metered* driver (`MeteredDriver`: the headless driver, but not headless, so the app renders
and writes every update, and the driver counts the UTF-8 bytes and the time of each write).

For every colour system (16 | 256 | truecolor — Textual fixes it at import time, so each runs in
its own subprocess with `TEXTUAL_COLOR_SYSTEM`), each size (80×24, 120×40) and each mode
(ascii | braille | halfblock) it shows the same sequence of real frames with their quality maps
and reports:

* `bytes_per_frame` — mean bytes written per frame after the first paint;
* `ms_per_frame` — mean wall time from handing the frame to the screen (`show_frame`) to the
  last byte of its update written (frame arrival → screen);
* `fps` — 1000 / (CPU ms per frame of the whole process, writer thread included): the frames
  per second one core sustains.

Frames: FVC2002 images from the shared data folder when present (each frame a different
impression: every row changes, the worst case for partial refresh), else synthetic fingers from
`siaptui.synth`.  `--still` shows one finger held still instead (the first image
with fresh sensor noise and a ±1 px tremor per frame), where partial refresh pays off.
`--startup` instead measures the process start to the capture
screen painted, with the preview running (run it under `/usr/bin/time -v` for the RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from siaptui.errors import SiaptuiError

COLOR_SYSTEMS: Dict[str, str] = {"16": "standard", "256": "256", "truecolor": "truecolor"}
SIZES: Tuple[Tuple[int, int], ...] = ((80, 24), (120, 40))
MODES: Tuple[str, ...] = ("ascii", "braille", "halfblock")
_CHILD_ENV = "SIAPTUI_BENCH_PREVIEW_CHILD"


class NoFrames(SiaptuiError):
    code = "preview_no_frames"


def shared_dir() -> Optional[Path]:
    """The reference data folder: SIAPTUI_SHARED, else ../shared beside the checkout."""
    explicit = os.environ.get("SIAPTUI_SHARED")
    candidates = [Path(explicit)] if explicit else []
    candidates.append(Path(__file__).resolve().parents[3] / "shared")
    for candidate in candidates:
        if (candidate / "data").is_dir():
            return candidate
    return None


def load_frames(count: int) -> Tuple[str, List[Tuple[Any, int]]]:
    """(source description, [(pixels, dpi)]): FVC2002 images, else synthetic fingers."""
    import numpy as np

    shared = shared_dir()
    if shared is not None:
        folder = shared / "data" / "fingerprints" / "fvc2002"
        files = sorted(folder.glob("DB*_B/*.tif"))
        if files:
            from PIL import Image

            dpi = {"DB1_B": 500, "DB2_B": 569, "DB3_B": 500, "DB4_B": 500}
            frames = []
            for path in files[: max(count, 1)]:
                with Image.open(path) as img:
                    frames.append((np.asarray(img.convert("L"), dtype=np.uint8).copy(), dpi.get(path.parent.name, 500)))
            return f"FVC2002 {folder}", frames
    try:
        from siaptui import synth
    except ImportError as exc:  # pragma: no cover - the engine ships with the app
        raise NoFrames(str(exc)) from None
    frames = [(synth.finger_image(1, 1 + i % 10, 1 + i // 10), synth.DPI) for i in range(max(count, 1))]
    return "siaptui.synth (person 1)", frames


def still_frames(frames: List[Tuple[Any, int]], count: int, seed: int = 7) -> List[Tuple[Any, int]]:
    """A finger held still: the first frame again and again with sensor noise (σ = 6 grey
    levels) and a ±1 px tremor — what a live preview mostly shows between placements."""
    import numpy as np

    rng = np.random.default_rng(seed)
    base, dpi = frames[0]
    out = []
    for _ in range(max(count, 1)):
        dy, dx = rng.integers(-1, 2, size=2)
        moved = np.roll(np.roll(base.astype(np.float32), int(dy), axis=0), int(dx), axis=1)
        noisy = np.clip(moved + rng.normal(0.0, 6.0, size=base.shape), 0, 255).astype(np.uint8)
        out.append((noisy, dpi))
    return out


def _metered_driver_class() -> Any:
    from textual.drivers.headless_driver import HeadlessDriver

    class MeteredDriver(HeadlessDriver):
        """Headless input, but output rendered and counted as if a terminal were attached."""

        written = 0
        last_write = 0.0

        @property
        def is_headless(self) -> bool:
            return False

        def write(self, data: str) -> None:
            type(self).written += len(data.encode("utf-8"))
            type(self).last_write = time.perf_counter()

    return MeteredDriver


async def _settle(pilot: Any, driver: Any) -> None:
    """Wait until the app has written everything the last change caused."""
    before = -1
    while before != driver.written:
        before = driver.written
        await pilot.pause()
        await asyncio.sleep(0.001)


def _prepare_app(settings: Any) -> Any:
    from siaptui.app import build_app

    settings.scanner.preview_fps = 0  # draw every frame: the bench measures the drawing cost
    app = build_app(settings, low_motion=True)
    app.driver_class = _metered_driver_class()
    return app


async def _measure_size(settings: Any, frames: List[Tuple[Any, Any]], cols: int, rows: int) -> List[Dict[str, Any]]:
    from siaptui.screens.capture import CaptureScreen

    app = _prepare_app(settings)
    driver = app.driver_class
    results = []
    async with app.run_test(headless=False, size=(cols, rows)) as pilot:
        screen = CaptureScreen(scan=False)
        await app.push_screen(screen)
        await _settle(pilot, driver)
        for mode in MODES:
            screen.view.set_mode(mode)
            screen.show_frame(*frames[-1])
            await _settle(pilot, driver)
            total_bytes = 0
            latency = 0.0
            cpu0 = time.process_time()
            for pixels, report in frames:
                start_bytes = driver.written
                started = time.perf_counter()
                screen.show_frame(pixels, report)
                await _settle(pilot, driver)
                total_bytes += driver.written - start_bytes
                latency += max(driver.last_write - started, 0.0)
            cpu_ms = (time.process_time() - cpu0) * 1000.0 / len(frames)
            results.append(
                {
                    "mode": mode,
                    "cols": cols,
                    "rows": rows,
                    "bytes_per_frame": round(total_bytes / len(frames)),
                    "ms_per_frame": round(latency * 1000.0 / len(frames), 2),
                    "cpu_ms_per_frame": round(cpu_ms, 2),
                    "fps": round(1000.0 / cpu_ms, 1) if cpu_ms > 0 else None,
                }
            )
    return results


def _child(count: int, colors: str, still: bool = False) -> int:
    """One colour system (fixed by the parent's environment): all sizes and modes, JSON lines."""
    from siaptui import config
    from siaptui.biometrics.quality import assess

    source, raw = load_frames(count)
    if still:
        raw = still_frames(raw, count)
        source += " (still finger: first image + noise)"
    assessed = []
    assess_ms = 0.0
    for pixels, dpi in raw:
        started = time.perf_counter()
        assessed.append((pixels, assess(pixels, dpi=dpi)))
        assess_ms += (time.perf_counter() - started) * 1000.0
    for cols, rows in SIZES:
        settings = config.load(use_file=False)
        for row in asyncio.run(_measure_size(settings, assessed, cols, rows)):
            row.update(colors=colors, frames=len(assessed), source=source, assess_ms=round(assess_ms / len(raw), 1))
            print(json.dumps(row), flush=True)
    return 0


def _run_children(count: int, still: bool = False) -> Iterator[Dict[str, Any]]:
    for colors, system in COLOR_SYSTEMS.items():
        env = dict(os.environ, TEXTUAL_COLOR_SYSTEM=system, **{_CHILD_ENV: colors})
        env.pop("NO_COLOR", None)
        proc = subprocess.run(
            [sys.executable, "-m", "siaptui", "bench", "preview", "--frames", str(count),
             *(["--still"] if still else [])],
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise SiaptuiError(proc.stderr.strip()[-800:])
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                yield json.loads(line)


async def _startup(settings: Any, count: int) -> Dict[str, Any]:
    """Process start → capture screen painted, then `count` preview frames, then exit."""
    from siaptui.app import process_age_ms
    from siaptui.screens.capture import CaptureScreen

    app = _prepare_app(settings)
    driver = app.driver_class
    async with app.run_test(headless=False, size=(80, 24)) as pilot:
        screen = CaptureScreen(scan=False)
        await app.push_screen(screen)
        await _settle(pilot, driver)
        painted_ms = process_age_ms()
        from siaptui.biometrics.quality import assess

        _source, frames = load_frames(count)
        for pixels, dpi in frames:
            screen.show_frame(pixels, assess(pixels, dpi=dpi))
            await _settle(pilot, driver)
        mode = screen.view.mode
    return {"startup_to_capture_ms": round(painted_ms or 0.0), "frames": len(frames), "mode": mode}


def main(args: argparse.Namespace, settings: Any) -> int:
    count = max(1, int(getattr(args, "frames", 60) or 60))
    if getattr(args, "startup", False):
        result = asyncio.run(_startup(settings, count))
        print(json.dumps(result) if args.json else f"startup_to_capture_ms={result['startup_to_capture_ms']} "
              f"frames={result['frames']} mode={result['mode']}")
        return 0
    still = bool(getattr(args, "still", False))
    child = os.environ.get(_CHILD_ENV)
    if child:
        return _child(count, child, still)
    from siaptui.i18n import t

    rows = list(_run_children(count, still))
    if args.json:
        for row in rows:
            keys = ("mode", "colors", "cols", "rows", "bytes_per_frame", "ms_per_frame", "fps")
            print(json.dumps({k: row[k] for k in keys}))
        return 0
    if rows:
        print(t("capture.bench.source", source=rows[0]["source"], count=rows[0]["frames"]))
        print(t("capture.bench.assess", ms=rows[0]["assess_ms"]))
    print(t("capture.bench.header"))
    for row in rows:
        size = f"{row['cols']}x{row['rows']}"
        print(f"{row['mode']:<9} {row['colors']:<10} {size:<8} {row['bytes_per_frame']:>12} "
              f"{row['ms_per_frame']:>10} {row['fps']:>10}")
    return 0
