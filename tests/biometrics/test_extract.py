"""Minutiae extraction: counts on real prints, the direction convention, determinism, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage as ndi

from siaptui.biometrics.analysis import analyse
from siaptui.biometrics.extract import extract, extract_analysis
from siaptui.biometrics.image import ImageError, load_image
from siaptui.biometrics.orientation import sample, upsample


def spiral(angle: float, ending: bool = False, size: int = 256, period: float = 9.0,
           amplitude: float = 90.0) -> np.ndarray:
    """Parallel ridges with one minutia at the centre whose direction is `angle` (public convention).

    A phase spiral adds one ridge on the side the minutia points to, whichever its kind; a phase
    shift of π swaps ridges and valleys, turning the bifurcation into an ending.
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    dx, dy = xx - size / 2, -(yy - size / 2)  # y up: counter-clockwise angles
    along = dx * math.cos(angle) + dy * math.sin(angle)
    across = -dx * math.sin(angle) + dy * math.cos(angle)
    phase = 2 * math.pi * across / period + np.arctan2(across, along) + (math.pi if ending else 0.0)
    return np.clip(128 + amplitude * np.cos(phase), 0, 255).astype(np.uint8)


def _angle_error(a: float, b: float) -> float:
    d = (a - b) % (2 * math.pi)
    return min(d, 2 * math.pi - d)


@pytest.mark.parametrize("angle", [0.0, math.pi / 2, 3 * math.pi / 4, 4.0])
@pytest.mark.parametrize("ending", [False, True])
def test_direction_convention_on_synthetic_minutia(angle: float, ending: bool) -> None:
    template = extract(spiral(angle, ending))
    near = [m for m in template.minutiae if math.hypot(m.x - 128, m.y - 128) < 12]
    assert len(near) == 1, template.minutiae
    minutia = near[0]
    assert minutia.kind == ("ending" if ending else "bifurcation")
    assert _angle_error(minutia.angle, angle) < math.radians(15)
    assert 0.0 <= minutia.angle < 2 * math.pi


def _fvc(shared, db: str, name: str):
    return load_image(shared / "data" / "fingerprints" / "fvc2002" / db / name)


@pytest.mark.parametrize("db,dpi", [("DB1_B", 500), ("DB2_B", 569), ("DB3_B", 500), ("DB4_B", 500)])
def test_fvc_images_give_plausible_templates(shared, db: str, dpi: int) -> None:
    image = _fvc(shared, db, "101_1.tif")
    template = extract(image, dpi)
    assert template.dpi == 500
    assert (template.height, template.width) == (round(image.shape[0] * 500 / dpi), round(image.shape[1] * 500 / dpi))
    assert 20 <= len(template.minutiae) <= 120
    assert 0 < template.quality <= 100
    for m in template.minutiae:
        assert 0 <= m.x < template.width and 0 <= m.y < template.height
        assert 0.0 <= m.angle < 2 * math.pi
        assert m.kind in ("ending", "bifurcation")
        assert 0 <= m.quality <= 100


def test_extraction_is_deterministic_and_shares_the_analysis(shared) -> None:
    image = _fvc(shared, "DB3_B", "102_3.tif")
    first, second = extract(image), extract(image.copy())
    assert first == second
    analysis = analyse(image)
    assert extract_analysis(analysis) == first
    for name in ("mask", "orientation", "frequency", "enhanced", "skeleton"):
        assert getattr(analysis, name).shape == image.shape


def test_point_measurements_equal_the_full_maps(shared) -> None:
    # The extractor samples border distance, coherence and clarity only at its minutiae; the
    # values must be those of the whole-frame maps it replaced (distance transform, upsampling).
    analysis = analyse(_fvc(shared, "DB1_B", "101_1.tif"))
    rng = np.random.default_rng(3)
    ys = rng.integers(0, analysis.shape[0], 400)
    xs = rng.integers(0, analysis.shape[1], 400)
    full = ndi.distance_transform_edt(np.pad(analysis.mask, 1))[1:-1, 1:-1]
    assert np.allclose(analysis.border_distance(ys, xs), full[ys, xs], atol=1e-4)
    for grid, cell in ((analysis.field.coherence, analysis.cell), (analysis.spectrum.clarity, analysis.spectrum.step)):
        assert np.allclose(sample(grid, cell, ys, xs), upsample(grid, analysis.shape, cell)[ys, xs], atol=1e-6)


def test_same_minutia_on_faint_ridges_weighs_less() -> None:
    # A faint ridge wave (dry finger, light touch) is as regular as a crisp one, so only the block
    # quality map tells the matcher to trust its minutiae less.
    def centre_quality(amplitude: float) -> int:
        template = extract(spiral(1.0, amplitude=amplitude))
        near = [m for m in template.minutiae if math.hypot(m.x - 128, m.y - 128) < 12]
        assert len(near) == 1, template.minutiae
        return near[0].quality

    assert centre_quality(10.0) < 0.8 * centre_quality(90.0)


def test_blurred_copy_has_lower_template_quality(shared) -> None:
    """Blur hides ridge endings; the template says so through its quality (the capture screen
    asks for another impression), and the quality assessment flags the frame."""
    from siaptui.biometrics.quality import assess

    image = _fvc(shared, "DB1_B", "103_1.tif")
    sharp = extract(image)
    blurred_image = ndi.gaussian_filter(image.astype(float), 4.0).astype(np.uint8)
    blurred = extract(blurred_image)
    assert blurred.quality < sharp.quality - 15
    report = assess(blurred_image)
    assert report.score < assess(image).score / 2 and "smudged" in report.flags


@pytest.mark.parametrize(
    "image",
    [np.full((300, 300), 255, np.uint8), np.zeros((300, 300), np.uint8),
     np.random.default_rng(1).integers(0, 255, (300, 300)).astype(np.uint8)],
    ids=["blank", "black", "noise"],
)
def test_no_finger_gives_an_empty_template(image: np.ndarray) -> None:
    template = extract(image)
    assert template.minutiae == [] or len(template.minutiae) < 5
    assert template.quality < 20


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.full((64, 64), np.nan),
                                 np.zeros((3, 64, 64), np.uint8), np.zeros((64, 64), bool)])
def test_bad_images_raise_image_error(bad) -> None:
    with pytest.raises(ImageError):
        extract(bad)


def test_concurrent_extractions_agree_with_sequential(shared) -> None:
    """The capture screen extracts in worker threads; the shared filter cache must not mix them."""
    import threading

    images = [_fvc(shared, "DB4_B", "101_1.tif"), _fvc(shared, "DB3_B", "101_1.tif")]
    expected = [extract(image) for image in images]
    results: dict = {}

    def work(key: int) -> None:
        results[key] = [extract(image) for image in images]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[k] == expected for k in range(2))


def test_a_flat_frame_cuts_the_print_and_keeps_minutiae_away(shared) -> None:
    # The U.are.U 4000's trapezoid: beyond its sides the sensor shows no signal (flat white),
    # so those sides cut the print; minutiae keep CUT_BORDER ridge periods from them.
    from siaptui.biometrics.minutiae import CUT_BORDER

    image = load_image(shared / "data" / "fingerprints" / "fvc2004-uru-dev" / "DB2_B" / "101_1.tif")
    analysis = analyse(image)
    ys, xs = np.nonzero(analysis.mask)
    near = analysis.cut_distance(ys, xs) < 10
    assert near.any()
    width = analysis.shape[1]
    assert ((xs[near] < 0.25 * width) | (xs[near] > 0.75 * width)).all()  # the frame's sides
    template = extract_analysis(analysis)
    cut = analysis.cut_distance(np.array([m.y for m in template.minutiae]), np.array([m.x for m in template.minutiae]))
    assert cut.min() >= CUT_BORDER * 6  # ridge periods are ≥ 6 px at 500 ppi


def test_a_finger_edge_on_live_glass_is_not_a_cut(shared) -> None:
    # A capacitive sensor's background carries its noise: no cut anywhere, the plain edge rule.
    analysis = analyse(_fvc(shared, "DB3_B", "101_1.tif"))
    ys, xs = np.nonzero(analysis.mask)
    assert np.isinf(analysis.cut_distance(ys, xs)).all()
