"""Measure the raw-score → FMR calibration knots from impostor scores (used by the bench).

Why a function and not a notebook: the knots in `match.CALIBRATION` must be reproducible by
anyone with the data (`siaptui bench accuracy --calibrate DIR…`), and must come from pooled
impostor scores only — never per set — so the same thresholds hold on unseen sensors.

For an FMR level f, the knot is the raw score t with share f of impostor scores ≥ t.  Where the
sample is too small to resolve f (fewer than `MIN_TAIL_COUNT` impostors above t), the tail is
modelled as exponential: log10(FMR) is fitted linearly against the score over the top
`TAIL_SHARE` of impostors, and the fit is solved for f.
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import numpy as np

LEVELS: Tuple[Tuple[float, float], ...] = ((0.5, 3.0), (0.1, 10.0), (0.01, 20.0), (0.001, 30.0), (0.0001, 40.0))
MIN_TAIL_COUNT = 5
TAIL_SHARE = 0.02


def calibration_knots(impostor_raw: Sequence[float]) -> List[Tuple[float, float]]:
    """[(raw, calibrated), …] starting at (0, 0), strictly increasing in both."""
    scores = np.sort(np.asarray(impostor_raw, dtype=np.float64))[::-1]  # highest first
    count = scores.size
    if count < 100:
        raise ValueError("at least 100 impostor scores are needed to calibrate")
    tail_n = max(20, int(count * TAIL_SHARE))
    tail = scores[:tail_n]
    fmr = (np.arange(tail_n) + 1) / count
    slope, intercept = np.polyfit(tail, np.log10(fmr), 1)
    knots: List[Tuple[float, float]] = [(0.0, 0.0)]
    for level, calibrated in LEVELS:
        rank = level * count
        if rank >= MIN_TAIL_COUNT:
            raw = float(scores[int(math.floor(rank)) - 1]) if rank >= 1 else float(scores[0])
        elif slope < 0:
            raw = float((math.log10(level) - intercept) / slope)
        else:  # degenerate tail (all equal): step just above the highest impostor
            raw = float(scores[0]) * 1.01 + 1e-6
        raw = max(raw, knots[-1][0] + 1e-6)
        knots.append((raw, calibrated))
    return knots
