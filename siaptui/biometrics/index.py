"""A compact, alignment-free descriptor of a template, for the 1:N pre-selection.

Why: the exact comparison (`match_core`) costs about a millisecond, and an office of 10,000
workers holds 100,000 fingers; a search must pick the few candidates worth that millisecond
without aligning anything.  So every template gets one fixed-length vector that two
impressions of one finger share wherever they overlap, whatever the rotation and translation:
a **histogram of minutia pairs**.  For each minutia and each of its `NEIGHBOURS` nearest
neighbours (closer than `REACH` px at 500 ppi), the pair's distance, the direction of the
neighbour seen from the minutia (relative to the minutia's own direction) and the neighbour's
direction (relative to the same) are binned — all three are invariant to a rigid motion of the
print — and counted.  The square roots of the counts, scaled to unit length, are stored as
`uint8` (`DESCRIPTOR_SIZE` bytes a template), so one matrix-vector product compares a probe with
a whole finger position of the office.

It is a pre-selection only: the similarity of two descriptors is not a calibrated score, and
decisions are never made on it (person.py turns it into a ranking; docs/bench/ghost.md has the
measured miss rate on genuine persons).
"""

from __future__ import annotations

import math

import numpy as np

from siaptui.biometrics.match_prepare import Prepared

NEIGHBOURS = 10
REACH = 110.0  # px at 500 ppi
NEAREST = 10.0  # px: closer pairs are extraction artefacts more often than ridge structure
DISTANCE_BINS = 6
DIRECTION_BINS = 8  # for each of the two angles
DESCRIPTOR_SIZE = DISTANCE_BINS * DIRECTION_BINS * DIRECTION_BINS
LEVELS = 255.0  # a stored unit vector is scaled to this and rounded to uint8


def descriptor(prepared: Prepared) -> np.ndarray:
    """(DESCRIPTOR_SIZE,) float32 unit vector (all zeros for fewer than two minutiae)."""
    counts = np.zeros((DISTANCE_BINS, DIRECTION_BINS, DIRECTION_BINS), dtype=np.float32)
    n = prepared.count
    if n < 2:
        return counts.ravel()
    xy, angle = prepared.xy, prepared.angle
    delta = xy[None, :, :] - xy[:, None, :]  # (n, n, 2): neighbour j seen from minutia i
    dist = np.hypot(delta[..., 0], delta[..., 1])
    np.fill_diagonal(dist, np.inf)
    order = np.argsort(dist, axis=1)[:, :min(NEIGHBOURS, n - 1)]
    rows = np.arange(n)[:, None]
    near = dist[rows, order]
    used = (near >= NEAREST) & (near < REACH)
    seen = np.arctan2(delta[rows, order, 1], delta[rows, order, 0]) - angle[:, None]
    turn = angle[order] - angle[:, None]
    d_bin = ((near - NEAREST) * (DISTANCE_BINS / (REACH - NEAREST))).astype(np.int64)
    s_bin = _angle_bin(seen)
    t_bin = _angle_bin(turn)
    np.add.at(counts, (d_bin[used], s_bin[used], t_bin[used]), 1.0)
    vector = np.sqrt(counts.ravel())
    length = float(np.linalg.norm(vector))
    return vector / length if length > 0 else vector


def quantised(vector: np.ndarray) -> np.ndarray:
    """A descriptor as stored: uint8, a quarter of the float32 size."""
    return np.clip(np.rint(vector * LEVELS), 0, 255).astype(np.uint8)


def _angle_bin(angle: np.ndarray) -> np.ndarray:
    return (np.mod(angle, 2 * math.pi) * (DIRECTION_BINS / (2 * math.pi))).astype(np.int64) % DIRECTION_BINS
