"""Quality assessment: scores order real degradations, flags say what to fix, bad frames never crash."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage as ndi

from siaptui.biometrics.image import ImageError, load_image
from siaptui.biometrics.quality import FLAGS, QualityReport, assess
from siaptui.i18n import has


def _fvc(shared, db: str, name: str) -> np.ndarray:
    return load_image(shared / "data" / "fingerprints" / "fvc2002" / db / name)


@pytest.mark.parametrize(
    "frame",
    [
        np.full((290, 384), 255, np.uint8),
        np.zeros((290, 384), np.uint8),
        np.full((290, 384), 128, np.uint8),
        np.zeros((10, 10), np.uint8),
        np.zeros((1, 400), np.uint8),
    ],
    ids=["blank", "black", "grey", "tiny", "one-row"],
)
def test_frames_without_a_finger(frame: np.ndarray) -> None:
    report = assess(frame)
    assert isinstance(report, QualityReport)
    assert "no_finger" in report.flags
    assert report.score == 0
    assert report.center is None
    assert report.block_map.dtype == np.float32 and float(report.block_map.max(initial=0.0)) == 0.0


@pytest.mark.parametrize("bad", [np.full((64, 64), np.nan), np.zeros((2, 3, 4, 5)), np.zeros((64, 64), bool), "frame"])
def test_non_images_raise_image_error(bad) -> None:
    with pytest.raises(ImageError):
        assess(bad)


def test_report_shape_and_ranges(shared) -> None:
    image = _fvc(shared, "DB1_B", "101_1.tif")
    report = assess(image)
    assert 0 < report.score <= 100
    assert report.block_size == 32
    assert report.block_map.shape == (-(-image.shape[0] // 32), -(-image.shape[1] // 32))
    assert report.block_map.dtype == np.float32
    assert 0.0 <= float(report.block_map.min()) and float(report.block_map.max()) <= 1.0
    assert 0.0 < report.foreground_ratio < 1.0
    assert report.flags <= set(FLAGS)
    x, y = report.center
    assert 0 <= x < image.shape[1] and 0 <= y < image.shape[0]
    again = assess(image)  # deterministic
    assert (again.score, again.flags, again.center) == (report.score, report.flags, report.center)
    assert np.array_equal(again.block_map, report.block_map)
    for key in report.hints():
        assert has(key)


def test_block_size_follows_the_input_resolution(shared) -> None:
    image = _fvc(shared, "DB2_B", "101_1.tif")
    report = assess(image, 569)
    assert report.block_size == round(32 * 569 / 500)
    assert report.score > 0


@pytest.mark.parametrize("name", ["101_1.tif", "104_2.tif"])
def test_degraded_copies_score_lower(shared, name: str) -> None:
    image = _fvc(shared, "DB1_B", name)
    good = assess(image).score
    blurred = assess(ndi.gaussian_filter(image.astype(float), 3.0).astype(np.uint8)).score
    faded = assess((255 - (255 - image.astype(float)) * 0.15).astype(np.uint8)).score
    noisy_rng = np.random.default_rng(7)
    noisy = assess(np.clip(image + noisy_rng.normal(0, 60, image.shape), 0, 255).astype(np.uint8)).score
    assert blurred < good
    assert faded < good
    assert noisy < good


def test_flags_for_placement_and_pressure(shared) -> None:
    image = _fvc(shared, "DB1_B", "101_1.tif")
    # Finger pushed into a corner of a bigger frame.
    frame = np.full((image.shape[0] * 2, image.shape[1] * 2), 255, np.uint8)
    frame[: image.shape[0], : image.shape[1]] = image
    assert "off_center" in assess(frame).flags
    # Only a small patch of the print on the sensor.
    patch = np.full_like(image, 255)
    patch[150:240, 150:240] = image[150:240, 150:240]
    small = assess(patch)
    assert "too_small" in small.flags and small.score < assess(image).score
    # Light touch: ridges faded towards white.
    light = (255 - (255 - image.astype(float)) * 0.25).astype(np.uint8)
    assert "too_light" in assess(light).flags
    # Wet / pressed: everything dark.
    dark = (image.astype(float) * 0.25).astype(np.uint8)
    assert "too_dark" in assess(dark).flags


def test_blurred_print_is_flagged_smudged(shared) -> None:
    image = _fvc(shared, "DB4_B", "101_1.tif")
    # Defocus or a smeared print: the finger is there, its ridges are not clear.
    blurred = ndi.gaussian_filter(image.astype(float), 3.0).astype(np.uint8)
    report = assess(blurred)
    assert "smudged" in report.flags and "no_finger" not in report.flags
    assert report.score < assess(image).score


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        dtype=st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64]),
        shape=st.tuples(st.integers(1, 90), st.integers(1, 90)),
    ),
    st.sampled_from([500, 569, 1000, 250]),
)
def test_any_numeric_frame_gives_a_report_or_image_error(frame: np.ndarray, dpi: int) -> None:
    from siaptui.biometrics.extract import extract

    for call in (assess, extract):
        try:
            result = call(frame, dpi)
        except ImageError:
            continue
        if call is assess:
            assert 0 <= result.score <= 100 and result.flags <= set(FLAGS)


def test_a_finger_pushed_up_past_its_core_is_off_center_but_an_arch_placed_right_is_not() -> None:
    """A capture whose core lies beyond the top of the reader shares little with a well-placed
    one: the score halves and the clerk is told to centre the finger.  An arch has no core at
    all; placed right (its fingertip inside the frame) it keeps its score, so it can be enrolled."""
    from siaptui import synth

    arch = synth.master(21)
    loop = synth.master(3)
    assert (arch.pattern, loop.pattern) == ("arch", "left_loop")
    placed = {"dx": 0, "rotation": 0, "shift_y": 0}
    arch_right = assess(synth.impression(arch, 0, dy=0, **placed))
    arch_high = assess(synth.impression(arch, 0, dy=-100, **placed))
    assert "off_center" not in arch_right.flags and arch_right.score >= 50
    assert "off_center" in arch_high.flags and arch_high.score < 0.6 * arch_right.score
    # A loop pushed up as far still shows its core: no penalty.
    assert "off_center" not in assess(synth.impression(loop, 0, dy=-100, **placed)).flags
