"""1:N search at one finger position: which enrolled template, if any, is the probe's finger?

Why two stages: the exact comparison (`match_core`) costs about a millisecond, far too much to
run against 10,000 enrolled prints for every capture.  So:

1. **Pre-selection, one matrix product over the whole gallery.**  Every stored template keeps
   its alignment-free descriptor (`index.descriptor`, `DESCRIPTOR_SIZE` bytes, one row of one
   contiguous uint8 matrix); `similarities` compares any number of probe descriptors with every
   row at once.  No Python loop over templates.
2. **Exact score on a short list.**  The best pre-selected candidates get the full calibrated
   1:1 score — the score `match()` gives the stored record, so thresholds mean the same in 1:1
   and 1:N.

What is kept per template is what those two stages need and nothing else: the descriptor row
and the template's own compact record (`Template.to_bytes`: 8 bytes a minutia and the 3-byte-a-
block orientation map, zlib-compressed), about 1.5 KB in all; a short-listed record is read and
prepared again when it is compared (about a millisecond, the same as the comparison), instead
of holding every template's prepared arrays (~6 KB) in memory.
"""

from __future__ import annotations

import zlib
from typing import Dict, List, Optional, Tuple

import numpy as np

from siaptui.biometrics.index import DESCRIPTOR_SIZE, LEVELS, descriptor, quantised
from siaptui.biometrics.match import TemplateLike, as_prepared, calibrate_many
from siaptui.biometrics.match_core import both_mapped, raw_score
from siaptui.biometrics.match_prepare import Prepared, prepare
from siaptui.biometrics.template import Template

SHORTLIST = 64
NO_GROUP = -1
_CHUNK_ROWS = 16384  # descriptor rows converted to float per product (bounds temporary memory)


class Gallery:
    """Enrolled templates by key; `search` ranks them against a probe, best first.

    A key may carry an integer `group` (person.py: the person a view belongs to), returned by
    `similarities` beside each row so a caller can pool rows without a loop over keys.
    """

    def __init__(self) -> None:
        self._records: Dict[str, bytes] = {}
        self._row: Dict[str, int] = {}
        self._keys: List[Optional[str]] = []  # row -> key (None: a free row)
        self._free: List[int] = []
        self._matrix = np.zeros((0, DESCRIPTOR_SIZE), dtype=np.uint8)
        self._groups = np.zeros(0, dtype=np.int32)

    def add(self, key: str, template: Template, group: int = NO_GROUP) -> None:
        """Enroll (or replace) `key`."""
        if key in self._row:
            self.remove(key)
        row = self._free.pop() if self._free else self._grow()
        self._records[key] = zlib.compress(template.to_bytes(), 6)
        self._matrix[row] = quantised(descriptor(prepare(template)))
        self._groups[row] = group
        self._keys[row] = key
        self._row[key] = row

    def remove(self, key: str) -> None:
        """Forget `key` (a KeyError if it was never added, like a dict)."""
        row = self._row.pop(key)
        del self._records[key]
        self._matrix[row] = 0
        self._groups[row] = NO_GROUP
        self._keys[row] = None
        self._free.append(row)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: object) -> bool:
        return key in self._records

    @property
    def nbytes(self) -> int:
        """Memory held by the stored records and the index (for the benches)."""
        return sum(len(r) for r in self._records.values()) + self._matrix.nbytes + self._groups.nbytes

    def prepared(self, key: str) -> Prepared:
        """The stored record of `key`, ready for the exact comparison."""
        return prepare(Template.from_bytes(zlib.decompress(self._records[key])))

    def similarities(self, probes: np.ndarray) -> Tuple[List[Optional[str]], np.ndarray, np.ndarray]:
        """(keys by row, groups by row, (rows, m) descriptor similarities) for m probe
        descriptors (`index.descriptor`, unit vectors).  Free rows have key None, similarity 0."""
        rows = len(self._keys)
        probes = np.asarray(probes, dtype=np.float32).reshape(-1, DESCRIPTOR_SIZE)
        out = np.empty((rows, probes.shape[0]), dtype=np.float32)
        weights = probes.T * np.float32(1.0 / LEVELS)
        for first in range(0, rows, _CHUNK_ROWS):
            last = min(rows, first + _CHUNK_ROWS)
            out[first:last] = self._matrix[first:last].astype(np.float32) @ weights
        return self._keys, self._groups[:rows], out

    def search(self, probe: TemplateLike, top: int = 5, threshold: Optional[float] = None,
               shortlist: int = SHORTLIST) -> List[Tuple[str, float]]:
        """Up to `top` (key, calibrated score) best first, only scores ≥ `threshold` if given;
        `shortlist` pre-selected candidates get the exact score (fewer is faster, more is surer)."""
        if not self._records or top <= 0:
            return []
        prepared = as_prepared(probe)
        if not prepared.valid.any():
            return []
        keys, _, sims = self.similarities(descriptor(prepared))
        taken = np.array([k is not None for k in keys])
        similarity = np.where(taken, sims[:, 0], -np.inf)
        count = min(len(self._records), max(shortlist, top))
        chosen = np.argsort(-similarity, kind="stable")[:count]
        names = [str(keys[i]) for i in chosen]
        scores = exact_scores(prepared, [self.prepared(k) for k in names])
        found = sorted(zip(names, scores), key=lambda item: -item[1])
        if threshold is not None:
            found = [item for item in found if item[1] >= threshold]
        return found[:top]

    def _grow(self) -> int:
        """A new row at the end, the arrays doubled when full (amortised, like a list)."""
        row = len(self._keys)
        if row == self._matrix.shape[0]:
            size = max(64, 2 * row)
            matrix = np.zeros((size, DESCRIPTOR_SIZE), dtype=np.uint8)
            matrix[:row] = self._matrix
            groups = np.full(size, NO_GROUP, dtype=np.int32)
            groups[:row] = self._groups
            self._matrix, self._groups = matrix, groups
        self._keys.append(None)
        return row


def exact_scores(probe: Prepared, candidates: List[Prepared]) -> List[float]:
    """Calibrated 1:1 scores of one prepared probe against prepared candidates."""
    if not candidates:
        return []
    raw = np.array([raw_score(probe, c) for c in candidates])
    mapped = np.array([both_mapped(probe, c) for c in candidates], dtype=bool)
    return [float(s) for s in calibrate_many(raw, mapped)]
