"""Foreground segmentation: where the finger touched the sensor.

A cell is foreground when its grey levels vary like ridges do (local standard deviation well
above the sensor's background noise) *and* the variation is oriented (coherence), because dust,
latent smudges and sensor noise vary too but without a direction.  The raw decision is then
cleaned morphologically into one compact region, since a finger is one blob: isolated specks are
dropped, holes (pale patches inside a dry print) are filled.  Works on the orientation grid so
the live preview can afford it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from siaptui.biometrics.orientation import CELL, OrientationField, cell_mean

ABS_STD_FLOOR = 6.0  # grey levels: below this no ridge contrast exists on any sensor we know
REL_STD = 0.38  # fraction of the strong-contrast level (90th percentile) a finger cell reaches
MIN_COHERENCE = 0.22
LOCAL_SIGMA_PX = 8.0


@dataclass(frozen=True)
class Segmentation:
    """Cell-grid foreground mask plus the local statistics it was computed from."""

    mask: np.ndarray  # bool, cell grid
    local_mean: np.ndarray  # float32, cell grid, grey level
    local_std: np.ndarray  # float32, cell grid, grey level
    texture: np.ndarray  # bool, cell grid: ridge-like cells before the cleaning (reaches the frame's edge)


def local_statistics(image: np.ndarray, cell: int = CELL,
                     sigma_px: float = LOCAL_SIGMA_PX) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-weighted local mean and standard deviation on the cell grid."""
    img = image.astype(np.float32, copy=False)
    m1 = ndi.gaussian_filter(cell_mean(img, cell), sigma_px / cell, mode="nearest")
    m2 = ndi.gaussian_filter(cell_mean(img * img, cell), sigma_px / cell, mode="nearest")
    std = np.sqrt(np.maximum(m2 - m1 * m1, 0.0)).astype(np.float32)
    return m1.astype(np.float32), std


def segment(image: np.ndarray, field: OrientationField, cell: int = CELL) -> Segmentation:
    """Foreground cells of a 500-ppi image given its orientation field."""
    mean, std = local_statistics(image, cell)
    strong = float(np.percentile(std, 90)) if std.size else 0.0
    threshold = max(ABS_STD_FLOOR, REL_STD * strong)
    raw = (std > threshold) & (field.coherence > MIN_COHERENCE)
    if not raw.any():
        return Segmentation(raw, mean, std, raw)
    radius = max(1, int(round(8 / cell)))
    structure = _disk(radius)
    mask = ndi.binary_opening(raw, structure=structure)
    mask = ndi.binary_closing(mask, structure=_disk(radius * 2), border_value=0)
    mask = _keep_large_components(mask)
    mask = ndi.binary_fill_holes(mask)
    return Segmentation(mask, mean, std, raw)


def _disk(radius: int) -> np.ndarray:
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y) <= radius * radius + 0.5


def _keep_large_components(mask: np.ndarray, fraction: float = 0.2) -> np.ndarray:
    """Drop specks: keep components of at least `fraction` of the largest one."""
    labels, count = ndi.label(mask)
    if count <= 1:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    keep = sizes >= fraction * sizes.max()
    return keep[labels]
