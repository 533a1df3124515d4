"""Calibrated 1:1 fingerprint comparison: `match(a, b)`, `Matcher(probe)`, `THRESHOLDS`.

The raw comparison (`match_core`) gives a number whose meaning depends on the algorithm's
internals; a clerk's "same finger?" needs a number tied to an error rate.  So the raw score is
mapped, piecewise-linearly, onto a *calibrated* score where every 10 points is a factor of ten in
false-match rate (the SourceAFIS convention):

    calibrated 10 ≈ FMR 10 %,  20 ≈ 1 %,  30 ≈ 0.1 %,  40 ≈ 0.01 %   (0 = nothing in common)

`CALIBRATION` was measured by `siaptui bench accuracy --calibrate` on the impostor scores of
the four FVC2002 B sets pooled (11,520 different-finger pairs; no per-set tuning): for each FMR
level the raw score that this share of impostors reaches or exceeds; the 0.01 % point, beyond
what 11,520 pairs resolve, comes from an exponential fit of the impostor tail
(`match_calibrate.py`, docs/bench/engine.md).  Hence `THRESHOLDS` are round numbers by
construction: a score ≥ THRESHOLDS["fmr_0.1"] means "same finger" at FMR 0.1 %.
"""

from __future__ import annotations

from typing import Tuple, Union

import numpy as np

from siaptui.biometrics.match_core import raw_score
from siaptui.biometrics.match_prepare import Prepared, prepare
from siaptui.biometrics.template import Template

# (raw score, calibrated score) knots; beyond the last knot the last slope continues.
CALIBRATION: Tuple[Tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.00566, 3.0),
    (0.01678, 10.0),
    (0.03923, 20.0),
    (0.05918, 30.0),
    (0.08075, 40.0),
)

THRESHOLDS = {"fmr_1": 20.0, "fmr_0.1": 30.0, "fmr_0.01": 40.0}

_RAW = np.array([k[0] for k in CALIBRATION], dtype=np.float64)
_CAL = np.array([k[1] for k in CALIBRATION], dtype=np.float64)
_SLOPE = (_CAL[-1] - _CAL[-2]) / (_RAW[-1] - _RAW[-2])

TemplateLike = Union[Template, Prepared]


def calibrate(raw: float) -> float:
    """Map a raw `match_core` score onto the FMR-calibrated scale."""
    if raw <= 0:
        return 0.0
    if raw >= _RAW[-1]:
        return float(_CAL[-1] + (raw - _RAW[-1]) * _SLOPE)
    return float(np.interp(raw, _RAW, _CAL))


def calibrate_many(raw: np.ndarray) -> np.ndarray:
    """Vectorised `calibrate` (the gallery ranks thousands of raw scores at once)."""
    raw = np.asarray(raw, dtype=np.float64)
    out = np.interp(raw, _RAW, _CAL)
    high = raw >= _RAW[-1]
    out[high] = _CAL[-1] + (raw[high] - _RAW[-1]) * _SLOPE
    out[raw <= 0] = 0.0
    return out


def as_prepared(template: TemplateLike) -> Prepared:
    """Accept a Template or an already prepared one (galleries keep the prepared form)."""
    return template if isinstance(template, Prepared) else prepare(template)


class Matcher:
    """A probe prepared once, compared with many candidates (1:N, or a retry loop)."""

    def __init__(self, probe: TemplateLike) -> None:
        self.probe = as_prepared(probe)

    def match(self, candidate: TemplateLike) -> float:
        """Calibrated similarity of the probe and `candidate` (see THRESHOLDS)."""
        return calibrate(raw_score(self.probe, as_prepared(candidate)))


def match(a: TemplateLike, b: TemplateLike) -> float:
    """Calibrated similarity of two templates: ≥ THRESHOLDS["fmr_0.1"] means the same finger."""
    return Matcher(a).match(b)
