"""The acuse's QR code (segno) and its drawing in terminal cells.

Why half-blocks: one cell holds two modules stacked (▀ ▄ █ or blank), so a module is one column
wide and half a row tall — square on a usual 1:2 terminal font.  A version-5 symbol (37 modules)
with a 2-module quiet zone is 41 columns × 21 rows, which fits beside the folio on an 80×24
screen; a smaller symbol keeps the full 4-module quiet zone.  The cells are drawn dark ink on a
light background by the widget, so the code reads the same on a dark terminal, under NO_COLOR
(Textual keeps black and white) and on the Linux console (whose font has ▀ ▄ █).

Plain ASCII ("##" per module, one row per module) is the fallback only for a terminal that
cannot show the block characters; it needs twice the rows, so it does not fit 80×24.
"""

from __future__ import annotations

import codecs
import os
from typing import Any, List, Mapping, Optional, Sequence

QUIET_ZONE = 4
"""Modules of light margin the QR standard asks for."""
MIN_QUIET_ZONE = 2
"""Enough for phone readers when the full margin does not fit the screen."""
BLOCKS = "▀▄█"
NO_BLOCK_TERMS = ("dumb", "vt52", "vt100", "vt102", "vt220", "vt320")
"""Terminals without the Unicode block characters (serial consoles, emulations of old ones)."""


def symbol(payload: str) -> Any:
    """The smallest QR symbol for the payload, with the error correction raised as far as that
    version allows (segno's boost: M or better for the acuse payload)."""
    import segno

    return segno.make_qr(payload, error="L", boost_error=True)


def modules(payload: str, quiet: int = QUIET_ZONE) -> List[List[bool]]:
    """The symbol's modules with `quiet` light modules around it; True = dark."""
    return [[bool(cell) for cell in row] for row in symbol(payload).matrix_iter(scale=1, border=quiet)]


def halfblock_rows(matrix: Sequence[Sequence[bool]]) -> List[str]:
    """Two module rows per text row: ▀ top dark, ▄ bottom dark, █ both, blank neither."""
    glyphs = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
    rows = []
    for top in range(0, len(matrix), 2):
        upper = matrix[top]
        lower = matrix[top + 1] if top + 1 < len(matrix) else [False] * len(upper)
        rows.append("".join(glyphs[(a, b)] for a, b in zip(upper, lower)))
    return rows


def ascii_rows(matrix: Sequence[Sequence[bool]]) -> List[str]:
    """One text row per module row, two columns per module (square on a 1:2 font)."""
    return ["".join("##" if cell else "  " for cell in row) for row in matrix]


def terminal_rows(payload: str, *, max_rows: int, halfblocks: bool = True, light_ink: bool = False) -> List[str]:
    """The QR as text rows, with the widest quiet zone (4, else 2 modules) that fits `max_rows`.

    `light_ink` draws the light modules instead of the dark ones: without colour (NO_COLOR) the
    glyphs take the terminal's own foreground, light on the usual dark terminal, so drawing the
    ground keeps the modules dark on light, as a phone's reader expects.
    """
    draw = halfblock_rows if halfblocks else ascii_rows
    rows: List[str] = []
    for quiet in (QUIET_ZONE, MIN_QUIET_ZONE):
        matrix = modules(payload, quiet)
        if light_ink:
            matrix = [[not cell for cell in row] for row in matrix]
        rows = draw(matrix)
        if len(rows) <= max_rows:
            break
    return rows


def can_show_halfblocks(environ: Optional[Mapping[str, str]] = None, encoding: Optional[str] = None) -> bool:
    """False only for a terminal that cannot show ▀ ▄ █: an old TERM or a non-Unicode output.

    TERM=linux can: the console's default font has the three block characters.
    """
    env = os.environ if environ is None else environ
    if env.get("TERM", "").lower() in NO_BLOCK_TERMS:
        return False
    if encoding:
        try:
            codecs.encode(BLOCKS, encoding)
        except (LookupError, UnicodeEncodeError):
            return False
    return True
