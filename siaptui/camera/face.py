"""Face detection and the measured checks the photo guidance speaks from.

Detector: scikit-image's LBP frontal-face cascade (`skimage.feature.Cascade` with
`skimage.data.lbp_frontal_face_cascade_filename()`), the only face model that ships inside a
package siaptui already installs — OpenCV 5's wheel has no cascades and YuNet ships no model.
It runs on the frame scaled to `DETECT_WIDTH` pixels wide, which keeps one detection near
0.05 s on a 2-core office PC at 640×480.

Eyes: no eye model ships in any installed package (OpenCV 5's wheel has no `CascadeClassifier`
and no `haarcascade_eye.xml`), so the eyes are **located from the face's symmetry**, not
detected by a model.  The box gives a first estimate — the eye centres at the fractions `EYE_X` /
`EYE_Y` of the box, measured on scikit-image's `astronaut` (pupils at 29 % and 73 % of its width
and 35 % of its height).  Then the head's roll is measured (`measure_roll`): the region around the
image-left eye, mirrored, is matched against the region around the other eye; the vertical
offset of the best match over the eye distance is the roll, refined twice on the frame rotated
level.  Both eye regions (brows, lids, iris) enter the match, so a bias of one — lashes darker
than the pupil — cancels out.  The located eyes are the box's estimate turned about the box
centre by that roll (`Analysis.eyes`, `eyes_located`); when the match is too weak the box
estimate is kept, turned only by the turn that found the face (below), and `eyes_located` is
False (`siaptui photo --json`: `"eyes"`).

A head rolled past what the cascade accepts (about ±10° on the astronaut) is found by detecting
again on the frame turned by ±`ROLL_SEARCH_DEG`, which costs two more detections only for a
frame where no face was found upright.

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
"""The head-level check: the token is turned level either way, but ISO/IEC 19794-5 asks for a
roll within ±8°, and a straighter head gives a better photo than a turned crop."""
ROLL_SEARCH_DEG = 12.0
"""Turn of the frame for the second and third detection when no face is found upright."""
MAX_ROLL_DEG = 25.0
"""A measured roll beyond this is a failed match, not a head (the box estimate is kept)."""
MIN_ROLL_MATCH = 0.5
"""Least normalised correlation between the mirrored eye regions for the roll to count."""
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
    eyes: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))
    """Eye centres (x, y) in frame pixels, image-left first: the box estimate turned by the
    measured roll when `eyes_located`, else the box estimate (turned by the search's turn when
    the face was found only on a turned frame)."""
    eyes_located: bool = False
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
            "eyes": "located" if self.eyes_located else "estimated",
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


def _turn(x: float, y: float, degrees: float, centre: tuple[float, float]) -> tuple[float, float]:
    """(x, y) turned by `degrees` about `centre` in image coordinates (y down): positive turns
    clockwise as seen, the way a head rolls when its image-right eye drops."""
    t = math.radians(degrees)
    cx, cy = centre
    return (cx + (x - cx) * math.cos(t) - (y - cy) * math.sin(t),
            cy + (x - cx) * math.sin(t) + (y - cy) * math.cos(t))


def _levelled(luma: "np.ndarray", roll: float) -> "np.ndarray":
    """The frame turned by `roll` the other way (PIL turns counter-clockwise as seen), so a head
    rolled by `roll` stands upright; corners are filled with the frame's mean grey."""
    import numpy as np
    from PIL import Image

    turned = Image.fromarray(np.clip(luma, 0, 255).astype(np.uint8)).rotate(
        roll, resample=Image.Resampling.BILINEAR, fillcolor=int(luma.mean()))
    return np.asarray(turned, dtype=np.float64)


def detect_rolled(luma: "np.ndarray") -> tuple[list[FaceBox], float]:
    """(boxes, roll hint): `detect` upright, else on the frame turned by ±ROLL_SEARCH_DEG, the
    boxes then brought back to frame pixels (upright boxes of the same size at the face's
    centre) with the turn that found them as the first guess of the head's roll."""
    boxes = detect(luma)
    if boxes:
        return boxes, 0.0
    h, w = luma.shape
    centre = (w / 2.0, h / 2.0)
    for roll in (ROLL_SEARCH_DEG, -ROLL_SEARCH_DEG):
        found = detect(_levelled(luma, roll))
        if found:
            back = []
            for box in found:
                cx, cy = _turn(*box.centre, roll, centre)
                back.append(FaceBox(cx - box.width / 2.0, cy - box.height / 2.0, box.width, box.height))
            return back, roll
    return [], 0.0


def measure_roll(luma: "np.ndarray", box: FaceBox, start: float = 0.0) -> Optional[float]:
    """The head's roll in degrees (positive: the image-right eye lower), from the mirror match of
    the two eye regions; None when a region leaves the frame or the match is weak."""
    import numpy as np
    from skimage.feature import match_template

    (lx, _), (rx, ey) = box.eyes()
    cx, cy = box.centre
    distance = rx - lx
    half, reach = int(0.14 * box.width), int(0.08 * box.width)
    if half < 4:
        return None
    roll = start
    for _ in range(3):
        level = _levelled(luma, roll) if roll else luma
        # In the levelled frame the face's centre moved with the turn about the frame centre.
        h, w = luma.shape
        fx, fy = _turn(cx, cy, -roll, (w / 2.0, h / 2.0))
        eye_y = fy + (ey - cy)
        left_x, right_x = fx - distance / 2.0, fx + distance / 2.0
        top, bottom = int(eye_y - half), int(eye_y + half)
        if top - reach < 0 or bottom + reach > h or left_x - half < 0 or right_x + half + reach > w:
            return None
        mirrored = level[top:bottom, int(left_x - half):int(left_x + half)][:, ::-1]
        area = level[top - reach:bottom + reach, int(right_x - half) - reach:int(right_x + half) + reach]
        scores = match_template(area, mirrored)
        iy, ix = (int(i) for i in np.unravel_index(int(np.argmax(scores)), scores.shape))
        if float(scores[iy, ix]) < MIN_ROLL_MATCH:
            return None
        dy, dx = _peak(scores[:, ix], iy) - reach, _peak(scores[iy, :], ix) - reach
        roll += math.degrees(math.atan2(dy, distance + dx))
        if abs(roll) > MAX_ROLL_DEG:
            return None
    return roll


def _peak(values: "np.ndarray", index: int) -> float:
    """Sub-pixel position of a maximum (a parabola through it and its neighbours)."""
    if 0 < index < len(values) - 1:
        bend = float(values[index - 1] - 2.0 * values[index] + values[index + 1])
        if bend < 0:
            return index + 0.5 * float(values[index - 1] - values[index + 1]) / bend
    return float(index)


def _region(luma: "np.ndarray", x0: float, y0: float, x1: float, y1: float) -> "np.ndarray":
    h, w = luma.shape
    a, b = int(max(0, min(w, x0))), int(max(0, min(w, x1)))
    c, d = int(max(0, min(h, y0))), int(max(0, min(h, y1)))
    return luma[c:d, a:b]


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
    faces, hint = detect_rolled(luma)
    result = Analysis(width=w, height=h, faces=faces)
    box = result.face
    if box is None:
        result.checks = {name: False for name in CHECKS}
        return result
    result.eyes = box.eyes()
    roll = measure_roll(luma, box, hint)
    for start in ((ROLL_SEARCH_DEG, -ROLL_SEARCH_DEG) if roll is None and not hint else ()):
        # Found upright yet rolled too far for the mirror match to start from level.
        roll = measure_roll(luma, box, start)
        if roll is not None:
            break
    result.eyes_located = roll is not None
    # Without a match, a face found only on the turned frame is still turned by that turn.
    turn = roll if roll is not None else hint
    if turn:
        result.tilt_deg = turn
        result.eyes = (_turn(*result.eyes[0], turn, box.centre), _turn(*result.eyes[1], turn, box.centre))
    (lx, ly), (rx, ry) = result.eyes
    result.eye_distance_px = math.hypot(rx - lx, ry - ly)
    cx, cy = box.centre
    result.centre_offset = ((cx - w / 2.0) / w, (cy - h / 2.0) / h)
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
