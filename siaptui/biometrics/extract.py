"""Image → minutiae template: the extractor behind enrollment, matching and the benches.

Pipeline (each step in its own module, sharing one `Analysis`): normalise to 500 ppi →
orientation/coherence → foreground → ridge frequency → contextual Gabor enhancement →
binarise → thin → crossing number → false-minutiae removal → direction → quality; plus the
coarse orientation and ridge-period map the matcher checks alignments with (`orientation_map.py`).
Deterministic: the same image always yields the same template.
"""

from __future__ import annotations

from functools import partial
from typing import Any, List

import numpy as np

from siaptui.biometrics.analysis import Analysis, analyse
from siaptui.biometrics.image import TARGET_DPI
from siaptui.biometrics.minutiae import RawMinutia, Surroundings, detect, public_angle, refine_directions
from siaptui.biometrics.orientation import sample
from siaptui.biometrics.orientation_map import BLOCK as MAP_BLOCK, from_field
from siaptui.biometrics.quality import BLOCK, assess_analysis
from siaptui.biometrics.template import Minutia, Template

MIN_BLOCK_QUALITY = 0.1  # minutiae in quality blocks below this (blurred, smeared, faint) are noise
TRUSTED_BLOCK = 0.7  # block quality from which a minutia keeps its own quality; below, it is scaled down
MIN_BLOCK_FACTOR = 0.1
RELIABLE = 0.5  # minutia quality (0..1) counted as reliable for the template quality
RELIABLE_FULL = 12  # fewer reliable minutiae than this and even a clear image makes a weak template


def extract(image: Any, dpi: float = TARGET_DPI) -> Template:
    """Minutiae template of `image` at `dpi` ppi; coordinates in the 500-ppi normalised image.

    Raises `ImageError` for input that is not an image.  An image without a finger yields an
    empty template of quality 0 (the caller decides whether to ask for another capture).
    """
    return extract_analysis(analyse(image, dpi))


def extract_analysis(analysis: Analysis) -> Template:
    """Template from an existing analysis (the capture screen already has one for quality)."""
    height, width = analysis.shape
    report = assess_analysis(analysis)
    if not analysis.has_finger or "no_finger" in report.flags:
        return Template(width=width, height=height, dpi=TARGET_DPI, minutiae=[], quality=0)
    raw = detect(analysis.skeleton, analysis.frequency, partial(_surroundings, analysis))
    raw = [m for m in raw if _block_value(report.block_map, m.y, m.x) >= MIN_BLOCK_QUALITY]
    _weigh_by_block(raw, sample(report.block_map, BLOCK, np.array([m.y for m in raw]), np.array([m.x for m in raw])))
    refine_directions(raw, analysis.orientation)
    minutiae: List[Minutia] = [
        Minutia(x=m.x, y=m.y, angle=public_angle(m.direction), kind=m.kind,
                quality=int(round(100 * min(1.0, max(0.0, m.quality)))))
        for m in raw
    ]
    reliable = sum(1 for m in raw if m.quality >= RELIABLE)
    # The image score ranks prints like NFIQ 2 does (Spearman 0.87 on FVC2002); a template with
    # few reliable minutiae is weak whatever the image looked like, so it scales the score down.
    quality = int(round(report.score * min(1.0, reliable / RELIABLE_FULL)))
    field = analysis.field
    centre = MAP_BLOCK // 2  # the ridge frequency (computed for the Gabor filters) at each map block's centre
    frequency = analysis.frequency[centre::MAP_BLOCK, centre::MAP_BLOCK]
    orientation = from_field(field.cos2, field.sin2, analysis.segmentation.mask, MAP_BLOCK // analysis.cell, frequency)
    return Template(width=width, height=height, dpi=TARGET_DPI, minutiae=minutiae, quality=quality,
                    orientation=orientation)


def _surroundings(analysis: Analysis, ys: np.ndarray, xs: np.ndarray) -> Surroundings:
    """The analysis's maps read at the candidates only (cheaper than building them per pixel)."""
    spectrum = analysis.spectrum
    return Surroundings(border=analysis.border_distance(ys, xs), cut=analysis.cut_distance(ys, xs),
                        coherence=sample(analysis.field.coherence, analysis.cell, ys, xs),
                        clarity=sample(spectrum.clarity, spectrum.step, ys, xs))


def _weigh_by_block(raw: List[RawMinutia], block_quality: np.ndarray) -> None:
    """Scale each minutia's quality by the block quality around it (`block_quality`, one value
    per minutia, interpolated between block centres).

    A minutia's own quality (orientation coherence × spectral clarity) rates a faint or smeared
    region as highly as a crisp one, because both can be regular; the block map also weighs the
    ridge wave's amplitude.  The matcher weighs pairs and overlap counts by minutia quality, so
    the spurious minutiae of a dry or wet patch count less against a genuine pair; on FVC2002
    this lowers the pooled mean EER, DB2 and DB3 most (docs/bench/extraction.md).
    """
    for m, value in zip(raw, block_quality.tolist()):
        m.quality *= min(1.0, max(MIN_BLOCK_FACTOR, value / TRUSTED_BLOCK))


def _block_value(block_map: np.ndarray, y: int, x: int) -> float:
    """Quality-map value at a 500-ppi pixel (the map has one value per 32-px block)."""
    return float(block_map[min(y // BLOCK, block_map.shape[0] - 1), min(x // BLOCK, block_map.shape[1] - 1)])
