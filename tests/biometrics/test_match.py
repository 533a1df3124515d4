"""The calibrated 1:1 matcher: invariances, partial overlap, distortion, calibration, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from siaptui.bench.calibrate import calibration_knots
from siaptui.biometrics.match import THRESHOLDS, Matcher, calibrate, calibrate_many, match
from siaptui.biometrics.match_prepare import prepare
from siaptui.biometrics.template import Minutia, Template

from .engine_helpers import moved, random_template


@pytest.fixture(scope="module")
def finger() -> Template:
    return random_template(7)


def test_thresholds_are_ordered_and_calibration_monotonic() -> None:
    assert THRESHOLDS["fmr_1"] < THRESHOLDS["fmr_0.1"] < THRESHOLDS["fmr_0.01"]
    raw = np.linspace(0, 1, 200)
    cal = calibrate_many(raw)
    assert np.all(np.diff(cal) >= 0) and cal[0] == 0


@pytest.mark.parametrize("mapped", [True, False])
def test_one_score_is_calibrated_as_many_are(mapped: bool) -> None:
    raw = np.concatenate([np.linspace(-0.01, 0.2, 500), [0.0, 0.0166, 0.08069]])
    many = calibrate_many(raw, mapped)
    assert [calibrate(float(r), mapped) for r in raw] == pytest.approx(list(many), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("turn", [0.0, 0.6, math.pi / 2, math.pi, -2.5])
def test_any_rotation_and_translation_still_matches(finger: Template, turn: float) -> None:
    copy = moved(finger, turn, (35.0, -50.0), seed=1, jitter=2.0)
    assert match(finger, copy) >= THRESHOLDS["fmr_0.01"]


def test_partial_overlap_and_elastic_distortion_still_match(finger: Template) -> None:
    half = moved(finger, 0.4, (10.0, 20.0), seed=2, jitter=2.0, keep=(0, 200))
    assert len(half.minutiae) < len(finger.minutiae) * 0.75
    assert match(finger, half) >= THRESHOLDS["fmr_0.1"]
    bent = moved(finger, -1.0, (0.0, 0.0), seed=3, jitter=2.5, elastic=0.08)
    assert match(finger, bent) >= THRESHOLDS["fmr_0.1"]


def test_different_fingers_stay_below_the_1_percent_threshold(finger: Template) -> None:
    scores = [match(finger, random_template(100 + k)) for k in range(20)]
    assert max(scores) < THRESHOLDS["fmr_1"]


def test_same_finger_scores_far_above_different_fingers(finger: Template) -> None:
    genuine = match(finger, moved(finger, 2.0, (5.0, 5.0), seed=4, jitter=3.0))
    impostor = match(finger, random_template(99))
    assert genuine > impostor + 20


def test_matcher_prepares_once_and_agrees_with_match(finger: Template) -> None:
    other = moved(finger, 1.0, (0.0, 0.0), seed=5, jitter=2.0)
    matcher = Matcher(finger)
    assert matcher.match(other) == pytest.approx(match(finger, other))
    assert matcher.match(prepare(other)) == pytest.approx(match(finger, other))


def test_resolution_is_normalised_to_500_ppi(finger: Template) -> None:
    same_at_1000 = moved(finger, 0.3, (0.0, 0.0), scale=2.0)
    assert same_at_1000.dpi == 1000
    assert match(finger, same_at_1000) >= THRESHOLDS["fmr_0.01"]


@pytest.mark.parametrize("count", [0, 1, 3])
def test_empty_or_tiny_templates_score_zero(finger: Template, count: int) -> None:
    tiny = Template(width=100, height=100, minutiae=finger.minutiae[:count])
    assert match(finger, tiny) == 0.0
    assert match(tiny, tiny) == 0.0


def test_collinear_minutiae_do_not_crash() -> None:
    line = Template(width=300, height=300, minutiae=[Minutia(10.0 + 20 * i, 50.0, 0.0) for i in range(12)])
    assert match(line, line) >= 0.0


def test_calibration_knots_from_impostors() -> None:
    rng = np.random.default_rng(0)
    impostors = rng.exponential(0.02, size=5000)
    knots = calibration_knots(impostors)
    raws = [r for r, _ in knots]
    assert knots[0] == (0.0, 0.0) and all(b > a for a, b in zip(raws, raws[1:]))
    # 1 % of impostors reach the FMR-1 % knot (within sampling error).
    fmr_1 = dict((c, r) for r, c in knots)[20.0]
    assert np.mean(impostors >= fmr_1) == pytest.approx(0.01, abs=0.003)
    with pytest.raises(ValueError):
        calibration_knots([0.1] * 10)


def test_real_fingers_from_fvc(shared) -> None:
    """Two impressions of one FVC finger score above both against another finger."""
    from siaptui.biometrics.extract import extract
    from siaptui.biometrics.image import load_image

    folder = shared / "data" / "fingerprints" / "fvc2002" / "DB1_B"
    a, b, c = (extract(load_image(folder / name)) for name in ("102_1.tif", "102_2.tif", "105_1.tif"))
    genuine = match(a, b)
    assert genuine >= THRESHOLDS["fmr_1"]
    assert genuine > match(a, c) and genuine > match(b, c)


def test_a_small_overlap_counts_only_what_both_impressions_saw(shared) -> None:
    """A crop of a quarter of an impression still matches the whole of another: the minutiae
    of the whole print that lie off the crop's finger do not count against the pair."""
    from siaptui.biometrics.extract import extract
    from siaptui.biometrics.image import load_image
    from siaptui.biometrics.match_core import candidate_features

    folder = shared / "data" / "fingerprints" / "fvc2002" / "DB1_B"
    whole, other = load_image(folder / "102_1.tif"), load_image(folder / "102_2.tif")
    rows, cols = other.shape
    crop = extract(np.ascontiguousarray(other[rows // 4: rows // 4 + rows // 2, cols // 4: cols // 4 + cols // 2]))
    full = extract(whole)
    assert match(full, crop) >= THRESHOLDS["fmr_0.1"]
    found = candidate_features(prepare(full), prepare(crop))[0]  # the similarity search's winner
    assert found.near_a < 0.75 * float(prepare(full).weight.sum())  # most of the whole print is outside


def test_the_flow_that_ranks_alignments_is_the_one_the_score_checks(shared, monkeypatch) -> None:
    """The guided search ranks 64 alignments at once by flow agreement; on all of A's blocks
    that ranking must be exactly `map_agreement`'s flow, which the score then uses."""
    from siaptui.biometrics import match_core
    from siaptui.biometrics.extract import extract
    from siaptui.biometrics.image import load_image

    folder = shared / "data" / "fingerprints" / "fvc2002" / "DB1_B"
    a, b = (prepare(extract(load_image(folder / name))) for name in ("102_1.tif", "102_2.tif"))
    monkeypatch.setattr(match_core, "GUIDE_POINTS", 10_000)
    rng = np.random.default_rng(3)
    rot, tx, ty = rng.uniform(-1.5, 1.5, 40), rng.uniform(-150, 150, 40), rng.uniform(-150, 150, 40)
    ranked = match_core._flows(a, b, rot, tx, ty)
    checked = [match_core.map_agreement(a, b, (r, x, y)).flow for r, x, y in zip(rot, tx, ty)]
    assert np.allclose(ranked, checked, atol=1e-5)


def test_impressions_sharing_little_area_are_aligned_by_their_flow(shared, monkeypatch) -> None:
    """DB1 110_5 and 110_6 share a strip of the finger: each shared minutia has other
    neighbours in each, so their true pairs rank below chance ones and sixteen local-similarity
    hypotheses miss that alignment; the flow-guided search finds it."""
    from siaptui.biometrics import match_core
    from siaptui.biometrics.extract import extract
    from siaptui.biometrics.image import load_image

    folder = shared / "data" / "fingerprints" / "fvc2002" / "DB1_B"
    a, b = (prepare(extract(load_image(folder / name))) for name in ("110_5.tif", "110_6.tif"))
    assert Matcher(a).match(b) >= THRESHOLDS["fmr_1"]
    monkeypatch.setattr(match_core, "GUIDE_KEEP", 0)  # the search without the flow's guidance
    monkeypatch.setattr(match_core, "MAPPED_HYPOTHESES", 16)
    assert Matcher(a).match(b) < THRESHOLDS["fmr_1"] / 2


def test_a_guided_alignment_pairing_a_handful_of_minutiae_does_not_count(monkeypatch) -> None:
    """Two different synthetic thumbs: the guided search finds an alignment pairing a handful of
    minutiae where the flows happen to agree, which alone would score near the FMR 0.1 %
    threshold: enough, with a few more such fingers, for a false ghost alarm."""
    from siaptui import synth
    from siaptui.biometrics import match_core
    from siaptui.biometrics.extract import extract

    a, b = (prepare(extract(synth.finger_image(person, 1, 0), dpi=synth.DPI)) for person in (70012, 70017))
    assert Matcher(a).match(b) < THRESHOLDS["fmr_1"] / 2
    monkeypatch.setattr(match_core, "GUIDE_MIN_PAIRED", 0)
    assert Matcher(a).match(b) >= THRESHOLDS["fmr_1"]
