"""Person-level 1:N: the fusion model, and the search on an office of minutiae sets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from siaptui.biometrics import person as P
from siaptui.biometrics.match import as_prepared
from tests.biometrics.engine_helpers import moved, random_template

FINGERS = range(1, 11)


def test_finger_evidence_is_monotone_clipped_and_view_corrected() -> None:
    values = [P.finger_llr(s) for s in range(0, 120, 5)]
    assert values == sorted(values)
    assert P.finger_llr(0) == P.LLR_FLOOR and P.finger_llr(500) == P.LLR_CAP
    # The best of ten views is worth what one view ten points lower is worth.
    assert P.finger_llr(40, views=10) == pytest.approx(P.finger_llr(30))


def test_person_score_is_the_impostor_tail_of_the_fused_evidence() -> None:
    """The convolution agrees with sampling impostors from the calibrated tail 10^(-s/10)."""
    rng = np.random.default_rng(7)
    fingers = 3
    scores = -10 * np.log10(rng.random((400_000, fingers)))
    fused = np.clip(P._OFFSET + P._SLOPE * scores, P.LLR_FLOOR, P.LLR_CAP).sum(axis=1)
    for value in (0.5, 2.0, 4.0):
        sampled = float(np.mean(fused >= value))
        modelled = 10 ** (-P.person_score(value, fingers) / 10)
        assert modelled == pytest.approx(sampled, rel=0.1)
    assert P.person_score(0.0, fingers) == 0.0 and P.person_score(5.0, 0) == 0.0


def test_one_finger_never_raises_the_alarm_two_strong_fingers_do() -> None:
    threshold = P.alarm_threshold(50)
    assert threshold == pytest.approx(10 * math.log10(P.OFFICE_SIZE * 2 / P.ALPHA))
    assert P.person_score(P.LLR_CAP, 1) < threshold
    assert P.person_score(2 * P.LLR_CAP, 2) >= threshold


def test_genuine_misses_grow_as_fingers_are_fewer_or_weaker() -> None:
    strong, weak = [45.0] * 50, [5.0] * 50
    assert P.genuine_missed(strong, 10) == pytest.approx(0.0, abs=1e-9)
    assert P.genuine_missed(weak, 10) == pytest.approx(1.0)
    mixed = strong[:40] + weak[:10]  # one finger in five scores nothing
    assert P.genuine_missed(mixed, 10) < P.genuine_missed(mixed, 2) < 1.0
    assert P.genuine_missed([], 10) == 1.0


def test_counterparts_with_the_hands_exchanged() -> None:
    assert [P.counterpart(p, P.HANDS_SWAPPED) for p in FINGERS] == [6, 7, 8, 9, 10, 1, 2, 3, 4, 5]
    assert [P.counterpart(p, P.SAME) for p in FINGERS] == list(FINGERS)


def _finger(person: int, position: int):
    return random_template(1000 * person + position)


def _impression(person: int, position: int, seed: int):
    return moved(_finger(person, position), 0.15, (12.0, -9.0), seed=seed, jitter=2.0)


@pytest.fixture(scope="module")
def office() -> P.PersonGallery:
    gallery = P.PersonGallery()
    for person in range(1, 31):
        for position in FINGERS:
            gallery.add(f"NSS{person}", position, _finger(person, position))
    return gallery


def test_an_honest_worker_raises_no_alarm(office: P.PersonGallery) -> None:
    probes = {p: _impression(99, p, seed=p) for p in FINGERS}
    found = office.search(probes)
    assert all(not m.flagged for m in found)
    assert P.search_one(office, probes) is None


def test_a_worker_enrolled_before_under_another_nss_is_found(office: P.PersonGallery) -> None:
    probes = {p: _impression(7, p, seed=50 + p) for p in FINGERS}
    hit = P.search_one(office, probes, exclude={"NEW-NSS"})
    assert hit is not None and hit.person == "NSS7" and hit.hypothesis == P.SAME
    assert {f.position for f in hit.matched()} >= {1, 2, 3, 4, 5}
    # The same worker's own NSS is no ghost.
    assert P.search_one(office, probes, exclude={"NSS7"}) is None


def test_hands_exchanged_and_missing_fingers_are_still_found(office: P.PersonGallery) -> None:
    # Right hand captured in the left hand's slots and the other way round; four fingers missing.
    probes = {P.counterpart(p, P.HANDS_SWAPPED): _impression(12, p, seed=p) for p in (1, 2, 3, 6, 7, 8)}
    hit = P.search_one(office, probes)
    assert hit is not None and hit.person == "NSS12" and hit.hypothesis == P.HANDS_SWAPPED


def test_views_and_removal() -> None:
    gallery = P.PersonGallery()
    for view in range(3):
        gallery.add("A", 2, _impression(3, 2, seed=view))
    gallery.add("A", 7, _finger(3, 7))
    gallery.add("B", 2, _finger(4, 2))
    assert len(gallery) == 2 and "A" in gallery
    gallery.remove("A")
    gallery.remove("never-enrolled")
    assert len(gallery) == 1 and "A" not in gallery
    assert gallery.search({2: _impression(3, 2, seed=9)})[0].person == "B"


def test_the_preselection_ranks_the_enrolled_person_first_under_either_hypothesis(office: P.PersonGallery) -> None:
    same = {p: as_prepared(_impression(21, p, seed=70 + p)) for p in FINGERS}
    swapped = {P.counterpart(p, P.HANDS_SWAPPED): t for p, t in same.items()}
    assert office.preselect(same, keep=3)[P.SAME][0] == "NSS21"
    assert office.preselect(swapped, keep=3)[P.HANDS_SWAPPED][0] == "NSS21"
    assert "NSS21" not in office.preselect(same, {"NSS21"}, keep=30)[P.SAME]


def test_independent_tail_of_model_fingers_is_the_model() -> None:
    """Finger evidence sampled from the calibrated tail, made independent, gives back the
    person score's own tail: the bench's dependence check reads 1 when there is none."""
    rng = np.random.default_rng(3)
    llrs = [P.finger_llr(s) for s in -10 * np.log10(rng.random(400_000))]
    for level in (20.0, 30.0):
        assert P.independent_tail(llrs, 10, level) == pytest.approx(10 ** (-level / 10), rel=0.15)
