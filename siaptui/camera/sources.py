"""Cameras that need no webcam: `image:FILE`, `folder:DIR` and `sim`.

Why: the demo, the trainers and the tests need faces that are known in advance.  `image:` serves
one still picture for every frame; `folder:` serves a folder's pictures in name order, one per
frame, starting over after the last; `sim` is the synthetic camera — scikit-image's `astronaut`
portrait matted onto a plain wall, drifting from off-centre into the middle of a 640×480 frame
and then holding still with sensor noise, so the guidance ("move to the centre") and the
automatic capture are seen working without hardware.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from siaptui.camera.base import DEFAULT_HEIGHT, DEFAULT_WIDTH, Camera, CameraNotFound, CameraReadFailed

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".ppm", ".pgm")


def load_rgb(path: Path) -> "np.ndarray":
    """A picture file as RGB uint8; a missing or unreadable file is a CameraError naming it."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise CameraNotFound(str(path), code="camera_file_missing", file=str(path))
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise CameraReadFailed(f"{path}: {exc}", spec=str(path)) from None


class ImageCamera(Camera):
    """One still picture as a camera: every `read()` returns it."""

    def __init__(self, path: str, spec: str = "") -> None:
        super().__init__(spec or f"image:{path}")
        self.path = Path(path).expanduser()
        self._frame: Optional["np.ndarray"] = None

    def _open(self) -> None:
        self._frame = load_rgb(self.path)

    def _read(self) -> "np.ndarray":
        assert self._frame is not None
        return self._frame.copy()


class FolderCamera(Camera):
    """A folder's pictures in name order, one per frame, looping."""

    def __init__(self, folder: str, spec: str = "") -> None:
        super().__init__(spec or f"folder:{folder}")
        self.folder = Path(folder).expanduser()
        self._files: list[Path] = []
        self._index = 0

    def _open(self) -> None:
        if not self.folder.is_dir():
            raise CameraNotFound(str(self.folder), code="camera_file_missing", file=str(self.folder))
        self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in EXTENSIONS and p.is_file())
        if not self._files:
            raise CameraNotFound(f"no pictures in {self.folder}", code="camera_file_missing", file=str(self.folder))
        self._index = 0

    def _read(self) -> "np.ndarray":
        path = self._files[self._index % len(self._files)]
        self._index += 1
        return load_rgb(path)


# The astronaut's head in scikit-image's 512×512 picture: centre and half-axes of the ellipse
# matted onto the wall (hair and chin included), in that picture's pixels.
_HEAD_CENTRE = (221.0, 118.0)
_HEAD_AXES = (64.0, 84.0)
ASTRONAUT_PUPILS = ((203.0, 102.0), (245.0, 102.5))
"""The astronaut's pupils in that picture, measured by hand on a 4× enlargement (ground truth)."""
_SIM_SCALE = 1.9
_WALL = (214, 211, 204)


@lru_cache(maxsize=1)
def _sim_sprite() -> tuple["np.ndarray", "np.ndarray"]:
    """(RGB head, alpha) cut from `astronaut`, scaled once; cached for the process."""
    import numpy as np
    from PIL import Image
    from skimage import data

    cx, cy = _HEAD_CENTRE
    ax, ay = _HEAD_AXES
    box = (int(cx - ax * 1.2), int(cy - ay * 1.1), int(cx + ax * 1.2), int(cy + ay * 1.25))
    head = Image.fromarray(data.astronaut()).crop(box)
    w, h = head.size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = np.hypot((xx + box[0] - cx) / ax, (yy + box[1] - cy) / ay)
    alpha = np.clip((1.08 - r) / 0.08, 0.0, 1.0)
    size = (int(round(w * _SIM_SCALE)), int(round(h * _SIM_SCALE)))
    rgb = np.asarray(head.resize(size, Image.Resampling.BILINEAR), dtype=np.float64)
    matte = np.asarray(Image.fromarray((alpha * 255).astype(np.uint8)).resize(size, Image.Resampling.BILINEAR),
                       dtype=np.float64)[..., None] / 255.0
    return rgb, matte


class SimCamera(Camera):
    """The synthetic camera: a face that walks into the middle of the frame and holds still.

    `drift_frames` frames go by from the off-centre start to the centre; `fps` paces `read()`
    like a webcam (0 = as fast as asked, for the tests and the bench); `seed` fixes the noise.
    """

    def __init__(self, spec: str = "sim", *, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT,
                 fps: float = 15.0, drift_frames: int = 30, seed: int = 1) -> None:
        super().__init__(spec)
        self.width, self.height = int(width), int(height)
        self.fps = float(fps)
        self.drift_frames = max(int(drift_frames), 0)
        self.seed = seed
        self.frames = 0
        self._last = 0.0
        self.pupils: tuple[tuple[float, float], ...] = ()
        """Where the astronaut's pupils are in the last frame read (the scene's ground truth)."""

    @property
    def name(self) -> str:
        return "sim"

    def _open(self) -> None:
        self.frames = 0
        self._last = 0.0

    def _read(self) -> "np.ndarray":
        import numpy as np

        if self.fps > 0:
            wait = 1.0 / self.fps - (time.monotonic() - self._last)
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()
        rgb, matte = _sim_sprite()
        frame = np.empty((self.height, self.width, 3), dtype=np.float64)
        frame[:] = _WALL
        progress = min(self.frames / self.drift_frames, 1.0) if self.drift_frames else 1.0
        sway = 0.0 if progress < 1.0 else math.sin(self.frames / 5.0) * 2.0
        sh, sw = rgb.shape[:2]
        # Head centre in the frame: from a third of the width to the middle.
        cx = self.width * (0.28 + 0.22 * progress) + sway
        cy = self.height * 0.5
        left = int(round(cx - (_HEAD_CENTRE[0] - (_HEAD_CENTRE[0] - _HEAD_AXES[0] * 1.2)) * _SIM_SCALE))
        top = int(round(cy - _HEAD_AXES[1] * 1.1 * _SIM_SCALE))
        _paste(frame, rgb, matte, left, top)
        origin = (_HEAD_CENTRE[0] - _HEAD_AXES[0] * 1.2, _HEAD_CENTRE[1] - _HEAD_AXES[1] * 1.1)
        self.pupils = tuple((left + (x - int(origin[0])) * _SIM_SCALE, top + (y - int(origin[1])) * _SIM_SCALE)
                            for x, y in ASTRONAUT_PUPILS)
        noise = np.random.default_rng(self.seed + self.frames).normal(0.0, 2.0, frame.shape)
        self.frames += 1
        return np.clip(frame + noise, 0, 255).astype(np.uint8)


def _paste(frame: "np.ndarray", rgb: "np.ndarray", matte: "np.ndarray", left: int, top: int) -> None:
    """Blend the sprite into the frame at (left, top), clipped to the frame."""
    fh, fw = frame.shape[:2]
    sh, sw = rgb.shape[:2]
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + sw, fw), min(top + sh, fh)
    if x0 >= x1 or y0 >= y1:
        return
    part = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
    a = matte[part]
    frame[y0:y1, x0:x1] = rgb[part] * a + frame[y0:y1, x0:x1] * (1.0 - a)
