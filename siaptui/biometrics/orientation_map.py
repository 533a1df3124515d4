"""A coarse ridge-orientation map kept beside a template's minutiae, to check a whole alignment.

Why: the matcher aligns two prints on a few pairs of minutiae.  Between different fingers of
the same pattern class an alignment found that way is often a coincidence of a handful of
minutiae, while the ridge flow around them — core, delta, the curvature of the loops — does
not agree; between two impressions of one finger the flow agrees wherever both saw skin, even
where a dry or wet patch spoiled the minutiae.  So each template carries the orientation field
on 16-px blocks (about 500 blocks, three bytes each with the period below) and the matcher
scores the agreement of the two fields under its winning alignment
(`match_core.map_agreement`).  On the four FVC2002 B sets pooled this lowers both the mean EER
and the impostor tail (FMR1000); docs/bench/engine.md has the measurement.

The map also carries the ridge period per block (the extractor's smoothed frequency map, which
it computes anyway to tune its Gabor filters).  Ridge spacing is a property of the finger that
pressure changes only by a few per cent (median gap between two impressions of one finger,
aligned: 3 %), while different fingers differ by 8–10 % on the same blocks; the matcher scores
that gap too (`match_core.map_agreement`), which lowers the pooled mean EER on the four FVC2002
B sets again, DB2's most (docs/bench/engine.md).

Conventions are the template's: pixel coordinates with y down at the template's resolution,
directions in the public counter-clockwise sense of `Minutia.angle`, here modulo π (a ridge
flow has no sense).  `strength` is the orientation's coherence, 0 where there is no finger;
`period` is in tenths of a pixel, 0 where unknown (a two-layer map, template format version 2, has none).
"""

from __future__ import annotations

import math
import struct
from typing import Optional

import numpy as np

BLOCK = 16  # template pixels per map block (500-ppi images from our extractor)
MIN_FOREGROUND = 0.75  # share of a block's cells on the finger for the block to count
_SIZE = struct.Struct(">BB")
MAX_SIDE = 255  # blocks per side the stored size bytes can say (4,080 px: far beyond any sensor)
PERIOD_UNIT = 0.1  # px per stored period step: 3.5–16 px ridge periods are 35–160
LAYERS = 3  # bytes a block in the stored form: angle, strength, period


class OrientationMap:
    """Ridge direction, coherence and period per block: (rows, cols) uint8 arrays.

    `period` is None for a map read from a record that predates it (the matcher then checks the
    flow only).
    """

    def __init__(self, angle: np.ndarray, strength: np.ndarray, period: Optional[np.ndarray] = None) -> None:
        self.angle = np.ascontiguousarray(angle, dtype=np.uint8)
        self.strength = np.ascontiguousarray(strength, dtype=np.uint8)
        self.period = None if period is None else np.ascontiguousarray(period, dtype=np.uint8)

    @property
    def shape(self) -> tuple[int, int]:
        return self.angle.shape

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrientationMap) or self.shape != other.shape:
            return False
        if self.period is None or other.period is None:
            same_period = self.period is None and other.period is None
        else:
            same_period = bool(np.array_equal(self.period, other.period))
        return same_period and bool(np.array_equal(self.angle, other.angle)) and bool(
            np.array_equal(self.strength, other.strength))

    def __repr__(self) -> str:
        return f"OrientationMap({self.shape[0]}×{self.shape[1]} blocks)"

    def vectors(self) -> np.ndarray:
        """(rows, cols) complex64 doubled-angle vectors in a y-up frame, length = coherence.

        Doubling the angle makes θ and θ+π the same vector, so averages and dot products of
        orientations mean something; y up is the frame the matcher aligns minutiae in.
        """
        turn = self.angle.astype(np.float32) * np.float32(2 * math.pi / 256)  # 2·angle
        return (self.strength.astype(np.float32) / 255.0 * np.exp(1j * turn)).astype(np.complex64)

    def periods(self) -> Optional[np.ndarray]:
        """(rows, cols) float32 ridge period in template pixels, NaN where unknown (None: no layer)."""
        if self.period is None:
            return None
        return np.where(self.period > 0, self.period.astype(np.float32) * np.float32(PERIOD_UNIT), np.float32(np.nan))

    def to_bytes(self) -> bytes:
        """Size, then the angle, strength and period layers (a missing period layer as zeros)."""
        rows, cols = self.shape
        period = self.period if self.period is not None else np.zeros(self.shape, dtype=np.uint8)
        return _SIZE.pack(rows, cols) + self.angle.tobytes() + self.strength.tobytes() + period.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, layers: int = LAYERS) -> Optional["OrientationMap"]:
        """The map serialised by `to_bytes` (None for an empty 0×0 map); the caller checks length.

        `layers` is 2 for template format version 2 (no period layer), 3 otherwise.
        """
        rows, cols = _SIZE.unpack_from(data, 0)
        if not rows or not cols:
            return None
        size = rows * cols
        planes = [np.frombuffer(data, dtype=np.uint8, count=size, offset=_SIZE.size + k * size)
                  .reshape(rows, cols).copy() for k in range(layers)]
        period = planes[2] if layers > 2 and planes[2].any() else None
        return cls(planes[0], planes[1], period)

    def moved(self, turn: float, shift: tuple[float, float], centre: tuple[float, float]) -> "OrientationMap":
        """The map of the same print turned by `turn` (counter-clockwise on screen) about
        `centre` and shifted by `shift` (pixels, y down) — as `bench speed` moves minutiae."""
        rows, cols = self.shape
        y, x = np.mgrid[0:rows, 0:cols].astype(np.float64)
        px, py = (x + 0.5) * BLOCK - centre[0] - shift[0], (y + 0.5) * BLOCK - centre[1] - shift[1]
        c, s = math.cos(turn), math.sin(turn)
        sx, sy = centre[0] + c * px - s * py, centre[1] + s * px + c * py  # inverse of the move
        col, row = np.floor(sx / BLOCK).astype(np.intp), np.floor(sy / BLOCK).astype(np.intp)
        inside = (row >= 0) & (col >= 0) & (row < rows) & (col < cols)
        row, col = np.clip(row, 0, rows - 1), np.clip(col, 0, cols - 1)
        code = int(round(turn / math.pi * 256))
        angle = ((self.angle[row, col].astype(np.int64) + code) % 256).astype(np.uint8)
        period = None if self.period is None else np.where(inside, self.period[row, col], 0).astype(np.uint8)
        return OrientationMap(angle, np.where(inside, self.strength[row, col], 0).astype(np.uint8), period)


def from_field(cos2: np.ndarray, sin2: np.ndarray, foreground: np.ndarray, cells_per_block: int,
               frequency: Optional[np.ndarray] = None) -> Optional[OrientationMap]:
    """Block map from the extractor's cell-grid field (internal y-down doubled-angle vectors,
    coherence-weighted), cell foreground mask and, when given, ridge frequency (cycles/px) on
    the map's own block grid; None when no block is on the finger."""
    from siaptui.biometrics.orientation import cell_mean  # scipy: not for readers of stored maps

    c = cell_mean(cos2, cells_per_block)
    s = cell_mean(sin2, cells_per_block)
    on_finger = cell_mean(foreground.astype(np.float32), cells_per_block) >= MIN_FOREGROUND
    if not on_finger.any() or max(c.shape) > MAX_SIDE:
        return None
    # y down → y up flips the sense of rotation: the public doubled angle is −(internal).
    public = np.arctan2(-s, c) % (2 * math.pi)  # 2·angle
    angle = np.rint(public / (2 * math.pi) * 256).astype(np.int64) % 256
    strength = np.clip(np.rint(np.hypot(c, s) * 255), 1, 255) * on_finger
    period = None
    if frequency is not None:
        grid = np.full(c.shape, np.nan, dtype=np.float32)
        rows, cols = min(c.shape[0], frequency.shape[0]), min(c.shape[1], frequency.shape[1])
        grid[:rows, :cols] = frequency[:rows, :cols]
        steps = np.rint(1.0 / np.maximum(grid, 1e-3) / PERIOD_UNIT)
        period = (np.where(np.isfinite(grid), np.clip(steps, 1, 255), 0) * on_finger).astype(np.uint8)
    return OrientationMap(angle.astype(np.uint8), strength.astype(np.uint8), period)
