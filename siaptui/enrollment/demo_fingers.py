"""The templates of a demo worker's synthetic fingers, made the way practice mode makes them.

Why one place: the office gallery of the duplicate-worker practice (`training.enroll_in_gallery`)
and the sandbox's seeded record of the worker a previous employer enrolled (ROBERTO FLORES NAVA,
`sandbox.store`) must hold the same fingers the `sim` reader serves for that `person_seed`, so a
practice capture of that person matches them — from another impression than the ones the reader
shows, so neither gallery ever holds the very image captured.

Each finger costs about a second of generation and extraction; the result is kept for the
process (a test run starts many sandboxes).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

GALLERY_IMPRESSION = 100
"""Impression number of pre-enrolled templates: far from the numbers the sim scanner serves
(0, 1, 2, …)."""


@lru_cache(maxsize=64)
def template(person_seed: int, finger: int) -> Any:
    """The engine's Template of `person_seed`'s finger `finger` (ISO position 1–10)."""
    from siaptui.biometrics.extract import extract
    from siaptui.synth import DPI, finger_image

    return extract(finger_image(int(person_seed), int(finger), GALLERY_IMPRESSION), dpi=DPI)


def iso_record(person_seed: int, finger: int) -> bytes:
    """The same finger as the ISO/IEC 19794-2 record a portal holds."""
    from siaptui.biometrics.template import to_iso19794_2

    return bytes(to_iso19794_2(template(person_seed, finger), finger))
