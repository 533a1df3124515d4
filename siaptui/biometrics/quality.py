"""Image quality for the capture screen: a 0–100 score, a block map and actionable flags.

Cheap by design (it runs on every preview frame): it uses only the fields `analysis.analyse`
computes at once — foreground, orientation coherence, local contrast — plus one batched FFT of
32-px blocks for spectral clarity (NFIQ 2's frequency-domain idea).  No enhancement, no
minutiae.  Block size follows ISO/IEC 29794-4: 32×32 px at 500 ppi covers about two ridges.

Flags tell the clerk what to change: "no_finger", "too_light" (dry / too little pressure),
"too_dark" (wet / pressed too hard), "too_small" (too little area), "off_center" (the print's
centre far from the frame's, or its core pushed beyond the top of the reader — the score halves
then: such a capture shares little with the others), "smudged" (moved or smeared: a finger is
there but its ridges are not clear).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, FrozenSet, Optional, Tuple

import numpy as np

from siaptui.biometrics.analysis import Analysis, analyse
from siaptui.biometrics.frequency import block_spectrum
from siaptui.biometrics.image import MIN_SIDE, TARGET_DPI, to_uint8
from siaptui.biometrics.singular import singular_points

BLOCK = 32  # px at 500 ppi
FLAGS = ("no_finger", "too_light", "too_dark", "too_small", "off_center", "smudged")
FULL_AREA = 120_000  # px² at 500 ppi (≈ 17 × 14 mm): a whole plain impression; smaller prints score less
AREA_EXPONENT = 0.75
RIDGE_AMPLITUDE_FULL = 15.0  # RMS grey levels of the ridge wave that count as full contrast
MIN_AREA = 25_000  # px² at 500 ppi (≈ 8 × 8 mm): below this too few minutiae to match reliably
NO_FINGER_AREA = 48 * 48
LIGHT_MEAN = 185.0  # foreground grey mean above this: ridges faint (dry, light touch)
DARK_MEAN = 75.0  # below this: valleys filled (wet, pressed)
FLAT_CONTRAST = 24.0  # median local standard deviation below which the ridges look washed out
SMUDGED_SHARE = 0.45  # share of poor blocks in the foreground that means smeared or moved
TOP_BAND_PX = 8  # px at 500 ppi: the frame's top rows that show whether the print runs off it
RUNS_OFF_SHARE = 0.3  # share of that band with ridges for the print to run off the top
BEYOND_TOP_FACTOR = 0.5  # score factor for a print whose core lies beyond the top of the reader


@dataclass(frozen=True)
class QualityReport:
    """Quality of one image.  `block_map` is float32 0..1 per 32-px block at 500 ppi
    (0 = background); `block_size` is that block's side in the *input* image's pixels;
    `center` is the foreground centroid (x, y) in input pixels, or None without a finger."""

    score: int
    block_map: np.ndarray
    block_size: int
    flags: FrozenSet[str] = field(default_factory=frozenset)
    foreground_ratio: float = 0.0
    center: Optional[Tuple[float, float]] = None

    def hints(self) -> list[str]:
        """Catalog keys of the advice for each flag, most important first."""
        return [f"biometrics.flag.{flag}" for flag in FLAGS if flag in self.flags]


def assess(image: Any, dpi: float = TARGET_DPI) -> QualityReport:
    """Quality of a fingerprint image at `dpi` ppi.

    Raises ImageError only for input that is not an image (wrong dtype, NaN, bad shape); a
    blank, black or tiny frame is a valid answer: score 0 and the flag "no_finger".
    """
    grey = to_uint8(image)
    scale = TARGET_DPI / float(dpi) if dpi else 1.0
    block_input = max(1, int(round(BLOCK / scale)))
    if min(grey.shape) * scale < MIN_SIDE:
        rows, cols = -(-grey.shape[0] // block_input), -(-grey.shape[1] // block_input)
        return QualityReport(0, np.zeros((rows, cols), np.float32), block_input, frozenset({"no_finger", "too_small"}))
    return assess_analysis(analyse(grey, dpi))


def assess_analysis(analysis: Analysis) -> QualityReport:
    """The quality report of an image already analysed (shared with the extractor)."""
    scale = TARGET_DPI / analysis.source_dpi
    block_input = max(1, int(round(BLOCK / scale)))
    cells = BLOCK // analysis.cell
    seg = analysis.segmentation
    fg_cells = seg.mask.astype(np.float32)
    rows, cols = -(-seg.mask.shape[0] // cells), -(-seg.mask.shape[1] // cells)
    fg_block = _block_mean(fg_cells, cells, rows, cols)
    coherence_block = _block_mean(analysis.field.coherence * fg_cells, cells, rows, cols) / np.maximum(fg_block, 1e-6)
    # The raw image, not the contrast-equalised one: each tile is windowed and centred anyway,
    # and skipping the equalisation keeps the preview cheap.
    spectrum = block_spectrum(analysis.image, step=BLOCK, block=BLOCK)
    clarity = spectrum.clarity[:rows, :cols]
    amplitude = spectrum.amplitude[:rows, :cols]
    # Block quality: orientation certainty and spectral clarity (NFIQ 2's OCL and FDA ideas),
    # scaled by the ridge wave's own amplitude, so a faint, blurred or smeared print reads
    # worse than a crisp one of the same shape (clarity and coherence alone are blur-blind).
    coh_s = np.clip((coherence_block - 0.25) / 0.55, 0.0, 1.0)
    clar_s = np.clip((clarity - 0.4) / 0.5, 0.0, 1.0)
    block_q = 0.5 * (coh_s + clar_s) * np.clip(amplitude / RIDGE_AMPLITUDE_FULL, 0.0, 1.0)
    block_map = (block_q * np.clip(fg_block * 1.25, 0.0, 1.0)).astype(np.float32)
    block_map[fg_block < 0.2] = 0.0

    area = float(seg.mask.sum()) * analysis.cell * analysis.cell
    fg_ratio = float(seg.mask.mean()) if seg.mask.size else 0.0
    flags: set[str] = set()
    if area < NO_FINGER_AREA:
        flags.update(("no_finger",))
        return QualityReport(0, block_map * 0.0, block_input, frozenset(flags), fg_ratio, None)

    inside = block_map[fg_block >= 0.5]
    clear = float(inside.mean()) if inside.size else 0.0
    area_factor = min(1.0, area / FULL_AREA) ** AREA_EXPONENT
    placement = 1.0
    if _core_beyond_top(analysis):
        placement = BEYOND_TOP_FACTOR
        flags.add("off_center")
    score = int(round(100.0 * clear * area_factor * placement))

    if area < MIN_AREA:
        flags.add("too_small")
    mean = float(seg.local_mean[seg.mask].mean())
    contrast = float(np.median(seg.local_std[seg.mask]))
    # Brightness alone is the sensor's business (capacitive prints are darker); brightness *and*
    # flat ridges is the finger's: dry or light touch, or wet or pressed.
    if mean > LIGHT_MEAN and contrast < FLAT_CONTRAST:
        flags.add("too_light")
    elif mean < DARK_MEAN and contrast < FLAT_CONTRAST:
        flags.add("too_dark")
    if inside.size and float((inside < 0.35).mean()) > SMUDGED_SHARE and not flags & {"too_light", "too_dark"}:
        flags.add("smudged")
    center = _centroid(seg.mask, analysis.cell)
    height, width = analysis.shape
    if abs(center[0] - width / 2.0) > 0.22 * width or abs(center[1] - height / 2.0) > 0.22 * height:
        flags.add("off_center")
    center_input = (center[0] / scale, center[1] / scale)
    return QualityReport(max(0, min(100, score)), block_map, block_input, frozenset(flags), fg_ratio, center_input)


def _core_beyond_top(analysis: Analysis) -> bool:
    """Ridges run off the top of the frame and no core is in it: the finger is pushed up so far
    that its core — the region every impression of it shares — lies beyond the reader.

    An arch has no core either, but placed right its fingertip shows inside the frame, so it is
    not penalised.  On the FVC2002 B sets this demotes 10 of 320 prints, and it is what lets
    rejecting the worst 5 % beat random rejection on DB1 (docs/bench/extraction.md).
    """
    seg = analysis.segmentation
    band = seg.texture[: max(1, TOP_BAND_PX // analysis.cell)]
    if float(band.mean()) <= RUNS_OFF_SHARE:
        return False
    field = analysis.field
    points = singular_points(field.cos2, field.sin2, seg.mask, analysis.cell)
    return not any(point.kind == "core" for point in points)


def _block_mean(values: np.ndarray, cells: int, rows: int, cols: int) -> np.ndarray:
    padded = np.zeros((rows * cells, cols * cells), dtype=np.float32)
    padded[: values.shape[0], : values.shape[1]] = values
    return padded.reshape(rows, cells, cols, cells).mean(axis=(1, 3))


def _centroid(mask: np.ndarray, cell: int) -> Tuple[float, float]:
    ys, xs = np.nonzero(mask)
    return (float(xs.mean()) + 0.5) * cell, (float(ys.mean()) + 0.5) * cell
