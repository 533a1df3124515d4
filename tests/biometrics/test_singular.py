"""Cores and deltas by the Poincaré index (what the quality meter's placement check reads)."""

from __future__ import annotations

import math

import numpy as np

from siaptui import synth
from siaptui.biometrics.analysis import analyse
from siaptui.biometrics.singular import singular_points
from siaptui.synth import fields as synth_fields

CELL = 4


def _cell_grid(theta: np.ndarray) -> tuple:
    """A per-pixel orientation (y down, mod π) as the cell-grid doubled-angle components."""
    centres = theta[CELL // 2::CELL, CELL // 2::CELL]
    return np.cos(2 * centres).astype(np.float32), np.sin(2 * centres).astype(np.float32)


def test_finds_the_core_and_the_delta_where_they_were_placed() -> None:
    rng = np.random.default_rng(5)
    cores, deltas = synth_fields.singular_points(rng, "right_loop", (176.0, 224.0))
    theta = synth_fields.orientation_field(rng, synth.MASTER_SHAPE, "right_loop", cores, deltas)
    cos2, sin2 = _cell_grid(theta)
    found = singular_points(cos2, sin2, np.ones(cos2.shape, dtype=bool), CELL)
    assert [p.kind for p in found].count("core") == 1 and [p.kind for p in found].count("delta") == 1
    core = next(p for p in found if p.kind == "core")
    delta = next(p for p in found if p.kind == "delta")
    assert math.dist((core.x, core.y), cores[0]) < 24
    assert math.dist((delta.x, delta.y), deltas[0]) < 24


def test_parallel_ridges_have_none_and_background_is_not_searched() -> None:
    y, x = np.mgrid[0:256, 0:256].astype(np.float32)
    stripes = (128 + 90 * np.cos(2 * np.pi * (x + 0.3 * y) / 9.0)).astype(np.uint8)
    analysis = analyse(stripes, 500)
    field = analysis.field
    assert singular_points(field.cos2, field.sin2, analysis.segmentation.mask, analysis.cell) == []
    # A perfect core at the centre, but no finger there: nothing is reported.
    cos2, sin2 = _cell_grid(0.5 * np.arctan2(y - 128, x - 128) + np.pi / 2)
    assert [p.kind for p in singular_points(cos2, sin2, np.ones(cos2.shape, dtype=bool), CELL)] == ["core"]
    assert singular_points(cos2, sin2, np.zeros(cos2.shape, dtype=bool), CELL) == []


def test_a_whorl_image_has_a_core_at_its_centre() -> None:
    y, x = np.mgrid[0:320, 0:320].astype(np.float32)
    rings = (128 + 90 * np.cos(2 * np.pi * np.hypot(x - 160, y - 160) / 9.0)).astype(np.uint8)
    analysis = analyse(rings, 500)
    field = analysis.field
    found = singular_points(field.cos2, field.sin2, analysis.segmentation.mask, analysis.cell)
    cores = [p for p in found if p.kind == "core"]
    assert cores and min(math.dist((p.x, p.y), (160, 160)) for p in cores) < 24
