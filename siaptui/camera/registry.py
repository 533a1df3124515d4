"""`open_camera(spec)`: a camera spec becomes a `Camera`, importing only what it needs.

Specs, like the scanner's:

* `auto` — the first webcam that gives a frame (`/dev/video*` in order on Linux, index 0 elsewhere);
* `0`, `1`, … — that webcam by index; `/dev/video2` (or any path that is not `image:`) — by path;
* `image:FILE` — a still picture as a camera;
* `folder:DIR` — a folder's pictures in name order, one per frame;
* `sim` — the synthetic camera (`siaptui.camera.sources.SimCamera`).

Only the webcam specs need OpenCV (`siaptui[camera]`); `needs_opencv` and `camera_extra_installed`
let the photo step and the doctor say so before anything is opened.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from siaptui.camera.base import DEFAULT_HEIGHT, DEFAULT_WIDTH, Camera, CameraSpecInvalid

SOURCES = ("image", "folder", "sim")


def split(spec: str) -> tuple[str, str]:
    """`"image:/a/b.png"` -> `("image", "/a/b.png")`; a webcam spec -> `("webcam", spec)`."""
    text = (spec or "").strip()
    prefix, sep, rest = text.partition(":")
    if prefix.lower() in SOURCES and (sep or prefix.lower() == "sim"):
        return prefix.lower(), rest.strip()
    return "webcam", text


def needs_opencv(spec: str) -> bool:
    return split(spec)[0] == "webcam"


def camera_extra_installed() -> bool:
    """True when OpenCV can be imported (checked without importing it: it costs ~0.2 s)."""
    try:
        return importlib.util.find_spec("cv2") is not None
    except (ImportError, ValueError):
        return False


def parse(spec: str) -> tuple[str, Any]:
    """What `spec` names, checked without opening anything: `("image", FILE)`, `("folder", DIR)`,
    `("sim", None)` or `("webcam", None | index | path)`; CameraSpecInvalid for a malformed one.

    Why apart from `open_camera`: Ajustes checks a typed spec before saving it, by the same
    rules, on a computer that may not even have OpenCV.
    """
    kind, rest = split(spec)
    if kind in ("image", "folder"):
        if not rest:
            raise CameraSpecInvalid(spec, spec=spec)
        return kind, rest
    if kind == "sim":
        return kind, None
    if not rest:
        raise CameraSpecInvalid("empty camera spec", spec="(vacío)")
    if rest.lower() == "auto":
        return kind, None
    if rest.isdigit():
        return kind, int(rest)
    if rest.startswith(("/", "\\", ".")) or ":" in rest[1:3]:
        return kind, rest
    raise CameraSpecInvalid(spec, spec=spec)


def open_camera(spec: str, *, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT, **options: Any) -> Camera:
    """Build (not yet open) the camera for `spec`; raises CameraSpecInvalid for a malformed one."""
    kind, target = parse(spec)
    if kind == "image":
        from siaptui.camera.sources import ImageCamera

        return ImageCamera(target, spec=spec.strip())
    if kind == "folder":
        from siaptui.camera.sources import FolderCamera

        return FolderCamera(target, spec=spec.strip())
    if kind == "sim":
        from siaptui.camera.sources import SimCamera

        return SimCamera("sim", width=width, height=height, **options)
    from siaptui.camera.opencv import OpenCvCamera

    return OpenCvCamera(target, split(spec)[1] if target is not None else "auto", width=width, height=height)
