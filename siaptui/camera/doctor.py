"""The camera's part of `siaptui doctor` and of Ajustes' "probar": open it, read one frame, or
say why not and what to do.

Why warnings, not errors: without a camera the photo step is skipped and the fingerprints are
enrolled all the same, so a camera problem must not turn the scanner's verdict (and the exit
code support scripts read) into a failure.

Why one `probe` for both: the clerk who tries a camera in Ajustes must meet the very error (and
fix) the technician's `siaptui doctor --camera` reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from siaptui.camera.base import CameraError


@dataclass(frozen=True)
class Probe:
    """What opening the camera once gave: its name and frame size, or the typed error."""

    spec: str
    name: str = ""
    width: int = 0
    height: int = 0
    error: Optional[CameraError] = None

    @property
    def ok(self) -> bool:
        return self.error is None


def probe(spec: str, *, width: int = 640, height: int = 480) -> Probe:
    """Open `spec`, read one frame and close it (blocking: a webcam takes up to a few seconds)."""
    from siaptui.camera.registry import open_camera

    try:
        with open_camera(spec, width=width, height=height) as camera:
            frame = camera.read()
            name = camera.name
    except CameraError as exc:
        return Probe(spec, error=exc)
    return Probe(spec, name=name, width=int(frame.shape[1]), height=int(frame.shape[0]))


def check_camera(report: Any, spec: str, *, width: int = 640, height: int = 480) -> None:
    """Add the camera's findings to a `siaptui.devices.doctor.Report`."""
    from siaptui.camera.opencv import video_nodes
    from siaptui.camera.registry import needs_opencv
    from siaptui.errors import describe

    if needs_opencv(spec):
        nodes = video_nodes()
        if nodes:
            report.add("camera_nodes", "info", nodes=", ".join(str(n) for n in nodes))
    found = probe(spec, width=width, height=height)
    if found.error is not None:
        message, fix = describe(found.error)
        report.add("camera_problem", "warning", spec=spec, message=message, fix=fix)
        return
    report.add("camera_ok", "ok", name=found.name, width=found.width, height=found.height)
