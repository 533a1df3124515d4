"""Synthetic fingers: deterministic, shaped like real prints, and telling fingers apart."""

from __future__ import annotations

import numpy as np
import pytest

from siaptui import synth
from siaptui.synth import fields as synth_fields


def _poincare(orientation: np.ndarray, x: float, y: float, radius: float = 14.0) -> float:
    """Poincaré index of the orientation field on a circle (+0.5 core, -0.5 delta)."""
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    xs = np.rint(x + radius * np.cos(angles)).astype(int)
    ys = np.rint(y + radius * np.sin(angles)).astype(int)
    theta = orientation[ys, xs].astype(np.float64)
    steps = np.diff(np.append(theta, theta[0]))
    steps = (steps + np.pi / 2) % np.pi - np.pi / 2  # orientations are modulo π
    return float(steps.sum() / (2 * np.pi))


def test_same_arguments_give_the_same_pixels() -> None:
    first = synth.finger_image(1001, 2, 3)
    synth.master.cache_clear()
    again = synth.finger_image(1001, 2, 3)
    assert first.dtype == np.uint8 and first.shape == (400, 300)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, synth.finger_image(1001, 2, 4))
    assert not np.array_equal(first, synth.finger_image(1001, 7, 3))


def test_images_have_dark_ridges_on_a_light_background() -> None:
    image = synth.finger_image(7, 1, 0).astype(float)
    border = np.concatenate([image[:8].ravel(), image[-8:].ravel()])
    centre = image[150:250, 100:200]
    assert border.mean() > 180  # light background like an optical scanner
    assert centre.mean() < border.mean() - 40  # the finger is darker
    assert centre.std() > 35  # and has ridge/valley contrast


def test_class_frequencies_follow_the_natural_distribution() -> None:
    rng = np.random.default_rng(0)
    drawn = [synth_fields.pick_class(rng) for _ in range(4000)]
    for name, expected in synth_fields.CLASS_FREQUENCIES:
        assert abs(drawn.count(name) / len(drawn) - expected) < 0.025, name


@pytest.mark.parametrize("pattern,cores,deltas", [
    ("arch", 0, 0), ("tented_arch", 1, 1), ("left_loop", 1, 1), ("right_loop", 1, 1), ("whorl", 2, 2),
])
def test_singular_points_per_class(pattern: str, cores: int, deltas: int) -> None:
    c, d = synth_fields.singular_points(np.random.default_rng(1), pattern, (176.0, 224.0))
    assert (len(c), len(d)) == (cores, deltas)
    if pattern == "left_loop":
        assert d[0][0] > c[0][0]  # delta on the right of the core
    if pattern == "right_loop":
        assert d[0][0] < c[0][0]


def test_orientation_field_has_a_core_and_a_delta_where_placed() -> None:
    rng = np.random.default_rng(5)
    cores, deltas = synth_fields.singular_points(rng, "right_loop", (176.0, 224.0))
    field = synth_fields.orientation_field(rng, synth.MASTER_SHAPE, "right_loop", cores, deltas)
    assert _poincare(field, *cores[0]) == pytest.approx(0.5, abs=0.01)
    assert _poincare(field, *deltas[0]) == pytest.approx(-0.5, abs=0.01)
    assert _poincare(field, 40.0, 40.0) == pytest.approx(0.0, abs=0.01)  # no singularity far away


def test_master_fields_stay_in_natural_ranges() -> None:
    finger = synth.master(12345)
    assert finger.pattern in dict(synth_fields.CLASS_FREQUENCIES)
    assert finger.period.min() >= 7.0 and finger.period.max() <= 12.0
    assert -1.0 <= finger.ridges.min() < -0.5 and 0.5 < finger.ridges.max() <= 1.0
    # Ridges follow the period: about half the canvas is ridge, half valley.
    assert 0.35 < float((finger.ridges > 0).mean()) < 0.65
    assert not finger.ridges.flags.writeable  # cached masters are shared: read-only


def test_troubles_change_the_image_the_way_their_names_say() -> None:
    normal = synth.finger_image(1002, 2, 1)
    assert synth.finger_image(1002, 2, 1, "pressure").mean() < normal.mean() - 20  # ridges merge
    assert synth.finger_image(1002, 2, 1, "dry").mean() > normal.mean() + 5  # broken, thin ridges
    light = synth.finger_image(1002, 2, 1, "light")
    assert np.percentile(light, 1) > np.percentile(normal, 1) + 60  # washed-out ridges
    off = synth.finger_image(1002, 2, 1, "off_center")
    ys, xs = np.nonzero(off < 150)
    assert np.hypot(xs.mean() - 150, ys.mean() - 200) > 60
    with pytest.raises(ValueError):
        synth.finger_image(1002, 2, 1, "sticky")


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        synth.finger_image(1, 11, 0)
    with pytest.raises(ValueError):
        synth.finger_image(-1, 2, 0)
    with pytest.raises(TypeError):
        synth.impression(synth.master(3), 0, wobble=2)
    with pytest.raises(ValueError):
        synth.impression(synth.master(3), 0, profile="lab")


def test_uru_profile_draws_the_window_and_moves_the_finger_far() -> None:
    """The U.are.U's trapezoid (light, ridge-free corners at the top, none at the bottom) and
    impressions of one finger that land far apart, some wet and some dry."""
    from siaptui.synth.press import Pressing

    finger = synth.master(synth.finger_seed(31, 2))
    image = synth.impression(finger, 0, profile="uru").astype(float)
    top_corner, bottom_corner = image[:40, :8], image[-40:, :8]
    assert top_corner.mean() > 245 and top_corner.std() < 4  # outside the window
    assert bottom_corner.mean() < 240  # the window reaches the bottom corners
    drawn = [Pressing.natural(np.random.default_rng(n), "uru") for n in range(300)]
    assert all(p.frame == 1.0 for p in drawn)
    spread = np.std([p.dy + p.shift_y for p in drawn])
    office = np.std([p.dy + p.shift_y for p in (Pressing.natural(np.random.default_rng(n)) for n in range(300))])
    assert spread > 2.5 * office
    assert sum(p.pressure > 0.4 for p in drawn) > 60 and sum(p.dryness > 0.35 for p in drawn) > 60


def test_engine_matches_same_finger_and_separates_others() -> None:
    """Two impressions of a finger score above every different-finger pair (our engine)."""
    from siaptui.biometrics import match as match_module
    from siaptui.biometrics.extract import extract

    templates = {(p, i): extract(synth.finger_image(p, 2, i)) for p in (1001, 1002, 1003) for i in (0, 1)}
    genuine = [match_module.match(templates[(p, 0)], templates[(p, 1)]) for p in (1001, 1002, 1003)]
    impostor = [match_module.match(templates[(a, 0)], templates[(b, 1)])
                for a in (1001, 1002, 1003) for b in (1001, 1002, 1003) if a != b]
    assert min(genuine) > max(impostor)
    assert min(genuine) >= match_module.THRESHOLDS["fmr_0.1"]


def test_bench_synth_writes_an_fvc_style_set_and_reports_the_accuracy_keys(tmp_path, capsys) -> None:
    """`siaptui bench synth --json`: one JSON object with bench accuracy's keys plus its own."""
    import json

    from siaptui.cli import main

    out = tmp_path / "set"
    code = main(["bench", "synth", "--fingers", "3", "--impressions", "2", "--seed", "7",
                 "--out", str(out), "--no-reference", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("dataset", "images", "genuine", "impostor", "eer", "fmr100", "fmr1000", "zero_fmr",
                "eer_fvc45", "extract_ms_median", "match_us_mean", "fingers", "quality_median",
                "generate_ms_median"):
        assert key in result, key
    assert result["images"] == 6 and result["genuine"] == 3 and result["impostor"] == 12
    assert sorted(p.name for p in out.glob("*.png"))[:2] == ["101_1.png", "101_2.png"]
    from siaptui.bench.evaluate import dataset_dpi

    assert dataset_dpi(out) == 500
    assert result["genuine_scores"]["p50"] > result["impostor_scores"]["p95"]


def test_bench_synth_takes_the_uru_profile(tmp_path, capsys) -> None:
    import json

    from siaptui.cli import main

    out = tmp_path / "uru"
    assert main(["bench", "synth", "--fingers", "2", "--impressions", "2", "--profile", "uru",
                 "--out", str(out), "--no-reference", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["profile"] == "uru" and result["dataset"].startswith("synth-uru")
    assert "profile = uru" in (out / "DATASET.toml").read_text(encoding="utf-8")


def test_bench_synth_refuses_a_useless_size(capsys) -> None:
    from siaptui.cli import main

    assert main(["bench", "synth", "--fingers", "1", "--no-reference"]) == 1
    assert "Use al menos 2 dedos" in capsys.readouterr().err


def test_fingers_of_one_person_share_nothing_more_than_two_persons_fingers() -> None:
    """Each finger is its own draw: a person's ten masters are no more alike in ridges or flow
    than the same fingers of another person (docs/bench/synth.md, "Known gaps")."""
    def ridge_correlation(a: synth.Master, b: synth.Master) -> float:
        return float(abs(np.corrcoef(a.ridges.ravel(), b.ridges.ravel())[0, 1]))

    one = [synth.master(synth.finger_seed(1002, f)) for f in range(1, 11)]
    other = [synth.master(synth.finger_seed(1003, f)) for f in range(1, 11)]
    assert len({m.seed for m in one + other}) == 20
    within = [ridge_correlation(a, b) for i, a in enumerate(one) for b in one[i + 1:]]
    across = [ridge_correlation(a, b) for a in one for b in other]
    assert max(within) < 0.1 and max(across) < 0.1
    assert np.mean(within) < 2 * np.mean(across)


def test_a_defect_pair_puts_two_minutiae_a_short_way_apart_into_straight_ridges() -> None:
    """The grower's minutiae nothing forces: one dipole in plain stripes gives our extractor two
    minutiae close together (a short ridge, an island or a spur), or none when they land too
    close for it to keep; plain stripes give none."""
    from siaptui.biometrics.extract import extract
    from siaptui.synth import ridges

    ys = np.mgrid[0:360, 0:320][0].astype(np.float64)
    stripes = np.cos(2 * np.pi * ys / 8.5).astype(np.float32)
    flow, period = np.zeros(stripes.shape, np.float32), np.full(stripes.shape, 8.5, np.float32)

    def minutiae(ridge_map: np.ndarray) -> list:
        return extract((127 - 100 * ridge_map).astype(np.uint8), dpi=synth.DPI).minutiae

    assert minutiae(stripes) == []
    pairs = [minutiae(ridges._set_defects(np.random.default_rng(seed), stripes, flow, period, 1)) for seed in range(8)]
    assert all(len(found) in (0, 2) for found in pairs)
    two = [found for found in pairs if len(found) == 2]
    assert len(two) >= 6
    for a, b in two:
        assert np.hypot(a.x - b.x, a.y - b.y) <= ridges.DEFECT_LENGTH[1] + 10
