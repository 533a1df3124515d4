"""Turn a Template into the arrays the matcher works on (done once per template).

Why a separate step: in 1:N the probe is prepared once and compared with every short-listed
gallery entry, so a comparison only touches small float32 arrays.

What is prepared, for at most `MAX_MINUTIAE` minutiae (best quality first):

* positions in a y-up frame at 500 ppi (templates at other resolutions are rescaled — the
  matcher is not scale invariant, a DPI mismatch would look like distortion), directions;
* one **cylinder** per minutia, after Cappelli, Ferrara and Maltoni's Minutia Cylinder-Code
  (TPAMI 2010): a small 3-D histogram (NS × NS cells around the minutia, rotated to its
  direction, × ND relative-direction bins) of the neighbouring minutiae, smoothed with Gaussians
  and squashed by a sigmoid.  It describes the neighbourhood in a rotation- and
  translation-invariant way, so two impressions of the same finger give similar cylinders even
  when they overlap only partly.  Here the Gaussians are evaluated separably per axis (outer
  products of three 1-D kernels), which keeps the preparation to a few batched matrix products;
  cylinders are L2-normalised so comparing two is one dot product;
* the template's coarse orientation and ridge-period map, when it has one (`FlowMap`), in the
  same frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Optional

import numpy as np

from siaptui.biometrics.orientation_map import BLOCK, OrientationMap
from siaptui.biometrics.template import Template

MAX_MINUTIAE = 64
RADIUS = 70.0  # px at 500 ppi: the neighbourhood one cylinder describes
NS = 8  # spatial cells per side
ND = 6  # relative-direction bins
SIGMA_S = 9.0
SIGMA_D = 2 * math.pi / 9
SIG_MU = 0.01  # sigmoid centre and steepness on a cell's raw value (MCC's Psi)
SIG_TAU = 400.0
MAX_NEIGHBOURS = 24
BINARY = True
QUALITY_POWER = 0.5  # how much a minutia's quality weighs in the score (0 = not at all)
MIN_CELL_NEIGHBOURS = 2  # a cylinder with fewer neighbours carries no information

_CELL = 2 * RADIUS / NS
_CENTRES = (np.arange(NS, dtype=np.float32) - (NS - 1) / 2) * _CELL
_DIR_CENTRES = (-math.pi + (np.arange(ND, dtype=np.float32) + 0.5) * 2 * math.pi / ND).astype(np.float32)
_INSIDE = ((_CENTRES[:, None] ** 2 + _CENTRES[None, :] ** 2) <= RADIUS ** 2).astype(np.float32)
DESCRIPTOR_SIZE = NS * NS * ND
_GRID_U = np.repeat(_CENTRES, NS)  # cell (row u, column v) flattened row-major
_GRID_V = np.tile(_CENTRES, NS)
HULL_MARGIN = 50.0  # px: the print's area reaches this far beyond the outermost minutiae
MIN_VALID_CELLS = 0.6  # a cylinder mostly outside the print's area is not used


@dataclass
class FlowMap:
    """A template's orientation map as the matcher reads it (y up, 500 ppi, doubled angles).

    `grid` is looked up at the other print's block centres; `points`/`values` list this print's
    own on-finger blocks, so checking an alignment is one gather and one sum.  The ridge period
    (natural log of px at 500 ppi, NaN where unknown) is laid out the same way; None when the
    map has no period layer.
    """

    grid: np.ndarray  # (rows, cols) complex64 vectors, 0 off the finger
    points: np.ndarray  # (k, 2) float32 centres of the on-finger blocks
    values: np.ndarray  # (k,) complex64
    step: float  # block size in px at 500 ppi
    log_period_grid: Optional[np.ndarray] = None  # (rows, cols) float32
    log_periods: Optional[np.ndarray] = None  # (k,) float32

    @cached_property
    def bordered(self) -> tuple[np.ndarray, np.ndarray]:
        """`grid` inside a border of zero blocks, flattened, and its magnitudes: a block index
        clipped to the border reads "off the finger" without a bounds test per point."""
        padded = np.pad(self.grid, 1).ravel()
        return padded, np.abs(padded).astype(np.float32)

    @classmethod
    def of(cls, orientation: Optional[OrientationMap], scale: float) -> Optional["FlowMap"]:
        if orientation is None:
            return None
        grid = orientation.vectors()
        rows, cols = np.nonzero(orientation.strength)
        step = BLOCK * scale
        points = np.stack([(cols + 0.5) * step, -(rows + 0.5) * step], axis=1).astype(np.float32)
        periods = orientation.periods()
        if periods is None:
            return cls(grid, points, grid[rows, cols], float(step))
        log_grid = np.log(periods * np.float32(scale)).astype(np.float32)
        return cls(grid, points, grid[rows, cols], float(step), log_grid, log_grid[rows, cols])


@dataclass
class Prepared:
    """One template's matcher arrays; `valid` marks minutiae with an informative cylinder."""

    xy: np.ndarray  # (n, 2) float32, y up, 500 ppi
    angle: np.ndarray  # (n,) float32 radians
    kind: np.ndarray  # (n,) int8: 0 ending, 1 bifurcation
    weight: np.ndarray  # (n,) float32: (minutia quality / 100) ** QUALITY_POWER, 1 if uniform
    cylinders: np.ndarray  # (n, DESCRIPTOR_SIZE) float32 cell values, 0 where a cell is invalid
    cells: np.ndarray  # (n, NS*NS) float32: 1 where the cell lies inside the print's area
    energy: np.ndarray  # (n, NS*NS) float32: squared cell values summed over direction bins
    valid: np.ndarray  # (n,) bool
    orientation: Optional[OrientationMap] = None  # None for records without one (foreign ones)
    scale: float = 1.0  # 500 / the template's dpi (the map's blocks are in template pixels)

    @property
    def count(self) -> int:
        return int(self.xy.shape[0])

    @cached_property
    def flow(self) -> Optional[FlowMap]:
        """The orientation map in the matcher's frame (built once, on the first comparison)."""
        return FlowMap.of(self.orientation, self.scale)


def wrap(angle: np.ndarray) -> np.ndarray:
    """Angles folded into [-pi, pi)."""
    return (angle + np.pi) % (2 * np.pi) - np.pi


def prepare(template: Template) -> Prepared:
    """Compute the matcher arrays for one template (a few hundred microseconds)."""
    minutiae = sorted(template.minutiae, key=lambda m: -m.quality)[:MAX_MINUTIAE]
    n = len(minutiae)
    scale = 500.0 / float(template.dpi or 500)
    xy = np.empty((n, 2), dtype=np.float32)
    angle = np.empty(n, dtype=np.float32)
    kind = np.empty(n, dtype=np.int8)
    weight = np.empty(n, dtype=np.float32)
    for i, m in enumerate(minutiae):
        weight[i] = min(100, max(1, m.quality)) / 100.0
        xy[i, 0] = m.x * scale
        xy[i, 1] = -m.y * scale
        angle[i] = m.angle
        kind[i] = 1 if m.kind == "bifurcation" else 0
    angle = wrap(angle).astype(np.float32)
    if n and float(weight.max() - weight.min()) > 0:
        # Absolute: a print whose minutiae are all doubtful scores lower against everything,
        # which is what cuts the impostor tail (FMR1000) on poor sensors.
        weight = weight ** QUALITY_POWER
    else:
        # Uniform qualities (foreign records often carry 0 or 100 everywhere) say nothing.
        weight = np.ones(n, dtype=np.float32)
    cylinders, cells, valid = _cylinders(xy, angle)
    energy = (cylinders.reshape(n, NS * NS, ND) ** 2).sum(axis=2).astype(np.float32)
    return Prepared(xy, angle, kind, weight, cylinders, cells, energy, valid, template.orientation, scale)


def _area_mask(xy: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """(n, NS*NS): the cells of each cylinder inside the print's area.

    The area is the convex hull of the minutiae grown by `HULL_MARGIN` (MCC's validity rule):
    a cell outside it has no neighbours because the sensor saw no skin there, not because the
    finger has none, so it must not count against a match with an impression that saw more.
    """
    n = xy.shape[0]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    cu, cv = _GRID_U[None, :], _GRID_V[None, :]
    px = xy[:, 0, None] + cu * cos - cv * sin  # (n, NS*NS) world positions of the cell centres
    py = xy[:, 1, None] + cu * sin + cv * cos
    inside = np.broadcast_to(_INSIDE.reshape(1, -1) > 0, px.shape).copy()
    if n >= 3:
        try:
            from scipy.spatial import ConvexHull, QhullError

            hull = ConvexHull(xy.astype(np.float64))
        except (QhullError, ValueError):  # collinear minutiae: no area to speak of
            hull = None
        if hull is not None:
            eq = hull.equations.astype(np.float32)  # (f, 3): a*x + b*y + c <= 0 inside
            points = np.stack([px.ravel(), py.ravel(), np.ones(px.size, dtype=np.float32)], axis=1)
            depth = (points @ eq.T).max(axis=1).reshape(px.shape)  # farthest facet's side
            inside &= depth <= HULL_MARGIN
    return inside


def _cylinders(xy: np.ndarray, angle: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = xy.shape[0]
    if n < 2:
        return (np.zeros((n, DESCRIPTOR_SIZE), dtype=np.float32), np.zeros((n, NS * NS), dtype=np.float32),
                np.zeros(n, dtype=bool))
    delta = xy[None, :, :] - xy[:, None, :]  # (n, n, 2): neighbour k seen from minutia i
    dist = np.hypot(delta[..., 0], delta[..., 1])
    np.fill_diagonal(dist, np.inf)
    k = min(MAX_NEIGHBOURS, n - 1)
    order = np.argsort(dist, axis=1)[:, :k]
    rows = np.arange(n)[:, None]
    near = dist[rows, order] <= RADIUS + 3 * SIGMA_S  # (n, k)
    d = delta[rows, order]  # (n, k, 2)
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    u = d[..., 0] * cos + d[..., 1] * sin  # along the minutia direction
    v = -d[..., 0] * sin + d[..., 1] * cos
    rel = wrap(angle[order] - angle[:, None])
    gu = np.exp(-((u[..., None] - _CENTRES) ** 2) / (2 * SIGMA_S ** 2)) * near[..., None]
    gv = np.exp(-((v[..., None] - _CENTRES) ** 2) / (2 * SIGMA_S ** 2))
    gd = np.exp(-(wrap(rel[..., None] - _DIR_CENTRES) ** 2) / (2 * SIGMA_D ** 2))
    # Sum over neighbours of the outer product gu x gv x gd, as two batched products.
    uv = (gu[..., :, None] * gv[..., None, :]).reshape(n, k, NS * NS)  # (n, k, NS*NS)
    raw = np.matmul(uv.transpose(0, 2, 1), gd)  # (n, NS*NS, ND): sum over neighbours
    # MCC's contribution: a 1-D normal density in space times the bin's share in direction.
    norm = (1.0 / (SIGMA_S * math.sqrt(2 * math.pi))) * ((2 * math.pi / ND) / (SIGMA_D * math.sqrt(2 * math.pi)))
    if BINARY:
        # MCC's bit version: the steep sigmoid makes cells nearly 0 or 1 anyway; as bits the
        # gallery stores a cylinder in NS*NS*ND/8 bytes, and 1:1 and 1:N compare the same data.
        values = (raw * norm > SIG_MU).astype(np.float32)
    else:
        values = 1.0 / (1.0 + np.exp(-SIG_TAU * (raw * norm - SIG_MU)))
    area = _area_mask(xy, angle)
    values *= area[:, :, None]
    cells = area.astype(np.float32)
    valid = (near.sum(axis=1) >= MIN_CELL_NEIGHBOURS) & (cells.sum(axis=1) >= MIN_VALID_CELLS * _INSIDE.sum())
    values = values.reshape(n, DESCRIPTOR_SIZE).astype(np.float32)
    values[~valid] = 0.0
    cells[~valid] = 0.0
    return values, cells, valid
