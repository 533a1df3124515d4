"""Face detection and the measured checks the photo guidance speaks from.

Detector: scikit-image's LBP frontal-face cascade (`skimage.feature.Cascade` with
`skimage.data.lbp_frontal_face_cascade_filename()`), the only face model that ships inside a
package siaptui already installs — OpenCV 5's wheel has no cascades and YuNet ships no model.
It runs on the frame scaled to `DETECT_WIDTH` pixels wide, which keeps one detection near
0.05 s on a 2-core office PC at 640×480.

Eyes are **estimated, not detected**: no eye model ships in any installed package.  The eye
centres are placed in the face box at the fractions `EYE_X` / `EYE_Y`, measured on
scikit-image's `astronaut` (whose box from this cascade has the pupils at 29 % and 73 % of its
width and 35 % of its height).  Only the head-level check looks closer: it finds the darkest
spot (pupil and lashes) near each estimated eye and measures the tilt of the line through
them; the crop itself uses the box estimate, which is steadier from frame to frame.

Every check is a measured value with its threshold here, so a guidance line can always be
traced back to a number (`Analysis.to_dict()`, `siaptui photo --json`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

DETECT_WIDTH = 320
"""Frames are scaled to this width for detection (never enlarged)."""
MIN_FACE_FRACTION = 0.12
"""Smallest face searched for, as a fraction of the frame's shorter side."""
SECOND_FACE_FRACTION = 0.4
"""A second box counts as another person when at least this fraction of the largest's width
(smaller ones are the cascade's stray hits in a patterned background)."""
EYE_X = (0.29, 0.73)
EYE_Y = 0.35
CENTRED_X = 0.10
"""Largest offset of the face centre from the frame centre, as a fraction of the frame width."""
CENTRED_Y = 0.15
"""… and of the frame height."""
MIN_EYE_DISTANCE_PX = 40.0
"""Below this the token's 60-pixel eye distance would be enlarged more than 1.5×."""
MAX_TILT_DEG = 8.0
BRIGHTNESS_RANGE = (70.0, 200.0)
"""Mean grey (0-255) of the inner face: darker is underexposed, brighter washes the skin out."""
MAX_LIGHT_IMBALANCE = 0.25
"""Largest |left − right| / mean between the two halves of the inner face (side light)."""
MIN_SHARPNESS = 25.0
"""Variance of the Laplacian of the face scaled to 128 pixels wide and to a grey standard
deviation of `SHARPNESS_CONTRAST`, so neither the face's size nor the light changes it."""
SHARPNESS_CONTRAST = 40.0
MAX_BACKGROUND_STD = 20.0
"""Largest grey standard deviation beside the head for the background to count as plain."""

CHECKS = ("face_found", "one_face", "centred", "close_enough", "head_level", "evenly_lit", "sharp",
          "plain_background")
"""In the order the guidance speaks: the first failing check is what the clerk is told."""


@dataclass(frozen=True)
class FaceBox:
    left: float
    top: float
    width: float
    height: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.left + self.width / 2.0, self.top + self.height / 2.0

    def eyes(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Estimated eye centres (x, y) in frame pixels: image-left eye first."""
        y = self.top + EYE_Y * self.height
        return (self.left + EYE_X[0] * self.width, y), (self.left + EYE_X[1] * self.width, y)


@dataclass
class Analysis:
    """What one frame measured; `checks` holds the verdicts, in `CHECKS` order."""

    width: int
    height: int
    faces: list[FaceBox] = field(default_factory=list)
    eye_distance_px: float = 0.0
    centre_offset: tuple[float, float] = (0.0, 0.0)
    tilt_deg: float = 0.0
    brightness: float = 0.0
    light_imbalance: float = 0.0
    sharpness: float = 0.0
    background_std: float = 0.0
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def face(self) -> Optional[FaceBox]:
        return self.faces[0] if self.faces else None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(self.checks.values())

    def failing(self) -> list[str]:
        return [name for name in CHECKS if not self.checks.get(name, False)]

    def to_dict(self) -> dict[str, Any]:
        """The `siaptui photo --json` fields (and the rest of the measurements)."""
        return {
            "face_found": self.checks.get("face_found", False),
            "faces": len(self.faces),
            "eye_distance_px": round(self.eye_distance_px, 1),
            "centred": self.checks.get("centred", False),
            "brightness": round(self.brightness, 1),
            "sharpness": round(self.sharpness, 1),
            "tilt_deg": round(self.tilt_deg, 1),
            "light_imbalance": round(self.light_imbalance, 3),
            "background_std": round(self.background_std, 1),
            "checks": dict(self.checks),
        }


@lru_cache(maxsize=1)
def _cascade() -> Any:
    from skimage import data, feature

    return feature.Cascade(data.lbp_frontal_face_cascade_filename())


def grey(frame: "np.ndarray") -> "np.ndarray":
    """ITU-R 601 luma of an RGB frame as float64 0-255 (a grey frame is returned as float)."""
    import numpy as np

    if frame.ndim == 2:
        return frame.astype(np.float64)
    return frame[..., 0] * 0.299 + frame[..., 1] * 0.587 + frame[..., 2] * 0.114


def detect(luma: "np.ndarray") -> list[FaceBox]:
    """Face boxes in frame pixels, largest first; stray small hits and the same face found again
    at a neighbouring scale are dropped."""
    import numpy as np
    from PIL import Image

    h, w = luma.shape
    scale = min(1.0, DETECT_WIDTH / float(w))
    small = luma
    if scale < 1.0:
        size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
        shrunk = Image.fromarray(luma.astype(np.uint8)).resize(size, Image.Resampling.BILINEAR)
        small = np.asarray(shrunk, dtype=np.float64)
    sh, sw = small.shape
    least = max(24, int(min(sh, sw) * MIN_FACE_FRACTION))
    found = _cascade().detect_multi_scale(img=small / 255.0, scale_factor=1.2, step_ratio=1,
                                          min_size=(least, least), max_size=(sh, sh), min_neighbor_number=4)
    boxes = sorted((FaceBox(d["c"] / scale, d["r"] / scale, d["width"] / scale, d["height"] / scale) for d in found),
                   key=lambda b: -b.width)
    kept: list[FaceBox] = []
    for box in boxes:  # one face seen at two scales is one face: drop a box centred inside a kept one
        cx, cy = box.centre
        if box.width < SECOND_FACE_FRACTION * boxes[0].width:
            continue
        if not any(k.left <= cx <= k.left + k.width and k.top <= cy <= k.top + k.height for k in kept):
            kept.append(box)
    return kept


def _region(luma: "np.ndarray", x0: float, y0: float, x1: float, y1: float) -> "np.ndarray":
    h, w = luma.shape
    a, b = int(max(0, min(w, x0))), int(max(0, min(w, x1)))
    c, d = int(max(0, min(h, y0))), int(max(0, min(h, y1)))
    return luma[c:d, a:b]


def _dark_spot(luma: "np.ndarray", x: float, y: float, box: FaceBox) -> Optional[tuple[float, float]]:
    """Centroid of the darkest tenth of the pixels around an estimated eye (the pupil and lashes)."""
    import numpy as np

    rx, ry = 0.11 * box.width, 0.08 * box.height
    x0, y0 = max(0, int(x - rx)), max(0, int(y - ry))
    patch = _region(luma, x - rx, y - ry, x + rx, y + ry)
    if patch.size < 16:
        return None
    mask = patch <= np.percentile(patch, 10)
    ys, xs = np.nonzero(mask)
    return x0 + float(xs.mean()), y0 + float(ys.mean())


def _laplacian_variance(patch: "np.ndarray") -> float:
    import numpy as np
    from PIL import Image

    h, w = patch.shape
    if h < 8 or w < 8:
        return 0.0
    size = (128, max(8, int(round(128 * h / w))))
    img = np.asarray(Image.fromarray(np.clip(patch, 0, 255).astype(np.uint8)).resize(size, Image.Resampling.BILINEAR),
                     dtype=np.float64)
    spread = float(img.std())
    if spread < 1.0:
        return 0.0
    img = (img - img.mean()) * (SHARPNESS_CONTRAST / spread)
    lap = img[1:-1, :-2] + img[1:-1, 2:] + img[:-2, 1:-1] + img[2:, 1:-1] - 4.0 * img[1:-1, 1:-1]
    return float(lap.var())


def analyse(frame: "np.ndarray") -> Analysis:
    """Detect the faces in one RGB (or grey) frame and measure every check on the largest."""
    import numpy as np

    luma = grey(frame)
    h, w = luma.shape
    result = Analysis(width=w, height=h, faces=detect(luma))
    box = result.face
    if box is None:
        result.checks = {name: False for name in CHECKS}
        return result
    (lx, ly), (rx, ry) = box.eyes()
    result.eye_distance_px = math.hypot(rx - lx, ry - ly)
    cx, cy = box.centre
    result.centre_offset = ((cx - w / 2.0) / w, (cy - h / 2.0) / h)
    left_spot, right_spot = _dark_spot(luma, lx, ly, box), _dark_spot(luma, rx, ry, box)
    if left_spot is not None and right_spot is not None:
        (ax, ay), (bx, by) = left_spot, right_spot
        result.tilt_deg = math.degrees(math.atan2(by - ay, max(bx - ax, 1e-6)))
    inner = _region(luma, box.left + 0.2 * box.width, box.top + 0.2 * box.height,
                    box.left + 0.8 * box.width, box.top + 0.9 * box.height)
    if inner.size:
        result.brightness = float(inner.mean())
        half = inner.shape[1] // 2
        left, right = float(inner[:, :half].mean()), float(inner[:, half:].mean())
        result.light_imbalance = abs(left - right) / max(result.brightness, 1.0)
    result.sharpness = _laplacian_variance(_region(luma, box.left, box.top, box.left + box.width, box.top + box.height))
    beside = [_region(luma, box.left - 0.6 * box.width, box.top - 0.3 * box.height, box.left - 0.15 * box.width,
                      box.top + 0.5 * box.height),
              _region(luma, box.left + 1.15 * box.width, box.top - 0.3 * box.height, box.left + 1.6 * box.width,
                      box.top + 0.5 * box.height)]
    stds = [float(np.std(part)) for part in beside if part.size >= 64]
    result.background_std = max(stds) if stds else 0.0
    low, high = BRIGHTNESS_RANGE
    result.checks = {
        "face_found": True,
        "one_face": len(result.faces) == 1,
        "centred": abs(result.centre_offset[0]) <= CENTRED_X and abs(result.centre_offset[1]) <= CENTRED_Y,
        "close_enough": result.eye_distance_px >= MIN_EYE_DISTANCE_PX,
        "head_level": abs(result.tilt_deg) <= MAX_TILT_DEG,
        "evenly_lit": low <= result.brightness <= high and result.light_imbalance <= MAX_LIGHT_IMBALANCE,
        "sharp": result.sharpness >= MIN_SHARPNESS,
        "plain_background": result.background_std <= MAX_BACKGROUND_STD,
    }
    return result
