"""Ridge orientation and its coherence, on a coarse grid, from smoothed gradient tensors.

Why a grid: the orientation of a ridge changes over tens of pixels, so averaging the gradient
tensor in 4×4-px cells and smoothing on that grid gives the same field as per-pixel smoothing at
a sixteenth of the cost — which is what lets the quality meter run on every preview frame.

Angles here are *internal*: radians in image coordinates with y pointing **down**, the ridge
direction being the unit vector (cos θ, sin θ) — i.e. measured clockwise on screen from +x —
and defined modulo π (an orientation has no sense).  `siaptui.biometrics.minutiae` converts to
the public counter-clockwise convention of `Minutia.angle`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

CELL = 4  # px at 500 ppi per grid cell
SMOOTH_SIGMA_PX = 12.0  # Gaussian σ of the tensor smoothing, px at 500 ppi (≈ 1.3 ridge periods)


@dataclass(frozen=True)
class OrientationField:
    """Doubled-angle tensor field on the cell grid.

    `cos2`/`sin2` are the coherence-weighted doubled-angle components (so averaging them is
    meaningful); `theta` is the ridge direction in [0, π); `coherence` in [0, 1] says how
    clearly one direction dominates (1 = parallel ridges, 0 = noise or a singular point);
    `energy` is the mean squared gradient (local contrast) per cell.
    """

    theta: np.ndarray
    coherence: np.ndarray
    cos2: np.ndarray
    sin2: np.ndarray
    energy: np.ndarray


def cell_mean(values: np.ndarray, cell: int = CELL) -> np.ndarray:
    """Mean over non-overlapping cell×cell tiles; a ragged right/bottom edge is averaged too."""
    height, width = values.shape
    gh, gw = -(-height // cell), -(-width // cell)
    pad_h, pad_w = gh * cell - height, gw * cell - width
    if pad_h or pad_w:
        values = np.pad(values, ((0, pad_h), (0, pad_w)), mode="edge")
    return values.reshape(gh, cell, gw, cell).mean(axis=(1, 3), dtype=np.float32)


def orientation_field(image: np.ndarray, sigma_px: float = SMOOTH_SIGMA_PX, cell: int = CELL) -> OrientationField:
    """Gradient-tensor orientation of a float image (dark ridges or bright, either works)."""
    img = image.astype(np.float32, copy=False)
    gx = ndi.sobel(img, axis=1)
    gy = ndi.sobel(img, axis=0)
    gxx = cell_mean(gx * gx, cell)
    gyy = cell_mean(gy * gy, cell)
    gxy = cell_mean(gx * gy, cell)
    sigma = sigma_px / cell
    gxx = ndi.gaussian_filter(gxx, sigma, mode="nearest")
    gyy = ndi.gaussian_filter(gyy, sigma, mode="nearest")
    gxy = ndi.gaussian_filter(gxy, sigma, mode="nearest")
    diff = gxx - gyy
    total = gxx + gyy
    anis = np.sqrt(diff * diff + 4.0 * gxy * gxy)
    coherence = np.where(total > 1e-6, anis / np.maximum(total, 1e-6), 0.0).astype(np.float32)
    # Gradient direction is ½·atan2(2gxy, gxx−gyy); ridges run perpendicular to it.
    theta = (0.5 * np.arctan2(2.0 * gxy, diff) + np.pi / 2.0) % np.pi
    # Doubled angle of the *ridge* direction: cos(2θ) = −diff/anis, sin(2θ) = −2gxy/anis.
    safe = np.maximum(anis, 1e-6)
    cos2 = (-diff / safe * coherence).astype(np.float32)
    sin2 = (-2.0 * gxy / safe * coherence).astype(np.float32)
    return OrientationField(theta.astype(np.float32), coherence, cos2, sin2, (total / 16.0).astype(np.float32))


def upsample(grid: np.ndarray, shape: tuple[int, int], cell: int = CELL) -> np.ndarray:
    """Bilinear upsampling of a cell-grid map to pixel `shape` (cell centres aligned)."""
    height, width = shape
    r0, r1, fr = _neighbours(np.arange(height, dtype=np.float32), cell, grid.shape[0])
    c0, c1, fc = _neighbours(np.arange(width, dtype=np.float32), cell, grid.shape[1])
    fr, fc = fr[:, None], fc[None, :]
    grid = grid.astype(np.float32, copy=False)
    across = grid[:, c0] * (1 - fc) + grid[:, c1] * fc  # separable: columns on the small grid first
    return (across[r0] * (1 - fr) + across[r1] * fr).astype(np.float32, copy=False)


def sample(grid: np.ndarray, cell: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """`upsample(grid, …)[ys, xs]` without building the whole map: the extractor needs the
    coherence, clarity and block quality only where its minutiae are."""
    r0, r1, fr = _neighbours(np.asarray(ys, dtype=np.float32), cell, grid.shape[0])
    c0, c1, fc = _neighbours(np.asarray(xs, dtype=np.float32), cell, grid.shape[1])
    grid = grid.astype(np.float32, copy=False)
    top = grid[r0, c0] * (1 - fc) + grid[r0, c1] * fc
    bottom = grid[r1, c0] * (1 - fc) + grid[r1, c1] * fc
    return (top * (1 - fr) + bottom * fr).astype(np.float32, copy=False)


def _neighbours(pixels: np.ndarray, cell: int, cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For pixel coordinates: the two grid cells whose centres bracket them, and the weight of
    the second (clamped at the grid's edges)."""
    position = np.clip((pixels + 0.5) / cell - 0.5, 0, cells - 1)
    first = np.floor(position).astype(np.intp)
    second = np.minimum(first + 1, cells - 1)
    return first, second, position - first


def pixel_theta(field: OrientationField, shape: tuple[int, int], cell: int = CELL) -> np.ndarray:
    """Per-pixel ridge direction in [0, π), interpolating the doubled-angle vectors."""
    c = upsample(field.cos2, shape, cell)
    s = upsample(field.sin2, shape, cell)
    return ((0.5 * np.arctan2(s, c)) % np.pi).astype(np.float32)
