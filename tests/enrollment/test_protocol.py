"""The ten-finger protocol on real engine output (synthetic fingers, real extract and match)."""

from __future__ import annotations

import pytest

from siaptui.enrollment.flow import FINGERS, Flow, WorkerData
from siaptui.enrollment.protocol import REASONS, Enrollment, EnrollmentError
from siaptui.portal.sandbox.seed import DEMO_WORKERS

PERSON_A, PERSON_B = 11, 29


@pytest.fixture(scope="module")
def prints():
    """Templates of a few synthetic impressions, extracted once for the whole module."""
    from siaptui import synth
    from siaptui.biometrics.extract import extract
    from siaptui.biometrics.quality import assess

    wanted = [(PERSON_A, 1, i) for i in (1, 2, 3, 4)] + [(PERSON_A, 2, i) for i in (1, 2)] + [(PERSON_B, 3, 1)]
    out = {}
    for person, finger, impression in wanted:
        image = synth.finger_image(person, finger, impression)
        out[(person, finger, impression)] = (extract(image, dpi=synth.DPI), assess(image, dpi=synth.DPI).score)
    return out


def new_flow(nss: str = "12345678903") -> Flow:
    flow = Flow()
    flow.worker = WorkerData(nss=nss, curp="", name="Prueba", confirmed=True)
    return flow


def add(enrollment: Enrollment, position: int, prints, key):
    template, score = prints[key]
    return enrollment.add_impression(position, template, score)


def test_agreeing_impressions_complete_the_finger_and_keep_the_best(prints) -> None:
    flow = new_flow()
    enrollment = Enrollment(flow, impressions=3)
    assert enrollment.current == 1
    for n in (1, 2):
        result = add(enrollment, 1, prints, (PERSON_A, 1, n))
        assert not result.finger_done and result.consistent is None and result.count == n
    result = add(enrollment, 1, prints, (PERSON_A, 1, 3))
    assert result.finger_done and result.consistent
    capture = flow.fingers[1]
    qualities = [imp.quality for imp in capture.impressions]
    assert capture.best == qualities.index(max(qualities))
    assert capture.consistency["agree"] is True and len(capture.consistency["pairs"]) == 3
    assert enrollment.current == 2  # moved on to the next pending finger
    assert flow.has_unsent_capture


def test_an_impression_of_another_finger_is_discarded_and_recaptured(prints) -> None:
    flow = new_flow()
    enrollment = Enrollment(flow, impressions=3)
    add(enrollment, 1, prints, (PERSON_A, 1, 1))
    add(enrollment, 1, prints, (PERSON_B, 3, 1))  # the worker slipped another finger in
    result = add(enrollment, 1, prints, (PERSON_A, 1, 2))
    assert result.consistent is False and result.discarded == 1 and result.count == 2
    assert not flow.fingers[1].done
    result = add(enrollment, 1, prints, (PERSON_A, 1, 3))
    assert result.finger_done and result.attempts == 4


def test_the_same_finger_presented_as_two_fingers_is_flagged(prints) -> None:
    flow = new_flow()
    enrollment = Enrollment(flow, impressions=2)
    for n in (1, 2):
        add(enrollment, 1, prints, (PERSON_A, 1, n))
    for n in (3, 4):  # right thumb again, recorded as the right index
        result = add(enrollment, 2, prints, (PERSON_A, 1, n))
    assert result.finger_done
    assert [(a, b) for a, b, _ in flow.review.duplicate_fingers] == [(1, 2)]
    assert result.duplicates and flow.review.needs_attention
    enrollment.restart(2)  # recapturing clears the flag
    assert flow.review.duplicate_fingers == []
    for n in (1, 2):
        add(enrollment, 2, prints, (PERSON_A, 2, n))
    assert flow.review.duplicate_fingers == []


def test_missing_fingers_need_a_reason_and_completion_is_checked(prints) -> None:
    flow = new_flow()
    enrollment = Enrollment(flow, impressions=3)
    with pytest.raises(EnrollmentError) as bad:
        enrollment.mark_missing(3, "lost")
    assert bad.value.code == "enrollment_bad_reason"
    with pytest.raises(EnrollmentError) as bad_position:
        enrollment.mark_missing(11, "amputated")
    assert bad_position.value.code == "enrollment_bad_finger"
    for position in FINGERS:
        enrollment.mark_missing(position, REASONS[position % len(REASONS)])
    with pytest.raises(EnrollmentError):  # ten missing fingers: nothing to enroll
        enrollment.require_complete()
    enrollment.restart(1)
    with pytest.raises(EnrollmentError) as pending:
        enrollment.require_complete()
    assert "Pulgar derecho" in str(pending.value.params["fingers"])
    for n in (1, 2, 3):
        add(enrollment, 1, prints, (PERSON_A, 1, n))
    enrollment.require_complete()
    assert enrollment.is_complete and flow.fingers[6].missing_reason == REASONS[6 % len(REASONS)]


def _stored(store, nss: str, prints, keys) -> None:
    from siaptui.biometrics.template import views_to_bytes

    store.gallery.enroll_worker(nss, {finger: views_to_bytes([prints[(person, finger, n)][0]])
                                      for person, finger, n in keys})


def test_the_same_person_under_another_nss_is_flagged_and_own_nss_ignored(prints, tmp_path) -> None:
    from siaptui.store.db import open_store

    store = open_store(tmp_path / "siaptui.db")
    try:
        earlier = [(PERSON_A, 1, 4), (PERSON_A, 2, 2)]
        _stored(store, "99999999999", prints, earlier)  # the same person, enrolled under another NSS
        _stored(store, "12345678903", prints, earlier)  # the worker's own old record
        _stored(store, "88888888888", prints, [(PERSON_B, 3, 1)])  # somebody else
        flow = new_flow("12345678903")
        enrollment = Enrollment(flow, impressions=1)
        add(enrollment, 1, prints, (PERSON_A, 1, 1))
        add(enrollment, 2, prints, (PERSON_A, 2, 1))
        hits = enrollment.search_store(store)
    finally:
        store.close()
    assert [(nss, finger) for nss, finger, _ in hits] == [("99999999999", 1), ("99999999999", 2)]
    assert flow.review.gallery_hits == hits and flow.review.needs_attention


def test_one_matching_finger_alone_is_no_alarm_at_office_scale(prints, tmp_path) -> None:
    from siaptui.store.db import open_store

    store = open_store(tmp_path / "siaptui.db")
    try:
        _stored(store, "99999999999", prints, [(PERSON_A, 1, 4)])
        flow = new_flow("12345678903")
        enrollment = Enrollment(flow, impressions=1)
        add(enrollment, 1, prints, (PERSON_A, 1, 1))
        assert enrollment.search_store(store) == [] and not flow.review.needs_attention
    finally:
        store.close()


def test_the_gallery_record_keeps_every_agreeing_impression(prints) -> None:
    from siaptui.biometrics.template import views_from_bytes

    enrollment = Enrollment(new_flow(), impressions=3)
    for n in (1, 2, 3):
        add(enrollment, 1, prints, (PERSON_A, 1, n))
    record = enrollment.gallery_record()
    assert list(record) == [1] and len(views_from_bytes(record[1])) == 3


def test_after_too_many_disagreeing_attempts_the_clerk_is_told_to_start_over(prints) -> None:
    flow = new_flow()
    enrollment = Enrollment(flow, impressions=2, max_attempts=3)
    add(enrollment, 1, prints, (PERSON_A, 1, 1))
    second = add(enrollment, 1, prints, (PERSON_B, 3, 1))  # three different fingers in a row
    assert second.consistent is False and not second.too_many_attempts and second.count == 1
    third = add(enrollment, 1, prints, (PERSON_A, 2, 1))
    assert third.consistent is False and third.too_many_attempts and third.attempts == 3
    assert not flow.fingers[1].done
    enrollment.restart(1)
    assert enrollment.attempts(1) == 0 and flow.fingers[1].impressions == []


@pytest.mark.slow
@pytest.mark.parametrize("worker", [w for w in DEMO_WORKERS if w["case"] == "ok"], ids=lambda w: w["name"])
def test_every_demo_worker_has_ten_fingers_the_duplicate_check_tells_apart(worker: dict) -> None:
    """The demo invites a clerk to enrol these workers, and the duplicate-finger check's only ways
    out are recapturing or marking a finger missing, so their first three placements of each
    finger (what the sim reader serves) must not trip it.  Synthetic fingers of one pattern class
    are more alike than real ones (docs/bench/synth.md, "Known gaps"), so the demo's hands are
    picked among seeds that pass."""
    from siaptui import synth
    from siaptui.biometrics.analysis import analyse
    from siaptui.biometrics.extract import extract_analysis
    from siaptui.biometrics.quality import assess_analysis
    from siaptui.devices.sim import seed_for_nss

    seed = seed_for_nss(worker["nss"])  # the hand the sim reader shows for that NSS
    flow = new_flow(worker["nss"])
    enrollment = Enrollment(flow)
    for position in FINGERS:
        for impression in range(3):
            analysis = analyse(synth.finger_image(seed, position, impression), synth.DPI)  # once, as Captura does
            enrollment.add_impression(position, extract_analysis(analysis), assess_analysis(analysis).score)
    assert not enrollment.pending()
    assert flow.review.duplicate_fingers == []
