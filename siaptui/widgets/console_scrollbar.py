"""Scrollbars drawn in whole cells, for the Linux console.

Why: Textual draws the ends of a scrollbar's thumb with eighth blocks (▁ … ▇, ▉ … ▏) for a
smoother position; the Linux console's fonts have none of them, so a screen taller than the
terminal (the acuse at 80×24) showed a stand-in glyph at its right edge.  Whole cells cost a
little precision and nothing else.
"""

from __future__ import annotations

from typing import ClassVar

from textual.scrollbar import ScrollBar, ScrollBarRender


class WholeCellScrollBarRender(ScrollBarRender):
    """A thumb of whole reverse-video cells: no partial-cell glyph at either end."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * len(ScrollBarRender.VERTICAL_BARS)
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * len(ScrollBarRender.HORIZONTAL_BARS)


def use_whole_cells(on: bool) -> None:
    """Draw every scrollbar of the process in whole cells (`on`) or with Textual's glyphs."""
    ScrollBar.renderer = WholeCellScrollBarRender if on else ScrollBarRender
