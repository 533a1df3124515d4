"""The camera's part of `siaptui doctor`: open it, read one frame, or say why not and what to do.

Why warnings, not errors: without a camera the photo step is skipped and the fingerprints are
enrolled all the same, so a camera problem must not turn the scanner's verdict (and the exit
code support scripts read) into a failure.
"""

from __future__ import annotations

from typing import Any

from siaptui.camera.base import CameraError


def check_camera(report: Any, spec: str, *, width: int = 640, height: int = 480) -> None:
    """Add the camera's findings to a `siaptui.devices.doctor.Report`."""
    from siaptui.camera.opencv import video_nodes
    from siaptui.camera.registry import needs_opencv, open_camera
    from siaptui.errors import describe

    if needs_opencv(spec):
        nodes = video_nodes()
        if nodes:
            report.add("camera_nodes", "info", nodes=", ".join(str(n) for n in nodes))
    try:
        with open_camera(spec, width=width, height=height) as camera:
            frame = camera.read()
            name = camera.name
    except CameraError as exc:
        message, fix = describe(exc)
        report.add("camera_problem", "warning", spec=spec, message=message, fix=fix)
        return
    report.add("camera_ok", "ok", name=name, width=int(frame.shape[1]), height=int(frame.shape[0]))
