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
(`siaptui/bench/calibrate.py`, docs/bench/engine.md).  Hence `THRESHOLDS` are round numbers by
construction: a score ≥ THRESHOLDS["fmr_0.1"] means "same finger" at FMR 0.1 %.

Two tables, because the raw score has two forms: with both orientation maps (our own
templates) it includes the flow and ridge-period check, which lowers impostor scores; a foreign
ISO/ANSI record has minutiae only, and `CALIBRATION_MINUTIAE` — measured the same way with the
maps left out — keeps the thresholds meaning the same FMR for it.  (A version-2 gallery record,
whose map has no period layer, is scored on the flow alone under the first table: its impostor
scores run a little higher, so its thresholds err towards flagging a possible duplicate.)
"""

from __future__ import annotations

from typing import Tuple, Union

import numpy as np

from siaptui.biometrics.match_core import both_mapped, raw_score
from siaptui.biometrics.match_prepare import Prepared, prepare
from siaptui.biometrics.template import Template

# (raw score, calibrated score) knots; beyond the last knot the last slope continues.
CALIBRATION: Tuple[Tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.00027, 3.0),
    (0.00239, 10.0),
    (0.00829, 20.0),
    (0.01655, 30.0),
    (0.02281, 40.0),
)
CALIBRATION_MINUTIAE: Tuple[Tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.00566, 3.0),
    (0.01683, 10.0),
    (0.03923, 20.0),
    (0.05918, 30.0),
    (0.08069, 40.0),
)

THRESHOLDS = {"fmr_1": 20.0, "fmr_0.1": 30.0, "fmr_0.01": 40.0}

TemplateLike = Union[Template, Prepared]


def _curve(knots: Tuple[Tuple[float, float], ...]) -> Tuple[np.ndarray, np.ndarray, float]:
    raw = np.array([k[0] for k in knots], dtype=np.float64)
    cal = np.array([k[1] for k in knots], dtype=np.float64)
    return raw, cal, float((cal[-1] - cal[-2]) / (raw[-1] - raw[-2]))


_CURVES = {True: _curve(CALIBRATION), False: _curve(CALIBRATION_MINUTIAE)}


def calibrate_many(raw: np.ndarray, mapped: np.ndarray | bool = True) -> np.ndarray:
    """Raw `match_core` scores onto the FMR-calibrated scale; `mapped` says, per score, whether
    both templates had orientation maps (which table applies).  Beyond the last knot the last
    slope continues."""
    raw = np.asarray(raw, dtype=np.float64)
    mapped = np.broadcast_to(np.asarray(mapped, dtype=bool), raw.shape)
    out = np.zeros(raw.shape, dtype=np.float64)
    for kind, (knots, cal, slope) in _CURVES.items():
        pick = mapped == kind
        values = raw[pick]
        scaled = np.interp(values, knots, cal)
        high = values >= knots[-1]
        scaled[high] = cal[-1] + (values[high] - knots[-1]) * slope
        out[pick] = scaled
    out[raw <= 0] = 0.0
    return out


def calibrate(raw: float, mapped: bool = True) -> float:
    """One raw score onto the calibrated scale, as `calibrate_many` maps it; in plain Python
    because every 1:1 comparison calls it and numpy's per-call cost is a twentieth of one."""
    if raw <= 0:
        return 0.0
    knots = CALIBRATION if mapped else CALIBRATION_MINUTIAE
    for (raw0, cal0), (raw1, cal1) in zip(knots, knots[1:]):
        if raw <= raw1:
            return cal0 + (raw - raw0) * (cal1 - cal0) / (raw1 - raw0)
    (raw0, cal0), (raw1, cal1) = knots[-2], knots[-1]
    return cal1 + (raw - raw1) * (cal1 - cal0) / (raw1 - raw0)


def as_prepared(template: TemplateLike) -> Prepared:
    """Accept a Template or an already prepared one (galleries keep the prepared form)."""
    return template if isinstance(template, Prepared) else prepare(template)


class Matcher:
    """A probe prepared once, compared with many candidates (1:N, or a retry loop)."""

    def __init__(self, probe: TemplateLike) -> None:
        self.probe = as_prepared(probe)

    def match(self, candidate: TemplateLike) -> float:
        """Calibrated similarity of the probe and `candidate` (see THRESHOLDS)."""
        other = as_prepared(candidate)
        return calibrate(raw_score(self.probe, other), both_mapped(self.probe, other))


def match(a: TemplateLike, b: TemplateLike) -> float:
    """Calibrated similarity of two templates: ≥ THRESHOLDS["fmr_0.1"] means the same finger."""
    return Matcher(a).match(b)
