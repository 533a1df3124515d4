"""`siaptui capture --device SPEC --out FILE.png`: one fingerprint from any reader to a PNG.

Why: support staff and tests need to check a reader without the TUI (the acceptance test runs a
recorded 4500 session through this command).  The image is the driver's normalised output —
grayscale, dark ridges on light — written atomically.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from siaptui.devices.base import CaptureFailed, Frame
from siaptui.files import atomic_write
from siaptui.i18n import t


def capture_one(spec: str, timeout: float, cancel: "threading.Event | None" = None, **options: Any) -> Frame:
    """Open the reader, wait for a finger, take one frame, let the finger go, close."""
    from siaptui.devices.registry import open_scanner

    with open_scanner(spec, **options) as scanner:
        print(t("devices.capture.opened", device=scanner.info.model or spec), file=sys.stderr)
        print(t("devices.capture.place_finger"), file=sys.stderr)
        if not scanner.wait_finger(timeout=timeout, cancel=cancel):
            raise CaptureFailed("no finger before the timeout", code="capture_no_finger", seconds=f"{timeout:g}")
        frame = scanner.capture(timeout=timeout, cancel=cancel)
        scanner.wait_finger_off(timeout=2.0, cancel=cancel)
        return frame


def main(args: argparse.Namespace, settings: Any) -> int:
    out = Path(args.out)
    frame = capture_one(args.device, float(args.timeout))
    atomic_write(out, frame.to_png())
    print(t("devices.capture.saved", file=str(out), width=frame.width, height=frame.height,
            dpi=frame.dpi, ms=f"{frame.capture_ms:.0f}"), file=sys.stderr)
    return 0
