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

**Pre-selection.**  The exact comparison costs about a millisecond a finger, so persons are first
ranked by an alignment-free descriptor (`index.descriptor`), ten fingers' z-scores summed, and only
the best `PRESELECT` of each hypothesis are scored exactly (`PersonGallery` docstring; the miss
rate on genuine persons is measured by `siaptui bench office`, docs/bench/ghost.md).

The local check, the sandbox's server-side check and `siaptui bench office` all call `search`, so
they cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Collection, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from siaptui.biometrics.gallery import Gallery, exact_scores
from siaptui.biometrics.index import descriptor
from siaptui.biometrics.match import TemplateLike, as_prepared
from siaptui.biometrics.match_prepare import Prepared
from siaptui.biometrics.template import Template

GENUINE_DENSITY = 0.0025  # genuine pairs per calibrated point, s ≈ 10–50 (FVC2002 DB1–DB4 B)
LLR_FLOOR = 0.0
LLR_CAP = 7.0
ALPHA = 1e-4  # false alarms per honest enrollment the threshold is designed for: a tenth of the
# 0.1 % the product promises, the margin for fingers less independent than the model assumes
OFFICE_SIZE = 10_000  # enrolled persons the threshold holds for, at the least
PRESELECT = 12  # persons per hypothesis whose every finger is scored exactly
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
    return _survival(_impostor_finger_pmf(), fingers)


def _survival(single: np.ndarray, fingers: int) -> np.ndarray:
    pmf = np.array([1.0])
    for _ in range(fingers):
        pmf = np.convolve(pmf, single)
    return np.cumsum(pmf[::-1])[::-1]


def independent_tail(finger_llrs: Sequence[float], fingers: int, level: float) -> float:
    """P(person score ≥ `level`) if each of `fingers` fingers drew its evidence independently
    from the measured sample `finger_llrs` (impostor fingers): what the fusion's tail would be
    with these fingers' own per-finger tail and no dependence between fingers.  The bench
    compares it with the measured person-level tail to tell the two apart."""
    cells = _impostor_finger_pmf().size
    index = np.clip(np.rint((np.asarray(finger_llrs, dtype=np.float64) - LLR_FLOOR) / _STEP), 0, cells - 1)
    single = np.bincount(index.astype(np.int64), minlength=cells) / max(1, index.size)
    reached = np.nonzero(_fused_survival(fingers) <= 10.0 ** (-level / 10.0))[0]
    if not reached.size:
        return 0.0
    return float(_survival(single, fingers)[int(reached[0])])


def genuine_missed(finger_scores: Sequence[float], fingers: int, persons: int = OFFICE_SIZE) -> float:
    """Share of re-enrolled persons the check would miss among `persons` enrolled, if each of
    their `fingers` fingers scored like a draw from `finger_scores` (calibrated same-finger
    scores, one view a finger): the price of the threshold at one sensor's quality.  The fingers
    are taken as independent; a person whose prints are all poor (dry skin) is missed more often."""
    if not finger_scores:
        return 1.0
    return 1.0 - independent_tail([finger_llr(s) for s in finger_scores], fingers, alarm_threshold(persons))


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
    """Enrolled persons: per finger position, the templates (one or more views) of each person.

    Search in two stages (docs/bench/ghost.md, "Pre-selection"): every probe finger's
    descriptor is compared with every enrolled view at its counterpart position — both
    hypotheses served by one matrix product per position — and each similarity becomes a
    z-score against that probe's similarities over the whole position; a person's pre-score for
    a hypothesis is the sum over fingers of the best view's z.  The `PRESELECT` best persons of
    each hypothesis then get every finger scored exactly, so a fused score is never computed
    from partial evidence.
    """

    def __init__(self) -> None:
        self._positions: Dict[int, Gallery] = {}
        self._views: Dict[str, Dict[int, int]] = {}
        self._ids: Dict[str, int] = {}
        self._names: List[str] = []

    def add(self, person: str, position: int, template: Template) -> None:
        """Add one view of `person`'s finger at `position` (1–10)."""
        person, position = str(person), int(position)
        held = self._views.setdefault(person, {})
        view = held.get(position, 0)
        if person not in self._ids:
            self._ids[person] = len(self._names)
            self._names.append(person)
        self._positions.setdefault(position, Gallery()).add(_key(person, view), template, self._ids[person])
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

    def persons(self) -> List[str]:
        """The enrolled persons, in enrollment order."""
        return list(self._views)

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
        """Every fully scored candidate of both hypotheses (what the bench reads the tail from)."""
        prepared = {int(p): as_prepared(t) for p, t in probes.items()}
        prepared = {p: t for p, t in prepared.items() if t.valid.any()}
        excluded = {str(e) for e in exclude}
        threshold = alarm_threshold(len(self))
        chosen = self.preselect(prepared, excluded)
        cache: Dict[Tuple[int, str], Prepared] = {}
        return [self.compare(person, prepared, hypothesis, threshold, cache)
                for hypothesis in HYPOTHESES for person in chosen[hypothesis]]

    def preselect(self, probes: Mapping[int, Prepared], excluded: Collection[str] = (),
                  keep: int = PRESELECT) -> Dict[str, List[str]]:
        """Per hypothesis, the `keep` persons with the best pre-scores, best first."""
        total = {h: np.zeros(len(self._names), dtype=np.float64) for h in HYPOTHESES}
        vectors = {p: descriptor(t) for p, t in probes.items()}
        for position, gallery in self._positions.items():
            asked = [(h, p) for h in HYPOTHESES for p in vectors if counterpart(p, h) == position]
            if not asked or not len(gallery):
                continue
            _, groups, sims = gallery.similarities(np.stack([vectors[p] for _, p in asked]))
            taken = groups >= 0
            sims, groups = sims[taken], groups[taken]
            z = (sims - sims.mean(axis=0)) / np.maximum(sims.std(axis=0), 1e-6)
            for column, (hypothesis, _) in enumerate(asked):
                best = np.full(len(self._names), -np.inf)
                np.maximum.at(best, groups, z[:, column])
                total[hypothesis] += np.where(np.isfinite(best), best, 0.0)
        enrolled = np.array([name in self._views and name not in excluded for name in self._names], dtype=bool)
        chosen = {}
        for hypothesis, scores in total.items():
            ranked = np.argsort(-np.where(enrolled, scores, -np.inf), kind="stable")[:min(keep, int(enrolled.sum()))]
            chosen[hypothesis] = [self._names[i] for i in ranked]
        return chosen

    def compare(self, person: str, probes: Mapping[int, Prepared], hypothesis: str, threshold: float,
                cache: Optional[Dict[Tuple[int, str], Prepared]] = None) -> PersonMatch:
        """`probes` against every finger of enrolled `person` under `hypothesis`, exactly
        (`cache` keeps records prepared once when the same person is compared again)."""
        cache = {} if cache is None else cache
        evidence = []
        for position, probe in probes.items():
            enrolled = counterpart(position, hypothesis)
            views = self._views[person].get(enrolled, 0)
            if not views:
                continue
            gallery = self._positions[enrolled]
            records = []
            for v in range(views):
                key = _key(person, v)
                if (enrolled, key) not in cache:
                    cache[(enrolled, key)] = gallery.prepared(key)
                records.append(cache[(enrolled, key)])
            score = max(exact_scores(probe, records))
            evidence.append(FingerEvidence(position, enrolled, round(score, 2), round(finger_llr(score, views), 3)))
        value = person_score(sum(f.llr for f in evidence), len(evidence))
        return PersonMatch(person, round(value, 2), hypothesis, tuple(evidence), value >= threshold)


def _key(person: str, view: int) -> str:
    return f"{person}#{view}"


def search_one(gallery: PersonGallery, probes: Mapping[int, TemplateLike],
               exclude: Collection[str] = ()) -> Optional[PersonMatch]:
    """The flagged candidate, if any: what the local and the sandbox's checks act on."""
    found = gallery.search(probes, exclude=exclude, top=1)
    return found[0] if found and found[0].flagged else None
