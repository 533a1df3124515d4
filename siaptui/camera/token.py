"""The ISO/IEC 19794-5 token frontal image: crop, scale, encode as JPEG within a stated size.

Token geometry (ISO/IEC 19794-5 §8.3): an image W pixels wide and W / 0.75 high, the eye line
0.6·W from the top, the eyes' midpoint at W / 2 and the eyes 0.25·W apart.  siaptui writes the
standard's minimum W = 240 (240×320, eye distance 60 px, eyes at (90, 144) and (150, 144)).

The eyes are the analysis's (`siaptui.camera.face.Analysis.eyes`: the box estimate turned by
the head's measured roll, or the box estimate alone when the roll could not be measured — then
`eyes_located` is False), and the transform is the similarity (turn, scale, shift) that puts
them on the standard's positions, so a rolled head comes out with its eyes level.  Parts of the
token that fall outside the frame are filled with the frame's mean border colour, not black.

The JPEG is written at quality 90 and lowered in steps until it fits `MAX_TOKEN_BYTES`.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from siaptui.errors import SiaptuiError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from siaptui.camera.face import Analysis

TOKEN_WIDTH = 240
TOKEN_HEIGHT = 320
EYE_LINE_Y = 0.6 * TOKEN_WIDTH
"""144: pixels from the top of the token to the eye line."""
EYE_DISTANCE = 0.25 * TOKEN_WIDTH
"""60 pixels between the eye centres."""
TOKEN_EYES = ((TOKEN_WIDTH / 2.0 - EYE_DISTANCE / 2.0, EYE_LINE_Y),
              (TOKEN_WIDTH / 2.0 + EYE_DISTANCE / 2.0, EYE_LINE_Y))
MAX_TOKEN_BYTES = 24 * 1024
"""Largest JPEG kept and sent (the contract's limit for the photo field)."""
QUALITIES = (90, 80, 70, 60, 50, 40)


class PhotoError(SiaptuiError):
    code = "photo_no_face"


@dataclass
class Token:
    """The encoded token image and the transform that made it (frame → token pixels)."""

    jpeg: bytes
    width: int
    height: int
    scale: float
    roll_deg: float
    """How far the frame was turned (counter-clockwise as seen) to level the eyes."""
    matrix: tuple[float, float, float, float, float, float]
    """Frame → token: (a, b, c, d, e, f) with x' = a·x + b·y + c, y' = d·x + e·y + f."""
    quality: int

    def to_token(self, x: float, y: float) -> tuple[float, float]:
        """Where a frame pixel lands in the token."""
        a, b, c, d, e, f = self.matrix
        return a * x + b * y + c, d * x + e * y + f


def token_image(frame: "np.ndarray", analysis: "Analysis", *, spec: str = "") -> Token:
    """Crop and scale the largest face of `frame` to the token geometry; encode the JPEG."""
    import numpy as np
    from PIL import Image

    if analysis.face is None:
        raise PhotoError("no face", spec=spec or "-")
    (lx, ly), (rx, ry) = analysis.eyes
    roll = math.atan2(ry - ly, rx - lx)
    scale = EYE_DISTANCE / max(math.hypot(rx - lx, ry - ly), 1e-6)
    mid_x, mid_y = (lx + rx) / 2.0, (ly + ry) / 2.0
    cos, sin = math.cos(roll), math.sin(roll)
    # Forward: token = scale · turn(−roll) · (frame − eye midpoint) + the token's eye midpoint.
    a, b, d, e = scale * cos, scale * sin, -scale * sin, scale * cos
    c, f = TOKEN_WIDTH / 2.0 - (a * mid_x + b * mid_y), EYE_LINE_Y - (d * mid_x + e * mid_y)
    # PIL wants token → frame: the inverse turn and scale, about the same points.
    ia, ib, id_, ie = cos / scale, -sin / scale, sin / scale, cos / scale
    inverse = (ia, ib, -(ia * c + ib * f), id_, ie, -(id_ * c + ie * f))
    rgb = frame if frame.ndim == 3 else np.repeat(frame[..., None], 3, axis=2)
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).mean(axis=0)
    fill = tuple(int(round(v)) for v in border)
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).transform(
        (TOKEN_WIDTH, TOKEN_HEIGHT), Image.Transform.AFFINE, inverse, resample=Image.Resampling.BICUBIC, fillcolor=fill)
    for quality in QUALITIES:
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality, optimize=True)
        if out.tell() <= MAX_TOKEN_BYTES:
            return Token(out.getvalue(), TOKEN_WIDTH, TOKEN_HEIGHT, scale, math.degrees(roll), (a, b, c, d, e, f),
                         quality)
    raise PhotoError("token JPEG too large", code="photo_too_large", limit=MAX_TOKEN_BYTES)
