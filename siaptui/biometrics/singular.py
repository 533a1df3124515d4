"""Singular points of the ridge flow — cores and deltas — by the Poincaré index.

Why the quality meter needs them: a capture is only as useful as the part of the finger it
shows.  Impressions of one finger match on the region around the core; a finger pushed so far
up that its core lies beyond the top of the reader leaves a print that shares little with a
well-placed one, however crisp its ridges (on FVC2002 DB1 most failing genuine pairs are such
captures).  Going once around a core, the ridge direction turns by half a turn (the doubled
angle by a whole one); around a delta, back by half a turn; elsewhere it returns unchanged.

Computed on the orientation field's cell grid, smoothed and sampled every 16 px, so it costs
about a millisecond per preview frame.
"""

from __future__ import annotations

import math
from typing import List, NamedTuple

import numpy as np
from scipy import ndimage as ndi

from siaptui.biometrics.match_prepare import wrap

SMOOTH_PX = 16.0  # Gaussian σ applied to the doubled-angle field before the loops
STEP_PX = 16  # spacing of the loop corners
MIN_SUPPORT = 0.5  # smoothed foreground share every loop corner needs (no loops across the edge)


class SingularPoint(NamedTuple):
    kind: str  # "core" or "delta"
    x: float  # px at 500 ppi, y down (the loop's centre)
    y: float


def singular_points(cos2: np.ndarray, sin2: np.ndarray, foreground: np.ndarray, cell: int) -> List[SingularPoint]:
    """Cores and deltas of a cell-grid field (coherence-weighted doubled-angle components, as in
    `orientation.OrientationField`) inside the cell foreground mask."""
    weight = foreground.astype(np.float32)
    sigma = SMOOTH_PX / cell
    step = max(1, int(round(STEP_PX / cell)))
    c = ndi.gaussian_filter(cos2 * weight, sigma)[::step, ::step]
    s = ndi.gaussian_filter(sin2 * weight, sigma)[::step, ::step]
    support = ndi.gaussian_filter(weight, sigma)[::step, ::step]
    if min(c.shape) < 2:
        return []
    doubled = np.arctan2(s, c)
    corners = (doubled[:-1, :-1], doubled[:-1, 1:], doubled[1:, 1:], doubled[1:, :-1])
    turn = sum(wrap(corners[(k + 1) % 4] - corners[k]) for k in range(4))
    inside = np.minimum.reduce([support[:-1, :-1], support[:-1, 1:], support[1:, 1:], support[1:, :-1]]) > MIN_SUPPORT
    spacing = step * cell
    found = []
    for kind, hits in (("core", turn > math.pi), ("delta", turn < -math.pi)):
        rows, cols = np.nonzero(hits & inside)
        # Sample k sits at the centre of cell k·step; a loop's centre is half a step further on.
        found += [SingularPoint(kind, float((col + 0.5) * spacing + cell / 2), float((row + 0.5) * spacing + cell / 2))
                  for row, col in zip(rows, cols)]
    return found
