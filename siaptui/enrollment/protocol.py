"""The ten-finger enrollment protocol as plain Python: what the capture screen asks the clerk for.

Why separate from the screen: the rules that decide whether an enrollment is trustworthy must
be testable without a terminal and reusable by a future batch tool.  The rules:

* every finger position (ISO 1–10) is either captured or marked missing with a reason
  (amputated, bandaged, injured, other) — never silently skipped;
* a finger needs `impressions` (3) accepted impressions that all match each other at the
  engine's FMR 0.1 % threshold; when they do not, the impressions outside the largest agreeing
  group are discarded and more are captured (after `max_attempts` the clerk is told to clean the
  reader and start the finger again);
* the best impression (highest quality) of each finger is kept;
* two positions whose best impressions match are flagged (the same finger presented twice);
* the worker is searched 1:N, as a person (all fingers fused, `siaptui.biometrics.person`),
  against the office's local gallery; another NSS flagged as the same person goes to
  `flow.review.gallery_hits`: flagged for review, never submitted silently.

Thresholds: impressions of one finger must agree at FMR 0.1 % (`THRESHOLDS["fmr_0.1"]`).  The
duplicate-finger check makes 45 comparisons per enrollment, so at FMR 0.1 % it would raise a false
alarm on a sizeable share of honest enrollments; it uses the stricter FMR 0.01 % score
(`strict_threshold`).  The gallery check sets its own threshold per person (`person.py`).

Everything is written into `siaptui.enrollment.flow.Flow` (`fingers`, `review`) so that the screens, the
outbox and the tests read one source of truth.  Templates are stored in the flow as bytes
(`Template.to_bytes()`); decoded templates are cached here so matching never re-parses.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from siaptui.enrollment.flow import FINGERS, FingerCapture, Flow, Impression
from siaptui.errors import SiaptuiError

REASONS: Tuple[str, ...] = ("amputated", "bandaged", "injured", "other")


class EnrollmentError(SiaptuiError):
    """A protocol rule the clerk must satisfy before moving on."""

    code = "enrollment_incomplete"


def _check_position(position: int) -> int:
    if isinstance(position, bool) or not isinstance(position, int) or position not in FINGERS:
        raise EnrollmentError(str(position), code="enrollment_bad_finger", position=position)
    return position


def default_threshold(level: str = "fmr_0.1") -> float:
    """The engine's "same finger" score at a false-match rate (docs/architecture.md)."""
    from siaptui.biometrics.match import THRESHOLDS

    return float(THRESHOLDS[level])


@dataclass
class AddResult:
    """What happened when an impression was added; the screen turns it into guidance."""

    position: int
    count: int
    """Impressions of this finger kept after the checks."""
    needed: int
    finger_done: bool = False
    consistent: Optional[bool] = None
    """None until `needed` impressions were compared; then whether they all agreed."""
    discarded: int = 0
    """Impressions dropped because they did not match the others."""
    attempts: int = 0
    """Impressions taken for this finger since it was (re)started."""
    too_many_attempts: bool = False
    duplicates: List[Tuple[int, int, float]] = field(default_factory=list)
    """Pairs (a, b, score) that involve this finger and look like the same finger."""


class Enrollment:
    """Drives the capture of one worker's ten fingers into `flow`."""

    def __init__(
        self,
        flow: Flow,
        *,
        impressions: int = 3,
        threshold: Optional[float] = None,
        strict_threshold: Optional[float] = None,
        max_attempts: Optional[int] = None,
    ) -> None:
        self.flow = flow
        self.impressions = max(1, int(impressions))
        self._threshold = float(threshold) if threshold is not None else None
        self._strict = float(strict_threshold) if strict_threshold is not None else None
        self.max_attempts = int(max_attempts) if max_attempts else 3 * self.impressions
        self._templates: Dict[int, List[Any]] = {}
        self._attempts: Dict[int, int] = {}
        self._pair_scores: Dict[Tuple[int, int], float] = {}
        self._matchers: Dict[int, Tuple[Any, Any]] = {}
        for position in FINGERS:
            flow.fingers.setdefault(position, FingerCapture(position=position))
        self.current: int = self.next_pending() or FINGERS[0]

    @property
    def threshold(self) -> float:
        """Looked up on first use, so the screen can open before the matcher is imported."""
        if self._threshold is None:
            self._threshold = default_threshold("fmr_0.1")
        return self._threshold

    @property
    def strict_threshold(self) -> float:
        """Score for the many-comparison checks (duplicate fingers, 1:N gallery): FMR 0.01 %."""
        if self._strict is None:
            self._strict = max(default_threshold("fmr_0.01"), self.threshold)
        return self._strict

    # ------------------------------------------------------------------ state
    def finger(self, position: int) -> FingerCapture:
        return self.flow.fingers[_check_position(position)]

    def pending(self) -> List[int]:
        """Positions neither captured nor marked missing, in protocol order."""
        return [p for p in FINGERS if not self.flow.fingers[p].done]

    def next_pending(self, after: Optional[int] = None) -> Optional[int]:
        """The next position to capture after `after` (wrapping), or None when all are done."""
        todo = self.pending()
        if not todo:
            return None
        if after is None:
            return todo[0]
        later = [p for p in todo if p > after]
        return (later or todo)[0]

    def select(self, position: int) -> None:
        self.current = _check_position(position)

    def captured(self) -> List[int]:
        return [p for p in FINGERS if self.flow.fingers[p].best is not None]

    @property
    def is_complete(self) -> bool:
        return not self.pending() and bool(self.captured())

    def require_complete(self) -> None:
        """Raise EnrollmentError naming what is missing (the Revisión/submit gate)."""
        from siaptui.i18n import t

        todo = self.pending()
        if todo:
            names = ", ".join(t(f"capture.finger.{p}") for p in todo)
            raise EnrollmentError(names, fingers=names)
        if not self.captured():
            raise EnrollmentError("none captured", fingers=t("capture.none_captured"))

    def attempts(self, position: int) -> int:
        return self._attempts.get(position, 0)

    def template(self, position: int, index: int) -> Any:
        """The decoded template of one impression (cached; decoded from the flow if needed)."""
        cached = self._templates.setdefault(position, [])
        impressions = self.flow.fingers[position].impressions
        if len(cached) != len(impressions):
            from siaptui.biometrics.template import Template

            cached[:] = [Template.from_bytes(imp.template) for imp in impressions]
        return cached[index]

    def best_template(self, position: int) -> Any:
        capture = self.flow.fingers[position]
        return None if capture.best is None else self.template(position, capture.best)

    # ------------------------------------------------------------------ changes
    def restart(self, position: int) -> None:
        """Forget the finger's impressions and missing mark: capture it again from scratch."""
        position = _check_position(position)
        self.flow.fingers[position] = FingerCapture(position=position)
        self._templates.pop(position, None)
        self._attempts.pop(position, None)
        self._forget_pairs(position)
        self._refresh_duplicates()
        self._drop_gallery_hits(position)
        self.current = position

    def mark_missing(self, position: int, reason: str) -> None:
        """Record that a finger cannot be captured, and why (kept in the enrollment request)."""
        position = _check_position(position)
        if reason not in REASONS:
            raise EnrollmentError(str(reason), code="enrollment_bad_reason", reason=reason)
        self.flow.fingers[position] = FingerCapture(position=position, missing_reason=reason)
        self._templates.pop(position, None)
        self._attempts.pop(position, None)
        self._forget_pairs(position)
        self._refresh_duplicates()
        self._drop_gallery_hits(position)
        if self.current == position:
            self.current = self.next_pending(position) or position

    def add_impression(self, position: int, template: Any, quality: int, image_png: bytes = b"") -> AddResult:
        """Keep one accepted impression; compare once `impressions` are in; pick the best.

        `template` is a `siaptui.biometrics.template.Template` (from `extract`).  Adding to a
        finger that is already done restarts it first (the clerk chose to recapture).
        """
        position = _check_position(position)
        capture = self.flow.fingers[position]
        if capture.done:
            self.restart(position)
            capture = self.flow.fingers[position]
        if capture.impressions:
            self.template(position, 0)  # make sure the decoded cache matches the flow
        capture.impressions.append(Impression(quality=int(quality), template=template.to_bytes(), image_png=image_png))
        self._templates.setdefault(position, []).append(template)
        self._attempts[position] = self._attempts.get(position, 0) + 1
        result = AddResult(position, len(capture.impressions), self.impressions, attempts=self._attempts[position])
        if len(capture.impressions) < self.impressions:
            return result
        agreeing, scores = self._largest_agreeing_group(position)
        capture.consistency = {
            "pairs": [[i, j, round(s, 2)] for (i, j), s in sorted(scores.items())],
            "agree": len(agreeing) == len(capture.impressions),
            "threshold": self.threshold,
            "attempts": self._attempts[position],
        }
        if len(agreeing) == len(capture.impressions):
            capture.best = max(agreeing, key=lambda i: capture.impressions[i].quality)
            result.finger_done = True
            result.consistent = True
            result.duplicates = [d for d in self._refresh_duplicates() if position in d[:2]]
            nxt = self.next_pending(position)
            if nxt is not None:
                self.current = nxt
            return result
        best = max(range(len(capture.impressions)), key=lambda i: capture.impressions[i].quality)
        keep = agreeing if len(agreeing) >= 2 else [best]
        keep = sorted(keep)
        result.discarded = len(capture.impressions) - len(keep)
        capture.impressions = [capture.impressions[i] for i in keep]
        self._templates[position] = [self._templates[position][i] for i in keep]
        result.count = len(capture.impressions)
        result.consistent = False
        result.too_many_attempts = self._attempts[position] >= self.max_attempts
        return result

    # ------------------------------------------------------------------ checks
    def _matcher(self, template: Any) -> Any:
        """A `Matcher` per template, prepared once: the duplicate check compares each finger's
        best impression with every other finger's, and re-preparing costs more than matching."""
        from siaptui.biometrics.match import Matcher

        key = id(template)
        cached = self._matchers.get(key)
        if cached is None or cached[0] is not template:
            cached = self._matchers[key] = (template, Matcher(template))
        return cached[1]

    def _score(self, a: Any, b: Any) -> float:
        return float(self._matcher(a).match(self._matcher(b).probe))

    def _largest_agreeing_group(self, position: int) -> Tuple[List[int], Dict[Tuple[int, int], float]]:
        """Indices of the largest set of impressions that all match each other, and all scores."""
        templates = [self.template(position, i) for i in range(len(self.flow.fingers[position].impressions))]
        scores: Dict[Tuple[int, int], float] = {}
        for i, j in itertools.combinations(range(len(templates)), 2):
            scores[(i, j)] = self._score(templates[i], templates[j])
        for size in range(len(templates), 0, -1):  # a single impression agrees with itself
            groups = [
                list(group)
                for group in itertools.combinations(range(len(templates)), size)
                if all(scores[pair] >= self.threshold for pair in itertools.combinations(group, 2))
            ]
            if groups:
                # Prefer the group whose impressions are best on average.
                impressions = self.flow.fingers[position].impressions
                return max(groups, key=lambda g: sum(impressions[i].quality for i in g)), scores
        return [], scores

    def _forget_pairs(self, position: int) -> None:
        for pair in [p for p in self._pair_scores if position in p]:
            del self._pair_scores[pair]

    def _refresh_duplicates(self) -> List[Tuple[int, int, float]]:
        """Recompute `review.duplicate_fingers` over all captured fingers (scores cached)."""
        done = self.captured()
        found: List[Tuple[int, int, float]] = []
        for a, b in itertools.combinations(done, 2):
            score = self._pair_scores.get((a, b))
            if score is None:
                score = self._pair_scores[(a, b)] = self._score(self.best_template(a), self.best_template(b))
            if score >= self.strict_threshold:
                found.append((a, b, round(score, 2)))
        self.flow.review.duplicate_fingers = found
        return found

    def _drop_gallery_hits(self, position: int) -> None:
        self.flow.review.gallery_hits = [h for h in self.flow.review.gallery_hits if h[1] != position]

    def search_gallery(self, gallery: Any, own_nss: Optional[str] = None) -> List[Tuple[str, int, float]]:
        """Person-level 1:N of the worker's captured fingers against `gallery` (a biometrics
        `PersonGallery` keyed by NSS, see `siaptui.biometrics.person`).

        The worker's own NSS (a re-enrollment) is no ghost.  When another person is flagged,
        `flow.review.gallery_hits` lists (NSS, finger, score) for the fingers that matched.
        """
        from siaptui.biometrics.person import search_one

        own = self.flow.worker.nss if own_nss is None else own_nss
        probes = {position: self.best_template(position) for position in self.captured()}
        hit = search_one(gallery, probes, exclude={own} if own else ())
        hits = [(hit.person, f.position, f.score) for f in hit.matched()] if hit else []
        if hits != self.flow.review.gallery_hits:
            self.flow.review.review_reason = ""  # a reason given for other evidence does not carry over
        self.flow.review.gallery_hits = hits
        return hits

    def search_store(self, store: Any, own_nss: Optional[str] = None) -> List[Tuple[str, int, float]]:
        """Search the store's office gallery (kept in memory between searches, see `searchable`)."""
        return self.search_gallery(store.gallery.searchable(), own_nss)

    def gallery_record(self) -> Dict[int, bytes]:
        """Position → every kept impression of the finger (`views_to_bytes`), for the office
        gallery: all agreeing impressions, so a later probe placed elsewhere still finds it."""
        from siaptui.biometrics.template import views_to_bytes

        record = {}
        for position in self.captured():
            kept = [self.template(position, i) for i in range(len(self.flow.fingers[position].impressions))]
            record[position] = views_to_bytes(kept)
        return record


def missing_reason_label(reason: str) -> str:
    from siaptui.i18n import t

    return t(f"capture.reason.{reason}") if reason in REASONS else reason


def finger_label(position: int) -> str:
    from siaptui.i18n import t

    return t(f"capture.finger.{position}")


def describe_pairs(pairs: Iterable[Sequence[Any]]) -> str:
    """"Pulgar derecho = Índice derecho" style text for duplicate pairs (Revisión)."""
    return "; ".join(f"{finger_label(int(a))} = {finger_label(int(b))}" for a, b, *_ in pairs)
