"""Ridge frequency and spectral clarity per block, from the local power spectrum.

A clear fingerprint block is nearly a plane wave: its power spectrum has one sharp peak pair at
the ridge frequency (≈ 1/9 px⁻¹ at 500 ppi).  The peak's radius gives the ridge frequency that
tunes the Gabor filters, and the share of energy near the peak (NFIQ 2's "frequency domain
analysis" idea) is a cheap clarity measure for the quality map.  All blocks are transformed in
one batched FFT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft, ndimage as ndi

BLOCK = 32
MIN_PERIOD = 3.5  # px at 500 ppi
MAX_PERIOD = 16.0
DEFAULT_FREQUENCY = 1.0 / 9.0


@dataclass(frozen=True)
class BlockSpectrum:
    """Per-block ridge frequency (cycles/px) and clarity (0..1), on a grid with `step` px."""

    frequency: np.ndarray  # float32 (rows, cols)
    clarity: np.ndarray  # float32 (rows, cols)
    amplitude: np.ndarray  # float32 (rows, cols): RMS grey levels of the ridge wave itself
    step: int
    block: int


def _window(block: int) -> np.ndarray:
    w = np.hanning(block + 2)[1:-1].astype(np.float32)
    return np.outer(w, w)


def block_spectrum(image: np.ndarray, step: int = BLOCK, block: int = BLOCK) -> BlockSpectrum:
    """Spectral frequency and clarity for blocks of `block` px every `step` px.

    The grid has ceil(H/step) × ceil(W/step) entries; block (i, j) is centred on
    (i·step + step/2, j·step + step/2) so the map aligns with non-overlapping `step` tiles.
    """
    img = image.astype(np.float32, copy=False)
    height, width = img.shape
    rows, cols = -(-height // step), -(-width // step)
    margin = (block - step) // 2
    pad_bottom = rows * step + block - step - margin - height
    pad_right = cols * step + block - step - margin - width
    padded = np.pad(img, ((margin, max(pad_bottom, 0)), (margin, max(pad_right, 0))), mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (block, block))[::step, ::step][:rows, :cols]
    tiles = windows.reshape(rows * cols, block, block)
    tiles = tiles - tiles.mean(axis=(1, 2), keepdims=True)
    power = np.abs(sfft.rfft2(tiles * _window(block), workers=1)) ** 2
    rings, ring_radius = _rings(block)
    ring_energy = power.reshape(rows * cols, -1) @ rings  # (blocks, rings)
    total = ring_energy.sum(axis=1) + 1e-6
    peak = np.argmax(ring_energy, axis=1)
    count = ring_energy.shape[1]
    near_energy = np.zeros(rows * cols, dtype=np.float64)
    weighted = np.zeros(rows * cols, dtype=np.float64)
    index = np.arange(rows * cols)
    for offset in (-1, 0, 1):
        ring = np.clip(peak + offset, 0, count - 1)
        valid = (peak + offset >= 0) & (peak + offset < count)
        energy = np.where(valid, ring_energy[index, ring], 0.0)
        near_energy += energy
        weighted += energy * ring_radius[ring]
    frequency = weighted / np.maximum(near_energy, 1e-12)
    clarity = near_energy / total
    # Parseval: the ring energy over (pixels × window energy) is the mean square of the ridge
    # wave, so its root is an absolute ridge contrast that blur and faint touches reduce.
    window_energy = float((_window(block) ** 2).sum())
    amplitude = np.sqrt(near_energy / (block * block * window_energy))
    # A pure plane wave still leaks energy over neighbouring rings; rescale so it reads ≈ 1.
    return BlockSpectrum(
        frequency.reshape(rows, cols).astype(np.float32),
        np.clip(clarity.reshape(rows, cols) * 1.25, 0.0, 1.0).astype(np.float32),
        amplitude.reshape(rows, cols).astype(np.float32),
        step,
        block,
    )


def _rings(block: int) -> tuple[np.ndarray, np.ndarray]:
    """One-hot map from rfft bins to integer-radius rings inside the ridge band, and ring radii.

    rfft keeps half the plane; every column but x = 0 and Nyquist stands for two bins.
    """
    cached = _RING_CACHE.get(block)
    if cached is None:
        fy = np.fft.fftfreq(block)[:, None]
        fx = np.fft.rfftfreq(block)[None, :]
        radius = np.sqrt(fx * fx + fy * fy) * block  # in cycles per block
        twice = np.where((fx == 0) | (fx == 0.5), 1.0, 2.0) * np.ones_like(fy)
        low, high = int(np.ceil(block / MAX_PERIOD)), int(np.floor(block / MIN_PERIOD))
        ring_ids = np.rint(radius).astype(int)
        numbers = np.arange(low, high + 1)
        onehot = (ring_ids.ravel()[:, None] == numbers[None, :]) * twice.ravel()[:, None]
        cached = (onehot.astype(np.float32), (numbers / block).astype(np.float64))
        _RING_CACHE[block] = cached
    return cached


_RING_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def smooth_frequency(spectrum: BlockSpectrum, mask: np.ndarray) -> np.ndarray:
    """Frequency map filled over background and smoothed (normalised convolution, clarity-weighted).

    `mask` is a bool foreground map on the spectrum's grid.  Frequency varies slowly across a
    finger, so a σ of ~1.5 blocks removes the outliers of noisy blocks while keeping the denser
    ridges near the core and the tip.
    """
    weights = spectrum.clarity * mask
    if weights.sum() <= 1e-6:
        return np.full(spectrum.frequency.shape, DEFAULT_FREQUENCY, dtype=np.float32)
    median = float(np.median(spectrum.frequency[mask])) if mask.any() else DEFAULT_FREQUENCY
    num = ndi.gaussian_filter(spectrum.frequency * weights, 1.5, mode="nearest")
    den = ndi.gaussian_filter(weights, 1.5, mode="nearest")
    # Far from any reliable block fall back to the image's median frequency.
    reliable = den > 0.05 * float(den.max())
    out = np.where(reliable, num / np.maximum(den, 1e-6), median)
    return np.clip(out, 1.0 / MAX_PERIOD, 1.0 / MIN_PERIOD).astype(np.float32)
