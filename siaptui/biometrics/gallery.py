"""1:N search: which enrolled template, if any, is the probe's finger?

Why two stages: the exact comparison (`match_core`) costs about a millisecond, far too much to
run against 10,000 enrolled prints for every capture.  So:

1. **Pre-score, vectorised over the whole gallery.**  Every stored minutia keeps a coarse
   descriptor (its cylinder pooled 2×2 in space, a unit vector quantised to uint8).  One matrix product
   compares each probe minutia with every stored minutia; per template, each probe minutia keeps
   its best partner (`np.maximum.reduceat` over the templates' row ranges) and the template's
   pre-score is the sum of its best `PRESCORE_TOP` partners.  No Python loop over templates.
2. **Exact score on a short list.**  The `SHORTLIST` best pre-scores get the full calibrated
   1:1 score (the same one `match()` gives, so thresholds mean the same in 1:1 and 1:N).

The probe is prepared once per search.  Templates are stored in the compact packed form
(`match_prepare.pack`), about 70 bytes per minutia plus 96 for the coarse descriptor (uint8).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from siaptui.biometrics.match import TemplateLike, as_prepared, calibrate_many
from siaptui.biometrics.match_core import both_mapped, raw_score
from siaptui.biometrics.match_prepare import COARSE_SIZE, Packed, coarse, pack, unpack

SHORTLIST = 64
PRESCORE_TOP = 6
_CHUNK_ROWS = 16384  # stored minutiae compared per matrix product (bounds temporary memory)


class Gallery:
    """Enrolled templates by key; `search` ranks them against a probe, best first."""

    def __init__(self) -> None:
        self._packed: Dict[str, Packed] = {}
        self._pending: Dict[str, np.ndarray] = {}  # coarse rows not yet in the index
        self._keys: List[str] = []
        self._starts = np.zeros(0, dtype=np.int64)
        self._counts = np.zeros(0, dtype=np.int64)
        self._rows = np.zeros((0, COARSE_SIZE), dtype=np.uint8)
        self._dirty = False

    def add(self, key: str, template: TemplateLike) -> None:
        """Enroll (or replace) `key`; the template is prepared and packed once, here."""
        prepared = as_prepared(template)
        self._packed[key] = pack(prepared)
        self._pending[key] = _quantise(coarse(prepared))
        self._dirty = True

    def remove(self, key: str) -> None:
        """Forget `key` (a KeyError if it was never added, like a dict)."""
        del self._packed[key]
        self._pending.pop(key, None)
        self._dirty = True

    def __len__(self) -> int:
        return len(self._packed)

    def __contains__(self, key: object) -> bool:
        return key in self._packed

    @property
    def nbytes(self) -> int:
        """Memory held by the stored templates and the search index (for the bench)."""
        return (sum(p.nbytes for p in self._packed.values()) + sum(c.nbytes for c in self._pending.values())
                + self._rows.nbytes + self._starts.nbytes + self._counts.nbytes)

    def score(self, probe: TemplateLike, key: str) -> float:
        """The calibrated 1:1 score of `probe` and the template stored under `key`: what `search`
        gives that key when it makes the short list, for a caller that needs one it left out."""
        prepared = as_prepared(probe)
        candidate = unpack(self._packed[key])
        return float(calibrate_many(np.array([raw_score(prepared, candidate)]),
                                    np.array([both_mapped(prepared, candidate)], dtype=bool))[0])

    def search(self, probe: TemplateLike, top: int = 5, threshold: Optional[float] = None,
               shortlist: int = SHORTLIST) -> List[Tuple[str, float]]:
        """Up to `top` (key, calibrated score) best first, only scores ≥ `threshold` if given;
        `shortlist` pre-scored candidates get the exact score (fewer is faster, more is surer)."""
        if not self._packed or top <= 0:
            return []
        prepared = as_prepared(probe)
        if not prepared.valid.any():
            return []
        self._build_index()
        keys = self._keys
        prescore = self._prescore(coarse(prepared)[prepared.valid])
        shortlist = min(len(keys), max(shortlist, top))
        if shortlist < len(keys):
            chosen = np.argpartition(-prescore, shortlist - 1)[:shortlist]
        else:
            chosen = np.arange(len(keys))
        candidates = [unpack(self._packed[keys[i]]) for i in chosen]
        raw = np.array([raw_score(prepared, c) for c in candidates])
        scores = calibrate_many(raw, np.array([both_mapped(prepared, c) for c in candidates], dtype=bool))
        order = np.argsort(-scores, kind="stable")
        found = [(keys[chosen[i]], float(scores[i])) for i in order]
        if threshold is not None:
            found = [item for item in found if item[1] >= threshold]
        return found[:top]

    # ------------------------------------------------------------------ internals

    def _build_index(self) -> None:
        """One contiguous uint8 array of every stored minutia's coarse descriptor.

        Rebuilt lazily after add/remove, reusing the rows already indexed (each coarse row is
        kept once: either pending or in the index, never both).
        """
        if not self._dirty:
            return
        old = {key: (int(start), int(count)) for key, start, count in zip(self._keys, self._starts, self._counts)}
        keys = list(self._packed)
        counts = np.array([self._pending[k].shape[0] if k in self._pending else old[k][1] for k in keys],
                          dtype=np.int64)
        starts = np.zeros(len(keys), dtype=np.int64)
        if len(keys) > 1:
            np.cumsum(counts[:-1], out=starts[1:])
        # Filled in place, pending blocks released as they are copied: the peak stays near one
        # copy of the index instead of two.
        rows = np.empty((int(counts.sum()), COARSE_SIZE), dtype=np.uint8)
        for key, start, count in zip(keys, starts, counts):
            block = self._pending.pop(key, None)
            if block is None:
                first, _ = old[key]
                block = self._rows[first:first + count]
            rows[start:start + count] = block
        self._keys, self._starts, self._counts, self._rows = keys, starts, counts, rows
        self._pending = {}
        self._dirty = False

    def _prescore(self, probe: np.ndarray) -> np.ndarray:
        """Per template: sum of the PRESCORE_TOP best per-probe-minutia coarse similarities."""
        starts, counts, rows = self._starts, self._counts, self._rows
        templates = starts.size
        best = np.zeros((probe.shape[0], templates), dtype=np.float32)
        scale = np.float32(1.0 / _LEVELS)  # the probe stays float; stored rows are x255
        first = 0
        while first < templates:
            # Chunks aligned to template boundaries bound the temporary similarity matrix.
            last = max(first + 1, int(np.searchsorted(starts, starts[first] + _CHUNK_ROWS, side="left")))
            span = np.arange(first, last)
            span = span[counts[first:last] > 0]
            if span.size:
                lo = int(starts[span[0]])
                hi = int(starts[span[-1]] + counts[span[-1]])
                sims = probe @ rows[lo:hi].T.astype(np.float32)  # (p, hi - lo)
                best[:, span] = np.maximum.reduceat(sims, starts[span] - lo, axis=1) * scale
            first = last
        k = min(PRESCORE_TOP, best.shape[0])
        return -np.partition(-best, k - 1, axis=0)[:k].sum(axis=0)


_LEVELS = 255.0


def _quantise(unit_rows: np.ndarray) -> np.ndarray:
    """Coarse unit vectors (non-negative) as uint8: a quarter of the float32 size."""
    return np.clip(np.rint(unit_rows * _LEVELS), 0, 255).astype(np.uint8)
