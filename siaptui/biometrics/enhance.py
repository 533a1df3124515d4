"""Contextual Gabor enhancement: each pixel filtered along its own ridge direction and period.

Rather than convolving with a different kernel per pixel, the image is transformed once and
multiplied by a small bank of oriented band-pass filters defined directly in the frequency
domain (12 orientations × 1–3 ridge periods); each pixel then takes the response of the
filters nearest its orientation and frequency, interpolated linearly so neighbouring pixels
never jump between bins (jumps would create false ridge breaks).  A filter with a Gaussian
profile of σ across the ridges and a longer σ along them bridges pores and small scars while
keeping ridge endings.  σ across (≈ half a ridge period) sets the passband's width: 4.2 px
rather than 3.6 narrows it enough to reject the crease and pore texture of very wet and very dry
prints, which otherwise makes minutiae that change from one impression to the next (a lower
pooled FMR1000 on FVC2002, docs/bench/extraction.md).

Output convention: float32, **ridges positive**, roughly unit amplitude, 0 off the finger.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Optional

import numpy as np

ORIENTATIONS = 12  # 15° apart; linear interpolation between neighbours keeps the transition smooth
SIGMA_ACROSS_PX = 4.2  # spatial σ across ridges (≈ 0.45 ridge period): a narrow passband
SIGMA_ALONG_PX = 5.0  # spatial σ along ridges: longer, to join broken ridges
PAD = 16
# Filter frequencies (cycles/px) on a fixed geometric grid (ratio 1.35, periods 4.1…15.3 px) so
# the filters of a given frame size can be cached between images of the same sensor.
FREQUENCY_GRID = tuple(float(1.0 / (4.1 * 1.35 ** i)) for i in range(6))[::-1]
_REACH = 4.5  # σ beyond which a filter is treated as zero
_CACHE_SHAPES = 2
_cache: "OrderedDict[tuple[int, int], dict[tuple[int, int], np.ndarray]]" = OrderedDict()
_cache_lock = threading.Lock()  # extraction may run in several worker threads at once


def _fft_size(n: int) -> int:
    """Next size with only factors 2, 3, 5 (fast for pocketfft)."""
    size = n
    while True:
        m = size
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return size
        size += 1


def frequency_bins(frequency: np.ndarray, mask: np.ndarray) -> tuple[list[int], tuple[float, float]]:
    """Indices into FREQUENCY_GRID nearest to the image's own frequency range, and their span.

    A single Gabor passband tolerates about ±20 % of period and the grid steps by 35 %, so
    snapping the range ends to the nearest grid frequency and interpolating per pixel between
    grid neighbours needs one or two filters per orientation for most prints.
    """
    values = frequency[mask] if mask.any() else frequency.ravel()
    lo, hi = (float(v) for v in np.percentile(values, [5, 95]))
    logs = np.log(np.array(FREQUENCY_GRID))
    first = int(np.argmin(np.abs(logs - np.log(max(lo, 1e-6)))))
    last = int(np.argmin(np.abs(logs - np.log(max(hi, 1e-6)))))
    return list(range(first, last + 1)), (FREQUENCY_GRID[first], FREQUENCY_GRID[last])


def _filter(shape: tuple[int, int], k: int, b: int) -> np.ndarray:
    """Frequency response of orientation bin k and frequency bin b for an rfft of `shape`, cut
    after the last column where it is not negligible (see `_columns`)."""
    with _cache_lock:
        entry = _cache.get(shape)
        if entry is None:
            entry = {}
            _cache[shape] = entry
            while len(_cache) > _CACHE_SHAPES:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(shape)
        cached = entry.get((k, b))
    if cached is not None:
        return cached
    ph, pw = shape
    angle = k * np.pi / ORIENTATIONS
    f = FREQUENCY_GRID[b]
    fy = np.fft.fftfreq(ph).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(pw)[: _columns(pw, angle, f)].astype(np.float32)[None, :]
    # p: frequency coordinate across the ridges (along the normal), q: along the ridges.
    p = np.abs(-fx * np.float32(np.sin(angle)) + fy * np.float32(np.cos(angle)))
    q = fx * np.float32(np.cos(angle)) + fy * np.float32(np.sin(angle))
    sigma_p, sigma_q = _frequency_sigmas()
    response = np.exp(-((p - f) ** 2) / (2.0 * sigma_p ** 2) - (q * q) / (2.0 * sigma_q ** 2)).astype(np.float32)
    with _cache_lock:
        entry[(k, b)] = response
    return response


def _frequency_sigmas() -> tuple[float, float]:
    """The filters' σ across and along the ridges in frequency (cycles/px)."""
    return 1.0 / (2.0 * np.pi * SIGMA_ACROSS_PX), 1.0 / (2.0 * np.pi * SIGMA_ALONG_PX)


def _columns(pw: int, angle: float, f: float) -> int:
    """How many rfft columns (horizontal frequencies from 0 up) a filter needs: beyond
    |fx| = (f + 4.5 σp)·|sin| + 4.5 σq·|cos| its response is below 4·10⁻⁵ of its peak.  Near-
    horizontal ridges need only the low third of the columns, so the product with the spectrum
    and the first half of the inverse transform shrink with them."""
    sigma_p, sigma_q = _frequency_sigmas()
    reach = (f + _REACH * sigma_p) * abs(np.sin(angle)) + _REACH * sigma_q * abs(np.cos(angle))
    return min(pw // 2 + 1, int(np.ceil(reach * pw)) + 1)


def gabor_enhance(image: np.ndarray, theta: np.ndarray, frequency: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Enhance a contrast-normalised float image (dark ridges negative) with per-pixel context.

    `theta` is the internal ridge direction (y down, mod π), `frequency` cycles/px, `mask` the
    pixel foreground; all three have the image's shape.  Returns ridges-positive float32.
    """
    from scipy import fft as sfft

    height, width = image.shape
    ph, pw = _fft_size(height + 2 * PAD), _fft_size(width + 2 * PAD)
    padded = np.pad(image.astype(np.float32), ((PAD, ph - height - PAD), (PAD, pw - width - PAD)), mode="reflect")
    spectrum = sfft.rfft2(padded, workers=1)
    bins, (lo, hi) = frequency_bins(frequency, mask)
    freq_weights = _bin_weights(np.clip(frequency, lo, hi), bins)
    position = (theta % np.pi) * (ORIENTATIONS / np.pi)
    out = np.zeros((height, width), dtype=np.float32)
    crop = (slice(PAD, PAD + height), slice(PAD, PAD + width))
    for k in range(ORIENTATIONS):
        distance = np.abs(position - k)
        distance = np.minimum(distance, ORIENTATIONS - distance)
        w_orient = np.clip(1.0 - distance, 0.0, None)
        w_orient[~mask] = 0.0
        if not w_orient.any():
            continue
        for b, w_freq in zip(bins, freq_weights):
            weight = w_orient if w_freq is None else w_orient * w_freq
            response = _inverse(spectrum, _filter((ph, pw), k, b), pw)
            out += weight * response[crop]
    out = -out  # dark ridges in, ridges positive out
    scale = float(np.percentile(np.abs(out[mask]), 90)) if mask.any() else 1.0
    out /= max(scale, 1e-6)
    out[~mask] = 0.0
    return out


def _inverse(spectrum: np.ndarray, response: np.ndarray, pw: int) -> np.ndarray:
    """irfft2 of spectrum × response, where `response` covers only the first columns: the
    vertical transforms run on those columns alone and the horizontal ones pad the rest with
    zeros (the same result as `irfft2` of the zero-extended product)."""
    from scipy import fft as sfft

    columns = response.shape[1]
    vertical = sfft.ifft(spectrum[:, :columns] * response, axis=0, workers=1)
    return sfft.irfft(vertical, n=pw, axis=1, workers=1)


def _bin_weights(frequency: np.ndarray, bins: list[int]) -> list[Optional[np.ndarray]]:
    """Linear weights (in log frequency) of each pixel between the neighbouring grid bins."""
    if len(bins) == 1:
        return [None]
    logf = np.log(frequency)
    logb = np.log(np.array([FREQUENCY_GRID[b] for b in bins]))
    logf = np.clip(logf, logb[0], logb[-1])
    weights: list[Optional[np.ndarray]] = []
    for i in range(len(bins)):
        w = np.zeros(frequency.shape, dtype=np.float32)
        if i > 0:
            seg = (logf >= logb[i - 1]) & (logf <= logb[i])
            w[seg] = ((logf - logb[i - 1]) / (logb[i] - logb[i - 1]))[seg]
        if i < len(bins) - 1:
            seg = (logf >= logb[i]) & (logf <= logb[i + 1])
            w[seg] = ((logb[i + 1] - logf) / (logb[i + 1] - logb[i]))[seg]
        weights.append(w)
    return weights
