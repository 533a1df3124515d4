"""Ridges grown by iterative space-variant Gabor filtering (the SFinGe ridge step).

Why iterative filtering: start from a few random seed dots and filter the image again and
again with a Gabor filter tuned, at each pixel, to the local ridge orientation and period; each
pass extends the ridge pattern by about one filter radius and snaps it onto the flow.  Where
growth fronts from different seeds meet out of phase, ridges end or fork — the minutiae emerge
from the process instead of being painted on, which is why a minutiae matcher treats the
result like a real finger.  Those minutiae sit where the flow forces them, though, much the same
on two fingers of one class, so defect pairs at random places are then set in (`_set_defects`).

Why a filter bank via FFT: a truly space-variant filter costs a kernel per pixel.  Instead the
whole image is filtered with a small bank (K orientations × a few periods) in the frequency
domain and each pixel takes the bilinear blend of the two nearest orientations and the two
nearest periods.  Filtering is linear, so the blend equals filtering with the blended kernel.
One forward FFT plus one inverse FFT per used bank entry per pass: ~50 ms per pass on a
448×352 canvas on one core.
"""

from __future__ import annotations

from functools import lru_cache
from typing import List, Tuple

import numpy as np
import scipy.fft as sfft
from scipy import ndimage

#: Orientation bins over [0, π).
ORIENTATIONS = 12
#: Bank periods in px (evenly spaced in frequency from 1/7 to 1/12 px⁻¹).
PERIODS: Tuple[float, ...] = tuple(float(1.0 / f) for f in np.linspace(1 / 7.0, 1 / 12.0, 4))
_RADIUS = 15
#: Random dots the ridges grow from, and the Gabor passes that grow them.  Few dots and enough
#: passes to fill the canvas: fewer growth fronts meet, so fewer minutiae sit where the flow
#: alone puts them (with 600 dots and 8 passes two fingers of one class shared them far more
#: than real fingers do; with 60 dots and 8 passes parts of the finger stayed blank).
SEED_DOTS = 60
PASSES = 16
#: Ridge-defect pairs (a short ridge, an island, a spur) set into each master: their mean count.
DEFECT_PAIRS = 24.0
#: Distance between the two minutiae of a defect pair (px at 500 dpi).
DEFECT_LENGTH = (12.0, 60.0)


def _kernel(theta: float, period: float) -> np.ndarray:
    """Even Gabor kernel for ridges along `theta`, normalised to gain 1 on a matching cosine."""
    size = 2 * _RADIUS + 1
    ys, xs = np.mgrid[-_RADIUS : _RADIUS + 1, -_RADIUS : _RADIUS + 1].astype(np.float64)
    across = -xs * np.sin(theta) + ys * np.cos(theta)
    along = xs * np.cos(theta) + ys * np.sin(theta)
    s_across, s_along = 0.42 * period, 0.62 * period
    envelope = np.exp(-0.5 * ((across / s_across) ** 2 + (along / s_along) ** 2))
    wave = np.cos(2 * np.pi * across / period)
    kernel = envelope * wave
    kernel -= envelope * (kernel.sum() / envelope.sum())  # zero DC: flat areas give no ridges
    gain = float((kernel * wave).sum())
    assert kernel.shape == (size, size)
    return kernel / gain


@lru_cache(maxsize=4)
def _bank(shape: Tuple[int, int]) -> np.ndarray:
    """Spectra (K, P, H, W//2+1) of the bank, kernels centred on pixel (0, 0) (wrap-around)."""
    h, w = shape
    spectra = np.empty((ORIENTATIONS, len(PERIODS), h, w // 2 + 1), dtype=np.complex64)
    for k in range(ORIENTATIONS):
        theta = k * np.pi / ORIENTATIONS
        for p, period in enumerate(PERIODS):
            canvas = np.zeros(shape, dtype=np.float32)
            kern = _kernel(theta, period)
            canvas[: kern.shape[0], : kern.shape[1]] = kern
            canvas = np.roll(canvas, (-_RADIUS, -_RADIUS), axis=(0, 1))
            spectra[k, p] = sfft.rfft2(canvas)
    return spectra


def _weights(orientation: np.ndarray, period: np.ndarray) -> List[Tuple[int, int, np.ndarray]]:
    """Per-pixel bilinear weights of each bank entry that some pixel actually uses."""
    u = np.mod(orientation, np.pi) / (np.pi / ORIENTATIONS)
    k0 = np.floor(u).astype(int) % ORIENTATIONS
    k1 = (k0 + 1) % ORIENTATIONS
    wk1 = (u - np.floor(u)).astype(np.float32)
    freqs = 1.0 / np.asarray(PERIODS)
    f = 1.0 / np.clip(period, PERIODS[0], PERIODS[-1])
    v = (freqs[0] - f) / (freqs[0] - freqs[-1]) * (len(PERIODS) - 1)
    p0 = np.clip(np.floor(v).astype(int), 0, len(PERIODS) - 2)
    wp1 = np.clip(v - p0, 0.0, 1.0).astype(np.float32)
    found = []
    for k in range(ORIENTATIONS):
        wk = np.where(k0 == k, 1 - wk1, 0) + np.where(k1 == k, wk1, 0)
        if not wk.any():
            continue
        for p in range(len(PERIODS)):
            wp = np.where(p0 == p, 1 - wp1, 0) + np.where(p0 + 1 == p, wp1, 0)
            weight = (wk * wp).astype(np.float32)
            if weight.max() > 1e-3:
                found.append((k, p, weight))
    return found


def grow(
    rng: np.random.Generator,
    orientation: np.ndarray,
    period: np.ndarray,
) -> np.ndarray:
    """A ridge map in [-1, 1] (+1 = ridge centre) following `orientation` and `period`."""
    shape = orientation.shape
    spectra = _bank(tuple(shape))
    weights = _weights(orientation, period)
    image = np.zeros(shape, dtype=np.float32)
    h, w = shape
    for _ in range(SEED_DOTS):
        y, x = int(rng.integers(8, h - 8)), int(rng.integers(8, w - 8))
        image[y - 1 : y + 2, x - 1 : x + 2] = rng.choice((-1.0, 1.0))
    for _ in range(PASSES):
        response = _filter(image, spectra, weights)
        image = np.clip(3.0 * response, -1.0, 1.0)
    ridges = np.tanh(1.5 * _filter(image, spectra, weights)).astype(np.float32)
    # Set in after the last pass: filtering again would close a short defect pair up again.
    return _set_defects(rng, ridges, orientation, period, int(rng.poisson(DEFECT_PAIRS)))


def _set_defects(
    rng: np.random.Generator, image: np.ndarray, orientation: np.ndarray, period: np.ndarray, pairs: int
) -> np.ndarray:
    """`image` with `pairs` dislocation pairs: two minutiae at random places a short way apart.

    Why: ridges grown from seeds only end or fork where the flow forces them to (where ridges
    diverge or around singular points), so two fingers of one Henry class get their minutiae in
    much the same places, and the matcher scores them far more alike than two real fingers.  Real
    skin also has minutiae nothing forces — short ridges, islands, spurs — scattered anywhere.
    Each pair is set in the Larkin–Fletcher way, as a phase dipole: every ridge near the segment AB
    is moved across the flow by T/2π times the angle AB subtends (T the ridge period), which
    winds the ridge phase once around A and once back around B (two minutiae) and shifts the
    ridges by a whole period across AB (invisible there).
    """
    h, w = image.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    shift_y = np.zeros(image.shape)
    shift_x = np.zeros(image.shape)
    for _ in range(pairs):
        ay, ax = rng.uniform(0.15 * h, 0.85 * h), rng.uniform(0.15 * w, 0.85 * w)
        theta = float(orientation[int(ay), int(ax)])
        length = rng.uniform(*DEFECT_LENGTH)
        heading = theta + rng.normal(0.0, 0.35) + (np.pi if rng.random() < 0.5 else 0.0)
        by, bx = ay + length * np.sin(heading), ax + length * np.cos(heading)
        # Signed angle subtended by AB at each pixel: jumps by 2π across AB only.
        a_y, a_x, b_y, b_x = ys - ay, xs - ax, ys - by, xs - bx
        subtended = np.arctan2(b_x * a_y - b_y * a_x, b_x * a_x + b_y * a_y)
        middle = np.hypot(ys - (ay + by) / 2, xs - (ax + bx) / 2)
        reach = 3.0 * length + 40.0
        fade = np.clip((reach - middle) / (0.5 * reach), 0.0, 1.0)
        step = float(period[int(ay), int(ax)]) / (2 * np.pi) * subtended * fade
        shift_y += step * np.cos(theta)
        shift_x -= step * np.sin(theta)
    moved = ndimage.map_coordinates(image, [ys - shift_y, xs - shift_x], order=1, mode="nearest")
    return moved.astype(np.float32)


def _filter(image: np.ndarray, spectra: np.ndarray, weights: List[Tuple[int, int, np.ndarray]]) -> np.ndarray:
    """One space-variant Gabor pass: the per-pixel blend of the bank responses."""
    spectrum = sfft.rfft2(image, workers=1)
    out = np.zeros(image.shape, dtype=np.float32)
    for k, p, weight in weights:
        out += weight * sfft.irfft2(spectrum * spectra[k, p], s=image.shape, workers=1)
    return out
