"""The raw 1:1 comparison of two prepared templates (uncalibrated; `match.py` calibrates it).

Two stages, both vectorised with numpy:

1. **Local similarity.**  Every cylinder of A against every cylinder of B: a normalised
   correlation over the cells valid in both (four small matrix products).  High values are pairs
   of minutiae with the same neighbourhood, wherever they sit in the image.
2. **Global consolidation.**  Pairs are kept inside a rotation window — upright (MCC's 90°
   rule), plus, for a print captured turned round, the window the best pairs vote for (its result
   penalised, being an extra chance).  The best local pairs are alignment hypotheses (rotation
   from the two directions, translation from the two positions: any translation): `HYPOTHESES`
   of them for records without a map, `MAPPED_HYPOTHESES` when both prints carry one, beside a
   **flow-guided** search of the upright window: of the `GUIDE_POOL` best pairs, the
   `GUIDE_KEEP` whose alignments make the two flows agree best (at least `GUIDE_FLOW`).  Two
   impressions sharing little area give their shared minutiae different neighbours, so their
   true pairs rank below chance ones (cylinder similarity 0.2–0.5); their flows still agree
   where they overlap, as a chance alignment's seldom do.
   Under each, B's minutiae are moved onto A's frame and paired one-to-one as mutual nearest
   neighbours within a distance tolerance that grows with the distance from the anchor pair
   (elastic skin distortion) and an angle tolerance.  In each window, and among the guided
   hypotheses, the one with the best support wins (the guided one only when it pairs at least
   `GUIDE_MIN_PAIRED` minutiae: a handful of pairs on a small common area agree by chance);
   the summed local similarity of its pairs and the number of minutiae of each print lying in
   the common area (so partial overlap is not punished), both weighted by minutia quality,
   give the minutiae score.  The common area is the other print's foreground (its map's
   on-finger blocks) under the alignment when both carry a map, else the neighbourhood of the
   other print's minutiae.
3. **Flow and ridge-spacing check.**  When both templates carry an orientation map, each
   winning alignment (the usual one and the guided one) is applied to the maps too and its
   minutiae score multiplied by their agreement over the common area (a power of it:
   `AGREEMENT_POWER`); the better of the two is kept, the guided one only when the flows agree
   over the whole common area (`GUIDE_FULL_FLOW`: it is an extra chance).  Same finger: the flow agrees
   (median 0.98); a chance alignment of another finger: it mostly does not (median 0.7), which
   cuts the impostor tail where minutiae alone cannot tell.  When both maps also carry the
   ridge period, the score is multiplied by exp(−`PERIOD_WEIGHT` × gap), the gap being the mean
   |log| ratio of the two periods on the common blocks: 0.03 between impressions of one finger
   (median), 0.08–0.09 between different fingers — a second cue, independent of the minutiae
   and of the flow.  Without maps the minutiae score stands alone, and `match.py` calibrates it
   with its own table.

Parameters were chosen on the FVC2002 B sets pooled (never per set); the choices and the figures
behind them are in docs/bench/engine.md.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional, Tuple

import numpy as np

from siaptui.biometrics.match_prepare import NS, Prepared, wrap

Arrays = Tuple[np.ndarray, ...]

MIN_MINUTIAE = 4
MIN_COMMON_CELLS = 0.35  # of the square grid: less common area and two cylinders are not compared
HYPOTHESES = 16
BASE_TOLERANCE = 9.0  # px at 500 ppi
ELASTIC = 0.08  # extra px of tolerance per px away from the anchor pair
MAX_TOLERANCE = 28.0
ANGLE_TOLERANCE = math.radians(30)
OVERLAP_RADIUS = 30.0  # without maps: a minutia lies in the common area if the other print has one this near
MIN_OVERLAP = 8
ROTATION_BINS = 36
ROTATED_PENALTY = 0.7  # on the summed similarity of a match found outside the upright window
ROTATION_VOTERS = 2  # times the smaller minutiae count: only the best pairs vote
ROTATION_SMOOTH_BINS = 2  # ±20°
ROTATION_LIMIT = math.pi / 2
SUPPORT_COUNT = 1.0
AGREEMENT_POWER = 4.0  # chosen on the four sets pooled: 2–6 all within 0.05 points of mean EER
PERIOD_WEIGHT = 12.0  # chosen on the four sets pooled (docs/bench/engine.md, ridge period)
MIN_PERIOD_BLOCKS = 5  # fewer common blocks with a known period and the gap is not scored
MAPPED_HYPOTHESES = 4  # with maps: the flow-guided search finds what the similarity ranks low
GUIDE_POOL = 64  # local pairs whose alignments the guided search ranks by flow agreement
GUIDE_FLOW = 0.875  # least flow agreement of a guided hypothesis (0.85–0.875 alike; 0.8 and 0.9 worse)
GUIDE_KEEP = 4  # guided hypotheses paired in full
GUIDE_FULL_FLOW = 0.93  # least flow agreement of the guided winner over the whole common area
GUIDE_MIN_PAIRED = 6  # least paired minutiae of the guided winner: fewer agree by chance on a small area
GUIDE_POINTS = 40  # of A's map blocks, spread over it, on which the guided search ranks


class Agreement(NamedTuple):
    """How the two orientation maps agree under an alignment."""

    flow: float  # 1 = the same flow everywhere, 0 = unrelated (or no overlap)
    period_gap: float  # mean |log| ratio of the ridge periods on the common blocks; 0 when unknown


class Features(NamedTuple):
    """What the consolidation found under its winning alignment."""

    paired: int
    quality: float  # summed local similarity of the pairs, weighted by minutia quality
    near_a: float  # A's minutiae in the common area (quality-weighted count)
    near_b: float
    alignment: Tuple[float, float, float]  # (rotation, tx, ty) mapping B onto A
    guided: bool = False  # found by the flow-guided search


def local_similarity(a: Prepared, b: Prepared) -> np.ndarray:
    """(n_a, n_b) cylinder similarity in [0, 1].

    Normalised correlation of two cylinders over the cells valid in *both* (each cylinder's
    energy is measured only where the other print has skin too), so a minutia near the edge of
    one impression still matches its partner in a larger impression.  Pairs with too little
    common area score 0.  No limit on the direction difference (MCC has one): a print may be
    captured at any rotation, and the cylinders are rotation invariant already.
    """
    dot = a.cylinders @ b.cylinders.T
    a2 = a.energy @ b.cells.T  # |a|^2 over the cells valid in b
    b2 = a.cells @ b.energy.T
    sim = (dot / np.sqrt(np.maximum(a2 * b2, 1e-12))).astype(np.float32)
    sim[(a.cells @ b.cells.T) < MIN_COMMON_CELLS * NS * NS] = 0.0
    return sim


def rotation_windows(turn: np.ndarray, sim: np.ndarray) -> list[float]:
    """Centres of the rotation windows to try: upright first, then the pairs' consensus.

    MCC refuses pairs whose directions differ by more than 90°: on real captures (fingers put
    roughly upright) that removes many chance pairings and is worth a lot of accuracy.  To keep
    *any* rotation working, the best pairs also vote (similarity², smoothed over ±20°) for the
    rotation they imply; when the winner lies outside the upright window, that window is tried
    as well and the better score kept.  `turn` is the (n_a, n_b) rotation each pair implies.
    """
    flat = sim.ravel()
    keep = min(flat.size, ROTATION_VOTERS * min(sim.shape))
    voters = np.argpartition(flat, flat.size - keep)[flat.size - keep:]  # only the best pairs vote
    weight = flat[voters].astype(np.float64)
    bins = ((turn.ravel()[voters] % (2 * math.pi)) * (ROTATION_BINS / (2 * math.pi))).astype(np.int64) % ROTATION_BINS
    votes = np.bincount(bins, weights=weight * weight, minlength=ROTATION_BINS)
    width = ROTATION_SMOOTH_BINS
    padded = np.concatenate([votes[-width:], votes, votes[:width]])
    smooth = np.convolve(padded, np.ones(2 * width + 1), mode="valid")
    peak = float(wrap(np.array((int(np.argmax(smooth)) + 0.5) * (2 * math.pi / ROTATION_BINS))))
    return [0.0] if abs(peak) <= ROTATION_LIMIT else [0.0, peak]


def windowed(sim: np.ndarray, trig: Tuple[np.ndarray, np.ndarray], centre: float) -> np.ndarray:
    """A copy of `sim` without the pairs implying a rotation beyond ±ROTATION_LIMIT of `centre`
    (`trig`: cos and sin of each pair's implied rotation, so the test is one cosine)."""
    near = trig[0] * np.float32(math.cos(centre))
    if centre:
        near += trig[1] * np.float32(math.sin(centre))
    return np.where(near >= np.float32(math.cos(ROTATION_LIMIT)), sim, np.float32(0.0))


def candidate_features(a: Prepared, b: Prepared) -> list[Features]:
    """The alignments worth scoring in full, each with what pairs up under it.

    One per rotation window, chosen by minutiae support; and, when both prints carry a map, a
    flow-guided one of the upright window (`_guided_picks`), found among more local pairs:
    the true alignment of two impressions that share little area has neighbourhoods that agree
    poorly, so it may rank below many chance pairs while its flow agrees as only the true
    alignment does.  `raw_score` keeps the best after the flow and period check.
    """
    if a.count < MIN_MINUTIAE or b.count < MIN_MINUTIAE:
        return []
    sim = local_similarity(a, b)
    turn = a.angle[:, None] - b.angle[None, :]  # the rotation each pair implies, shared below
    trig = (np.cos(turn), np.sin(turn))
    mapped = both_mapped(a, b)
    usual: list[Features] = []
    guided: list[Features] = []
    for k, centre in enumerate(rotation_windows(turn, sim)):
        window = windowed(sim, trig, centre)
        picks = _top_pairs(window, MAPPED_HYPOTHESES if mapped else HYPOTHESES)
        flow_picks = _guided_picks(a, b, window) if mapped and k == 0 else picks[:0]
        chosen, flow_chosen = _consolidate(a, b, window, trig, picks, flow_picks)
        if (flow_chosen is not None and flow_chosen.paired >= GUIDE_MIN_PAIRED
                and (chosen is None or flow_chosen.alignment != chosen.alignment)):
            guided.append(flow_chosen._replace(guided=True))
        if chosen is None:
            continue
        if k:  # an upside-down capture must earn it: the extra window is an extra chance
            chosen = chosen._replace(quality=chosen.quality * ROTATED_PENALTY)
        usual.append(chosen)
    return ([max(usual, key=_score)] if usual else []) + guided


def raw_score(a: Prepared, b: Prepared) -> float:
    """Uncalibrated similarity: 0 for nothing in common, grows with paired minutiae and (when
    both have maps) with the agreement of the ridge flow and spacing under their alignment."""
    found = candidate_features(a, b)
    if not found:
        return 0.0
    if not both_mapped(a, b):
        return max(_score(f) for f in found)
    best = 0.0
    for f in sorted(found, key=_score, reverse=True):
        if _score(f) <= best:  # the maps' factors are at most 1: this one cannot win
            break
        agreement = map_agreement(a, b, f.alignment)
        if f.guided and agreement.flow < GUIDE_FULL_FLOW:  # an extra chance: it must agree all over
            continue
        best = max(best, _score(f) * max(0.0, agreement.flow) ** AGREEMENT_POWER
                   * math.exp(-PERIOD_WEIGHT * agreement.period_gap))
    return best


def both_mapped(a: Prepared, b: Prepared) -> bool:
    """Whether the raw score of `a` and `b` includes the flow check (`match.py` picks its
    calibration table by this)."""
    return a.flow is not None and b.flow is not None


def map_agreement(a: Prepared, b: Prepared, alignment: Tuple[float, float, float]) -> Agreement:
    """Flow: mean cosine of the doubled orientation difference over the blocks both prints
    cover, weighted by both coherences.  Period gap: mean |log(period A / period B)| over those
    of the blocks where both periods are known (0 with fewer than `MIN_PERIOD_BLOCKS`)."""
    rot = alignment[0]
    fa, fb = a.flow, b.flow
    if fa is None or fb is None:
        raise ValueError("map_agreement needs both orientation maps (see both_mapped)")
    row, col = _cells_in(fb.step, fa.points, alignment)  # A's blocks in B's frame
    rows, cols = fb.grid.shape
    inside = (row >= 0) & (col >= 0) & (row < rows) & (col < cols)
    if not inside.any():
        return Agreement(0.0, 0.0)
    row, col = row[inside], col[inside]
    turned = fb.grid[row, col] * np.complex64(complex(math.cos(2 * rot), math.sin(2 * rot)))
    mine = fa.values[inside]
    weight = float((np.abs(mine) * np.abs(turned)).sum())
    flow = float((mine * np.conj(turned)).real.sum()) / weight if weight > 0 else 0.0
    gap = 0.0
    if fa.log_periods is not None and fb.log_period_grid is not None:
        ratio = np.abs(fa.log_periods[inside] - fb.log_period_grid[row, col])
        known = ratio[~np.isnan(ratio)]
        if known.size >= MIN_PERIOD_BLOCKS:
            gap = float(known.mean())
    return Agreement(flow, gap)


def _score(found: Features) -> float:
    """Squared summed similarity over the product of the minutiae counts in the common area:
    the share of each print's overlapping minutiae that found a partner, weighted by how alike
    their neighbourhoods are.  The floor keeps tiny overlaps from scoring a perfect 1."""
    return float(found.quality * found.quality / (max(found.near_a, MIN_OVERLAP) * max(found.near_b, MIN_OVERLAP)))


def _top_pairs(sim: np.ndarray, count: int) -> np.ndarray:
    """Flat indices of the `count` most similar pairs (fewer when fewer are positive)."""
    flat = sim.ravel()
    top = min(count, flat.size)
    picks = np.argpartition(-flat, top - 1)[:top]
    return picks[flat[picks] > 0]


def _anchored(a: Prepared, b: Prepared, picks: np.ndarray) -> Arrays:
    """(ia, jb, rot, tx, ty): the rigid alignment each picked pair implies (a = R b + t)."""
    ia, jb = np.divmod(picks, b.count)
    rot = a.angle[ia] - b.angle[jb]
    cos, sin = np.cos(rot), np.sin(rot)
    tx = a.xy[ia, 0] - (cos * b.xy[jb, 0] - sin * b.xy[jb, 1])
    ty = a.xy[ia, 1] - (sin * b.xy[jb, 0] + cos * b.xy[jb, 1])
    return ia, jb, rot, tx, ty


def _guided_picks(a: Prepared, b: Prepared, sim: np.ndarray) -> np.ndarray:
    """Among the `GUIDE_POOL` most similar pairs, the `GUIDE_KEEP` whose alignments make the
    two flows agree best (at least `GUIDE_FLOW`), ranked by similarity × flow²."""
    picks = _top_pairs(sim, GUIDE_POOL)
    if picks.size == 0:
        return picks
    _, _, rot, tx, ty = _anchored(a, b, picks)
    flow = _flows(a, b, rot, tx, ty)
    ok = flow >= GUIDE_FLOW
    picks, rank = picks[ok], sim.ravel()[picks[ok]] * flow[ok] ** 2
    return picks[np.argsort(-rank)[:GUIDE_KEEP]]


def _flows(a: Prepared, b: Prepared, rot: np.ndarray, tx: np.ndarray, ty: np.ndarray) -> np.ndarray:
    """`map_agreement`'s flow for h alignments at once (h,), on `GUIDE_POINTS` blocks of A
    spread over it: enough to rank alignments (ranked on all blocks, the EERs are the same), at
    a fraction of the cost.  The block each point falls in is an affine function of the point,
    so all h × k of them come from one matrix product."""
    fa, fb = a.flow, b.flow
    assert fa is not None and fb is not None
    stride = -(-fa.points.shape[0] // GUIDE_POINTS)  # at most GUIDE_POINTS of A's blocks, spread evenly
    points, values = fa.points[::stride], fa.values[::stride]
    rows, cols = fb.grid.shape
    padded, magnitude = fb.bordered
    h, k = rot.shape[0], points.shape[0]
    cos, sin = np.cos(rot) / fb.step, np.sin(rot) / fb.step
    # (2h, 3): the column of each hypothesis's blocks, then the row.
    coefficients = np.stack([np.concatenate([cos, sin]), np.concatenate([sin, -cos]),
                             np.concatenate([-(cos * tx + sin * ty), cos * ty - sin * tx])], axis=1)
    homogeneous = np.ones((3, k), dtype=np.float32)
    homogeneous[:2] = points.T
    cells = np.floor(coefficients.astype(np.float32) @ homogeneous)
    np.maximum(cells, -1.0, out=cells)
    np.minimum(cells[:h], cols, out=cells[:h])
    np.minimum(cells[h:], rows, out=cells[h:])
    cells += 1.0
    cells[h:] *= cols + 2
    index = (cells[h:] + cells[:h]).astype(np.intp)  # (h, k) into the bordered grid
    weight = magnitude[index] @ np.abs(values)
    total = np.conj(padded[index] @ np.conj(values)) * np.exp(-2j * rot)
    return np.where(weight > 0, total.real / np.maximum(weight, 1e-12), 0.0)


def _consolidate(a: Prepared, b: Prepared, sim: np.ndarray, trig: Tuple[np.ndarray, np.ndarray],
                 *groups: np.ndarray) -> list[Optional[Features]]:
    """For each group of picked pairs, the alignment with the best support and what pairs up
    under it (None when fewer than two pair); all groups paired in one vectorised pass."""
    picks = np.concatenate(groups)
    if picks.size == 0:
        return [None for _ in groups]
    ia, _, rot, tx, ty = _anchored(a, b, picks)
    mutual, _, dist2, quality = _pair(a, b, sim, (rot, tx, ty), a.xy[ia], trig)
    support = quality + SUPPORT_COUNT * mutual.sum(axis=1)
    out: list[Optional[Features]] = []
    start = 0
    for group in groups:
        if group.size == 0:
            out.append(None)
            continue
        h = start + int(np.argmax(support[start:start + group.size]))
        start += group.size
        if mutual[h].sum() < 2:
            out.append(None)
            continue
        alignment = (float(rot[h]), float(tx[h]), float(ty[h]))
        if both_mapped(a, b):
            in_a, in_b = _in_common_area(a, b, alignment)
        else:
            r2 = OVERLAP_RADIUS * OVERLAP_RADIUS
            in_a, in_b = dist2[h].min(axis=1) <= r2, dist2[h].min(axis=0) <= r2
        out.append(Features(int(mutual[h].sum()), float(quality[h]), float((in_a * a.weight).sum()),
                            float((in_b * b.weight).sum()), alignment))
    return out


def _in_common_area(a: Prepared, b: Prepared, alignment: Tuple[float, float, float]) -> Tuple[np.ndarray, np.ndarray]:
    """Which minutiae of A land on B's finger under the alignment, and which of B on A's.

    The finger is the map's on-finger blocks: the foreground the other sensor actually saw.
    So a minutia the other impression could not have seen (off its glass, beyond its frame)
    does not count against the pair, and one it saw but found no partner for does — where the
    fallback (a partner candidate within `OVERLAP_RADIUS`) cannot tell a blank from a miss.
    """
    rot, tx, ty = alignment
    fa, fb = a.flow, b.flow
    if fa is None or fb is None:
        raise ValueError("the common area needs both orientation maps (see both_mapped)")
    cos, sin = math.cos(rot), math.sin(rot)
    on_b = _on_grid(fb.grid, *_cells_in(fb.step, a.xy, alignment))
    bx = cos * b.xy[:, 0] - sin * b.xy[:, 1] + tx
    by = sin * b.xy[:, 0] + cos * b.xy[:, 1] + ty
    on_a = _on_grid(fa.grid, np.floor(-by / fa.step).astype(np.intp), np.floor(bx / fa.step).astype(np.intp))
    return on_b, on_a


def _cells_in(step: float, points: np.ndarray, alignment: Tuple[float, float, float]) -> Tuple[np.ndarray, np.ndarray]:
    """(row, col) of B's map blocks under points of A, moved by the alignment (y up: rows grow downwards)."""
    rot, tx, ty = alignment
    cos, sin = math.cos(rot), math.sin(rot)
    dx, dy = points[:, 0] - tx, points[:, 1] - ty
    col = np.floor((cos * dx + sin * dy) / step).astype(np.intp)
    row = np.floor((sin * dx - cos * dy) / step).astype(np.intp)
    return row, col


def _on_grid(grid: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Whether each (row, col) is an on-finger block of `grid` (False outside it)."""
    rows, cols = grid.shape
    inside = (row >= 0) & (col >= 0) & (row < rows) & (col < cols)
    out = np.zeros(row.shape, dtype=bool)
    out[inside] = grid[row[inside], col[inside]] != 0
    return out


def _pair(a: Prepared, b: Prepared, sim: np.ndarray, transforms: Arrays, centre: np.ndarray,
          trig: Arrays) -> Arrays:
    """Pair minutiae one-to-one under each of h rigid transforms (rot, tx, ty; vectorised over h).

    Returns (mutual (h, n) bool, best_j (h, n), dist2 (h, n, m), summed similarity (h,)).
    """
    n = a.count
    rot, tx, ty = transforms
    cos, sin = np.cos(rot)[:, None], np.sin(rot)[:, None]
    bx = b.xy[None, :, 0] * cos - b.xy[None, :, 1] * sin + tx[:, None]  # (h, m)
    by = b.xy[None, :, 0] * sin + b.xy[None, :, 1] * cos + ty[:, None]
    # The (h, n, m) arrays are the comparison's main cost, so they are updated in place (the
    # same operations in the same order, hence the same values).
    dist2 = a.xy[None, :, 0, None] - bx[:, None, :]  # (h, n, m): dx, then dx² + dy²
    dy = a.xy[None, :, 1, None] - by[:, None, :]
    dist2 *= dist2
    dy *= dy
    dist2 += dy
    # cos of the direction difference after rotating B: cos(da - db - r) without wrapping.
    turn_cos = trig[0][None] * cos[:, :, None]
    turn_cos += trig[1][None] * sin[:, :, None]
    reach = np.hypot(a.xy[None, :, 0] - centre[:, 0, None], a.xy[None, :, 1] - centre[:, 1, None])
    tol = np.minimum(BASE_TOLERANCE + ELASTIC * reach, MAX_TOLERANCE)[:, :, None]  # (h, n, 1)
    tol2 = tol * tol
    ok = dist2 <= tol2
    ok &= turn_cos >= math.cos(ANGLE_TOLERANCE)
    cost = dist2 / tol2
    angle_cost = np.subtract(1.0, turn_cos, out=turn_cos)
    angle_cost /= 1.0 - math.cos(ANGLE_TOLERANCE)
    cost += angle_cost
    np.copyto(cost, np.inf, where=~ok)
    best_j = np.argmin(cost, axis=2)  # (h, n)
    best_i = np.argmin(cost, axis=1)  # (h, m)
    hyp = np.arange(rot.shape[0])[:, None]
    rows = np.arange(n)[None, :]
    mutual = ok[hyp, rows, best_j] & (best_i[hyp, best_j] == rows)
    weighted = sim * np.sqrt(a.weight[:, None] * b.weight[None, :])  # reliable pairs count more
    quality = (weighted[rows, best_j] * mutual).sum(axis=1)
    return mutual, best_j, dist2, quality
