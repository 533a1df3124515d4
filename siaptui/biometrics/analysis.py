"""One pass over a fingerprint image, shared by the quality meter, the preview and the extractor.

`analyse(image, dpi)` normalises the image and computes the cheap fields at once (foreground,
orientation, coherence, local contrast); the expensive ones (ridge frequency per pixel, Gabor
enhancement, binary ridges, skeleton) are computed on first access and cached, so the live
quality meter never pays for enhancement and the extractor never recomputes the orientation.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Optional

import numpy as np
from scipy import ndimage as ndi

from siaptui.biometrics.image import TARGET_DPI, normalise
from siaptui.biometrics.orientation import CELL, OrientationField, orientation_field, pixel_theta, upsample
from siaptui.biometrics.segment import Segmentation, segment

FREQ_STEP = 16  # px between ridge-frequency blocks for the extractor
FLAT_STD = 2.0  # grey levels: a region this flat shows no sensor signal (outside the active area)
FLAT_REACH = 4  # cells: how far the smoothing spreads a frame's step into its flat surroundings


class Analysis:
    """Intermediate results of one image at 500 ppi (all arrays share `image.shape` unless noted).

    Cheap, computed at once: `image` (uint8), `field` (orientation on the 4-px cell grid),
    `segmentation` (cell grid), `mask` (bool per pixel), `orientation` (per-pixel ridge
    direction, y down, mod π); `border_distance(ys, xs)` measures at given pixels.
    Lazy: `spectrum`, `frequency` (cycles/px per pixel), `normalised` (contrast-equalised
    float), `enhanced` (ridges positive), `ridges` (bool), `skeleton` (bool, 1-px wide).
    """

    def __init__(self, image: np.ndarray, source_dpi: float, source_shape: tuple[int, ...]) -> None:
        self.image = image
        self.source_dpi = float(source_dpi)
        self.source_shape = source_shape
        self.cell = CELL
        self.field: OrientationField = orientation_field(image)
        self.segmentation: Segmentation = segment(image, self.field)

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape

    @property
    def has_finger(self) -> bool:
        return bool(self.segmentation.mask.any())

    @cached_property
    def mask(self) -> np.ndarray:
        """Per-pixel foreground (the cell mask upsampled, with smooth edges)."""
        soft = upsample(self.segmentation.mask.astype(np.float32), self.shape, self.cell)
        return soft >= 0.5

    def border_distance(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Distance (px) from each pixel (ys, xs) to the nearest background pixel or image edge.

        Only the extractor's minutiae need it, so it is measured at those points against the
        background pixels that touch the foreground (the nearest background pixel always does)
        rather than by a distance transform of the whole frame.
        """
        return self._distance_to(ys, xs, self._background_edge)

    def cut_distance(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Distance (px) from each pixel to the nearest place where the print is *cut* by the
        edge of the sensor's active area (a window frame such as the U.are.U's trapezoid), as
        opposed to a finger edge on live glass.  The frame's step and its dark line look like
        ridges to the segmentation; the ridges that run into it end or fork there without being
        minutiae, and since the frame stays put while the finger moves, those artefacts pair up
        between impressions of different fingers.  So the extractor keeps a wider margin from
        it.  An edge is a cut when the background next to it is flat: outside the active area
        the sensor shows no signal, not even its own noise; a finger's edge on the glass has
        the sensor's noise beyond it (infinite distance when there is no such edge).
        """
        return self._distance_to(ys, xs, self._cut_edge)

    def _distance_to(self, ys: np.ndarray, xs: np.ndarray, edge: np.ndarray) -> np.ndarray:
        ys = np.asarray(ys, dtype=np.intp)
        xs = np.asarray(xs, dtype=np.intp)
        out = np.zeros(ys.shape, dtype=np.float32)
        inside = self.mask[ys, xs]
        if edge.shape[1] == 0:
            out[inside] = np.inf
            return out
        if not inside.any():
            return out
        py, px = ys[inside].astype(np.float32), xs[inside].astype(np.float32)
        nearest = np.empty(py.shape, dtype=np.float32)
        for start in range(0, py.size, 128):  # bounded memory: 128 × edge pixels at a time
            dy = py[start:start + 128, None] - edge[0][None, :]
            dx = px[start:start + 128, None] - edge[1][None, :]
            nearest[start:start + 128] = (dy * dy + dx * dx).min(axis=1)
        out[inside] = np.sqrt(nearest)
        return out

    @cached_property
    def _background_edge(self) -> np.ndarray:
        """(ys, xs) of the background pixels, the frame outside the image included, that touch
        the foreground (8-neighbourhood), as two float32 arrays."""
        padded = np.pad(self.mask, 1, constant_values=False)
        touching = ndi.binary_dilation(padded, structure=np.ones((3, 3), dtype=bool)) & ~padded
        ys, xs = np.nonzero(touching)
        return np.stack((ys - 1, xs - 1)).astype(np.float32)

    @cached_property
    def _cut_edge(self) -> np.ndarray:
        """The background edge pixels where the print is cut (see `cut_distance`): next to a
        flat region, where the sensor shows no signal at all (not even its own noise)."""
        edge = self._background_edge
        ys, xs = edge.astype(np.intp)
        rows, cols = self.shape
        flat = ndi.binary_dilation(self.segmentation.local_std < FLAT_STD, iterations=FLAT_REACH)
        near_flat = flat[np.clip(ys, 0, rows - 1) // self.cell, np.clip(xs, 0, cols - 1) // self.cell]
        return edge[:, near_flat]

    @cached_property
    def orientation(self) -> np.ndarray:
        return pixel_theta(self.field, self.shape, self.cell)

    @cached_property
    def spectrum(self) -> Any:
        from siaptui.biometrics.frequency import block_spectrum

        return block_spectrum(self.normalised, step=FREQ_STEP)

    @cached_property
    def frequency(self) -> np.ndarray:
        from siaptui.biometrics.frequency import smooth_frequency

        grid_mask = self._mask_on_grid(FREQ_STEP, self.spectrum.frequency.shape)
        grid = smooth_frequency(self.spectrum, grid_mask)
        return upsample(grid, self.shape, FREQ_STEP)

    @cached_property
    def normalised(self) -> np.ndarray:
        """Local contrast equalisation: zero local mean, unit local standard deviation.

        Makes a faint capacitive print and a dark optical one look alike to every later step.
        """
        seg = self.segmentation
        mean = upsample(seg.local_mean, self.shape, self.cell)
        std = upsample(seg.local_std, self.shape, self.cell)
        return ((self.image.astype(np.float32) - mean) / np.maximum(std, 4.0)).astype(np.float32)

    @cached_property
    def enhanced(self) -> np.ndarray:
        from siaptui.biometrics.enhance import gabor_enhance

        out = np.zeros(self.shape, dtype=np.float32)
        box = self.bounding_box
        if box is not None:
            out[box] = gabor_enhance(self.normalised[box], self.orientation[box], self.frequency[box], self.mask[box])
        return out

    @cached_property
    def bounding_box(self) -> Optional[tuple[slice, slice]]:
        """Slices of the foreground's bounding box (the costly steps work on this crop only)."""
        ys, xs = np.nonzero(self.mask)
        if ys.size == 0:
            return None
        return slice(int(ys.min()), int(ys.max()) + 1), slice(int(xs.min()), int(xs.max()) + 1)

    @cached_property
    def ridges(self) -> np.ndarray:
        """Binary ridges from the enhanced image, with specks and pores cleaned away."""
        binary = (self.enhanced > 0) & self.mask
        binary = _drop_small(binary, 24)
        binary = ~_drop_small(~binary, 24)
        return binary

    @cached_property
    def skeleton(self) -> np.ndarray:
        from skimage.morphology import skeletonize

        out = np.zeros(self.shape, dtype=bool)
        box = self.bounding_box
        if box is not None:
            # Zhang–Suen thinning: 7× faster than skimage's `thin` with the same crossing numbers.
            out[box] = skeletonize(self.ridges[box])
        return out

    def _mask_on_grid(self, step: int, shape: tuple[int, int]) -> np.ndarray:
        """Foreground on a coarser block grid (a block is foreground if its centre is)."""
        rows = np.minimum(np.arange(shape[0]) * step + step // 2, self.shape[0] - 1)
        cols = np.minimum(np.arange(shape[1]) * step + step // 2, self.shape[1] - 1)
        return self.mask[np.ix_(rows, cols)]


def _drop_small(binary: np.ndarray, size: int) -> np.ndarray:
    """Remove 8-connected components of at most `size` pixels (stable across skimage versions)."""
    labels, count = ndi.label(binary, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return binary
    sizes = np.bincount(labels.ravel())
    keep = sizes > size
    keep[0] = False
    return keep[labels]


def analyse(image: Any, dpi: Optional[float] = TARGET_DPI) -> Analysis:
    """Normalise `image` (any accepted array, `dpi` ppi) and start its analysis.

    Raises `siaptui.biometrics.image.ImageError` for input `normalise` refuses.
    """
    source = np.asarray(image)
    normalised = normalise(image, TARGET_DPI if dpi is None else dpi)
    return Analysis(normalised, TARGET_DPI if dpi is None else dpi, source.shape[:2])
