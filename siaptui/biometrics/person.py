"""Person-level 1:N: is this worker already enrolled under another NSS (a "ghost" employee)?

Why per person and not per finger: searching each captured finger against every template of the
office at a per-finger threshold makes 10 × 10 × N comparisons per enrollment, so the false
alarms grow with the office (at FMR 0.01 % about ten per enrollment at 1,000 workers).  Here each
probe finger is compared only with the same position of each enrolled person — and, as a second
hypothesis, with the hands exchanged (a clerk who captured the left hand in the right hand's
slots) — and the finger scores are fused into one per-person score with a stated false-alarm rate.

**Finger evidence.**  The calibrated score `s` (match.py) is built so that an impostor reaches it
with probability 10^(-s/10); that held on the FVC2002 impostor pairs and on the U.are.U 4000 ones
alike.  The genuine density over the range where the decision is made (s ≈ 10–50), measured on
the FVC2002 DB1–DB4 B genuine pairs, is about `GENUINE_DENSITY` per point, flat to within a factor
of two.  The log-likelihood ratio of one finger is therefore linear in the score,

    llr(s) = ln(GENUINE_DENSITY / (ln 10 / 10)) + s · ln 10 / 10,

clipped to [`LLR_FLOOR`, `LLR_CAP`] = [0, 7]: only agreement counts.  A finger that does not agree
is no evidence either way — it may share no area with its earlier impression (a tenth of the
U.are.U genuine pairs score under 10) — and counting it against would also let the fingers of
one impostor, which are not quite independent, weigh more than the model says.  The cap sits at
s = 50 (FMR 10^-5), beyond which the impostor tail was never measured.  An enrolled
finger may keep several impressions ("views"); the best of V views reaches a score V times as
often, so its score is lowered by 10·log10 V first, which keeps the impostor model unchanged.

**Person score.**  An impostor's fingers are independent, so the fused impostor distribution of n
compared fingers is the n-fold convolution of the per-finger one (computed on a grid, exactly, no
sampling).  The person score is -10·log10 of the probability that an impostor's n fingers fuse to
at least as much: the same scale as a finger score (30 ≈ one impostor in a thousand).  The alarm
threshold is `10·log10(N · H / alpha)`: at most `alpha` false alarms per enrollment over N
enrolled persons (at least `OFFICE_SIZE`) and H hypotheses.  One finger alone can never raise it
at office scale; two strong fingers can.

The local check, the sandbox's server-side check and `siaptui bench office` all call `search`, so
they cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Collection, Dict, List, Mapping, Optional, Tuple

import numpy as np

from siaptui.biometrics.gallery import Gallery
from siaptui.biometrics.match import TemplateLike, as_prepared
from siaptui.biometrics.match_prepare import Prepared

GENUINE_DENSITY = 0.0025  # genuine pairs per calibrated point, s ≈ 10–50 (FVC2002 DB1–DB4 B)
LLR_FLOOR = 0.0
LLR_CAP = 7.0
ALPHA = 1e-3  # false alarms per honest enrollment the threshold is set for
OFFICE_SIZE = 10_000  # enrolled persons the threshold holds for, at the least
SHORTLIST = 16  # exact comparisons per probe finger and hypothesis
COMPLETE = 24  # candidates whose every finger is scored after the short lists
_STEP = 0.05  # LLR grid of the convolution
_SLOPE = math.log(10) / 10
_OFFSET = math.log(GENUINE_DENSITY / _SLOPE)

SAME = "same"
HANDS_SWAPPED = "hands_swapped"
HYPOTHESES: Tuple[str, ...] = (SAME, HANDS_SWAPPED)


def counterpart(position: int, hypothesis: str) -> int:
    """The enrolled position a probe finger is compared with (ISO 1–5 right hand, 6–10 left)."""
    if hypothesis == HANDS_SWAPPED:
        return position + 5 if position <= 5 else position - 5
    return position


def finger_llr(score: float, views: int = 1) -> float:
    """Evidence of one finger's (best-of-`views`) calibrated score, natural log units."""
    adjusted = score - 10.0 * math.log10(max(1, views))
    return float(min(LLR_CAP, max(LLR_FLOOR, _OFFSET + _SLOPE * adjusted)))


@cache
def _impostor_finger_pmf() -> np.ndarray:
    """P(llr on grid cell k) for an impostor finger: survival 10^(-s/10) pushed through llr."""
    cells = int(round((LLR_CAP - LLR_FLOOR) / _STEP)) + 1
    edges = LLR_FLOOR + (np.arange(cells + 1) - 0.5) * _STEP
    scores = (edges - _OFFSET) / _SLOPE  # the score at each cell edge
    survival = np.minimum(1.0, 10.0 ** (-np.maximum(scores, 0.0) / 10.0))
    survival[0], survival[-1] = 1.0, 0.0  # below the floor and above the cap: those cells
    pmf = survival[:-1] - survival[1:]
    pmf[0] = 1.0 - pmf[1:].sum()
    return pmf


@cache
def _fused_survival(fingers: int) -> np.ndarray:
    """P(fused impostor llr ≥ grid value j) for `fingers` compared fingers."""
    pmf = np.array([1.0])
    single = _impostor_finger_pmf()
    for _ in range(fingers):
        pmf = np.convolve(pmf, single)
    return np.cumsum(pmf[::-1])[::-1]


def person_score(fused_llr: float, fingers: int) -> float:
    """-10·log10 P(an impostor's `fingers` fuse to ≥ `fused_llr`): the calibrated person score."""
    if fingers <= 0:
        return 0.0
    survival = _fused_survival(fingers)
    index = int(math.ceil((fused_llr - fingers * LLR_FLOOR) / _STEP - 1e-9))
    if index <= 0:
        return 0.0
    tail = float(survival[index]) if index < survival.size else 0.0
    return 10.0 * -math.log10(max(tail, 1e-30))  # 300: beyond anything measurable


def alarm_threshold(persons: int, alpha: float = ALPHA) -> float:
    """Person score above which an enrollment is flagged (see the module docstring)."""
    return 10.0 * math.log10(max(persons, OFFICE_SIZE) * len(HYPOTHESES) / alpha)


@dataclass(frozen=True)
class FingerEvidence:
    """One probe finger against its counterpart in the candidate's record."""

    position: int
    enrolled_position: int
    score: float
    llr: float


@dataclass(frozen=True)
class PersonMatch:
    """A candidate person, the fused evidence and whether it raises the alarm."""

    person: str
    score: float
    hypothesis: str
    fingers: Tuple[FingerEvidence, ...]
    flagged: bool

    def matched(self, minimum_llr: float = 0.0) -> List[FingerEvidence]:
        """The fingers that speak for "same person" (what Revisión shows the clerk)."""
        return [f for f in self.fingers if f.llr > minimum_llr]


class PersonGallery:
    """Enrolled persons: per finger position, the templates (one or more views) of each person."""

    def __init__(self) -> None:
        self._positions: Dict[int, Gallery] = {}
        self._views: Dict[str, Dict[int, int]] = {}

    def add(self, person: str, position: int, template: TemplateLike) -> None:
        """Add one view of `person`'s finger at `position` (1–10)."""
        person, position = str(person), int(position)
        held = self._views.setdefault(person, {})
        view = held.get(position, 0)
        self._positions.setdefault(position, Gallery()).add(_key(person, view), template)
        held[position] = view + 1

    def remove(self, person: str) -> None:
        """Forget every view of `person` (ARCO, a re-enrollment); unknown persons are ignored."""
        for position, views in self._views.pop(str(person), {}).items():
            for view in range(views):
                self._positions[position].remove(_key(str(person), view))

    def __len__(self) -> int:
        return len(self._views)

    def __contains__(self, person: object) -> bool:
        return str(person) in self._views

    @property
    def nbytes(self) -> int:
        return sum(g.nbytes for g in self._positions.values())

    def search(self, probes: Mapping[int, TemplateLike], *, exclude: Collection[str] = (),
               top: int = 5) -> List[PersonMatch]:
        """The `top` candidate persons for the worker whose fingers are `probes`, best first (a
        person found under both hypotheses appears once, with the better one).

        `exclude` holds the worker's own identities (a re-enrollment under the same NSS is no
        ghost).
        """
        found: Dict[str, PersonMatch] = {}
        for match in self.candidates(probes, exclude=exclude):
            kept = found.get(match.person)
            if kept is None or match.score > kept.score:
                found[match.person] = match
        return sorted(found.values(), key=lambda m: -m.score)[:top]

    def candidates(self, probes: Mapping[int, TemplateLike], *, exclude: Collection[str] = ()) -> List[PersonMatch]:
        """Every fully scored candidate of both hypotheses (what the bench reads the tail from).

        Candidates come from each finger's short list; the best `COMPLETE` of them per hypothesis
        then get every finger scored, so a fused score is never computed from partial evidence.
        """
        prepared = {int(p): as_prepared(t) for p, t in probes.items()}
        prepared = {p: t for p, t in prepared.items() if t.valid.any()}
        excluded = {str(e) for e in exclude}
        threshold = alarm_threshold(len(self))
        return [match for hypothesis in HYPOTHESES for match in self._search(prepared, hypothesis, excluded, threshold)]

    def _search(self, probes: Mapping[int, Prepared], hypothesis: str, excluded: Collection[str],
                threshold: float) -> List[PersonMatch]:
        best: Dict[str, Dict[int, float]] = {}
        for position, probe in probes.items():
            gallery = self._positions.get(counterpart(position, hypothesis))
            if gallery is None:
                continue
            for key, score in gallery.search(probe, top=SHORTLIST, shortlist=SHORTLIST):
                person = _person(key)
                if person in excluded:
                    continue
                scores = best.setdefault(person, {})
                scores[position] = max(score, scores.get(position, 0.0))
        ranked = sorted(best, key=lambda person: -sum(
            max(0.0, finger_llr(s, self._views[person].get(counterpart(p, hypothesis), 1)))
            for p, s in best[person].items()))
        return [self._complete(person, best[person], probes, hypothesis, threshold) for person in ranked[:COMPLETE]]

    def _complete(self, person: str, known: Dict[int, float], probes: Mapping[int, Prepared], hypothesis: str,
                  threshold: float) -> PersonMatch:
        evidence = []
        for position, probe in probes.items():
            enrolled = counterpart(position, hypothesis)
            views = self._views[person].get(enrolled, 0)
            if not views:
                continue
            score = known.get(position)
            if score is None:
                gallery = self._positions[enrolled]
                score = max(gallery.score(probe, _key(person, v)) for v in range(views))
            evidence.append(FingerEvidence(position, enrolled, round(score, 2), round(finger_llr(score, views), 3)))
        value = person_score(sum(f.llr for f in evidence), len(evidence))
        return PersonMatch(person, round(value, 2), hypothesis, tuple(evidence), value >= threshold)


def _key(person: str, view: int) -> str:
    return f"{person}#{view}"


def _person(key: str) -> str:
    return key.rsplit("#", 1)[0]


def search_one(gallery: PersonGallery, probes: Mapping[int, TemplateLike],
               exclude: Collection[str] = ()) -> Optional[PersonMatch]:
    """The flagged candidate, if any: what the local and the sandbox's checks act on."""
    found = gallery.search(probes, exclude=exclude, top=1)
    return found[0] if found and found[0].flagged else None
