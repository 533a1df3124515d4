"""`siaptui bench photo`: what the photo step costs — terminal bytes and frames per second of the
live preview at 80×24, and the detection and token crop time per frame.

Preview: the real Foto screen with the `sim` camera, under the metered driver of
`siaptui bench preview` (every write counted), in each drawing mode; each frame is a new camera
picture analysed in the screen's worker, so `cpu_ms_per_frame` is the whole live loop (read,
detect, measure, draw, write) and `fps` = 1000 / that, what one core sustains.  The checklist
and guidance repaint only when their words change, and are counted with the picture.

Detection and crop: `siaptui.camera.face.analyse` and `siaptui.camera.token.token_image` timed
on the `sim` camera's 640×480 frames, median over `--frames`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from siaptui.bench import machine
from siaptui.widgets.fingerprint_render import MODES

SIZE = (80, 24)


def time_analysis(count: int) -> dict[str, Any]:
    from siaptui.camera.face import analyse
    from siaptui.camera.registry import open_camera
    from siaptui.camera.token import token_image

    detect, crop, sizes = [], [], []
    with open_camera("sim", fps=0) as camera:
        analyse(camera.read())  # the cascade file is read once, outside the figures
        for _ in range(max(count, 1)):
            frame = camera.read()
            started = time.perf_counter()
            analysis = analyse(frame)
            detect.append((time.perf_counter() - started) * 1000.0)
            if analysis.face is not None:
                started = time.perf_counter()
                token = token_image(frame, analysis)
                crop.append((time.perf_counter() - started) * 1000.0)
                sizes.append(len(token.jpeg))
    return {
        "frame": "640x480 (sim)",
        "detect_ms_per_frame": round(statistics.median(detect), 1),
        "crop_ms_per_frame": round(statistics.median(crop), 1) if crop else None,
        "token_bytes_median": int(statistics.median(sizes)) if sizes else None,
        "frames": len(detect),
    }


async def measure_preview(settings: Any, count: int) -> list[dict[str, Any]]:
    from siaptui.app import build_app
    from siaptui.bench.preview import _metered_driver_class
    from siaptui.screens.photo import PhotoScreen

    settings.camera.device = "sim"
    settings.camera.auto_capture = False  # keep the preview live for the whole measurement
    settings.scanner.preview_fps = 0  # draw every frame: the bench measures the drawing cost
    app = build_app(settings, low_motion=True)
    app.driver_class = _metered_driver_class()
    driver: Any = app.driver_class
    rows = []
    async with app.run_test(headless=False, size=SIZE) as pilot:
        app.goto("photo")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PhotoScreen)
        while getattr(screen, "frames_seen", 0) < 2:
            await pilot.pause(0.01)
        for mode in MODES:
            # Frames keep arriving, so there is no quiet moment to settle on: the count starts
            # two frames after the mode change (its full redraw) and stops at the count-th frame.
            screen.view.set_mode(mode)
            start = screen.frames_seen + 2
            while screen.frames_seen < start:
                await pilot.pause(0.005)
            seen, written = screen.frames_seen, driver.written
            cpu0, wall0 = time.process_time(), time.perf_counter()
            while screen.frames_seen - seen < count:
                await pilot.pause(0.005)
            frames = screen.frames_seen - seen
            cpu_ms = (time.process_time() - cpu0) * 1000.0 / frames
            rows.append({
                "mode": mode, "cols": SIZE[0], "rows": SIZE[1], "frames": frames,
                "bytes_per_frame": round((driver.written - written) / frames),
                "cpu_ms_per_frame": round(cpu_ms, 1),
                "fps": round(1000.0 / cpu_ms, 1) if cpu_ms > 0 else None,
                "wall_fps": round(frames / (time.perf_counter() - wall0), 1),
            })
    return rows


def main(args: argparse.Namespace, settings: Any) -> int:
    from siaptui import config

    count = max(1, int(getattr(args, "frames", 30) or 30))
    timing = time_analysis(count)
    preview = asyncio.run(measure_preview(config.load(use_file=False), count))
    if args.json:
        print(json.dumps({"analysis": timing, "preview": preview, "machine": machine()}))
        return 0
    print(json.dumps(timing))
    for row in preview:
        print(json.dumps(row))
    return 0
