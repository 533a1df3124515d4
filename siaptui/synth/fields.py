"""Smooth fields of a synthetic master print: singular points, orientation and ridge period.

Why a separate module: the ridge grower (`ridges`) and the impression renderer
(`press`) only need arrays; how those arrays come about (the SFinGe recipe, see
../shared/notes/fingerprint-anchors.md §7) is one job and lives here.

* Singular points are placed per Henry class: no core/delta for a plain arch, a core right above
  a delta for a tented arch, one core and one delta to the side for loops, two cores and two
  deltas for a whorl.
* The orientation field is the zero-pole (Sherlock–Monro) model, in which every core adds half a
  turn of ridge direction around it and every delta takes half a turn away, with the
  Vizcaya–Gerhardt correction: the angle around each singular point goes through a random,
  monotone piecewise-linear map, which bends the unrealistically straight far field the way real
  fingers do and makes every finger's flow its own.
* The ridge period (inverse frequency) varies smoothly in the natural 7–12 px range at 500 dpi,
  and widens near cores (ridges are farther apart in the innermost recurve).  Its spread between
  fingers and within one finger follows what our extractor measures on FVC2002, since the
  matcher compares ridge spacing (docs/bench/synth.md).

Image coordinates throughout: x to the right, y down, angles in radians measured from the x axis
toward y (so an orientation θ means ridges run along (cos θ, sin θ)), defined modulo π.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
from scipy import ndimage

Point = Tuple[float, float]

#: Henry classes with their natural frequencies (SFinGe v2.0 manual; anchors §7.1).
CLASS_FREQUENCIES: Tuple[Tuple[str, float], ...] = (
    ("arch", 0.037),
    ("tented_arch", 0.029),
    ("left_loop", 0.338),
    ("right_loop", 0.317),
    ("whorl", 0.279),
)

#: Natural ridge period at 500 dpi (px): frequency 1/12 … 1/7 px⁻¹.
PERIOD_MIN = 7.0
PERIOD_MAX = 12.0
#: A finger's base period (px) is drawn from N(BASE_PERIOD, BASE_PERIOD_SPREAD).
BASE_PERIOD = 8.1
BASE_PERIOD_SPREAD = 0.45

#: Sample points of the Vizcaya–Gerhardt correction (angles around a singular point).
_VG_SAMPLES = 8


def pick_class(rng: np.random.Generator) -> str:
    """One Henry class drawn with the natural frequencies."""
    names = [name for name, _ in CLASS_FREQUENCIES]
    weights = np.array([weight for _, weight in CLASS_FREQUENCIES], dtype=float)
    return str(rng.choice(names, p=weights / weights.sum()))


def singular_points(rng: np.random.Generator, pattern: str, centre: Point) -> Tuple[List[Point], List[Point]]:
    """(cores, deltas) in image coordinates for `pattern`, around the finger's centre.

    Offsets are in pixels at 500 dpi, drawn from ranges that keep the cores in the upper middle
    of the finger pad and the deltas low at the sides, as on real index/middle fingers.
    """
    cx, cy = centre
    if pattern == "arch":
        return [], []
    if pattern == "tented_arch":
        core = (cx + rng.normal(0, 15), cy - 10 + rng.normal(0, 20))
        delta = (core[0] + rng.normal(0, 6), core[1] + rng.uniform(45, 75))
        return [core], [delta]
    if pattern in ("left_loop", "right_loop"):
        side = 1.0 if pattern == "left_loop" else -1.0
        core = (cx - side * rng.uniform(0, 25), cy - 30 + rng.normal(0, 22))
        delta = (core[0] + side * rng.uniform(70, 115), core[1] + rng.uniform(80, 135))
        return [core], [delta]
    if pattern == "whorl":
        spread = rng.uniform(12, 32)
        tilt = rng.normal(0, 0.6)
        mid = (cx + rng.normal(0, 12), cy - 20 + rng.normal(0, 18))
        cores = [
            (mid[0] - spread * np.cos(tilt), mid[1] - spread * np.sin(tilt)),
            (mid[0] + spread * np.cos(tilt), mid[1] + spread * np.sin(tilt)),
        ]
        low = mid[1] + rng.uniform(95, 140)
        deltas = [
            (mid[0] - rng.uniform(95, 130), low + rng.normal(0, 12)),
            (mid[0] + rng.uniform(95, 130), low + rng.normal(0, 12)),
        ]
        return cores, deltas
    raise ValueError(f"unknown pattern class {pattern!r}")


def _vg_map(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Knots of one monotone piecewise-linear angle map g(α) ≈ α (Vizcaya–Gerhardt).

    The knots sit at α_i = -π + 2πi/L with g(α_i) = α_i + ε_i; ε is small and the end knots are
    tied (g(π) = g(-π) + 2π) so the field stays continuous across the branch cut.
    """
    alphas = np.linspace(-np.pi, np.pi, _VG_SAMPLES + 1)
    eps = rng.normal(0.0, 0.3, _VG_SAMPLES)
    eps = np.clip(eps, -0.38, 0.38)  # keeps g monotone: steps are 2π/8 ≈ 0.785 rad
    values = alphas[:-1] + eps
    values = np.append(values, values[0] + 2 * np.pi)
    return alphas, values


def orientation_field(
    rng: np.random.Generator,
    shape: Tuple[int, int],
    pattern: str,
    cores: Sequence[Point],
    deltas: Sequence[Point],
) -> np.ndarray:
    """Ridge orientation (radians, modulo π) at every pixel of a `shape` canvas."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    if pattern == "arch":
        return _arch_field(rng, xs, ys, w, h)
    theta = np.full(shape, rng.normal(0.0, 0.08))
    for sign, points in ((1.0, cores), (-1.0, deltas)):
        for px, py in points:
            # Angle around the point, measured with y up (math convention), then corrected.
            alpha = np.arctan2(-(ys - py), xs - px)
            knots, values = _vg_map(rng)
            theta += sign * 0.5 * np.interp(alpha, knots, values)
    theta = -theta  # back to image convention (y down)
    # Each finger's own wander far from the singular points, at two scales.
    theta += 0.2 * smooth_noise(rng, shape, 90.0) + 0.07 * smooth_noise(rng, shape, 35.0)
    return np.mod(theta, np.pi).astype(np.float32)


def _arch_field(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray, w: int, h: int) -> np.ndarray:
    """Plain arch: ridges y = y0 - A(y0)·exp(-(x-xc)²/2s²), flatter toward the bottom."""
    xc = w / 2 + rng.normal(0, 15)
    s = rng.uniform(60, 90)
    top = rng.uniform(0.55, 0.9)  # arch height factor at the top of the finger
    height = top * np.clip(1.0 - ys / (0.85 * h), 0.05, 1.0) * s
    bump = np.exp(-((xs - xc) ** 2) / (2 * s * s))
    slope = height * (xs - xc) / (s * s) * bump  # dy/dx of the ridge through (x, y)
    theta = np.arctan(slope) + 0.1 * smooth_noise(rng, (h, w), 90.0)
    return np.mod(theta, np.pi).astype(np.float32)


def period_field(
    rng: np.random.Generator, shape: Tuple[int, int], cores: Sequence[Point]
) -> np.ndarray:
    """Ridge period in pixels, smooth, in [PERIOD_MIN, PERIOD_MAX], wider near cores."""
    h, w = shape
    # Spreads measured on FVC2002 with our extractor (log periods): between fingers 0.04–0.06, within
    # one print 0.04–0.08, mean 8.2–8.7 px on the optical sets; the core bump and the tip ramp
    # below add about 0.4 px to the base.
    base = float(np.clip(rng.normal(BASE_PERIOD, BASE_PERIOD_SPREAD), PERIOD_MIN + 0.3, PERIOD_MAX - 2.0))
    period = base + 0.5 * smooth_noise(rng, shape, 70.0) + 0.25 * smooth_noise(rng, shape, 25.0)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    for px, py in cores:
        period += rng.uniform(0.6, 1.4) * np.exp(-((xs - px) ** 2 + (ys - py) ** 2) / (2 * 35.0**2))
    # Ridges toward the finger tip (top) run slightly wider than low on the pad.
    period += 0.5 * (1.0 - ys / h)
    return np.clip(period, PERIOD_MIN, PERIOD_MAX).astype(np.float32)


def smooth_noise(rng: np.random.Generator, shape: Tuple[int, int], scale: float) -> np.ndarray:
    """Zero-mean, unit-std noise smooth on `scale` pixels (drawn coarse, blurred, upsampled)."""
    h, w = shape
    step = max(2, int(scale / 4))
    coarse = rng.standard_normal((h // step + 3, w // step + 3))
    coarse = ndimage.gaussian_filter(coarse, sigma=scale / step / 2.0, mode="wrap")
    ys = np.linspace(1, coarse.shape[0] - 2, h)
    xs = np.linspace(1, coarse.shape[1] - 2, w)
    field = ndimage.map_coordinates(coarse, np.meshgrid(ys, xs, indexing="ij"), order=1)
    std = field.std()
    return (field - field.mean()) / (std if std > 0 else 1.0)
