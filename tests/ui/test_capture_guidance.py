"""Per-frame guidance: the engine's quality flags become one Spanish (or English) sentence."""

from __future__ import annotations

import pytest

from siaptui import i18n
from siaptui.screens.capture import guidance_for


@pytest.mark.parametrize(
    "flags,score,expected",
    [
        ({"no_finger"}, 0, "Coloque el dedo"),
        ({"too_light"}, 30, "Presione un poco más"),
        ({"too_dark"}, 30, "Presione con menos fuerza"),
        ({"off_center"}, 55, "Centre el dedo"),
        ({"smudged"}, 35, "No mueva el dedo"),
        ({"too_small"}, 20, "Apoye más superficie"),
        ({"too_light", "no_finger"}, 0, "Coloque el dedo"),  # the most basic problem first
        (set(), 80, "Bien"),
        (set(), 20, "Mantenga el dedo quieto"),
    ],
)
def test_flags_become_words(flags, score, expected) -> None:
    assert guidance_for(frozenset(flags), score, 40).startswith(expected)


def test_guidance_in_english() -> None:
    i18n.set_language("en")
    try:
        assert guidance_for(frozenset({"too_dark"}), 30, 40).startswith("Press more gently")
    finally:
        i18n.set_language("es")
