"""1:N search: which enrolled template, if any, is the probe's finger?

Why two stages: the exact comparison (`match_core`) costs about a millisecond, far too much to
run against 10,000 enrolled prints for every capture.  So:

1. **Pre-score, vectorised over the whole gallery.**  Every stored minutia keeps a coarse
   descriptor (its cylinder pooled 2×2 in space, a unit vector, float16).  One matrix product
   compares each probe minutia with every stored minutia; per template, each probe minutia keeps
   its best partner (`np.maximum.reduceat` over the templates' row ranges) and the template's
   pre-score is the sum of its best `PRESCORE_TOP` partners.  No Python loop over templates.
2. **Exact score on a short list.**  The `SHORTLIST` best pre-scores get the full calibrated
   1:1 score (the same one `match()` gives, so thresholds mean the same in 1:1 and 1:N).

The probe is prepared once per search.  Templates are stored in the compact packed form
(`match_prepare.pack`), about 70 bytes per minutia plus 192 for the coarse descriptor.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from siaptui.biometrics.match import TemplateLike, as_prepared, calibrate_many
from siaptui.biometrics.match_core import raw_score
from siaptui.biometrics.match_prepare import COARSE_SIZE, Packed, coarse, pack, unpack

SHORTLIST = 64
PRESCORE_TOP = 6
_CHUNK_ROWS = 65536  # stored minutiae compared per matrix product (bounds temporary memory)


class Gallery:
    """Enrolled templates by key; `search` ranks them against a probe, best first."""

    def __init__(self) -> None:
        self._packed: Dict[str, Packed] = {}
        self._coarse: Dict[str, np.ndarray] = {}
        self._index: Optional[Tuple[List[str], np.ndarray, np.ndarray]] = None

    def add(self, key: str, template: TemplateLike) -> None:
        """Enroll (or replace) `key`; the template is prepared and packed once, here."""
        prepared = as_prepared(template)
        self._packed[key] = pack(prepared)
        self._coarse[key] = coarse(prepared).astype(np.float16)
        self._index = None

    def remove(self, key: str) -> None:
        """Forget `key` (a KeyError if it was never added, like a dict)."""
        del self._packed[key]
        del self._coarse[key]
        self._index = None

    def __len__(self) -> int:
        return len(self._packed)

    def __contains__(self, key: object) -> bool:
        return key in self._packed

    @property
    def nbytes(self) -> int:
        """Memory held by the stored templates and the search index (for the bench)."""
        total = sum(p.nbytes for p in self._packed.values()) + sum(c.nbytes for c in self._coarse.values())
        if self._index is not None:
            total += self._index[1].nbytes + self._index[2].nbytes
        return total

    def search(self, probe: TemplateLike, top: int = 5, threshold: Optional[float] = None) -> List[Tuple[str, float]]:
        """Up to `top` (key, calibrated score) best first, only scores ≥ `threshold` if given."""
        if not self._packed or top <= 0:
            return []
        prepared = as_prepared(probe)
        keys, starts, rows = self._build_index()
        usable = prepared.valid
        if not usable.any():
            return []
        probe_coarse = coarse(prepared)[usable]  # (p, COARSE_SIZE)
        prescore = self._prescore(probe_coarse, starts, rows)
        shortlist = min(len(keys), max(SHORTLIST, top))
        chosen = np.argpartition(-prescore, shortlist - 1)[:shortlist] if shortlist < len(keys) else np.arange(len(keys))
        raw = np.array([raw_score(prepared, unpack(self._packed[keys[i]])) for i in chosen])
        scores = calibrate_many(raw)
        order = np.argsort(-scores, kind="stable")
        found = [(keys[chosen[i]], float(scores[i])) for i in order]
        if threshold is not None:
            found = [item for item in found if item[1] >= threshold]
        return found[:top]

    # ------------------------------------------------------------------ internals

    def _build_index(self) -> Tuple[List[str], np.ndarray, np.ndarray]:
        """Concatenate every template's coarse rows once (rebuilt after add/remove)."""
        if self._index is None:
            keys = list(self._packed)
            counts = np.array([self._coarse[k].shape[0] for k in keys], dtype=np.int64)
            starts = np.zeros(len(keys), dtype=np.int64)
            np.cumsum(counts[:-1], out=starts[1:])
            rows = (np.concatenate([self._coarse[k] for k in keys]) if counts.sum()
                    else np.zeros((0, COARSE_SIZE), dtype=np.float16))
            self._index = (keys, starts, rows)
        return self._index

    @staticmethod
    def _prescore(probe: np.ndarray, starts: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Per template: sum of the PRESCORE_TOP best per-probe-minutia coarse similarities."""
        templates = starts.size
        total = rows.shape[0]
        best = np.zeros((probe.shape[0], templates), dtype=np.float32)
        if total == 0:
            return best.sum(axis=0)
        ends = np.append(starts[1:], total)
        nonempty = ends > starts
        # Walk the stored rows in chunks aligned to template boundaries.
        first = 0
        while first < templates:
            limit = starts[first] + _CHUNK_ROWS
            last = int(np.searchsorted(starts, limit, side="left"))
            last = max(last, first + 1)
            lo, hi = int(starts[first]), int(ends[last - 1])
            if hi > lo:
                sims = probe @ rows[lo:hi].astype(np.float32).T  # (p, hi - lo)
                span = np.arange(first, last)
                span = span[nonempty[first:last]]
                if span.size:
                    best[:, span] = np.maximum.reduceat(sims, starts[span] - lo, axis=1)
            first = last
        k = min(PRESCORE_TOP, best.shape[0])
        return -np.partition(-best, k - 1, axis=0)[:k].sum(axis=0)
