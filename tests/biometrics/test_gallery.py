"""1:N gallery: finds the right finger among many, ranks best first, add/remove, bad probes."""

from __future__ import annotations

import math

import pytest

from siaptui.biometrics.gallery import Gallery
from siaptui.biometrics.match import THRESHOLDS, match
from siaptui.biometrics.template import Template

from .engine_helpers import moved, random_template


@pytest.fixture(scope="module")
def gallery() -> Gallery:
    found = Gallery()
    for k in range(300):
        found.add(f"worker-{k}", random_template(1000 + k))
    return found


def test_finds_the_enrolled_finger_first(gallery: Gallery) -> None:
    enrolled = random_template(1000 + 123)
    probe = moved(enrolled, 2.4, (-30.0, 15.0), seed=9, jitter=2.0, elastic=0.05)
    result = gallery.search(probe, top=5)
    assert len(result) == 5
    assert result[0][0] == "worker-123"
    assert result[0][1] >= THRESHOLDS["fmr_0.01"]
    assert [score for _, score in result] == sorted((score for _, score in result), reverse=True)
    # The 1:N score is the 1:1 score of the stored record (own format, whole pixels, 16-bit
    # angles): thresholds mean the same in both.
    stored = Template.from_bytes(enrolled.to_bytes())
    assert result[0][1] == pytest.approx(match(probe, stored), rel=1e-6)


def test_threshold_keeps_only_matches(gallery: Gallery) -> None:
    probe = moved(random_template(1000 + 42), -0.7, (0.0, 0.0), seed=2, jitter=2.0)
    result = gallery.search(probe, top=5, threshold=THRESHOLDS["fmr_0.1"])
    assert [key for key, _ in result] == ["worker-42"]
    stranger = random_template(5)
    assert gallery.search(stranger, top=5, threshold=THRESHOLDS["fmr_0.1"]) == []


def test_add_replace_remove_and_len() -> None:
    small = Gallery()
    assert len(small) == 0 and small.search(random_template(1)) == []
    small.add("a", random_template(1))
    small.add("b", random_template(2))
    small.add("a", random_template(3))  # re-enrolling a key replaces it
    assert len(small) == 2 and "a" in small
    probe = moved(random_template(3), math.pi, (0.0, 0.0), seed=1, jitter=1.5)
    assert small.search(probe, top=1)[0][0] == "a"
    small.remove("a")
    assert len(small) == 1 and "a" not in small
    assert all(key == "b" for key, _ in small.search(probe, top=5))
    with pytest.raises(KeyError):
        small.remove("a")


def test_empty_probe_and_empty_entries_do_not_crash(gallery: Gallery) -> None:
    assert gallery.search(Template(width=10, height=10, minutiae=[])) == []
    mixed = Gallery()
    mixed.add("empty", Template(width=10, height=10, minutiae=[]))
    mixed.add("full", random_template(8))
    assert mixed.search(random_template(8), top=2)[0][0] == "full"


def test_memory_per_template_is_small(gallery: Gallery) -> None:
    gallery.search(random_template(1000), top=1)  # builds the index
    per_template = gallery.nbytes / len(gallery)
    # 10,000 templates must fit well inside the 300 MB budget of the 1:N bench.
    assert per_template * 10_000 < 150e6
