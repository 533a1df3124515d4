"""The sandbox's adapter to our biometric engine: template decoding, the person-level 1:N
duplicate search (the same function as the office's local check) and 1:1 verification.

Why an adapter: the engine (`siaptui.biometrics`) is imported lazily and may be missing; the
sandbox then says so (`duplicate_check: unavailable`) instead of pretending a search happened,
and the routes never touch the engine's types directly."""

from __future__ import annotations

import logging
import threading
from typing import Any, List, Optional, Tuple

from siaptui.biometrics.template import TemplateError
from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.store import SandboxStore

log = logging.getLogger("siaptui.portal.sandbox")


class Biometrics:
    """Our engine, imported lazily: `siaptui.biometrics` (template codec, matcher, gallery).

    When it is missing the sandbox still works and says so (`duplicate_check: unavailable`,
    verification outcome `unavailable`) instead of pretending a search happened."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False
        self.error: Optional[str] = None
        self._gallery: Any = None

    def _load(self) -> bool:
        with self._lock:
            if not self._loaded:
                self._loaded = True
                try:
                    from siaptui.biometrics.match import THRESHOLDS, Matcher
                    from siaptui.biometrics.person import PersonGallery, search_one
                    from siaptui.biometrics.template import from_iso19794_2

                    self.PersonGallery, self.search_one = PersonGallery, search_one
                    self.Matcher, self.decode = Matcher, from_iso19794_2
                    self.threshold = float(THRESHOLDS["fmr_0.1"])
                    self.strong = float(THRESHOLDS["fmr_0.01"])
                    self.weak = float(THRESHOLDS["fmr_1"])
                except Exception as exc:  # noqa: BLE001 - a missing or broken engine is reported, never faked
                    self.error = f"{type(exc).__name__}: {exc}"
                    log.warning("duplicate-finger check unavailable: %s", self.error)
        return self.error is None

    @property
    def available(self) -> bool:
        return self._load()

    def template(self, raw: bytes, position: int) -> Any:
        """One Template from an ISO record: the view at `position` (else the first view).
        `from_iso19794_2` returns [(position, Template), ...]."""
        decoded = self.decode(raw)
        if not decoded:
            raise ValueError("no views")
        return next((t for p, t in decoded if p == position), decoded[0][1])

    def decode_checked(self, raw: bytes, position: int) -> Any:
        try:
            return self.template(raw, position)
        except (TemplateError, ValueError):
            raise Problem("invalid_request", f"la plantilla del dedo {position} no se pudo leer", status=422) from None

    def compare(self, probe_raw: bytes, enrolled_raw: bytes, position: int) -> float:
        """The calibrated 1:1 score (every 10 points a factor of ten in false-match rate)."""
        probe = self.decode_checked(probe_raw, position)
        return float(self.Matcher(probe).match(self.template(enrolled_raw, position)))

    def verdict(self, score: float) -> Tuple[str, str]:
        """(outcome, confidence band): what a caller may learn from a 1:1 comparison.

        The match decision sits at FMR 0.1 %; the band says how far the score is from it in
        factors of ten — a match is `high` at FMR ≤ 0.001 %, `medium` at ≤ 0.01 %, else `low`;
        a no-match is `high` below FMR 10 %, `medium` below 1 %, else `low` (near the line).
        Three coarse levels give a clerk "repeat the capture?" without a number to climb."""
        if score >= self.threshold:
            band = "high" if score >= self.strong + 10 else ("medium" if score >= self.strong else "low")
            return "match", band
        band = "high" if score < self.weak - 10 else ("medium" if score < self.weak else "low")
        return "no_match", band

    def views(self, raw: bytes, position: int) -> List[Any]:
        """Every view of the record at `position` (all the impressions the capture kept)."""
        decoded = self.decode(raw)
        return [t for p, t in decoded if p == position] or [t for _, t in decoded]

    def duplicates(self, store: SandboxStore, nss: str, raws: List[Tuple[int, bytes]]) -> Optional[Tuple[int, str]]:
        """(first matched position, other worker's nss) when the person submitted is already
        enrolled under another NSS — the person-level search the office's local check runs
        (`siaptui.biometrics.person`), over the portal's whole gallery."""
        probes = {position: self.views(raw, position)[0] for position, raw in raws}
        with self._lock:
            if self._gallery is None:
                self._gallery = self.PersonGallery()
                for other, position, stored in store.templates_except(""):
                    try:
                        for view in self.views(stored, position):
                            self._gallery.add(other, position, view)
                    except (TemplateError, ValueError):  # a record the engine cannot read: not searchable
                        continue
            hit = self.search_one(self._gallery, probes, exclude={nss})
        if hit is None:
            return None
        return min(f.position for f in hit.matched()), hit.person

    def remember(self, nss: str, raws: List[Tuple[int, bytes]]) -> None:
        with self._lock:
            if self._gallery is None:
                return  # built from the database on first search
            self._gallery.remove(nss)
            for position, raw in raws:
                for view in self.views(raw, position):
                    self._gallery.add(nss, position, view)
