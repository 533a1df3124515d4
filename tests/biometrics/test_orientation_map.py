"""The orientation and ridge-period map a template carries, and the matcher's check with it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from siaptui.biometrics.analysis import analyse
from siaptui.biometrics.extract import extract
from siaptui.biometrics.match import Matcher, calibrate
from siaptui.biometrics.match_core import map_agreement, raw_score
from siaptui.biometrics.match_prepare import prepare
from siaptui.biometrics.orientation_map import BLOCK, OrientationMap, from_field
from siaptui.biometrics.template import Template

from .engine_helpers import random_template


def _stripes(degrees: float, size: int = 256, period: float = 9.0) -> np.ndarray:
    """Ridges running at `degrees` counter-clockwise on screen from +x (y grows downwards)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    a = math.radians(degrees)
    across = -x * math.sin(a) - y * math.cos(a)  # distance across ridges running along (cos a, -sin a)
    return (128 + 90 * np.cos(2 * math.pi * across / period)).astype(np.uint8)


def _uniform(code: int, rows: int = 12, cols: int = 12, period: int = 90) -> OrientationMap:
    full = np.full((rows, cols), 255, np.uint8)
    return OrientationMap(np.full((rows, cols), code, np.uint8), full, np.full((rows, cols), period, np.uint8))


@pytest.mark.parametrize("degrees", [0.0, 30.0, 90.0, 135.0])
def test_map_reads_the_ridge_direction_in_the_public_convention(degrees: float) -> None:
    analysis = analyse(_stripes(degrees), 500)
    field = analysis.field
    found = from_field(field.cos2, field.sin2, np.ones_like(field.coherence, dtype=bool), BLOCK // analysis.cell)
    inner = found.angle[3:-3, 3:-3].astype(np.float64) * 180 / 256
    gap = np.abs((inner - degrees + 90) % 180 - 90)
    assert float(np.median(gap)) < 3
    assert int(found.strength[3:-3, 3:-3].min()) > 150


def test_agreement_is_one_for_the_same_flow_and_minus_one_across_it() -> None:
    a = prepare(Template(192, 192, 500, random_template(1, size=192).minutiae, 50, _uniform(0)))
    across = prepare(Template(192, 192, 500, [], 0, _uniform(128)))  # 90° away
    assert map_agreement(a, a, (0.0, 0.0, 0.0)).flow == pytest.approx(1.0)
    assert map_agreement(a, across, (0.0, 0.0, 0.0)).flow == pytest.approx(-1.0, abs=1e-3)
    # Turning the second print by 90° (B onto A) makes its flow agree again.
    assert map_agreement(a, across, (math.pi / 2, 0.0, -192.0)).flow == pytest.approx(1.0, abs=1e-3)


def test_no_common_area_means_no_agreement() -> None:
    a = prepare(Template(192, 192, 500, [], 0, _uniform(10)))
    assert map_agreement(a, a, (0.0, 5000.0, 0.0)) == (0.0, 0.0)


def test_period_gap_is_the_log_ratio_of_the_ridge_spacings() -> None:
    nine = prepare(Template(192, 192, 500, [], 0, _uniform(0, period=90)))
    ten = prepare(Template(192, 192, 500, [], 0, _uniform(0, period=100)))
    assert map_agreement(nine, nine, (0.0, 0.0, 0.0)).period_gap == pytest.approx(0.0)
    assert map_agreement(nine, ten, (0.0, 0.0, 0.0)).period_gap == pytest.approx(math.log(10 / 9), abs=1e-5)
    # A map without periods (a version-2 record) leaves the gap unscored.
    flow_only = OrientationMap(np.zeros((12, 12), np.uint8), np.full((12, 12), 255, np.uint8))
    old = prepare(Template(192, 192, 500, [], 0, flow_only))
    assert map_agreement(nine, old, (0.0, 0.0, 0.0)) == (pytest.approx(1.0), 0.0)


def test_map_reads_the_ridge_period() -> None:
    template = extract(_stripes(30.0, size=320, period=11.0))
    periods = template.orientation.periods()
    inner = periods[4:-4, 4:-4]
    assert float(np.nanmedian(inner)) == pytest.approx(11.0, rel=0.05)  # the spectral estimate's resolution


def test_moved_map_follows_its_minutiae(shared) -> None:
    """`bench speed` moves templates rigidly; the map must move with the minutiae, so a moved
    copy still agrees with its source under the true alignment."""
    template = extract(_load(shared, "DB1_B", "101_1.tif"))
    turn, shift, centre = 0.7, (12.0, -20.0), (template.width / 2, template.height / 2)
    moved = template.orientation.moved(turn, shift, centre)
    # B (moved) onto A (source) in the y-up frame: rotate by -turn about the moved centre.
    c, s = math.cos(-turn), math.sin(-turn)
    bx, by = centre[0] + shift[0], -(centre[1] + shift[1])
    tx, ty = centre[0] - (c * bx - s * by), -centre[1] - (s * bx + c * by)
    a = prepare(template)
    b = prepare(Template(template.width, template.height, 500, [], 0, moved))
    assert map_agreement(a, b, (-turn, tx, ty)).flow > 0.9
    assert map_agreement(a, b, (-turn, tx, ty)).period_gap < 0.02  # the periods moved too
    assert map_agreement(a, b, (0.0, 0.0, 0.0)).flow < 0.7


def _load(shared, db: str, name: str) -> np.ndarray:
    from siaptui.biometrics.image import load_image

    return load_image(shared / "data" / "fingerprints" / "fvc2002" / db / name)


def test_flow_check_separates_real_pairs(shared) -> None:
    """Same finger: the map check keeps most of the score; other fingers: it takes nearly all."""
    one = extract(_load(shared, "DB1_B", "101_1.tif"))
    two = extract(_load(shared, "DB1_B", "101_2.tif"))
    other = extract(_load(shared, "DB1_B", "104_1.tif"))
    assert one.orientation is not None and one.orientation.shape == (-(-one.height // BLOCK), -(-one.width // BLOCK))
    bare = [Template(t.width, t.height, t.dpi, t.minutiae, t.quality) for t in (one, two, other)]
    genuine = raw_score(prepare(one), prepare(two)) / raw_score(prepare(bare[0]), prepare(bare[1]))
    impostor = raw_score(prepare(one), prepare(other)) / max(1e-9, raw_score(prepare(bare[0]), prepare(bare[2])))
    assert genuine > 0.5 and impostor < 0.2 * genuine


def test_missing_map_uses_the_minutiae_table(shared) -> None:
    one = extract(_load(shared, "DB1_B", "101_1.tif"))
    two = extract(_load(shared, "DB1_B", "101_3.tif"))
    foreign = Template(two.width, two.height, two.dpi, two.minutiae, two.quality)
    matcher = Matcher(one)
    assert matcher.match(foreign) == pytest.approx(calibrate(raw_score(prepare(one), prepare(foreign)), False))
    assert matcher.match(two) == pytest.approx(calibrate(raw_score(prepare(one), prepare(two)), True))
