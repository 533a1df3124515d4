"""Minutiae from a ridge skeleton: detection, false-minutiae removal, direction and quality.

Detection is the crossing number on the 1-px skeleton (1 = ridge ending, 3 = bifurcation).
Most raw detections on a real print are false — ridge breaks, spurs, short fragments, bridges
between neighbouring ridges, cut ridges at the finger's edge — and a false minutia costs the
matcher more than a missed one, so each candidate's ridges are *followed* along the skeleton and
the candidate is dropped when the structure around it is one of those artefacts (short
fragments, spurs, holes, facing endings across a break, dense clusters, the finger's edge,
the frame of a sensor's active area).  Distances are in units of the local ridge period λ, so
the rules do not depend on the sensor.

Direction convention (the public one, `Minutia.angle`): radians in [0, 2π), counter-clockwise
from +x as seen on the image (y grows downwards; the unit vector is (cos a, −sin a) in pixel
coordinates), pointing **away from the minutia along its ridge flow**: for a ridge ending, into
the ridge that ends there; for a bifurcation, between its two branches (opposite to the stem).
The two kinds are thus consistent under ridge/valley inversion, as in ISO/IEC 19794-2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, NamedTuple, Optional, Set, Tuple

import numpy as np
from scipy import ndimage as ndi

# Neighbour order around a pixel, circular: N, NE, E, SE, S, SW, W, NW as (dy, dx).
_RING = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))
_WEIGHTS = np.zeros((3, 3), dtype=np.int32)
for _i, (_dy, _dx) in enumerate(_RING):
    _WEIGHTS[_dy + 1, _dx + 1] = 1 << _i
_CN = np.array(
    [sum(((c >> i) & 1) != ((c >> ((i + 1) % 8)) & 1) for i in range(8)) // 2 for c in range(256)],
    dtype=np.uint8,
)

# Rule thresholds, in ridge periods λ.  Chosen on FVC2002 DB1–DB4 B with two fixed matchers
# (NIST bozorth3 and ours) — each rule was kept only if it lowered the EER under both; removing
# "bridges" (two forks joined by a short ridge), minutiae closer than λ/2, and minutiae in
# low-coherence areas all *raised* it, so those rules are not applied (docs/bench/extraction.md).
ANGLE_LENGTH = 1.3  # λ followed along a ridge to measure a direction
TRACE_LENGTH = 2.2  # λ followed to classify the structure around a candidate
BORDER = 0.5  # λ: minimum distance to the foreground border (the mask is already conservative)
CUT_BORDER = 2.0  # λ: minimum distance to a border that cuts the ridges (a sensor's frame: Analysis.cut_distance)
BREAK_DISTANCE = 1.3  # λ: two endings facing each other closer than this are a break
SPUR_LENGTH = 1.0  # λ: an ending reaching a bifurcation within this is a spur
FRAGMENT_LENGTH = 0.8  # λ: a ridge with both ends within this is a fragment (a dot)
CLUSTER_RADIUS = 1.4  # λ
CLUSTER_COUNT = 4  # neighbours within CLUSTER_RADIUS that make a cluster (noise, scars)
MAX_MINUTIAE = 80
MERGE_DISTANCE = 3  # px: CN=3 pixels this close belong to one fork


@dataclass
class RawMinutia:
    """A minutia in internal form: pixel position, internal direction (y down), kind, quality."""

    y: int
    x: int
    kind: str
    direction: float = 0.0  # radians, image coords with y down: unit vector (cos, sin)
    quality: float = 0.0
    period: float = 9.0


class Surroundings(NamedTuple):
    """What the edge rules and the minutia quality need at each surviving candidate: distance (px)
    to the foreground's border and to a border that cuts the print (a sensor's frame),
    orientation coherence and spectral clarity (0..1).  Measured
    only at those points: full-frame maps of them cost more than the whole rule pass."""

    border: np.ndarray
    cut: np.ndarray
    coherence: np.ndarray
    clarity: np.ndarray


class _Skeleton:
    """Flat, padded skeleton and crossing numbers for fast pixel walking in pure Python."""

    def __init__(self, skeleton: np.ndarray) -> None:
        padded = np.pad(skeleton.astype(np.uint8), 1)
        codes = ndi.correlate(padded.astype(np.int32), _WEIGHTS, mode="constant")
        cn = np.where(padded > 0, _CN[codes & 0xFF], 0).astype(np.uint8)
        self.width = padded.shape[1]
        self.on = padded.ravel().tolist()
        self.cn = cn.ravel().tolist()
        self.cn_grid = cn[1:-1, 1:-1]
        w = self.width
        self.offsets = [dy * w + dx for dy, dx in _RING]

    def index(self, y: int, x: int) -> int:
        return (y + 1) * self.width + (x + 1)

    def point(self, index: int) -> Tuple[int, int]:
        return index // self.width - 1, index % self.width - 1

    def branches(self, start: int) -> List[int]:
        """First pixel of each ridge leaving `start` (one per run of set neighbours)."""
        ring = [start + o for o in self.offsets]
        bits = [self.on[i] for i in ring]
        firsts: List[int] = []
        for k in range(8):
            if bits[k] and not bits[k - 1]:
                run: List[int] = []
                j = k
                while bits[j % 8] and len(run) < 8:
                    run.append(j % 8)
                    j += 1
                # Prefer a 4-neighbour (even ring position): it continues the ridge straightest.
                choice = next((r for r in run if r % 2 == 0), run[0])
                firsts.append(ring[choice])
        if not firsts and any(bits):  # a full ring (blob); treat every neighbour as a branch
            firsts = [ring[k] for k in range(8) if bits[k]]
        return firsts

    def trace(self, start: int, first: int, max_steps: int,
              blocked: Optional[Set[int]] = None) -> Tuple[str, int, List[int]]:
        """Follow a ridge from `start` through `first`; stop at an end, a junction or max_steps.

        Returns (reason, last pixel index, path) with reason "end", "junction", "length".
        """
        visited = {start, first}
        if blocked:
            visited |= blocked
        path = [first]
        current = first
        on, cn, offsets = self.on, self.cn, self.offsets
        for _ in range(max_steps):
            c = cn[current]
            if c == 1:
                return "end", current, path
            if c >= 3:
                return "junction", current, path
            nxt = -1
            for k, o in enumerate(offsets):
                n = current + o
                if on[n] and n not in visited:
                    if k % 2 == 0:
                        nxt = n
                        break
                    if nxt < 0:
                        nxt = n
            if nxt < 0:
                return "end", current, path
            visited.add(nxt)
            path.append(nxt)
            current = nxt
        return "length", current, path


def detect(skeleton: np.ndarray, frequency: np.ndarray,
           measure: Callable[[np.ndarray, np.ndarray], Surroundings]) -> List[RawMinutia]:
    """Minutiae of a skeleton, filtered.  `frequency` is the ridge frequency (cycles/px) per
    pixel; `measure(ys, xs)` gives the `Surroundings` of the candidates left by the structural
    rules."""
    sk = _Skeleton(skeleton)
    ys, xs = np.nonzero((sk.cn_grid == 1) | (sk.cn_grid == 3))
    candidates: Dict[int, RawMinutia] = {}
    for y, x in zip(ys.tolist(), xs.tolist()):
        kind = "ending" if sk.cn_grid[y, x] == 1 else "bifurcation"
        candidates[sk.index(y, x)] = RawMinutia(y, x, kind, period=float(np.float32(1.0) / frequency[y, x]))
    _merge_adjacent_bifurcations(sk, candidates)

    drop: Set[int] = set()
    directions: Dict[int, float] = {}
    for idx, m in candidates.items():
        lam = m.period
        steps = int(TRACE_LENGTH * lam) + 2
        angle_steps = int(ANGLE_LENGTH * lam) + 1
        if m.kind == "ending":
            firsts = sk.branches(idx)
            if not firsts:
                drop.add(idx)
                continue
            reason, last, path = sk.trace(idx, firsts[0], steps)
            length = len(path)
            if reason == "end" and length <= FRAGMENT_LENGTH * lam:
                drop.update((idx, last))  # short isolated ridge fragment or dot
            elif reason == "junction" and length <= SPUR_LENGTH * lam:
                drop.add(idx)
                drop.update(_bifurcations_near(sk, candidates, last))  # spur
            directions[idx] = _direction(sk, idx, path[:angle_steps])
        else:
            firsts = sk.branches(idx)
            if len(firsts) != 3:
                drop.add(idx)
                continue
            ring = {idx + o for o in sk.offsets}
            vectors = []
            ends = []
            lengths = []
            for first in firsts:
                reason, last, path = sk.trace(idx, first, steps, blocked=ring - {first})
                if reason == "end" and len(path) <= SPUR_LENGTH * lam:
                    drop.add(idx)  # spur: handled from the ending side too
                ends.append(last)
                lengths.append(len(path))
                vectors.append(_direction(sk, idx, path[:angle_steps]))
            reaching = [e for e, n in zip(ends, lengths) if n > MERGE_DISTANCE]
            if len(set(reaching)) < len(reaching):
                drop.add(idx)  # two branches meet again at once: a hole in a ridge
            directions[idx] = _bifurcation_direction(vectors)

    kept = [m for idx, m in candidates.items() if idx not in drop]
    for idx, m in candidates.items():
        m.direction = directions.get(idx, 0.0)
    if not kept:
        return []
    around = measure(np.array([m.y for m in kept]), np.array([m.x for m in kept]))
    inside = []  # far enough from the finger's edge: rated now, the break and cluster rules next
    for m, border, cut, coherence, clarity in zip(kept, *(v.tolist() for v in around)):
        if border >= BORDER * m.period and cut >= CUT_BORDER * m.period:
            edge = min(1.0, border / (3.0 * m.period))
            m.quality = math.sqrt(max(coherence, 0.0) * max(clarity, 0.0)) * (0.5 + 0.5 * edge)
            inside.append(m)
    kept = _remove_breaks_and_clusters(inside)
    kept.sort(key=lambda m: -m.quality)
    return kept[:MAX_MINUTIAE]


def _merge_adjacent_bifurcations(sk: _Skeleton, candidates: Dict[int, RawMinutia]) -> None:
    """Thinning can leave two or three CN=3 pixels (a small triangle) for one fork; keep one.

    Without this the hole rule would see a fork joined to itself and drop a genuine bifurcation.
    """
    forks = sorted(i for i, m in candidates.items() if m.kind == "bifurcation")
    removed: Set[int] = set()
    for idx in forks:
        if idx in removed:
            continue
        m = candidates[idx]
        for other in forks:
            if other != idx and other not in removed:
                o = candidates[other]
                if max(abs(o.y - m.y), abs(o.x - m.x)) <= MERGE_DISTANCE:
                    removed.add(other)
    for idx in removed:
        del candidates[idx]


def _bifurcations_near(sk: _Skeleton, candidates: Dict[int, RawMinutia], index: int) -> Set[int]:
    """Candidate bifurcations at or next to a junction pixel."""
    found: Set[int] = set()
    for i in [index] + [index + o for o in sk.offsets]:
        m = candidates.get(i)
        if m is not None and m.kind == "bifurcation":
            found.add(i)
    return found


def _direction(sk: _Skeleton, start: int, path: List[int]) -> float:
    """Internal direction (y down) from `start` to the end of `path`."""
    if not path:
        return 0.0
    y0, x0 = sk.point(start)
    y1, x1 = sk.point(path[-1])
    return math.atan2(y1 - y0, x1 - x0)


def _angle_diff(a: float, b: float) -> float:
    d = (a - b) % (2 * math.pi)
    return min(d, 2 * math.pi - d)


def _bifurcation_direction(vectors: List[float]) -> float:
    """Opposite of the stem: the branch farthest in angle from the other two."""
    spread = [sum(_angle_diff(v, w) for w in vectors) for v in vectors]
    stem = vectors[int(np.argmax(spread))]
    return (stem + math.pi) % (2 * math.pi)


def _remove_breaks_and_clusters(kept: List[RawMinutia]) -> List[RawMinutia]:
    """Drop endings that face each other across a gap, and dense clusters."""
    if len(kept) < 2:
        return kept
    pts = np.array([[m.x, m.y] for m in kept], dtype=np.float32)
    lam = np.array([m.period for m in kept], dtype=np.float32)
    diff = pts[:, None, :] - pts[None, :, :]
    dist = np.sqrt((diff ** 2).sum(axis=2))
    np.fill_diagonal(dist, np.inf)
    scale = np.minimum(lam[:, None], lam[None, :])
    drop = np.zeros(len(kept), dtype=bool)
    ending = np.array([m.kind == "ending" for m in kept])
    direction = np.array([m.direction for m in kept])
    for i, j in zip(*np.nonzero(np.triu(dist < BREAK_DISTANCE * scale, 1))):
        if ending[i] and ending[j]:
            # Facing each other: the two ridge directions roughly opposite and the gap along them.
            opposite = _angle_diff(direction[i], direction[j]) > math.radians(120)
            gap = math.atan2(pts[j, 1] - pts[i, 1], pts[j, 0] - pts[i, 0])
            along = _angle_diff(gap, direction[i] + math.pi) < math.radians(50)
            if opposite and along:
                drop[i] = drop[j] = True
    crowded = (dist < CLUSTER_RADIUS * scale).sum(axis=1) >= CLUSTER_COUNT
    drop |= crowded
    return [m for m, d in zip(kept, drop) if not d]


def refine_directions(minutiae: List[RawMinutia], orientation: np.ndarray) -> None:
    """Snap each traced direction to the smoothed orientation field when they agree.

    The field is averaged over a ridge period and is steadier than a 10-px trace; the trace
    supplies the sense (orientation is only defined modulo π).
    """
    for m in minutiae:
        theta = float(orientation[m.y, m.x])
        candidate = theta if _angle_diff(theta, m.direction) <= math.pi / 2 else theta + math.pi
        if _angle_diff(candidate, m.direction) < math.radians(35):
            m.direction = candidate % (2 * math.pi)


def public_angle(direction: float) -> float:
    """Internal direction (y down, clockwise on screen) → public angle (counter-clockwise)."""
    return (-direction) % (2 * math.pi)
